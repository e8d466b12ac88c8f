"""Seeds play their own grooves around the style's core, and the grooves keep the tempo they are written at."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.audio import mix
from mage_bridge.generate import grooves
from mage_bridge.generate.base import GenerateRequest
from mage_bridge.generate.compose import compose
from mage_bridge.generate.metre import PPQ
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
