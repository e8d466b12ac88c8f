"""Seeds play their own grooves around the style's core, and the grooves keep the tempo they are written at."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.audio import mix
from mage_bridge.generate import grooves, patterns
from mage_bridge.generate.base import GenerateRequest
from mage_bridge.generate.compose import compose
from mage_bridge.generate.metre import PPQ, Metre
from mage_bridge.generate.score import Part, Score
from mage_bridge.measure import measure_tempo


def _analysis(genre: str, bpm: float, **kw: Any) -> PromptAnalysis:
    return PromptAnalysis(prompt=genre, genre=genre, bpm=bpm, key="A", mode="minor", time_signature=(4, 4), **kw)


def _part(score: Score, role: str) -> Part:
    return next(p for p in score.parts if p.role == role)


def _section_bar(score: Score, name: str) -> tuple[int, int]:
    """Start and end tick of the first bar of the first section called ``name``."""
    section = next(s for s in score.sections if s.name == name)
    start = section.start_bar * score.metre.bar_ticks
    return start, start + score.metre.bar_ticks


def _bar_figure(score: Score, name: str, *, keep: frozenset[int] | None = None) -> frozenset[tuple[int, int]]:
    start, end = _section_bar(score, name)
    return frozenset(((n.start - start) * 4 // PPQ, n.pitch) for n in _part(score, "drums").notes
                     if start <= n.start < end and (keep is None or n.pitch in keep) and n.pitch != grooves.CRASH)


def test_house_drops_differ_around_the_four_on_the_floor() -> None:
    kit = frozenset(range(35, 82)) - {grooves.KICK}
    drops = set()
    for seed in range(6):
        score = compose(_analysis("house", 124), seed=seed)
        start, end = _section_bar(score, "drop")
        kicks = {n.start - start for n in _part(score, "drums").notes
                 if start <= n.start < end and n.pitch == grooves.KICK}
        assert {b * PPQ for b in range(4)} <= kicks  # the core: a kick on every beat
        drops.add(_bar_figure(score, "drop", keep=kit))
    assert len(drops) == 6  # what plays around it is each seed's own


def test_band_verses_and_builds_have_feels_of_their_own() -> None:
    verse_backbeats, builds = set(), set()
    for seed in range(12):  # a verse's feel is one of four, in the feels with a backbeat on 2 and 4
        rock = compose(_analysis("rock", 120), seed=seed)
        start, end = _section_bar(rock, "verse")
        verse_backbeats.add(frozenset(n.pitch for n in _part(rock, "drums").notes
                                      if start <= n.start < end and (n.start - start) % (2 * PPQ) == PPQ
                                      and n.velocity >= 80 and n.pitch != grooves.CLOSED_HAT))
        house = compose(_analysis("house", 124), seed=seed)
        builds.add(_bar_figure(house, "build", keep=frozenset({grooves.SNARE, grooves.CLAP, grooves.E_SNARE})))
    assert any(grooves.SIDE_STICK in b for b in verse_backbeats)  # a verse on the rim...
    assert any(grooves.SNARE in b for b in verse_backbeats)  # ...and one on the snare
    assert len(builds) >= 3  # builds roll on other drums, at other speeds


def test_a_drumless_ensemble_bass_moves_in_half_notes_and_holds_under_the_swell() -> None:
    score = compose(_analysis("classical", 96), seed=0)
    bass = _part(score, "bass")
    bar = score.metre.bar_ticks
    for name, per_bar in (("A", 2), ("B", 1)):
        section = next(s for s in score.sections if s.name == name)
        starts = [n.start for n in bass.notes if section.start_bar * bar <= n.start < (section.start_bar + 1) * bar]
        assert len(starts) == per_bar, (name, starts)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_four_on_the_floor_under_its_eighth_level_octave_reads_its_beat_in_every_seed(seed: int) -> None:
    # Deep house at 100 BPM: kick on the beat, bass and chords on the off-beats, a seed's shakers, bongos
    # and clap sharing the snare's band. The eighth level (200 BPM) is not the beat.
    from mage_bridge.generate.procedural import ProceduralGenerator

    analysis = _analysis("deep house", 100)
    clip = ProceduralGenerator().generate(GenerateRequest(analysis=analysis, seed=seed, duration_s=32.0))
    assert measure_tempo(mix(clip.stems)).bpm == pytest.approx(100.0, rel=0.02)


def test_seeded_grooves_are_reproducible() -> None:
    a = _part(compose(_analysis("house", 124), seed=5), "drums").notes
    b = _part(compose(_analysis("house", 124), seed=5), "drums").notes
    assert a == b
    assert np.array_equal([n.start for n in a], [n.start for n in b])


#: Styles with whole-clip feels of their own, the genre that plays each, its tempo, and the feels in seed order.
_FELT = (("trap", "trap", 140, ("backbeat", "bounce")), ("dnb", "drum and bass", 174, ("backbeat", "amen")),
         ("one_drop", "reggae", 75, ("backbeat", "rockers", "four")),
         ("swing_ride", "jazz", 120, ("four", "brushes", "two")), ("latin", "bossa nova", 125, ("bossa", "samba")))


def _groove_bar(style: str, seed: int) -> dict[int, dict[int, int]]:
    """The main bar of ``style``'s groove at ``seed``: per drum, its 16th steps and their velocities."""
    groove = patterns.make_groove(style, Metre(4, 4), np.random.default_rng(seed), variant=seed)
    out: dict[int, dict[int, int]] = {}
    for h in groove.bar:
        out.setdefault(h.note, {})[h.tick * 4 // PPQ] = h.velocity
    return out


@pytest.mark.parametrize(("style", "genre", "bpm", "feels"), _FELT)
def test_neighbouring_seeds_play_other_feels_and_the_score_names_them(style: str, genre: str, bpm: int,
                                                                       feels: tuple[str, ...]) -> None:
    assert tuple(patterns.feel_of(style, seed) for seed in range(len(feels))) == feels
    assert patterns.feel_of(style, len(feels)) == feels[0]  # the feels come round again
    scores = [compose(_analysis(genre, bpm), seed=seed) for seed in (0, 1)]
    assert [s.drum_feel for s in scores] == list(feels[:2])
    assert _part(scores[0], "drums").notes != _part(scores[1], "drums").notes


@pytest.mark.parametrize("seed", range(4))
def test_each_feel_plays_its_own_figure(seed: int) -> None:
    trap = _groove_bar("trap", seed)
    claps = set(trap[grooves.CLAP])
    assert claps == ({4, 12} if patterns.feel_of("trap", seed) == "bounce" else {8})  # 2 and 4, or the 3
    dnb = _groove_bar("dnb", seed)
    assert set(dnb[grooves.SNARE]) >= {4, 12}  # drum and bass keeps its snare on 2 and 4 in every feel
    if patterns.feel_of("dnb", seed) == "amen":  # the kick's 1 and its and, the snare ghosted around 3
        assert {0, 2, 10} <= set(dnb[grooves.KICK]) and set(dnb[grooves.SNARE]) & {7, 9}
        assert grooves.CLOSED_HAT not in dnb or all(s % 4 == 0 for s in dnb[grooves.CLOSED_HAT])
    else:
        assert {0, 10} <= set(dnb[grooves.KICK]) and 2 not in dnb[grooves.KICK]
    reggae, feel = _groove_bar("one_drop", seed), patterns.feel_of("one_drop", seed)
    kicks = set(reggae[grooves.KICK])
    assert 8 in kicks and (0 in kicks) == (feel != "backbeat")  # the one drop drops beat 1; rockers and steppers don't
    assert (kicks >= {0, 4, 8, 12}) == (feel == "four")
    jazz, feel = _groove_bar("swing_ride", seed), patterns.feel_of("swing_ride", seed)
    assert set(jazz[grooves.PEDAL_HAT]) == {4, 12}  # the hat's chick on 2 and 4 in every feel
    if feel == "brushes":  # no ride: the snare swept in 16ths around the taps on 2 and 4
        assert grooves.RIDE not in jazz and {4, 12} <= set(jazz[grooves.SNARE]) and len(jazz[grooves.SNARE]) >= 6
    elif feel == "two":  # the ride and the kick on 1 and 3
        assert {s for s, v in jazz[grooves.RIDE].items() if v > 60} == {0, 8} and set(jazz[grooves.KICK]) == {0, 8}
    else:  # spang-a-lang with its skip notes, the kick feathered on every beat
        assert set(jazz[grooves.RIDE]) & {6, 14} and {0, 4, 8, 12} <= set(jazz[grooves.KICK])
    latin, feel = _groove_bar("latin", seed), patterns.feel_of("latin", seed)
    loudest = {s for s, v in latin[grooves.KICK].items() if v == max(latin[grooves.KICK].values())}
    assert loudest == ({4, 12} if feel == "samba" else {0, 4, 8, 12})  # the surdo's answer, or bossa's beat
    assert (grooves.CLOSED_HAT in latin) == (feel == "samba")


@pytest.mark.slow
@pytest.mark.parametrize(("genre", "bpm", "seed"), [("trap", 140, 1), ("drum and bass", 174, 1), ("reggae", 75, 1),
                                                    ("jazz", 120, 1), ("jazz", 120, 2), ("bossa nova", 125, 1)])
def test_the_feels_keep_their_tempo(genre: str, bpm: int, seed: int) -> None:
    from mage_bridge.generate.procedural import ProceduralGenerator

    analysis = _analysis(genre, bpm)
    clip = ProceduralGenerator().generate(GenerateRequest(analysis=analysis, seed=seed, duration_s=30.0))
    assert clip.details["drum_feel"] == compose(analysis, seed=seed).drum_feel != ""
    assert measure_tempo(mix(clip.stems)).bpm == pytest.approx(bpm, rel=0.04)
