"""Results reach the Live set exactly once: also when they finish while the script is gone or Live is closed.

The real daemon keeps each result in ``outbox/ableton/`` until Live acknowledges it; the script asks for what
it missed when the daemon answers, places it, remembers the job id in the set and acknowledges it.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import pytest

from mage_bridge import audio
from mage_bridge.measure import measure_tempo
from tests.daw.conftest import wait_outbox
from tests.daw.fake_live.harness import Rig, live, tick_for, tick_until  # noqa: F401
from tests.server.conftest import DaemonProc, submit


def connect(live: Rig, daemon: DaemonProc, song: Any, **settings: Any) -> tuple[Any, Any]:
    live.write_settings({"port": daemon.port, **settings})
    surface, c = live.start(song=song)
    tick_until(surface, lambda: any(m.startswith("MAGE Bridge: ready") for m in c.messages), 10.0)
    return surface, c


def outbox(daemon: DaemonProc, sub: str = "") -> list[str]:
    folder = daemon.state_dir / "outbox" / "ableton" / sub
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def generate(daemon: DaemonProc, prompt: str, seed: int) -> str:
    with daemon.client() as controller:
        return submit(controller, "/mage/generate", f"r{seed}", prompt, "",
                      json.dumps({"duration_s": 8.0, "seed": seed}))


def test_results_finished_while_live_was_away_are_placed_once_after_it_comes_back(daemon: DaemonProc,
                                                                                   live: Rig) -> None:
    song = live.song(tempo=120.0, song_time_beats=6.0)
    first, c1 = connect(live, daemon, song)  # the daemon learns where Live is and which set is open
    first.disconnect()  # the script goes away (Live closed, the script reloading)
    jobs = [generate(daemon, "minimal techno", 4), generate(daemon, "deep house groove", 5)]
    wait_outbox(daemon, "ableton", timeout_s=120, count=2)
    assert song.tracks == []

    second, c2 = connect(live, daemon, song)  # a new script instance on the same set
    tick_until(second, lambda: outbox(daemon, "handled") == sorted(jobs), 30.0)
    placed = list(song.tracks)
    assert len(placed) == 6  # three stems each, once
    assert outbox(daemon) == []
    starts = {t.arrangement_clips[0].start_time for t in placed}
    assert starts == {4.0}  # both on bar 3 (the next bar after beat 6), the lead-in bar before it
    assert json.loads(song.get_data("mage_bridge.handled_jobs", "[]")) == jobs
    second.disconnect()

    reopened = song.reopen()  # Live closed and the set opened again: nothing comes twice
    third, c3 = connect(live, daemon, reopened)
    tick_for(third, 1.0)
    assert reopened.tracks == placed and not any("placed" in m for m in c3.messages)


def test_a_result_whose_acknowledgement_was_lost_is_acknowledged_without_placing_it_again(daemon: DaemonProc,
                                                                                         live: Rig) -> None:
    song = live.song(tempo=120.0)
    first, c1 = connect(live, daemon, song)
    job = generate(daemon, "minimal techno", 6)
    tick_until(first, lambda: outbox(daemon, "handled") == [job], 120.0)
    assert len(song.tracks) == 3
    first.disconnect()
    # The daemon never got the acknowledgement (a lost datagram): the record is undelivered again.
    base = daemon.state_dir / "outbox" / "ableton"
    os.replace(base / "handled" / f"{job}.json", base / f"{job}.json")

    again, c2 = connect(live, daemon, song.reopen())
    tick_until(again, lambda: outbox(daemon, "handled") == [job], 10.0)
    assert len(again.song().tracks) == 3 and outbox(daemon) == []


def test_a_result_of_another_set_waits_for_that_set(daemon: DaemonProc, live: Rig) -> None:
    song_a = live.song(tempo=120.0)
    a, _ = connect(live, daemon, song_a)
    a.disconnect()
    job = generate(daemon, "minimal techno", 7)
    wait_outbox(daemon, "ableton", timeout_s=120)

    song_b = live.song(tempo=120.0)  # the user opened another set
    b, c_b = connect(live, daemon, song_b)
    tick_for(b, 1.0)
    assert song_b.tracks == [] and outbox(daemon) == [job]
    b.disconnect()

    back, _ = connect(live, daemon, song_a.reopen())  # set A again: its result arrives
    tick_until(back, lambda: outbox(daemon, "handled") == [job], 10.0)
    assert len(back.song().tracks) == 3


def test_after_a_daemon_restart_live_is_ready_again_and_gets_its_results(make_daemon: Any, live: Rig,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live.surface_module, "ANSWER_TIMEOUT_S", 0.5)
    daemon = make_daemon()
    song = live.song(tempo=120.0)
    surface, c = connect(live, daemon, song)
    daemon.stop()
    tick_until(surface, lambda: "daemon not running" in c.messages[-1], 15.0)
    daemon.start()  # same port, same state folder
    tick_until(surface, lambda: c.messages[-1].startswith("MAGE Bridge: ready"), 15.0)
    job = generate(daemon, "minimal techno", 8)
    tick_until(surface, lambda: outbox(daemon, "handled") == [job], 120.0)
    assert len(song.tracks) == 3


def test_a_100_bpm_set_gets_a_100_bpm_clip_of_whole_bars_from_a_122_bpm_prompt(daemon: DaemonProc,
                                                                               live: Rig) -> None:
    song = live.song(tempo=100.0, song_time_beats=2.0)
    surface, c = connect(live, daemon, song)
    with daemon.client() as controller:  # a controller preset: "at 122 BPM" in the prompt, no tempo option
        job = submit(controller, "/mage/generate", "p", "deep house groove at 122 BPM", "",
                     json.dumps({"duration_s": 16.0, "seed": 3}))
    tick_until(surface, lambda: outbox(daemon, "handled") == [job], 150.0)
    record = json.loads((daemon.state_dir / "outbox" / "ableton" / "handled" / f"{job}.json").read_text())
    manifest_path = record["manifest"]
    manifest = json.loads(open(manifest_path).read())
    assert manifest["daw"]["tempo_from"] == "project" and manifest["daw"]["prompt"]["bpm"] == 122.0
    assert record["placement"]["clip_bpm"] == 100.0
    # 16 s at 100 BPM is 6.67 bars of 2.4 s: the clip is 7 whole bars, in Live's beats 28 quarter notes.
    mix = audio.load(os.path.join(os.path.dirname(manifest_path), manifest["mix"]))
    measured = measure_tempo(mix, time_signature=(4, 4)).bpm
    octaves = math.log2(measured / 100.0)  # an estimate may read the beat or twice/half of it
    assert abs(octaves - round(octaves)) <= math.log2(1.02), f"measured {measured:.2f} BPM"
    octaves_122 = math.log2(measured / 122.0)
    assert abs(octaves_122 - round(octaves_122)) > math.log2(1.02), f"measured {measured:.2f} BPM"
    one_frame_beats = 100.0 / 60 / mix.sample_rate
    for track in song.tracks:
        [clip] = track.arrangement_clips
        assert abs(clip.length - 28.0) <= one_frame_beats, f"{clip.length / 4} bars"
        assert not clip.warping  # at the set's tempo: nothing to stretch
        body_beat_1 = clip.start_time + record["placement"]["lead_in_s"] * 100.0 / 60
        assert body_beat_1 == pytest.approx(4.0, abs=one_frame_beats)  # on bar 2, the bar after the cursor
    assert "MAGE Bridge: placed 3 stem(s) at bar 2" in c.messages  # then the locators of its sections
