"""Church modes are played modally and minor keys sound minor: checked on the score, then on the rendered mix."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mage_bridge.analysis import analyze
from mage_bridge.generate.compose import compose
from mage_bridge.generate.harmony import choose_progression, parse_roman, tonic_chord
from mage_bridge.generate.score import Part, Score
from mage_bridge.music import CHARACTERISTIC, pitch_class, scale_pitch_classes

SEEDS = range(5)
CHORD_ROLES = frozenset({"pad", "strings", "keys", "guitar", "brass", "pluck"})


def _pcs(parts: list[Part]) -> set[int]:
    return {n.pitch % 12 for p in parts for n in p.notes}


def _chord_parts(score: Score) -> list[Part]:
    return [p for p in score.parts if p.role in CHORD_ROLES]


@pytest.mark.parametrize("prompt, tonic, scale", [
    ("D dorian jazz vamp", "D", "dorian"),
    ("lydian film cue in F", "F", "lydian"),
    ("mixolydian rock in A", "A", "mixolydian"),
    ("phrygian metal in E", "E", "phrygian"),
    ("B locrian metal", "B", "locrian"),
    ("dorian lofi beat in C", "C", "dorian"),
    ("F# mixolydian funk", "F#", "mixolydian"),
], ids=lambda v: str(v))
def test_modes_keep_to_their_notes_and_sound_their_colour(prompt: str, tonic: str, scale: str) -> None:
    a = analyze(prompt, backend="rules")
    assert (pitch_class(a.key), a.scale) == (pitch_class(tonic), scale)
    tonic_pc = pitch_class(tonic)
    notes = set(scale_pitch_classes(tonic_pc, scale))
    colours = {(tonic_pc + d) % 12 for d in CHARACTERISTIC[scale]}
    for seed in SEEDS:
        score = compose(a, seed=seed, duration_s=14.0)
        pitched = [p for p in score.parts if p.role != "drums"]
        assert _pcs(pitched) <= notes, f"seed {seed}: notes outside {tonic} {scale}: {_pcs(pitched) - notes}"
        assert colours <= _pcs(_chord_parts(score)), f"seed {seed}: chords miss the {scale} colour"
        leads = [p for p in score.parts if p.role == "lead"]
        if leads:
            assert colours & _pcs(leads), f"seed {seed}: the melody never sings the {scale} colour"
        assert parse_roman(score.progression[0], tonic_pc=tonic_pc, mode=scale).root_pc == tonic_pc
        assert score.progression[-1] == tonic_chord(tonic_pc=tonic_pc, mode=scale).symbol


def test_d_dorian_has_b_natural_and_no_b_flat() -> None:
    a = analyze("D dorian jazz vamp", backend="rules")
    for seed in SEEDS:
        score = compose(a, seed=seed, duration_s=14.0)
        chords = _pcs(_chord_parts(score))
        assert 11 in chords and 10 not in chords
        assert 11 in _pcs([p for p in score.parts if p.role == "lead"])
        assert 10 not in _pcs([p for p in score.parts if p.role != "drums"])


@pytest.mark.parametrize("scale, symbol, tonic, pcs", [
    ("dorian", "IV", "D", (7, 11, 2)), ("phrygian", "bII", "E", (5, 9, 0)), ("lydian", "II", "F", (7, 11, 2)),
    ("mixolydian", "bVII", "A", (7, 11, 2)), ("locrian", "i°", "B", (11, 2, 5)), ("lydian", "#iv°", "F", (11, 2, 5)),
    ("minor", "bVII", "A", (7, 11, 2)), ("major", "#iv°", "C", (6, 9, 0)),
], ids=lambda v: str(v))
def test_numerals_read_the_scale_of_the_mode(scale: str, symbol: str, tonic: str, pcs: tuple[int, ...]) -> None:
    assert parse_roman(symbol, tonic_pc=pitch_class(tonic), mode=scale).pitch_classes == pcs


@pytest.mark.parametrize("scale", ["dorian", "phrygian", "lydian", "mixolydian", "locrian"])
@pytest.mark.parametrize("style", ["rock", "swing_ride"])
def test_modal_progressions_use_only_the_modes_chords(scale: str, style: str) -> None:
    notes = set(scale_pitch_classes(0, scale))
    for seed in range(8):
        chords, _ = choose_progression(scale, 0, None, style, np.random.default_rng(seed))
        assert set().union(*(c.pitch_classes for c in chords)) <= notes
        assert any(set(CHARACTERISTIC[scale]) & set(c.pitch_classes) for c in chords)


def test_a_mode_set_over_a_church_mode_of_the_other_family_plays_plain() -> None:
    a = replace(analyze("lydian film cue in F", backend="rules"), mode="minor")
    score = compose(a, seed=0, duration_s=14.0)
    assert any("lydian" in n for n in score.notes)
    assert 11 not in _pcs([p for p in score.parts if p.role != "drums"])  # F minor: B flat, no B natural


def test_minor_blues_carries_the_minor_third_not_the_major() -> None:
    a = analyze("jazz blues in E minor, slow swing", backend="rules")
    assert (a.key, a.mode) == ("E", "minor")
    for seed in SEEDS:
        score = compose(a, seed=seed, duration_s=14.0)
        weight = np.zeros(12)
        for p in score.parts:
            if p.role != "drums":
                for n in p.notes:
                    weight[n.pitch % 12] += n.length * n.velocity
        assert weight[7] > 4 * weight[8], f"seed {seed}: G {weight[7]:.0f} vs G# {weight[8]:.0f}"
        leads = [p for p in score.parts if p.role == "lead"]
        assert all(7 in _pcs([p]) for p in leads)
        for p in _chord_parts(score):  # the final tonic chord holds the minor third, a driven guitar's too
            last = max(n.start for n in p.notes)
            final = {n.pitch % 12 for n in p.notes if n.start >= last - 100}
            assert 7 in final and 8 not in final, f"seed {seed}: {p.name} ends on {sorted(final)}"


@pytest.mark.slow
def test_minor_blues_renders_as_e_minor() -> None:
    from mage_bridge.audio import mix
    from mage_bridge.generate.base import GenerateRequest
    from mage_bridge.generate.procedural import ProceduralGenerator
    from mage_bridge.measure import measure_key

    generator = ProceduralGenerator()
    a = analyze("jazz blues in E minor, slow swing", backend="rules")
    measured = []
    for seed in SEEDS:
        clip = generator.generate(GenerateRequest(analysis=a, seed=seed, duration_s=14.0))
        key = measure_key(mix(clip.stems))
        measured.append((pitch_class(key.tonic), key.mode))
    assert measured == [(4, "minor")] * len(SEEDS), measured


@pytest.mark.parametrize(("prompt", "signature"), [
    ("D dorian jazz vamp", "Am"),      # no sharps or flats: B natural, not D minor's B flat
    ("E phrygian flamenco", "Am"),
    ("F lydian film cue", "C"),
    ("G mixolydian rock", "C"),
    ("jazz blues in E minor", "Em"),   # a plain key is its own signature
])
def test_the_midi_key_signature_writes_the_mode_s_notes(tmp_path, prompt: str, signature: str) -> None:
    import mido

    from mage_bridge.generate.midifile import write_score_midi

    score = compose(analyze(prompt, backend="rules"), seed=0, duration_s=12.0)
    write_score_midi(score, tmp_path)
    conductor = mido.MidiFile(tmp_path / "parts.mid").tracks[0]
    [key] = [m.key for m in conductor if m.type == "key_signature"]
    assert key == signature
    assert score.details()["scale"] == (analyze(prompt, backend="rules").scale or score.mode)
