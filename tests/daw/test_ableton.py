"""The Ableton Live remote script under CPython with a fake ``Live``, and real OSC with the real daemon."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import soundfile

from tests.daw.conftest import wait_outbox
from tests.daw.fake_live.harness import Rig, live, tick_until  # noqa: F401
from tests.server.conftest import DaemonProc, free_port, submit

ORDER = {"vocals": 0, "drums": 1, "bass": 2, "other": 3}


def start(live: Rig, daemon: DaemonProc | None, *, port: int | None = None, view: str = "arrangement",
          **kw: Any) -> tuple[Any, Any]:
    live.write_settings({"port": daemon.port if daemon else port, "view": view})
    return live.start(**kw)


def connected(surface: Any, c: Any) -> None:
    """Tick until the daemon has answered Live (it now knows where Live is and has replayed what Live missed)."""
    tick_until(surface, lambda: any(m.startswith("MAGE Bridge: ready") for m in c.messages), 10.0)


def handled(daemon: DaemonProc, client: str = "ableton") -> list[str]:
    folder = daemon.state_dir / "outbox" / client / "handled"
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def test_a_generated_job_lands_with_its_body_on_the_next_bar(daemon: DaemonProc, live: Rig) -> None:
    # 120 BPM 4/4, Live's cursor at beat 5.5 (2.75 s): the next bar starts at beat 8, the lead-in bar at beat 4.
    surface, c = start(live, daemon, tempo=120.0, song_time_beats=5.5)
    connected(surface, c)
    song = c.song()
    with daemon.client() as controller:  # a controller (not Live) starts the job
        job = submit(controller, "/mage/generate", "pad", "deep house groove at 120 BPM in G minor", "",
                     json.dumps({"duration_s": 8.0, "seed": 11}))
    tick_until(surface, lambda: len(song.tracks) > 0, 120.0)
    tick_until(surface, lambda: handled(daemon) == [job], 10.0)  # placed, then acknowledged
    record = json.loads((daemon.state_dir / "outbox" / "ableton" / "handled" / f"{job}.json").read_text())
    placement = record["placement"]
    assert (placement["align"], placement["beats"], placement["bar"]) == ("body", 8.0, 3)
    manifest_path = Path(record["manifest"])
    manifest = json.loads(manifest_path.read_text())
    lead_in_beats = manifest["backend"]["lead_in_s"] * 120.0 / 60
    assert placement["start_beats"] == pytest.approx(8.0 - lead_in_beats)
    stems = sorted(manifest["stems"], key=lambda n: (ORDER.get(n, 99), n))
    assert [t.name for t in song.tracks] == stems
    for track in song.tracks:
        [clip] = track.arrangement_clips
        wav = manifest_path.parent / manifest["stems"][track.name]
        assert clip.file_path == str(wav)
        assert clip.start_time + lead_in_beats == pytest.approx(8.0)  # beat 1 of the body on bar 3
        info = soundfile.info(str(wav))
        assert clip.length_s == pytest.approx(info.frames / info.samplerate)
        assert not any(slot.has_clip for slot in track.clip_slots)
    # a locator at each musical section of the clip (test_ableton_sections.py), the song position put back
    musical = [s for s in manifest["structure"] if s["name"] not in ("lead-in", "lead-out")]
    assert musical
    tick_until(surface, lambda: "locators at" in c.messages[-1], 10.0)
    assert [(cue.name.split()[:2], cue.time) for cue in song.cue_points] == [
        (["MAGE", s["name"]], pytest.approx(placement["start_beats"] + s["start_s"] * 120.0 / 60)) for s in musical]
    assert song.current_song_time == 5.5
    assert song.undo_steps == ["begin", "end"] * (1 + len(musical))
    assert c.messages[-1].startswith(f"MAGE Bridge: placed {len(stems)} stem(s) at bar 3; locators at MAGE ")


def test_session_view_puts_the_clips_in_the_selected_scene(daemon: DaemonProc, live: Rig) -> None:
    song = live.song(tempo=100.0)
    song.view.selected_scene = song.scenes[2]
    surface, c = start(live, daemon, view="session", song=song)
    connected(surface, c)
    with daemon.client() as controller:
        job = submit(controller, "/mage/generate", "s", "lo-fi hip hop beat at 90 BPM", "",
                     json.dumps({"duration_s": 10.0, "seed": 2}))
    tick_until(surface, lambda: len(song.tracks) > 0, 120.0)
    for track in song.tracks:
        assert [i for i, slot in enumerate(track.clip_slots) if slot.has_clip] == [2]
        assert track.arrangement_clips == []
    assert c.messages[-1].endswith("at scene 3")
    tick_until(surface, lambda: handled(daemon) == [job], 10.0)


def test_context_is_sent_and_recorded_with_later_jobs(daemon: DaemonProc, live: Rig) -> None:
    surface, c = start(live, daemon, tempo=96.0, numerator=6, denominator=8, song_time_beats=12.0)
    connected(surface, c)
    with daemon.client() as controller:
        job = submit(controller, "/mage/test/job", "t", "sleep", '{"seconds": 0.05}')
    [record] = wait_outbox(daemon, "ableton")
    placement = record["placement"]
    assert record["job_id"] == job and placement["mode"] == "next_bar"
    assert record["project_id"] == c.song().get_data("mage_bridge.project_id", None)
    assert (placement["bpm"], placement["numerator"], placement["denominator"]) == (96.0, 6, 8)
    assert placement["cursor_s"] == pytest.approx(12.0 * 60 / 96)
    assert placement["beats"] == 12.0  # 6/8 bars are 3 quarter notes: beat 12 is a bar line


def test_a_moved_cursor_is_where_the_next_job_goes(daemon: DaemonProc, live: Rig) -> None:
    surface, c = start(live, daemon, tempo=120.0, song_time_beats=0.0)
    connected(surface, c)
    c.song().current_song_time = 21.0  # the user clicks into bar 6; Live's listener sends it at once
    with daemon.client() as controller:  # no tick of Live's in between
        submit(controller, "/mage/test/job", "t", "sleep", '{"seconds": 0.05}')
    [record] = wait_outbox(daemon, "ableton")
    assert record["placement"]["beats"] == 24.0 and record["placement"]["bar"] == 7


def test_midi_parts_come_with_the_audio_when_asked_for(daemon: DaemonProc, live: Rig) -> None:
    live.write_settings({"port": daemon.port, "insert_midi": True})
    surface, c = live.start(tempo=110.0, song_time_beats=3.0)
    connected(surface, c)
    with daemon.client() as controller:
        job = submit(controller, "/mage/generate", "m", "funk groove", "", json.dumps({"duration_s": 8.0, "seed": 9}))
    tick_until(surface, lambda: handled(daemon) == [job], 120.0)
    record = json.loads((daemon.state_dir / "outbox" / "ableton" / "handled" / f"{job}.json").read_text())
    manifest = json.loads(Path(record["manifest"]).read_text())
    song = c.song()
    audio = [t for t in song.tracks if t.has_audio_input]
    midi = [t for t in song.tracks if t.has_midi_input]
    assert [t.name for t in midi] == [f"{p['name']} (MIDI)" for p in manifest["midi"]["parts"]]
    length = audio[0].arrangement_clips[0].length
    for track in midi:
        [clip] = track.arrangement_clips
        assert clip.start_time == audio[0].arrangement_clips[0].start_time == record["placement"]["start_beats"]
        assert clip.length == pytest.approx(length)
        assert clip.note_specs and all(0 <= n.start_time < length for n in clip.note_specs)
    placed = f"MAGE Bridge: placed {len(audio)} stem(s) at bar 2; {len(midi)} MIDI part(s)"
    assert placed in c.messages
    tick_until(surface, lambda: "locators at" in c.messages[-1], 10.0)  # then the sections' locators
    assert c.messages[-1].startswith(placed + "; locators at MAGE ")


# -- what goes wrong ----------------------------------------------------------------------------
def test_daemon_down_is_said_in_the_status_bar(live: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live.surface_module, "ANSWER_TIMEOUT_S", 0.5)
    port = free_port()
    surface, c = start(live, None, port=port)
    tick_until(surface, lambda: any("daemon not running" in m for m in c.messages), 10.0)
    [said] = [m for m in c.messages if "daemon not running" in m]
    assert said == f"MAGE Bridge: daemon not running: start `mage-bridge serve` (port {port})"
    for _ in range(40):  # said once, not every tick
        surface.update_display()
    assert sum("daemon not running" in m for m in c.messages) == 1
    assert not any("ready" in m for m in c.messages)
    assert c.song().tracks == []


def test_a_failed_job_is_said_acknowledged_and_nothing_is_created(daemon: DaemonProc, live: Rig) -> None:
    surface, c = start(live, daemon)
    connected(surface, c)
    with daemon.client() as controller:
        job = submit(controller, "/mage/generate", "bad", "ambient drone", "",
                     json.dumps({"time_signature": [4, 3], "duration_s": 8.0}))
    tick_until(surface, lambda: any("failed" in m for m in c.messages), 60.0)
    said = [m for m in c.messages if "failed" in m][0]
    assert said.startswith(f"MAGE Bridge: job {job} failed: invalid_input:")
    assert c.song().tracks == [] and c.song().undo_steps == []
    tick_until(surface, lambda: handled(daemon) == [job], 10.0)


def _finished_but_unseen(daemon: DaemonProc) -> tuple[dict[str, Any], Path]:
    """Run a job while Live is not ticking: its done event waits in the socket."""
    with daemon.client() as controller:
        submit(controller, "/mage/generate", "x", "minimal techno at 125 BPM", "",
               json.dumps({"duration_s": 8.0, "seed": 4}))
    [record] = wait_outbox(daemon, "ableton", timeout_s=120)
    manifest_path = Path(record["manifest"])
    return json.loads(manifest_path.read_text()), manifest_path


def test_a_missing_stem_file_is_said_and_nothing_is_created(daemon: DaemonProc, live: Rig) -> None:
    surface, c = start(live, daemon)
    connected(surface, c)
    manifest, manifest_path = _finished_but_unseen(daemon)
    gone = manifest_path.parent / manifest["stems"]["bass"]
    gone.unlink()
    tick_until(surface, lambda: any("missing" in m for m in c.messages), 10.0)
    assert c.messages[-1] == f"MAGE Bridge: stem file missing: {gone}; nothing was placed"
    assert c.song().tracks == [] and c.song().created == []


def test_a_clip_that_cannot_be_made_removes_the_tracks_already_made(daemon: DaemonProc, live: Rig) -> None:
    surface, c = start(live, daemon)
    connected(surface, c)
    _finished_but_unseen(daemon)
    sys.modules["Live"].Track.Track.fail_for = "bass.wav"
    try:
        tick_until(surface, lambda: any("could not place" in m for m in c.messages), 10.0)
    finally:
        sys.modules["Live"].Track.Track.fail_for = None
    song = c.song()
    assert song.tracks == [] and len(song.created) >= 2 and len(song.deleted) == len(song.created)
    assert song.undo_steps == ["begin", "end"]


@pytest.mark.parametrize("version", [(11, 2, 0), (11, 3, 24), (12, 0, 4)], ids=lambda v: ".".join(map(str, v)))
def test_an_older_live_gets_a_clear_message(daemon: DaemonProc, live: Rig, version: tuple[int, int, int]) -> None:
    surface, c = start(live, daemon, version=version)
    assert c.messages[0].startswith("MAGE Bridge: placing audio clips needs Live 12.0.5 or newer (or 11.3.25+)")
    assert c.messages[0].endswith("this is Live {}.{}.{}".format(*version))
    connected(surface, c)
    manifest, manifest_path = _finished_but_unseen(daemon)
    tick_until(surface, lambda: "stems are in" in c.messages[-1], 10.0)
    assert c.messages[-1].endswith(f"; the stems are in {manifest_path.parent}")
    assert c.song().tracks == []


@pytest.mark.parametrize("version", [(11, 3, 25), (12, 0, 5), (12, 2, 1)], ids=lambda v: ".".join(map(str, v)))
def test_supported_versions(live: Rig, version: tuple[int, int, int]) -> None:
    port = free_port()
    surface, c = start(live, None, port=port, version=version)
    assert c.messages == [f"MAGE Bridge: connecting to the daemon at 127.0.0.1:{port}…"]


def test_the_osc_codec_matches_the_daemons(live: Rig) -> None:
    from MAGE_Bridge import osc as live_osc  # type: ignore[import-not-found]

    from mage_bridge.server import osc as daemon_osc

    data = daemon_osc.encode("/mage/job/done", "abc", "/tmp/é/manifest.json", '{"beats": 8.0}')
    assert live_osc.decode(data) == [("/mage/job/done", ["abc", "/tmp/é/manifest.json", '{"beats": 8.0}'])]
    ours = live_osc.encode("/mage/daw/context", 120.0, 4, 4, 2.75, "ableton", "4f1c2a9e0b7d3e51", "/sets/a.als")
    [msg] = daemon_osc.decode(ours)
    assert (msg.address, msg.params) == ("/mage/daw/context",
                                         [120.0, 4, 4, 2.75, "ableton", "4f1c2a9e0b7d3e51", "/sets/a.als"])
    bundle = b"#bundle\x00" + b"\x00" * 7 + b"\x01" + len(data).to_bytes(4, "big") + data
    assert live_osc.decode(bundle)[0][0] == "/mage/job/done"
    with pytest.raises(live_osc.OscError):
        live_osc.decode(b"/x\x00\x00,z\x00\x00")
