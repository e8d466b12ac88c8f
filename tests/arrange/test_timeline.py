"""The timeline planned from manifests alone: pickups trimmed to the first bar line, the grid's origin, why a fade
is equal-power, and junctions that cannot reach a bar line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mage_bridge.arrange import document
from mage_bridge.arrange.clips import ClipInfo
from mage_bridge.arrange.timeline import Grid, plan_song
from mage_bridge.errors import InvalidInputError

RATE = 48_000


def _clip(clip_id: str, bpm: float = 120.0, *, downbeat_s: float | None = 0.0, metre: tuple[int, int] = (4, 4),
          key: str | None = "A", mode: str | None = "minor") -> ClipInfo:
    return ClipInfo(clip_id=clip_id, manifest_path=Path(f"/clips/{clip_id}/manifest.json"),
                    audio_path=Path(f"/clips/{clip_id}/mix.wav"), bpm=bpm, tempo_from="generator",
                    time_signature=metre, key=key, mode=mode, downbeat_s=downbeat_s, data={})


def _song(*roles: str, **settings: object) -> document.Arrangement:
    return document.parse({"schema": document.SCHEMA, "slots": [{"role": r, "clip": f"c{i}"}
                                                                for i, r in enumerate(roles)], **settings})


def test_a_pickup_sets_the_grid_on_the_first_clip_and_is_trimmed_from_the_others() -> None:
    plan = plan_song(_song("focus", "next"), [_clip("a", downbeat_s=0.5), _clip("b", downbeat_s=0.5)],
                     [8 * RATE + 24_000] * 2, sample_rate=RATE)
    assert plan.grid.origin == 24_000  # bar 0 is the focus clip's first bar line
    a, b = plan.clips
    assert (a.trim_head, b.trim_head, b.frames) == (0, 24_000, 8 * RATE)
    (j,) = plan.junctions
    assert j.frame == b.start == plan.grid.line(j.bar) == 24_000 + 3 * 2 * RATE and j.fade_frames == 2 * RATE
    assert plan.frames == a.frames + b.frames - j.fade_frames
    assert any("enters at its first bar line" in n for n in plan.notes)


@pytest.mark.parametrize(("clip", "slot", "reason"), [
    (_clip("b", downbeat_s=None), {}, "has a generator tempo but no known bar lines"),
    (_clip("b", metre=(3, 4)), {}, "is in 3/4, the song in 4/4"),
    (_clip("b", bpm=100.0), {"conform_tempo": False}, "keeps its own tempo (conform_tempo false)"),
], ids=["no-bars", "metre", "own-tempo"])
def test_auto_picks_equal_power_and_says_why(clip: ClipInfo, slot: dict[str, object], reason: str) -> None:
    song = document.parse({"schema": document.SCHEMA, "slots": [{"role": "focus", "clip": "a"},
                                                                {"role": "next", "clip": "b", **slot}]})
    plan = plan_song(song, [_clip("a"), clip], [8 * RATE, 8 * RATE], sample_rate=RATE)
    (j,) = plan.junctions
    assert (j.kind, j.chosen) == ("equal-power", "auto") and reason in j.why
    if slot:
        assert plan.clips[1].conform.frames_out == 8 * RATE  # played as it is


def test_gain_key_and_settings_come_from_the_document_or_the_focus() -> None:
    song = document.parse({"schema": document.SCHEMA, "conform_key": True, "key": "C", "mode": "major",
                           "slots": [{"role": "focus", "clip": "a", "gain_db": -6},
                                     {"role": "next", "clip": "b"}]})
    plan = plan_song(song, [_clip("a"), _clip("b", key=None, mode=None)], [8 * RATE] * 2, sample_rate=RATE)
    assert plan.settings_from == {"bpm": "focus clip", "time_signature": "focus clip", "key": "document"}
    assert [c.conform.semitones for c in plan.clips] == [0, 0]  # A minor is C major's relative; b's key unknown
    assert any("slot next 1 (clip 'b') keeps its key: its key is unknown" in n for n in plan.notes)
    record = plan.record()
    assert record["clips"][0]["gain_db"] == -6.0 and record["song"]["key"] == "C"


def test_a_clip_with_no_bar_line_after_its_fade_in_is_refused() -> None:
    song = _song("focus", "next", "next", junction={"fade_s": 4.0})
    # a (7 s) ends between bar lines: b enters on bar 2 and fades in for 3 s, leaving it 1 s, short of any bar line
    with pytest.raises(InvalidInputError, match="no bar line for the junction from slot next 1 to slot next 2: slot "
                                                "next 1 \\(clip 'c1'\\) has 1.00 s after its fade-in at 120 BPM, "
                                                "less than the bar \\(2.00 s\\)"):
        plan_song(song, [_clip("a"), _clip("b"), _clip("c")], [7 * RATE, 4 * RATE, 8 * RATE], sample_rate=RATE)


def test_grid_bar_lines_round_to_frames() -> None:
    grid = Grid(RATE, 124.0, (4, 4), 10)
    assert grid.line(3) == 10 + round(3 * 4 * 60 / 124 * RATE) and grid.bar_at(grid.line(7)) == 7
    assert grid.bar_at(grid.line(7) + 1) is None
