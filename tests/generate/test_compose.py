"""The composer without audio: the bar grid, numerals, swing, metres, instrument choice."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.errors import InvalidInputError
from mage_bridge.generate import grooves
from mage_bridge.generate.compose import RELEASE_S, compose
from mage_bridge.generate.harmony import parse_progression, parse_roman, voice
from mage_bridge.generate.metre import PPQ, Metre, swing_tick
from mage_bridge.generate.render import events

HOUSE = PromptAnalysis(prompt="house", genre="house", bpm=124.0, key="A", mode="minor", time_signature=(4, 4))


def _pcs(symbol: str, key: int, mode: str) -> tuple[int, ...]:
    return parse_roman(symbol, tonic_pc=key, mode=mode).pitch_classes


@pytest.mark.parametrize(
    ("symbol", "tonic", "mode", "expected"),
    [
        ("i", 9, "minor", (9, 0, 4)),           # A minor
        ("VII", 9, "minor", (7, 11, 2)),        # G major in A minor
        ("VI", 9, "minor", (5, 9, 0)),          # F major
        ("bVII", 0, "major", (10, 2, 5)),       # Bb in C major (borrowed)
        ("bVI", 9, "minor", (5, 9, 0)),         # a flat on an already-lowered degree: F, not E
        ("V7", 9, "minor", (4, 8, 11, 2)),      # E7 in A minor (major from the numeral's case)
        ("ii7", 0, "major", (2, 5, 9, 0)),      # Dm7
        ("Imaj7", 10, "major", (10, 2, 5, 9)),  # Bbmaj7
        ("vii°", 0, "major", (11, 2, 5)),       # B diminished
        ("iiø", 9, "minor", (11, 2, 5, 9)),     # Bm7b5
        ("IVsus4", 7, "major", (0, 5, 7)),      # Csus4 in G
        ("#iv°", 0, "major", (6, 9, 0)),        # F# diminished
    ],
)
def test_roman_numerals_relative_to_key_and_mode(symbol, tonic, mode, expected) -> None:
    assert _pcs(symbol, tonic, mode) == expected


def test_progression_parsing_and_errors() -> None:
    chords = parse_progression("i-VII-VI-VII", tonic_pc=9, mode="minor")
    assert [c.root_pc for c in chords] == [9, 7, 5, 7]
    assert [c.symbol for c in parse_progression("I | V, vi  IV", tonic_pc=0, mode="major")] == ["I", "V", "vi", "IV"]
    for bad in ("H", "iV", "I13b9", ""):
        with pytest.raises(InvalidInputError):
            parse_progression(bad, tonic_pc=0, mode="major")


def test_voicing_keeps_root_and_moves_little() -> None:
    c, g = parse_progression("I-V", tonic_pc=0, mode="major")
    first = voice(c, previous=None, low=52, high=76, notes=4)
    second = voice(g, previous=first, low=52, high=76, notes=4)
    assert {p % 12 for p in first} == {0, 4, 7} and {p % 12 for p in second} == {7, 11, 2}
    assert all(52 <= p <= 76 for p in first + second)
    assert sum(abs(a - b) for a, b in zip(sorted(first), sorted(second))) <= 8


def test_swing_delays_off_beats_only() -> None:
    eighth = PPQ // 2
    assert swing_tick(0, unit=eighth, amount=1.0) == 0
    assert swing_tick(PPQ, unit=eighth, amount=1.0) == PPQ
    assert swing_tick(eighth, unit=eighth, amount=1.0) == 2 * PPQ // 3  # full triplet: 2:1
    assert swing_tick(eighth, unit=eighth, amount=0.5) == eighth + eighth // 6
    assert swing_tick(PPQ + eighth, unit=eighth, amount=0.0) == PPQ + eighth
    sixteenth = PPQ // 4
    assert swing_tick(sixteenth, unit=sixteenth, amount=1.0) == PPQ // 3
    assert swing_tick(2 * sixteenth, unit=sixteenth, amount=1.0) == 2 * sixteenth


@pytest.mark.parametrize(
    ("ts", "bar_quarters", "beats", "beat_ticks"),
    [((4, 4), 4.0, 4, PPQ), ((3, 4), 3.0, 3, PPQ), ((6, 8), 3.0, 2, 3 * PPQ // 2),
     ((12, 8), 6.0, 4, 3 * PPQ // 2), ((2, 2), 4.0, 2, 2 * PPQ), ((5, 4), 5.0, 5, PPQ)],
    ids=["4/4", "3/4", "6/8", "12/8", "2/2", "5/4"],
)
def test_metre_bar_and_beats(ts, bar_quarters, beats, beat_ticks) -> None:
    m = Metre(*ts)
    assert m.quarters == bar_quarters and m.beats == beats and m.beat_ticks == beat_ticks


@pytest.mark.parametrize("ts", [(4, 4), (3, 4), (6, 8), (12, 8)], ids=str)
def test_body_starts_on_the_grid_and_kicks_land_on_downbeats(ts) -> None:
    analysis = replace(HOUSE, time_signature=ts, bpm=120.0)
    score = compose(analysis, seed=1)
    m = score.metre
    bar_s = m.quarters * 60.0 / 120.0
    assert score.frame(score.body_start_tick) == round(bar_s * 48_000)
    assert score.body_start_tick == m.bar_ticks
    drums = next(p for p in score.parts if p.stem == "drums")
    kick_ticks = {n.start for n in drums.notes if n.pitch == grooves.KICK}
    # the breakdown leaves the kick out on purpose; every other bar and the final hit have it
    breakdown = {bar for s in score.sections if s.name == "breakdown"
                 for bar in range(s.start_bar, s.start_bar + s.bars)}
    assert breakdown
    for b in range(score.body_bars + 1):
        if score.lead_in_bars + b not in breakdown:
            assert (score.lead_in_bars + b) * m.bar_ticks in kick_ticks
        else:
            assert (score.lead_in_bars + b) * m.bar_ticks not in kick_ticks
    # the count-in plays every beat of the lead-in bar
    count = sorted({n.start for n in drums.notes if n.start < m.bar_ticks and n.velocity >= 80})
    assert count == [i * m.beat_ticks for i in range(m.beats)]
    # every note starts on the 32nd/triplet grid
    assert all(n.start % (PPQ // 24) == 0 for p in score.parts for n in p.notes if analysis.swing == 0)


def test_clip_form_fits_duration_and_rings_out() -> None:
    for bpm in (60.0, 90.0, 124.0, 174.0):
        score = compose(replace(HOUSE, bpm=bpm), seed=0)
        assert score.total_frames == round(32.0 * 48_000)
        lead_out_s = 32.0 - score.frame(score.lead_out_tick) / 48_000
        assert lead_out_s >= 2.8
        last_off = max(score.frame(n.start + n.length) for p in score.parts for n in p.notes)
        assert last_off / 48_000 <= 32.0 - RELEASE_S
        assert score.progression[0] == "i" and score.progression[-1] == "i"


def test_no_drums_when_excluded_or_ambient() -> None:
    score = compose(replace(HOUSE, exclude_instruments=("drums",)), seed=0)
    assert "drums" not in score.stems() and score.drum_style == "none"
    ambient = PromptAnalysis(prompt="ambient", genre="ambient", bpm=70.0, key="Eb", mode="major",
                             time_signature=(4, 4))
    assert "drums" not in compose(ambient, seed=0).stems()


def test_named_instruments_come_first_and_land_in_their_stems() -> None:
    score = compose(replace(HOUSE, instruments=("flute", "slap bass")), seed=0)
    other = [p for p in score.parts if p.stem == "other"]
    bass = [p for p in score.parts if p.stem == "bass"]
    assert other[0].name == "flute" and other[0].program == 73
    assert bass[0].name == "slap bass" and bass[0].program == 36
    assert any(p.role in ("pad", "keys", "strings", "guitar") for p in other)  # harmony is never left out


def test_seed_changes_the_parts_and_repeats_them() -> None:
    a, b, c = compose(HOUSE, seed=1), compose(HOUSE, seed=1), compose(HOUSE, seed=2)
    assert a == b
    assert a.parts != c.parts


def test_events_release_before_restriking_and_stay_in_the_clip() -> None:
    score = compose(HOUSE, seed=0)
    table = events(score.parts, score)
    assert table[:, 0].min() >= 0 and table[:, 0].max() < score.total_frames
    assert (table[1:, 0] >= table[:-1, 0]).all()


def test_bad_requests_are_refused_with_the_value() -> None:
    with pytest.raises(InvalidInputError, match="too short"):
        compose(replace(HOUSE, bpm=60.0), seed=0, duration_s=6.0)
    with pytest.raises(InvalidInputError, match="got"):
        compose(replace(HOUSE, key="H"), seed=0)
    with pytest.raises(InvalidInputError, match="time_signature"):
        compose(replace(HOUSE, time_signature=(4, 3)), seed=0)
