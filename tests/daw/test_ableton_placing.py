"""Placing a result in the Live set: on the bar with its lead-in before it, once, MIDI parts beside the audio.

Results here are written by the test in the daemon's layout (``manifest.json``, stems, ``midi/*.mid``) and
announced from a bare UDP socket standing in for the daemon, so every placement case is exact and fast; the
round trips with the real daemon are in ``test_ableton.py`` and ``test_ableton_catchup.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pytest
import soundfile

from tests.daw.fake_live.harness import FakeDaemon, Rig, fake_daemon, live, tick_until  # noqa: F401

SR = 48000
PARTS = {  # name -> [(pitch, start_beats, duration_beats, velocity)]
    "bass": [(36, 4.0, 1.0, 100), (36, 5.5, 0.5, 90), (43, 6.0, 2.0, 80)],
    "keys": [(60, 4.0, 4.0, 70), (64, 4.0, 4.0, 70), (67, 4.0, 3.75, 64)],
}


def write_part(path: Path, notes: list[tuple[int, float, float, int]], *, ppq: int = 480, bpm: float = 100.0,
               channel: int = 0) -> None:
    """A one-track SMF (format 1: conductor track + part), as the daemon writes one per part."""
    events = []
    for pitch, start, duration, velocity in notes:
        events.append((round(start * ppq), 1, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)))
        events.append((round((start + duration) * ppq), 0, mido.Message("note_off", note=pitch, channel=channel)))
    events.sort(key=lambda e: (e[0], e[1]))
    track, now = mido.MidiTrack(), 0
    for tick, _order, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0)])
    path.parent.mkdir(parents=True, exist_ok=True)
    mido.MidiFile(type=1, ticks_per_beat=ppq, tracks=[conductor, track]).save(str(path))


def write_result(root: Path, job_id: str, *, bpm: float = 100.0, bars: int = 3, lead_in_bars: int = 1,
                 midi: bool = True) -> tuple[Path, dict[str, Any]]:
    """A generate result at ``bpm`` in 4/4: ``bars`` bars of audio, the first ``lead_in_bars`` of them lead-in."""
    folder = root / job_id
    folder.mkdir(parents=True)
    duration_s = bars * 4 * 60.0 / bpm
    frames = round(duration_s * SR)
    stems = {}
    for i, name in enumerate(("drums", "bass")):
        t = np.arange(frames) / SR
        soundfile.write(str(folder / f"{name}.wav"), (0.1 * np.sin(2 * np.pi * (110 + 50 * i) * t)).astype("float32"),
                        SR, subtype="PCM_24")
        stems[name] = f"{name}.wav"
    manifest: dict[str, Any] = {
        "schema": "mage-bridge/manifest@1", "job_id": job_id, "kind": "generate", "stems": stems,
        "mix": "mix.wav", "duration_s": duration_s, "sample_rate": SR,
        "backend": {"name": "procedural", "lead_in_s": lead_in_bars * 4 * 60.0 / bpm},
    }
    if midi:
        parts = []
        for channel, (name, notes) in enumerate(PARTS.items()):
            write_part(folder / "midi" / f"{name}.mid", notes, bpm=bpm, channel=channel)
            parts.append({"name": name, "stem": "bass" if name == "bass" else "other", "channel": channel + 1,
                          "program": 33 if name == "bass" else 0, "file": f"midi/{name}.mid"})
        manifest["midi"] = {"file": "parts.mid", "ppq": 480, "parts": parts}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder / "manifest.json", manifest


def placement(project_id: str, *, anchor_beats: float = 8.0, bpm: float = 100.0, lead_in_bars: int = 1,
              clip_bpm: float | None = 100.0, **extra: Any) -> dict[str, Any]:
    lead_in_s = lead_in_bars * 4 * 60.0 / bpm
    return {"mode": "next_bar", "seconds": anchor_beats * 60 / bpm, "beats": anchor_beats,
            "bar": int(anchor_beats // 4) + 1, "align": "body", "lead_in_s": lead_in_s,
            "start_s": anchor_beats * 60 / bpm - lead_in_s, "start_beats": anchor_beats - lead_in_bars * 4.0,
            "bpm": bpm, "numerator": 4, "denominator": 4, "cursor_s": 1.0, "clip_bpm": clip_bpm,
            "client_id": "ableton", "project_id": project_id, **extra}


def connected(live: Rig, d: FakeDaemon, *, view: str = "arrangement", insert_midi: bool = False,
              song: Any = None, **kw: Any) -> tuple[Any, Any]:
    live.write_settings({"port": d.port, "view": view, "insert_midi": insert_midi})
    surface, c = live.start(song=song, **kw)
    tick_until(surface, lambda: bool(d.poll()), 5.0)
    d.send("/mage/daw/context/ack", 100.0, 4, 4, 0.0)
    tick_until(surface, lambda: "ready" in c.messages[-1], 5.0)
    return surface, c


def project_of(c: Any) -> str:
    return str(c.song().get_data("mage_bridge.project_id", None))


def announce(d: FakeDaemon, surface: Any, c: Any, job_id: str, manifest_path: Path, place: dict[str, Any]) -> None:
    d.poll()
    d.send("/mage/job/done", job_id, str(manifest_path), json.dumps(place))
    before = len(c.messages)
    tick_until(surface, lambda: len(c.messages) > before, 5.0)


def acks(d: FakeDaemon) -> list[str]:
    return [args[1] for address, args in d.poll() if address == "/mage/daw/ack" and args[0] == "ableton"]


# -- audio on the bar ---------------------------------------------------------------------------------------
def test_the_lead_in_goes_before_the_bar_so_the_body_starts_on_it(live: Rig, fake_daemon: FakeDaemon,
                                                                  tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, tempo=100.0)
    path, _ = write_result(tmp_path, "job1")
    announce(fake_daemon, surface, c, "job1", path, placement(project_of(c), anchor_beats=8.0))
    song = c.song()
    assert [t.name for t in song.tracks] == ["drums", "bass"]
    for track in song.tracks:
        [clip] = track.arrangement_clips
        assert clip.start_time == 4.0  # one bar of lead-in before beat 8 (bar 3)
        assert clip.length == pytest.approx(12.0)  # 3 whole bars at the set's 100 BPM
    assert c.messages[-1] == "MAGE Bridge: placed 2 stem(s) at bar 3"
    assert acks(fake_daemon) == ["job1"]
    assert json.loads(song.get_data("mage_bridge.handled_jobs", "[]")) == ["job1"]


@pytest.mark.parametrize(("cursor_beats", "start_beats", "bar"), [
    (1.5, 0.0, 2),   # the next bar is beat 4; its lead-in bar starts at beat 0
    (0.0, 0.0, 2),   # the bar at the cursor is beat 0, with no room for the lead-in: on by one bar
    (9.0, 8.0, 4),
], ids=["next-bar", "no-room-for-the-lead-in", "later"])
def test_without_a_start_from_the_daemon_the_script_puts_the_body_on_the_bar_after_the_cursor(
        live: Rig, fake_daemon: FakeDaemon, tmp_path: Path, cursor_beats: float, start_beats: float, bar: int) -> None:
    surface, c = connected(live, fake_daemon, tempo=100.0, song_time_beats=cursor_beats)
    path, _ = write_result(tmp_path, "job2")
    place = {"mode": "cursor", "seconds": None, "beats": None, "bar": None, "align": "body",
             "lead_in_s": 2.4, "start_s": None, "start_beats": None, "clip_bpm": 100.0,
             "client_id": "ableton", "project_id": project_of(c)}
    announce(fake_daemon, surface, c, "job2", path, place)
    assert [t.arrangement_clips[0].start_time for t in c.song().tracks] == [start_beats, start_beats]
    assert c.messages[-1] == f"MAGE Bridge: placed 2 stem(s) at bar {bar}"


def test_a_result_is_placed_once_and_acknowledged_each_time_it_comes(live: Rig, fake_daemon: FakeDaemon,
                                                                     tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, tempo=100.0)
    path, _ = write_result(tmp_path, "job3")
    place = placement(project_of(c))
    announce(fake_daemon, surface, c, "job3", path, place)
    assert acks(fake_daemon) == ["job3"]
    fake_daemon.send("/mage/job/done", "job3", str(path), json.dumps(place))  # a replay: the ack got lost
    tick_until(surface, lambda: "job3" in acks(fake_daemon), 5.0)
    assert len(c.song().tracks) == 2


def test_a_result_for_another_set_is_left_for_that_set(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, tempo=100.0)
    path, _ = write_result(tmp_path, "job4")
    announce(fake_daemon, surface, c, "job4", path, placement("0123456789abcdef"))
    assert c.song().tracks == [] and acks(fake_daemon) == []
    assert c.messages[-1] == ("MAGE Bridge: job job4 belongs to another Live set; it is placed when that set "
                              "is open")


def test_a_failed_job_is_said_once_and_acknowledged(live: Rig, fake_daemon: FakeDaemon) -> None:
    surface, c = connected(live, fake_daemon)
    fake_daemon.poll()
    for _ in range(2):  # live, then replayed
        fake_daemon.send("/mage/job/failed", "job5", "invalid_input", "time_signature must be ...")
        tick_until(surface, lambda: "job5" in acks(fake_daemon), 5.0)
    assert sum("failed" in m for m in c.messages) == 1
    assert c.messages[-1] == "MAGE Bridge: job job5 failed: invalid_input: time_signature must be ..."


def test_an_acknowledgement_the_daemon_no_longer_knows_is_not_an_error(live: Rig, fake_daemon: FakeDaemon,
                                                                       tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, tempo=100.0)
    path, _ = write_result(tmp_path, "job6")
    announce(fake_daemon, surface, c, "job6", path, placement(project_of(c)))
    said = list(c.messages)
    fake_daemon.send("/mage/error", "job6", "not_found", "no outbox record job6 for client 'ableton'")
    for _ in range(5):
        surface.update_display()
    assert c.messages == said


# -- tempo ------------------------------------------------------------------------------------------------------
def test_a_set_whose_tempo_changed_since_the_request_gets_warped_clips(live: Rig, fake_daemon: FakeDaemon,
                                                                      tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, tempo=100.0, insert_midi=True)
    path, _ = write_result(tmp_path, "job7")
    c.song().tempo = 90.0  # the user changed the tempo while the clip was being made
    announce(fake_daemon, surface, c, "job7", path, placement(project_of(c)))
    song = c.song()
    assert [t.arrangement_clips[0].warping for t in song.tracks if t.has_audio_input] == [True, True]
    for track in midi_tracks(song):  # Live plays warped audio beat for beat: the MIDI parts stay in clip beats
        assert track.arrangement_clips[0].length == pytest.approx(12.0)
        assert_notes(track.arrangement_clips[0], track.arrangement_clips[0].name)
    assert c.messages[-1] == ("MAGE Bridge: placed 2 stem(s) at bar 3; the stems were made at 100 BPM, the set's "
                              "tempo when they were asked for; the set is at 90 BPM now, so Warp is on to keep them "
                              "on its bars (Seg. BPM 100 in Clip View); 2 MIDI part(s)")


def test_a_tempo_the_request_asked_for_is_kept(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, tempo=100.0, insert_midi=True)
    path, _ = write_result(tmp_path, "job7b", bpm=125.0)
    song = c.song()
    announce(fake_daemon, surface, c, "job7b", path, placement(project_of(c), bpm=100.0, clip_bpm=125.0))
    audio = [t.arrangement_clips[0] for t in song.tracks if t.has_audio_input]
    assert [clip.warping for clip in audio] == [False, False]
    assert audio[0].length == pytest.approx(3 * 4 * 60 / 125 * 100 / 60)  # its seconds at the set's tempo
    for track in midi_tracks(song):  # the MIDI parts play where the unwarped audio plays
        clip = track.arrangement_clips[0]
        assert clip.length == pytest.approx(audio[0].length)
        got = sorted((n.pitch, n.start_time, n.duration) for n in clip.note_specs)
        want = sorted((p, s * 100 / 125, d * 100 / 125) for p, s, d, _v in PARTS[clip.name])
        assert [g[0] for g in got] == [w[0] for w in want]
        assert [g[1:] for g in got] == [pytest.approx(w[1:]) for w in want]
    assert c.messages[-1] == ("MAGE Bridge: placed 2 stem(s) at bar 3; the stems are at 125 BPM, as their request "
                              "asked; the set is at 100 BPM, so they do not follow its bars (Warp off); "
                              "2 MIDI part(s)")


@pytest.mark.parametrize(("set_bpm", "clip_bpm"), [(100.0, 100.0), (60.0, 120.0), (200.0, 100.0)],
                         ids=["same", "double", "half"])
def test_a_clip_whose_beats_fall_on_the_sets_beats_is_left_as_live_made_it(
        live: Rig, fake_daemon: FakeDaemon, tmp_path: Path, set_bpm: float, clip_bpm: float) -> None:
    surface, c = connected(live, fake_daemon, tempo=set_bpm)
    path, _ = write_result(tmp_path, "job8", bpm=clip_bpm)
    announce(fake_daemon, surface, c, "job8", path, placement(project_of(c), bpm=set_bpm, clip_bpm=clip_bpm))
    assert not any(t.arrangement_clips[0].warping for t in c.song().tracks)
    assert c.messages[-1] == "MAGE Bridge: placed 2 stem(s) at bar 3"


# -- MIDI parts -----------------------------------------------------------------------------------------------
def midi_tracks(song: Any) -> list[Any]:
    return [t for t in song.tracks if t.has_midi_input]


def assert_notes(clip: Any, name: str) -> None:
    got = sorted((n.pitch, n.start_time, n.duration, n.velocity) for n in clip.note_specs)
    assert got == sorted((p, s, d, float(v)) for p, s, d, v in PARTS[name])


def test_midi_parts_land_beside_the_audio_in_the_arrangement(live: Rig, fake_daemon: FakeDaemon,
                                                             tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, insert_midi=True, tempo=100.0, version=(12, 2, 0))
    path, _ = write_result(tmp_path, "job9")
    announce(fake_daemon, surface, c, "job9", path, placement(project_of(c)))
    song = c.song()
    assert [t.name for t in song.tracks] == ["drums", "bass", "bass (MIDI)", "keys (MIDI)"]
    for track in midi_tracks(song):
        [clip] = track.arrangement_clips
        assert clip.is_midi_clip and clip.start_time == 4.0 and clip.length == pytest.approx(12.0)
        assert clip.name == track.name.replace(" (MIDI)", "")
        assert_notes(clip, clip.name)
    assert c.messages[-1] == "MAGE Bridge: placed 2 stem(s) at bar 3; 2 MIDI part(s)"
    assert song.undo_steps == ["begin", "end"]


def test_midi_parts_land_in_the_selected_scene_in_the_session_view(live: Rig, fake_daemon: FakeDaemon,
                                                                   tmp_path: Path) -> None:
    song = live.song(tempo=100.0)
    song.view.selected_scene = song.scenes[1]
    surface, c = connected(live, fake_daemon, view="session", insert_midi=True, song=song, version=(11, 3, 25))
    path, _ = write_result(tmp_path, "job10")
    announce(fake_daemon, surface, c, "job10", path, placement(project_of(c)))
    for track in song.tracks:
        assert [i for i, slot in enumerate(track.clip_slots) if slot.has_clip] == [1]
        assert track.arrangement_clips == []
    for track in midi_tracks(song):
        clip = track.clip_slots[1].clip
        assert clip.length == pytest.approx(12.0)
        assert_notes(clip, clip.name)
    assert c.messages[-1] == "MAGE Bridge: placed 2 stem(s) at scene 2; 2 MIDI part(s)"


def test_an_arrangement_without_create_midi_clip_gets_the_audio_and_a_clear_word(live: Rig, fake_daemon: FakeDaemon,
                                                                                 tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, insert_midi=True, tempo=100.0, version=(12, 1, 0))
    path, _ = write_result(tmp_path, "job11")
    announce(fake_daemon, surface, c, "job11", path, placement(project_of(c)))
    assert [t.name for t in c.song().tracks] == ["drums", "bass"]
    assert c.messages[-1] == (
        "MAGE Bridge: placed 2 stem(s) at bar 3; MIDI parts not placed: this is Live 12.1.0, placing them needs "
        "Track.create_midi_clip (Live 12.2+; the Session view works from Live 11.0); the MIDI files are in "
        f"{path.parent / 'midi'}")


def test_a_broken_midi_file_leaves_the_audio_and_no_midi_track(live: Rig, fake_daemon: FakeDaemon,
                                                               tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, insert_midi=True, tempo=100.0)
    path, _ = write_result(tmp_path, "job12")
    (path.parent / "midi" / "keys.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\xe7\x28")  # SMPTE
    announce(fake_daemon, surface, c, "job12", path, placement(project_of(c)))
    assert [t.name for t in c.song().tracks] == ["drums", "bass"]
    assert c.messages[-1] == (f"MAGE Bridge: placed 2 stem(s) at bar 3; MIDI parts not placed: "
                              f"{path.parent / 'midi' / 'keys.mid'}: SMPTE time division is not supported "
                              "(ticks per quarter note only)")


def test_midi_parts_stay_out_unless_asked_for(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, tempo=100.0)
    path, _ = write_result(tmp_path, "job13")
    announce(fake_daemon, surface, c, "job13", path, placement(project_of(c)))
    assert midi_tracks(c.song()) == []
