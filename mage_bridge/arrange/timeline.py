"""The song's timeline: where each clip starts, how it is conformed, and what happens at each junction.

Everything here is worked out from the document and the clips' manifests and lengths, before any
audio is processed, in whole frames:

* The **song** takes the document's tempo, metre and key, or the focus clip's.
* Each clip is **conformed** (:mod:`.conform`) to ``frames_out`` frames. A clip after the first
  starts on its first bar line: the part before it (a pickup, for a clip whose lead-in is not
  whole bars) is trimmed.
* The **grid** is the song's bar lines, counted from the first clip's first bar line: bar ``k``
  is at frame ``origin + round(k * bar_frames)``.
* At each **junction** the next clip enters (its first frame, a bar line of its own) on the bar
  line of the grid nearest to ``fade_s`` before the end of the clip playing, and the fade runs from
  there to that clip's end. So the fade is the bar-snapped length nearest ``fade_s`` (exactly
  ``fade_s`` where the clip ends on a bar line ``fade_s`` after one), and a song of two clips of
  ``a`` and ``b`` frames is ``a + b - fade`` frames. The entry must come after the clip playing has
  faded in completely, and the fade may not outlast the entering clip: no three clips ever sound
  at once.
* The fade's **kind**, where the document leaves it ``auto``: ``constant-gain`` when both clips
  are beat-matched (conformed to the song's tempo, their bar lines known, in the song's metre, so
  their beats coincide through the fade), else ``equal-power``; the manifest says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from mage_bridge.arrange.clips import ClipInfo
from mage_bridge.arrange.conform import Conform, key_shift, plan_conform, shifted_key
from mage_bridge.arrange.document import AUTO, Arrangement, Slot
from mage_bridge.errors import InvalidInputError
from mage_bridge.music import bar_seconds


@dataclass(frozen=True)
class Grid:
    """The song's bar lines at ``sample_rate``: bar ``k`` at ``origin + round(k * bar_frames)``."""

    sample_rate: int
    bpm: float
    time_signature: tuple[int, int]
    origin: int

    @property
    def bar_frames(self) -> float:
        return bar_seconds(self.bpm, self.time_signature) * self.sample_rate

    def line(self, bar: int) -> int:
        return self.origin + int(round(bar * self.bar_frames))

    def bar_at(self, frame: int) -> int | None:
        """The bar whose line is exactly at ``frame``, or ``None`` when no bar line is there."""
        bar = int(round((frame - self.origin) / self.bar_frames))
        return bar if self.line(bar) == frame else None


@dataclass(frozen=True)
class ClipPlan:
    """One slot's clip on the timeline. ``start``/``frames`` are after the head trim; ``fade_in``/``fade_out``
    the junctions on either side (0 at the song's ends). ``on_grid``: its beats can be matched;
    ``off_grid_reason`` says why not."""

    label: str
    slot: Slot
    info: ClipInfo
    conform: Conform
    trim_head: int
    start: int
    on_grid: bool
    off_grid_reason: str
    fade_in: int = 0
    fade_out: int = 0

    @property
    def frames(self) -> int:
        return self.conform.frames_out - self.trim_head

    @property
    def end(self) -> int:
        return self.start + self.frames


@dataclass(frozen=True)
class JunctionPlan:
    """The crossfade into slot ``into``: it starts at ``frame`` (bar ``bar`` of the grid) and lasts
    ``fade_frames``; ``chosen`` is ``"document"`` or ``"auto"``, ``why`` the reason in words."""

    into: int
    frame: int
    bar: int
    fade_frames: int
    fade_s_requested: float
    kind: str
    chosen: str
    why: str


@dataclass(frozen=True)
class SongPlan:
    """The whole timeline: the song's settings, its grid, every clip and every junction."""

    bpm: float
    time_signature: tuple[int, int]
    key: str | None
    mode: str | None
    settings_from: dict[str, str]
    grid: Grid
    clips: tuple[ClipPlan, ...]
    junctions: tuple[JunctionPlan, ...]
    notes: tuple[str, ...]

    @property
    def frames(self) -> int:
        return self.clips[-1].end

    def record(self) -> dict[str, Any]:
        """The manifest's ``song``, ``clips`` and ``junctions``: times in frames and seconds."""
        rate = self.grid.sample_rate

        def seconds(frames: int) -> float:
            return round(frames / rate, 6)

        song = {"bpm": self.bpm, "time_signature": list(self.time_signature), "key": self.key, "mode": self.mode,
                "from": self.settings_from, "bar_s": round(self.grid.bar_frames / rate, 9),
                "grid_origin_frame": self.grid.origin}
        clips = []
        for c in self.clips:
            cf = c.conform
            clips.append({
                "slot": c.label, "role": c.slot.role, "clip": c.slot.clip, "manifest": str(c.info.manifest_path),
                "audio": str(c.info.audio_path), "start_frame": c.start, "start_s": seconds(c.start),
                "frames": c.frames, "duration_s": seconds(c.frames), "gain_db": c.slot.gain_db,
                "trimmed_head_frames": c.trim_head, "beat_matched": c.on_grid,
                "conform": {"from_bpm": cf.clip_bpm, "tempo_from": c.info.tempo_from, "to_bpm": cf.song_bpm,
                            "fold": cf.fold, "length_ratio": round(cf.length_ratio, 9),
                            "frames_in": cf.frames_in, "frames_out": cf.frames_out,
                            "pitch_shift_semitones": cf.semitones,
                            "from_key": f"{c.info.key} {c.info.mode}" if c.info.key else None,
                            "to_key": shifted_key(c.info.key, c.info.mode or "major", cf.semitones)
                            if c.info.key else None},
            })
        junctions = []
        for j in self.junctions:
            before, after = self.clips[j.into - 1], self.clips[j.into]
            junctions.append({
                "from_slot": before.label, "to_slot": after.label, "from_clip": before.slot.clip,
                "to_clip": after.slot.clip, "frame": j.frame, "time_s": seconds(j.frame), "bar": j.bar,
                "fade_kind": j.kind, "kind_chosen": j.chosen, "why": j.why, "fade_frames": j.fade_frames,
                "fade_s": seconds(j.fade_frames), "fade_s_requested": j.fade_s_requested,
                "end_frame": j.frame + j.fade_frames,
            })
        return {"song": song, "clips": clips, "junctions": junctions}


def plan_song(song: Arrangement, infos: Sequence[ClipInfo], frames: Sequence[int], *,
              sample_rate: int) -> SongPlan:
    """The timeline of ``song`` whose clips are ``infos``, holding ``frames`` frames each at ``sample_rate``."""
    if not len(song.slots) == len(infos) == len(frames):
        raise InvalidInputError(f"{len(song.slots)} slots, {len(infos)} clips and {len(frames)} lengths differ")
    focus = infos[[s.role for s in song.slots].index("focus")]
    bpm = song.bpm if song.bpm is not None else focus.bpm
    ts = song.time_signature if song.time_signature is not None else focus.time_signature
    key, mode = (song.key, song.mode) if song.key is not None else (focus.key, focus.mode)
    settings_from = {"bpm": "document" if song.bpm is not None else "focus clip",
                     "time_signature": "document" if song.time_signature is not None else "focus clip",
                     "key": "document" if song.key is not None else "focus clip"}
    notes: list[str] = []
    labels = song.labels()
    clips: list[ClipPlan] = []
    for i, (label, slot, info, n) in enumerate(zip(labels, song.slots, infos, frames)):
        semitones = 0
        if song.conform_key:
            if info.key is None or info.mode is None or key is None or mode is None:
                notes.append(f"slot {label} (clip {slot.clip!r}) keeps its key: "
                             + ("its key is unknown" if info.key is None else "the song's key is unknown"))
            else:
                semitones = key_shift(info.key, info.mode, key, mode)
        cf = plan_conform(n, clip_bpm=info.bpm, song_bpm=bpm, semitones=semitones, stretch=slot.conform_tempo)
        reason = _off_grid_reason(slot, info, ts)
        downbeat = 0 if info.downbeat_s is None else int(round(info.downbeat_s * sample_rate * cf.length_ratio))
        downbeat = downbeat if downbeat < cf.frames_out else 0
        trim = downbeat if i > 0 else 0
        if trim:
            notes.append(f"slot {label} (clip {slot.clip!r}) enters at its first bar line: the "
                         f"{trim / sample_rate:.3f} s before it are left out")
        clips.append(ClipPlan(label, slot, info, cf, trim, 0, not reason, reason))
    grid = Grid(sample_rate, bpm, ts, 0 if clips[0].info.downbeat_s is None else
                int(round(clips[0].info.downbeat_s * sample_rate * clips[0].conform.length_ratio)))
    junctions: list[JunctionPlan] = []
    for i in range(1, len(clips)):
        a, b = clips[i - 1], clips[i]
        settings = song.junction_at(i)
        fade_s = float(settings.fade_s or 0.0)
        entry = _entry(grid, a, b, fade_s, sample_rate)
        kind, chosen, why = _kind(settings.kind or AUTO, a, b, bpm)
        fade = a.end - entry
        bar = grid.bar_at(entry)
        assert bar is not None  # _entry picks bar lines only
        junctions.append(JunctionPlan(i, entry, bar, fade, fade_s, kind, chosen, why))
        clips[i - 1] = replace(a, fade_out=fade)
        clips[i] = replace(b, start=entry, fade_in=fade)
    return SongPlan(bpm, ts, key, mode, settings_from, grid, tuple(clips), tuple(junctions), tuple(notes))


def _entry(grid: Grid, a: ClipPlan, b: ClipPlan, fade_s: float, rate: int) -> int:
    """The bar line where ``b`` enters: nearest ``fade_s`` before ``a`` ends, after ``a`` has faded in,
    with ``a``'s end no later than ``b``'s."""
    low = max(a.start + a.fade_in, a.end - b.frames, a.start + 1)
    high = a.end - 1
    target = a.end - fade_s * rate
    first = math.ceil((low - grid.origin) / grid.bar_frames) - 1
    last = math.floor((high - grid.origin) / grid.bar_frames) + 1
    lines = [grid.line(k) for k in range(first, last + 1) if low <= grid.line(k) <= high]
    if not lines:
        short = a if a.frames - a.fade_in < grid.bar_frames else b
        detail = (f"has {(a.frames - a.fade_in) / rate:.2f} s after its fade-in" if short is a and a.fade_in
                  else f"lasts {short.frames / rate:.2f} s")
        raise InvalidInputError(
            f"no bar line for the junction from slot {a.label} to slot {b.label}: slot {short.label} (clip "
            f"{short.slot.clip!r}) {detail} at {grid.bpm:g} BPM, less than the bar ({grid.bar_frames / rate:.2f} s) "
            "a junction needs")
    return min(lines, key=lambda f: (abs(f - target), -f))


def _kind(asked: str, a: ClipPlan, b: ClipPlan, bpm: float) -> tuple[str, str, str]:
    if asked != AUTO:
        return asked, "document", f"the arrangement asks for {asked}"
    if a.on_grid and b.on_grid:
        return "constant-gain", "auto", f"beat-matched: both clips conformed to {bpm:g} BPM with their bar lines " \
                                        "on the song's"
    off = a if not a.on_grid else b
    return "equal-power", "auto", f"unrelated: slot {off.label} (clip {off.slot.clip!r}) {off.off_grid_reason}"


def _off_grid_reason(slot: Slot, info: ClipInfo, ts: tuple[int, int]) -> str:
    """Why a clip's beats cannot be matched to the song's, or ``""`` when they can."""
    if not slot.conform_tempo:
        return "keeps its own tempo (conform_tempo false)"
    if info.downbeat_s is None:
        return f"has a {info.tempo_from} tempo but no known bar lines"
    if info.time_signature != ts:
        return f"is in {info.time_signature[0]}/{info.time_signature[1]}, the song in {ts[0]}/{ts[1]}"
    return ""
