"""A generated clip's sections become Live locators (cue points) in the Arrangement, while the transport is stopped.

Live has no call that adds a locator at a time: the script moves the song position to each section's first beat,
toggles a locator there (``Song.set_or_delete_cue``), names it, and puts the position back, one step per display
tick. The fake set can apply a set position at once or only some ticks later (``seek_delay_ticks``: the LOM
documentation does not say which), so the script is tested against both. Results are written here and announced
from a bare UDP socket, as in ``test_ableton_placing.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.daw.fake_live.harness import FakeDaemon, Rig, fake_daemon, live, tick_for, tick_until  # noqa: F401
from tests.daw.test_ableton_placing import announce, connected, placement, project_of, write_result

BPM = 100.0
BAR_S = 4 * 60.0 / BPM
#: (name, bars): 8 bars of 4/4 at 100 BPM, lead-in to lead-out.
SECTIONS = [("lead-in", 1), ("intro", 2), ("verse", 1), ("chorus", 1), ("verse", 1), ("chorus", 1),
            ("lead-out", 1)]
#: Where each musical section starts in the Arrangement: the clip starts at beat 4 (the lead-in before bar 3).
EXPECTED = [("MAGE intro", 8.0), ("MAGE verse 1", 16.0), ("MAGE chorus 1", 20.0), ("MAGE verse 2", 24.0),
            ("MAGE chorus 2", 28.0)]
HOME = 2.0  # the song position the user left, in beats


def _result(tmp_path: Path, job_id: str, structure: Any = "default") -> Path:
    path, manifest = write_result(tmp_path, job_id, bpm=BPM, bars=8, midi=False)
    if structure == "default":
        structure, bar = [], 0
        for name, bars in SECTIONS:
            structure.append({"name": name, "bar": bar, "bars": bars, "start_s": round(bar * BAR_S, 6),
                              "end_s": round((bar + bars) * BAR_S, 6)})
            bar += bars
    if structure is not None:
        manifest["structure"] = structure
    path.write_text(json.dumps(manifest))
    return path


def _cues(song: Any) -> list[tuple[str, float]]:
    return [(c.name, c.time) for c in song.cue_points]


def _place(live: Rig, d: FakeDaemon, tmp_path: Path, *, structure: Any = "default", **song_kw: Any
           ) -> tuple[Any, Any]:
    surface, c = connected(live, d, tempo=BPM, song_time_beats=HOME, **song_kw)
    announce(d, surface, c, "job1", _result(tmp_path, "job1", structure), placement(project_of(c), anchor_beats=8.0))
    return surface, c


def _context_cursors(d: FakeDaemon) -> set[float]:
    """The song positions (beats) the script told the daemon about."""
    d.poll()
    return {round(args[3] * BPM / 60.0, 6) for address, args in d.received if address == "/mage/daw/context"}


@pytest.mark.parametrize("seek_delay_ticks", [0, 1, 3], ids=["position-at-once", "next-tick", "three-ticks-later"])
def test_each_musical_section_gets_a_named_locator_and_the_position_comes_back(
        live: Rig, fake_daemon: FakeDaemon, tmp_path: Path, seek_delay_ticks: int) -> None:
    surface, c = _place(live, fake_daemon, tmp_path, seek_delay_ticks=seek_delay_ticks)
    song = c.song()
    assert [t.arrangement_clips[0].start_time for t in song.tracks] == [4.0, 4.0]
    tick_until(surface, lambda: "locators at" in c.messages[-1], 10.0)
    tick_for(surface, 0.2)
    assert _cues(song) == EXPECTED
    assert song.cue_toggles == [beat for _, beat in EXPECTED]  # one toggle per section, each at its own beat
    assert song.current_song_time == HOME
    assert c.messages[-1] == ("MAGE Bridge: placed 2 stem(s) at bar 3; locators at MAGE intro (bar 3), MAGE verse 1 "
                              "(bar 5), MAGE chorus 1 (bar 6), MAGE verse 2 (bar 7), MAGE chorus 2 (bar 8)")
    # the placement's undo step, then one per locator, each closed
    assert song.undo_steps == ["begin", "end"] * (1 + len(EXPECTED))
    # the daemon never heard of the song position's trips to the sections
    assert _context_cursors(fake_daemon) == {HOME}


def test_locators_wait_for_the_transport_to_stop(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, tempo=BPM, song_time_beats=HOME)
    song = c.song()
    song.is_playing = True
    announce(fake_daemon, surface, c, "job1", _result(tmp_path, "job1"), placement(project_of(c), anchor_beats=8.0))
    assert c.messages[-1] == ("MAGE Bridge: placed 2 stem(s) at bar 3; 5 section locator(s) follow when the "
                              "transport stops")
    tick_for(surface, 0.3)
    assert _cues(song) == [] and song.cue_toggles == []
    song.current_song_time = 40.0  # playback went on; the user stops there
    song.is_playing = False
    tick_until(surface, lambda: "locators at" in c.messages[-1], 10.0)
    assert _cues(song) == EXPECTED
    assert song.current_song_time == 40.0


def test_a_locator_already_at_a_section_is_kept(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path) -> None:
    song = live.song(tempo=BPM, song_time_beats=HOME)
    song.add_locator(16.0, "my verse")
    song.add_locator(100.0, "end")
    surface, c = connected(live, fake_daemon, song=song)
    announce(fake_daemon, surface, c, "job1", _result(tmp_path, "job1"), placement(project_of(c), anchor_beats=8.0))
    tick_until(surface, lambda: "locators at" in c.messages[-1], 10.0)
    assert _cues(song) == [EXPECTED[0], ("my verse", 16.0), *EXPECTED[2:], ("end", 100.0)]
    assert 16.0 not in song.cue_toggles  # toggling there would have deleted the user's locator
    assert c.messages[-1].endswith("; a locator was already at MAGE verse 1")
    assert song.current_song_time == HOME


def test_a_locator_live_did_not_report_is_put_back_with_its_name(live: Rig, fake_daemon: FakeDaemon,
                                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    # Should is_cue_point_selected() miss a locator, the toggle deletes it: the script toggles again and renames it.
    song = live.song(tempo=BPM, song_time_beats=HOME)
    song.add_locator(16.0, "my verse")
    monkeypatch.setattr(type(song), "is_cue_point_selected", lambda self: False)
    surface, c = connected(live, fake_daemon, song=song)
    announce(fake_daemon, surface, c, "job1", _result(tmp_path, "job1"), placement(project_of(c), anchor_beats=8.0))
    tick_until(surface, lambda: "locators at" in c.messages[-1], 10.0)
    assert _cues(song) == [EXPECTED[0], ("my verse", 16.0), *EXPECTED[2:]]
    assert song.cue_toggles.count(16.0) == 2
    assert c.messages[-1].endswith("; a locator was already at MAGE verse 1")


def test_a_song_position_moved_by_the_user_ends_the_work_where_they_put_it(live: Rig, fake_daemon: FakeDaemon,
                                                                        tmp_path: Path) -> None:
    surface, c = _place(live, fake_daemon, tmp_path, seek_delay_ticks=1)
    song = c.song()
    tick_until(surface, lambda: len(song.cue_toggles) == 2, 10.0)  # two locators made, the third on its way
    song.current_song_time = 50.0  # the user clicks into the Arrangement (Live applies it on its next tick)
    tick_until(surface, lambda: "no locator for" in c.messages[-1], 10.0)
    tick_for(surface, 0.2)
    assert _cues(song) == EXPECTED[:2]
    assert song.current_song_time == 50.0
    assert c.messages[-1] == ("MAGE Bridge: placed 2 stem(s) at bar 3; locators at MAGE intro (bar 3), MAGE verse 1 "
                              "(bar 5); no locator for MAGE chorus 1, MAGE verse 2, MAGE chorus 2 (the song position "
                              "was moved)")


def test_a_clip_warped_to_a_new_set_tempo_gets_its_locators_on_the_same_beats(live: Rig, fake_daemon: FakeDaemon,
                                                                              tmp_path: Path) -> None:
    surface, c = connected(live, fake_daemon, tempo=BPM, song_time_beats=HOME)
    c.song().tempo = 120.0  # the user changed the tempo while the clip was being made: Warp follows the set
    announce(fake_daemon, surface, c, "job1", _result(tmp_path, "job1"), placement(project_of(c), anchor_beats=8.0))
    tick_until(surface, lambda: "locators at" in c.messages[-1], 10.0)
    assert _cues(c.song()) == EXPECTED


@pytest.mark.parametrize("case", ["setting-off", "session-view", "no-structure", "framing-only"])
def test_no_locators_when_off_in_session_or_without_sections(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path,
                                                             case: str) -> None:
    structure: Any = {"no-structure": None, "framing-only": [
        {"name": "lead-in", "bar": 0, "bars": 8, "start_s": 0.0, "end_s": 8 * BAR_S}]}.get(case, "default")
    live.write_settings({"port": fake_daemon.port, "view": "session" if case == "session-view" else "arrangement",
                         "insert_locators": case != "setting-off"})
    surface, c = live.start(tempo=BPM, song_time_beats=HOME)
    tick_until(surface, lambda: bool(fake_daemon.poll()), 5.0)
    fake_daemon.send("/mage/daw/context/ack", BPM, 4, 4, 0.0)
    tick_until(surface, lambda: "ready" in c.messages[-1], 5.0)
    announce(fake_daemon, surface, c, "job1", _result(tmp_path, "job1", structure),
             placement(project_of(c), anchor_beats=8.0))
    tick_for(surface, 0.3)
    song = c.song()
    assert [t.name for t in song.tracks] == ["drums", "bass"]
    assert _cues(song) == [] and song.cue_toggles == [] and song.current_song_time == HOME
    assert c.messages[-1].startswith("MAGE Bridge: placed 2 stem(s) at ")
