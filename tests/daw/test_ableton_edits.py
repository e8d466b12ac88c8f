"""Live's section tools: ``/mage/daw/command`` repaints, extends or adds a track to the selected MAGE clip.

The daemon relays the command (an OSC app or controller cannot see Live's selection); the script reads the clip in
the Detail view through the Live Object Model (``Song.view.detail_clip``, ``Clip.file_path``, ``start_time``,
``start_marker``, ``loop_start``/``loop_end``, ``warping``) and sends ``/mage/<kind> s:req_id s:manifest
s:options_json`` itself. Most cases stand a bare UDP socket in for the daemon (what the script sends, exactly);
the last goes through the real ``mage-bridge serve``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from mage_bridge.server import daw
from tests.daw.fake_live.harness import FakeDaemon, Rig, fake_daemon, live, tick_until  # noqa: F401
from tests.daw.test_ableton_placing import announce, connected, project_of
from tests.server.conftest import DaemonProc

RATE = 48_000
CLIP_S = 24.0


def _clip_folder(folder: Path, *, bpm: float = 120.0, manifest: bool = True) -> Path:
    """A MAGE clip: a 24 s drums stem and (unless told) its manifest.json, made at ``bpm``."""
    folder.mkdir(parents=True)
    t = np.arange(round(CLIP_S * RATE)) / RATE
    soundfile.write(str(folder / "drums.wav"), (0.1 * np.sin(2 * np.pi * 110 * t)).astype("float32"), RATE)
    if manifest:
        (folder / "manifest.json").write_text(json.dumps({
            "schema": "mage-bridge/manifest@1", "kind": "generate", "stems": {"drums": "drums.wav"},
            "duration_s": CLIP_S, "sample_rate": RATE, "requested": {"bpm": bpm}}))
    return folder


def _arrangement_clip(song: Any, folder: Path, beats: float) -> Any:
    """The clip's drums stem on a track of the Arrangement at ``beats``, shown in the Detail view."""
    song.create_audio_track(len(song.tracks))
    clip = song.tracks[-1].create_audio_clip(str(folder / "drums.wav"), beats)
    song.view.detail_clip = clip
    return clip


def _command(d: FakeDaemon, surface: Any, c: Any, command: str, options: dict[str, Any] | None = None
             ) -> list[tuple[str, list[Any]]]:
    """Relay ``command`` to the script as the daemon does; returns the job requests it sent back."""
    d.poll()
    before = len(c.messages)
    d.send("/mage/daw/command", command, json.dumps(options or {}))
    tick_until(surface, lambda: len(c.messages) > before, 5.0)
    return [(a, args) for a, args in d.poll() if a.startswith("/mage/") and not a.startswith("/mage/daw/")]


def _job(sent: list[tuple[str, list[Any]]], kind: str, folder: Path) -> dict[str, Any]:
    [(address, args)] = sent
    assert address == f"/mage/{kind}" and args[0].startswith(f"ableton-{kind}-")
    assert args[1] == str(folder / "manifest.json")
    return json.loads(args[2])


@pytest.mark.parametrize("warped", [False, True], ids=["unwarped", "warped"])
def test_repaint_sends_the_loop_brace_in_seconds_of_the_clip(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path,
                                                             warped: bool) -> None:
    surface, c = connected(live, fake_daemon, tempo=120.0)
    folder = _clip_folder(tmp_path / "clip", bpm=100.0)
    clip = _arrangement_clip(c.song(), folder, 16.0)
    clip.looping = True
    if warped:  # clip times in beats at the clip's own tempo (100 BPM): 8-16 beats = 4.8-9.6 s
        clip.warping, clip.start_marker, clip.loop_start, clip.loop_end = True, 4.0, 8.0, 16.0
        expected, audio_start = (4.8, 9.6), 16.0 - 4.0  # 4 beats of the clip before its start marker
    else:  # unwarped: clip times are seconds
        clip.start_marker, clip.loop_start, clip.loop_end = 2.0, 4.0, 8.0
        expected, audio_start = (4.0, 8.0), 16.0 - 2.0 * 120.0 / 60.0
    options = _job(_command(fake_daemon, surface, c, "repaint"), "repaint", folder)
    assert options["start_s"] == pytest.approx(expected[0]) and options["end_s"] == pytest.approx(expected[1])
    label = f"repaint {expected[0]:.1f}-{expected[1]:.1f} s"
    # lined up with the source: the result (the clip's timeline) starts where the clip's audio starts
    assert options["daw"] == {"client_id": "ableton", "project_id": project_of(c),
                              "position": {"beats": pytest.approx(audio_start)}, "label": label}
    assert c.messages[-1] == f"MAGE Bridge: {label} of drums sent"


def test_repaint_takes_explicit_seconds(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, tempo=120.0)
    folder = _clip_folder(tmp_path / "clip")
    _arrangement_clip(c.song(), folder, 0.0)
    options = _job(_command(fake_daemon, surface, c, "repaint", {"start_s": 12.0, "end_s": 16.5}), "repaint", folder)
    assert (options["start_s"], options["end_s"]) == (12.0, 16.5) and options["daw"]["position"] == {"beats": 0.0}


@pytest.mark.parametrize("side", ["after", "before"])
def test_extend_goes_at_the_clip_s_end_or_ends_at_its_start(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path,
                                                            side: str) -> None:
    surface, c = connected(live, fake_daemon, tempo=120.0)
    folder = _clip_folder(tmp_path / "clip")
    clip = _arrangement_clip(c.song(), folder, 16.0)
    assert clip.end_time == pytest.approx(16.0 + CLIP_S * 2)  # 24 s at 120 BPM: 48 beats
    options = _job(_command(fake_daemon, surface, c, "extend", {"side": side, "bars": 4}), "extend", folder)
    assert (options["side"], options["bars"]) == (side, 4)
    daw = options["daw"]
    assert daw["label"] == f"extend {side} 4 bars"
    if side == "after":
        assert daw["position"] == {"beats": pytest.approx(clip.end_time)} and "align" not in daw
    else:
        assert daw["position"] == {"beats": 16.0} and daw["align"] == "end"


def test_lego_adds_a_named_track_lined_up_with_the_clip(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, tempo=120.0)
    folder = _clip_folder(tmp_path / "clip")
    _arrangement_clip(c.song(), folder, 8.0)
    options = _job(_command(fake_daemon, surface, c, "lego", {"track": "Backing vocals", "prompt": "oohs"}),
                   "lego", folder)
    assert (options["track"], options["prompt"]) == ("backing_vocals", "oohs")
    assert options["daw"]["position"] == {"beats": 8.0} and options["daw"]["label"] == "lego backing_vocals"


@pytest.mark.parametrize("view", ["session", "arrangement"])
def test_a_session_clip_is_found_in_the_highlighted_slot_and_goes_to_the_scene(live: Rig, fake_daemon: FakeDaemon,
                                                                              tmp_path: Path, view: str) -> None:
    """A Session clip (``is_arrangement_clip`` false) has no Arrangement position to line a result up with."""
    surface, c = connected(live, fake_daemon, view=view, tempo=120.0)
    folder = _clip_folder(tmp_path / "clip")
    song = c.song()
    song.create_audio_track(0)
    slot = song.tracks[0].clip_slots[0]
    slot.create_audio_clip(str(folder / "drums.wav"))
    song.view.highlighted_clip_slot = slot
    options = _job(_command(fake_daemon, surface, c, "extend"), "extend", folder)
    assert (options["side"], options["bars"]) == ("after", 8)
    assert "position" not in options["daw"]  # to the selected scene, or the next bar in the Arrangement


@pytest.mark.parametrize(("case", "message"), [
    ("nothing", "select a clip of a MAGE result first"),
    ("midi", "the selected clip is a MIDI clip"),
    ("no-manifest", "the selected clip is not a MAGE clip (drums.wav has no manifest.json beside it)"),
    ("empty-loop", "nothing to repaint"),
    ("past-the-end", "reaches past the clip's 24.000 s of audio"),
    ("bad-track", "the track must be one of woodwinds"),
    ("bad-side", "side must be \"after\" or \"before\""),
    ("at-the-start", "there is no room before it"),
])
def test_what_cannot_be_done_is_said_and_nothing_is_sent(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path,
                                                         case: str, message: str) -> None:
    surface, c = connected(live, fake_daemon, tempo=120.0)
    song = c.song()
    folder = _clip_folder(tmp_path / "clip", manifest=case != "no-manifest")
    command, options = "repaint", {}
    if case == "midi":
        song.create_midi_track(0)
        song.view.detail_clip = song.tracks[0].create_midi_clip(0.0, 4.0)
    elif case != "nothing":
        clip = _arrangement_clip(song, folder, 0.0 if case == "at-the-start" else 8.0)
        if case == "empty-loop":
            clip.loop_start = clip.loop_end = 3.0
        elif case == "past-the-end":
            options = {"start_s": 20.0, "end_s": 30.0}
        elif case == "bad-track":
            command, options = "lego", {"track": "tuba"}
        elif case == "bad-side":
            command, options = "extend", {"side": "sideways"}
        elif case == "at-the-start":
            command, options = "extend", {"side": "before"}
    assert _command(fake_daemon, surface, c, command, options) == []
    assert c.messages[-1].startswith("MAGE Bridge: nothing sent: ") and message in c.messages[-1], c.messages[-1]


def test_the_daemon_relays_a_command_to_live_which_sends_the_job(daemon: DaemonProc, live: Rig,
                                                                   tmp_path: Path) -> None:
    """An OSC app asks the daemon; the daemon relays to Live; Live's job request reaches the daemon."""
    live.write_settings({"port": daemon.port, "view": "arrangement"})
    surface, c = live.start(tempo=120.0)
    tick_until(surface, lambda: any(m.startswith("MAGE Bridge: ready") for m in c.messages), 10.0)
    folder = _clip_folder(daemon.data_dir / "clips" / "clip")
    clip = _arrangement_clip(c.song(), folder, 16.0)
    clip.looping, clip.loop_start, clip.loop_end = True, 4.0, 8.0
    with daemon.client() as app:
        assert app.request("/mage/daw/command", "ableton", "repaint", "{}") == (
            "/mage/daw/command/sent", ["ableton", "repaint"])
        tick_until(surface, lambda: "MAGE Bridge: repaint 4.0-8.0 s of drums sent" in c.messages, 10.0)
        # Live's request reached the daemon: it answers Live (a job, or why not: both end in Live's status bar)
        tick_until(surface, lambda: any(m.startswith("MAGE Bridge: job ") or "unknown_address" in m
                                        for m in c.messages[c.messages.index(
                                            "MAGE Bridge: repaint 4.0-8.0 s of drums sent"):]), 60.0)
        for client_id, command, options, code in (("nobody", "repaint", "{}", "not_found"),
                                                  ("ableton", "dance", "{}", "invalid_input"),
                                                  ("ableton", "repaint", "[1]", "bad_json")):
            app.send("/mage/daw/command", client_id, command, options)
            _, args = app.wait_for(lambda a, p: a == "/mage/error", 5.0)
            assert args[1] == code, args


@pytest.mark.parametrize(("kind", "request_fields", "expected_start"), [
    ("repaint", {"position": {"beats": 14.0}, "label": "repaint 4.0-8.0 s"}, 14.0),
    ("extend", {"position": {"beats": 64.0}, "label": "extend after 8 bars"}, 64.0),
    # 16 s of audio at 120 BPM is 32 beats: it ends on beat 48, where its source starts
    ("extend", {"position": {"beats": 48.0}, "align": "end", "label": "extend before 8 bars"}, 16.0),
], ids=["repaint", "extend-after", "extend-before"])
def test_an_edit_s_result_lands_lined_up_with_its_source(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path,
                                                         kind: str, request_fields: dict[str, Any],
                                                         expected_start: float) -> None:
    """The placement the daemon computes (its own rules) puts the result where the script asked."""
    surface, c = connected(live, fake_daemon, tempo=120.0)
    folder = _clip_folder(tmp_path / "result")
    seconds = 16.0 if kind == "extend" else CLIP_S
    soundfile.write(str(folder / "drums.wav"), np.zeros(round(seconds * RATE), dtype="float32"), RATE)
    manifest = {"schema": "mage-bridge/manifest@1", "kind": kind, "stems": {"drums": "drums.wav"},
                "duration_s": seconds}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    ctx = daw.DawContext(120.0, 4, 4, 0.0, time.time(), "ableton", project_of(c))
    placement = daw.requested(request_fields["position"], ctx)
    daw.add_trim(placement, request_fields)
    final = daw.final_placement(placement, kind, manifest)
    announce(fake_daemon, surface, c, f"job-{kind}", folder / "manifest.json",
             {"client_id": "ableton", "project_id": project_of(c), **final})
    [track] = c.song().tracks
    [clip] = track.arrangement_clips
    assert clip.start_time == pytest.approx(expected_start) and track.name == "drums"
