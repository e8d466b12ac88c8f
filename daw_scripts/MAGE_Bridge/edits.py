"""Section tools from Live: repaint, extend or add a track to the MAGE clip selected in Live.

An OSC app or a controller cannot see what is selected in Live, so it asks the daemon
(``/mage/daw/command s:"ableton" s:command [s:options_json]``), which relays ``/mage/daw/command s:command
s:options_json`` to this script. The script takes the clip shown in Live's Detail view (``Song.view.detail_clip``,
else the clip of ``Song.view.highlighted_clip_slot``), finds the MAGE clip it plays (the ``manifest.json`` beside
its ``file_path``), and sends the job itself: ``/mage/<kind> s:req_id s:manifest s:options_json`` with times in
seconds from the start of the clip's audio and, for an Arrangement clip, where the result goes:

- ``repaint``: the clip's loop brace (``loop_start``/``loop_end``; with the loop off, the clip's start and end),
  or ``start_s``/``end_s`` given in the command's options; the result at the beat where the clip's audio starts
  (``Clip.start_time`` less the start marker), so it lines up with the source;
- ``extend``: ``side`` ``"after"`` (default) starts the new clip where the clip's audio ends, ``"before"`` ends it
  where the audio starts; ``bars`` (default 8);
- ``lego``: ``track`` (one of :data:`LEGO_TRACKS`) and an optional ``prompt``, placed like a repaint.

Clip times are beats for a warped clip (at the clip's own tempo, the manifest's requested BPM) and seconds for an
unwarped one. Pure functions: the surface sends and says what they return.
"""

from __future__ import annotations

import json
import math
import os

LEGO_TRACKS = ("woodwinds", "brass", "fx", "synth", "strings", "percussion", "keyboard", "guitar", "bass", "drums",
               "backing_vocals", "vocals")
EXTEND_BARS = 8
MAX_EXTEND_BARS = 64
MIN_RANGE_S = 0.05
MANIFEST_SCHEMA = "mage-bridge/manifest"


class EditError(ValueError):
    """Why nothing was sent, in words for Live's status bar."""


def selected_clip(song):  # type: ignore[no-untyped-def]
    """The clip in Live's Detail view, else the one in the highlighted Session slot."""
    view = song.view
    clip = getattr(view, "detail_clip", None)
    if clip is None:
        slot = getattr(view, "highlighted_clip_slot", None)
        clip = slot.clip if slot is not None and slot.has_clip else None
    if clip is None:
        raise EditError("select a clip of a MAGE result first")
    if not getattr(clip, "is_audio_clip", False):
        raise EditError("the selected clip is a MIDI clip; select an audio clip of a MAGE result")
    return clip


def clip_manifest(clip) -> tuple:  # type: ignore[no-untyped-def]
    """(path, manifest) of the MAGE clip whose audio ``clip`` plays: the manifest.json beside its file."""
    file_path = str(getattr(clip, "file_path", "") or "")
    path = os.path.join(os.path.dirname(file_path), "manifest.json")
    if not file_path or not os.path.isfile(path):
        raise EditError("the selected clip is not a MAGE clip (%s has no manifest.json beside it)"
                        % (os.path.basename(file_path) or "it has no file"))
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise EditError("the selected clip's manifest cannot be read: %s (%s)" % (path, e)) from None
    if not isinstance(manifest, dict) or not str(manifest.get("schema", "")).startswith(MANIFEST_SCHEMA):
        raise EditError("the selected clip is not a MAGE clip (%s is not a MAGE manifest)" % path)
    return path, manifest


class ClipTime:
    """How a clip's own times (beats when warped, seconds when not) map to its audio's seconds and the set's beats."""

    def __init__(self, clip, manifest: dict, tempo: float, arrangement: bool) -> None:  # type: ignore[no-untyped-def]
        self.clip = clip
        self.warped = bool(getattr(clip, "warping", False))
        requested = manifest.get("requested") if isinstance(manifest.get("requested"), dict) else {}
        bpm = requested.get("bpm")
        self.clip_bpm = float(bpm) if isinstance(bpm, (int, float)) and bpm > 0 else tempo
        self.tempo = tempo
        duration = manifest.get("duration_s")
        self.duration_s = float(duration) if isinstance(duration, (int, float)) and duration > 0 else None
        self.arrangement = arrangement

    def seconds(self, value: float) -> float:
        """Seconds of the audio file at a clip time."""
        return value * 60.0 / self.clip_bpm if self.warped else value

    def set_beats(self, seconds: float) -> float:
        """Beats of the set that ``seconds`` of audio last: at the clip's tempo when warped, else the set's."""
        return seconds * (self.clip_bpm if self.warped else self.tempo) / 60.0

    def audio_start_beats(self) -> float:
        """The Arrangement beat where the clip's audio (its second 0) plays."""
        return float(self.clip.start_time) - self.set_beats(self.seconds(float(getattr(self.clip, "start_marker", 0))))


def _number(options: dict, key: str) -> object:
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise EditError("%s must be a number of seconds, got %r" % (key, value))
    return float(value)


def repaint_range(options: dict, time: ClipTime) -> tuple:
    """(start_s, end_s) from the clip's start: the options' ``start_s``/``end_s``, else the clip's loop brace."""
    start_s, end_s = _number(options, "start_s"), _number(options, "end_s")
    clip = time.clip
    if start_s is None or end_s is None:
        start_s = time.seconds(float(clip.loop_start)) if start_s is None else start_s
        end_s = time.seconds(float(clip.loop_end)) if end_s is None else end_s
    if end_s - start_s < MIN_RANGE_S or start_s < 0:  # type: ignore[operator]
        raise EditError("nothing to repaint: %.3f-%.3f s of the clip; set the clip's loop brace over the part to "
                        "repaint, or send start_s and end_s" % (start_s, end_s))
    if time.duration_s is not None and end_s > time.duration_s + 1e-3:  # type: ignore[operator]
        raise EditError("the range %.3f-%.3f s reaches past the clip's %.3f s of audio"
                        % (start_s, end_s, time.duration_s))
    return start_s, end_s


def plan(command: str, options: dict, clip, manifest: dict, tempo: float,  # type: ignore[no-untyped-def]
         arrangement: bool) -> tuple:
    """(kind, job options, daw fields, what to say) for ``command`` on ``clip``; :class:`EditError` if it cannot."""
    if not isinstance(options, dict):
        raise EditError("the command's options must be a JSON object")
    time = ClipTime(clip, manifest, tempo, arrangement)
    daw: dict = {}
    name = str(getattr(clip, "name", "") or "the clip")
    if command in ("repaint", "lego"):
        if arrangement:
            start = time.audio_start_beats()
            if start < -1e-6:
                raise EditError("the clip's audio starts before the set's start; move the clip later first")
            daw["position"] = {"beats": max(0.0, start)}
        if command == "repaint":
            start_s, end_s = repaint_range(options, time)
            label = "repaint %.1f-%.1f s" % (start_s, end_s)
            job = {"start_s": start_s, "end_s": end_s}
        else:
            track = str(options.get("track") or "").strip().lower().replace(" ", "_").replace("-", "_")
            if track not in LEGO_TRACKS:
                raise EditError("the track must be one of %s; got %r" % (", ".join(LEGO_TRACKS), track))
            label, job = "lego " + track, {"track": track}
            if options.get("prompt"):
                job["prompt"] = str(options["prompt"])
    elif command == "extend":
        side = options.get("side", "after")
        if side not in ("after", "before"):
            raise EditError("side must be \"after\" or \"before\", got %r" % (side,))
        bars = options.get("bars", EXTEND_BARS)
        if isinstance(bars, bool) or not isinstance(bars, int) or not 1 <= bars <= MAX_EXTEND_BARS:
            raise EditError("bars must be a whole number from 1 to %d, got %r" % (MAX_EXTEND_BARS, bars))
        label, job = "extend %s %d bars" % (side, bars), {"side": side, "bars": bars}
        if arrangement:
            start = time.audio_start_beats()
            if side == "after":
                if time.duration_s is None:
                    raise EditError("the clip's manifest does not say how long it is (duration_s)")
                daw["position"] = {"beats": start + time.set_beats(time.duration_s)}
            elif start < 1e-6:
                raise EditError("the clip starts at the set's start, so there is no room before it; move it first")
            else:
                daw["position"], daw["align"] = {"beats": start}, "end"
    else:
        raise EditError("unknown command %r (repaint, extend or lego)" % (command,))
    daw["label"] = label
    return command, job, daw, "%s of %s sent" % (label, name)
