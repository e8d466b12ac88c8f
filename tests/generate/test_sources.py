"""Which source plays each part: AVL recorded kits, synthesised drums and sub, the GM font; fallbacks named."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.generate.base import GenerateRequest
from mage_bridge.generate.compose import compose
from mage_bridge.generate.procedural import ProceduralGenerator
from mage_bridge.generate.score import Note
from mage_bridge.generate.sources import AVL_KEYS, Soundfonts, choose_sources, drum_choice
from mage_bridge.platforms import find_drum_kits, find_soundfont

KITS = find_drum_kits()
needs_avl = pytest.mark.skipif(not KITS, reason="AVL drum kits not installed (apt-get install avldrums.lv2-soundfont)")
GM = find_soundfont()


def analysis(genre: str, bpm: float = 120.0, instruments: tuple[str, ...] = ()) -> PromptAnalysis:
    return PromptAnalysis(prompt=genre, genre=genre, bpm=bpm, key="E", mode="minor", time_signature=(4, 4),
                          instruments=instruments)


def fonts(**kits: Path) -> Soundfonts:
    assert GM is not None
    return Soundfonts(GM, dict(kits))


@pytest.mark.parametrize("genre,style,expected", [
    ("trap", "trap", "tr808"), ("drill", "trap", "tr808"), ("reggaeton", "latin", "tr808"),
    ("house", "four_on_floor", "tr909"), ("techno", "four_on_floor", "tr909"), ("drum and bass", "dnb", "avl"),
    ("uk garage", "breakbeat", "tr909"), ("dubstep", "halftime", "tr909"),
    ("rock", "rock", "avl"), ("jazz", "swing_ride", "avl"), ("funk", "breakbeat", "avl"),
    ("disco", "four_on_floor", "avl"),
    ("waltz", "waltz", "avl"), ("boom bap", "boom_bap", "avl"), ("cinematic", "halftime", "avl"), ("", "trap", "tr808"),
    ("trap", "waltz", "tr808"), ("techno", "six_eight", "tr909"), ("rock", "six_eight", "avl"),
    ("polka", "rock", "avl"), ("garage", "breakbeat", "tr909"), ("dnb", "dnb", "avl"), ("", "dnb", "avl"),
])
def test_drum_choice_per_genre(genre: str, style: str, expected: str) -> None:
    assert drum_choice(style, genre) == expected


def test_rock_drums_split_between_the_avl_kit_and_the_gm_kit() -> None:
    score = compose(analysis("rock", instruments=("tambourine",)), seed=1, duration_s=12.0, lead_in_bars=1)
    drums = next(p for p in score.parts if p.role == "drums")
    drums = dataclasses.replace(drums, notes=drums.notes + (Note(0, 120, 35, 100),))
    score = dataclasses.replace(score, parts=tuple(drums if p.role == "drums" else p for p in score.parts))
    zeppelin = Path("/kits/Red_Zeppelin_4_LV2.sf2")
    chosen = choose_sources(score, fonts(red_zeppelin=zeppelin, black_pearl=Path("/kits/Black_Pearl_4_LV2.sf2")),
                            genre="rock")
    avl, gm = chosen.layers["drums"]
    assert avl.soundfont == zeppelin and gm.soundfont == GM
    avl_keys = {n.pitch for n in avl.parts[0].notes}
    assert avl_keys <= AVL_KEYS - {35} and 36 in avl_keys and (avl.parts[0].bank, avl.parts[0].program) == (0, 0)
    gm_keys = {n.pitch for n in gm.parts[0].notes}
    assert 54 in gm_keys and not gm_keys & AVL_KEYS  # the tambourine (and any hand percussion) stays on the GM kit
    assert (gm.parts[0].bank, gm.parts[0].program) == (drums.bank, drums.program)
    assert len(avl.parts[0].notes) + len(gm.parts[0].notes) == len(drums.notes)
    d = chosen.details["drums"]
    assert d["source"] == "soundfont" and d["soundfont"] == str(zeppelin) and d["preset"] == {"bank": 0, "program": 0}
    assert d["also"][0]["keys"] == sorted(gm_keys) and "fallback" not in d


def test_without_avl_the_gm_kit_plays_and_the_details_say_so() -> None:
    score = compose(analysis("jazz"), seed=1, duration_s=8.0, lead_in_bars=1)
    chosen = choose_sources(score, fonts(), genre="jazz")
    (layer,) = chosen.layers["drums"]
    assert layer.soundfont == GM and layer.parts == tuple(p for p in score.parts if p.role == "drums")
    assert "AVL drum kits not installed" in chosen.details["drums"]["fallback"]
    jazz_kit = choose_sources(score, fonts(black_pearl=Path("/k/bp.sf2"), red_zeppelin=Path("/k/rz.sf2")))
    assert jazz_kit.details["drums"]["soundfont"] == "/k/bp.sf2"


def test_asked_for_brushes_stay_on_the_gm_brush_kit() -> None:
    score = compose(analysis("rock", instruments=("brushes",)), seed=1, duration_s=8.0, lead_in_bars=1)
    assert next(p for p in score.parts if p.role == "drums").program == 40
    chosen = choose_sources(score, fonts(red_zeppelin=Path("/k/rz.sf2")), genre="rock")
    assert chosen.details["drums"]["soundfont"] == str(GM) and "brush" in chosen.details["drums"]["fallback"]


def test_trap_gets_808_drums_and_an_808_sub_that_plays_the_bass_part() -> None:
    score = compose(analysis("trap", 140.0), seed=2, duration_s=12.0, lead_in_bars=1)
    chosen = choose_sources(score, fonts(), genre="trap")
    engines = [layer.engine for layer in chosen.layers["drums"]]
    assert engines[0] == "tr808"
    (sub,) = chosen.layers["bass"]
    assert sub.engine == "sub808" and sub.parts == tuple(p for p in score.parts if p.role == "bass")
    assert chosen.details["bass"] == {"source": "synth", "engine": "sub808", "part": "808"}
    assert all(layer.soundfont == GM for layer in chosen.layers["other"])


def test_with_musescore_two_presets_stay_on_fluidr3_and_the_details_say_why() -> None:
    score = compose(analysis("ambient"), seed=0, duration_s=12.0, lead_in_bars=1)
    programs = {p.program for p in score.parts}
    assert {38, 89} <= programs
    musescore, fluidr3 = Path("/f/MuseScore_General.sf3"), Path("/f/FluidR3_GM.sf2")
    chosen = choose_sources(score, Soundfonts(musescore, {}, fluidr3), genre="ambient")
    for layer in (*chosen.layers["bass"], *chosen.layers["other"]):
        for part in layer.parts:
            assert layer.soundfont == (fluidr3 if part.program in (38, 89) else musescore), part.name
    assert "Warm Pad" in chosen.details["other"]["fallback"] and "Synth Bass" in chosen.details["bass"]["fallback"]
    plain = choose_sources(score, Soundfonts(fluidr3, {}, fluidr3), genre="ambient")
    assert all(layer.soundfont == fluidr3 for layer in plain.layers["other"])
    assert "fallback" not in plain.details["bass"]


def rms_dbfs(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


@needs_avl
def test_a_rock_prompt_plays_a_recorded_kit_with_real_content() -> None:
    request = GenerateRequest(analysis=analysis("rock"), seed=4, duration_s=12.0)
    clip = ProceduralGenerator().generate(request)
    d = clip.details["sources"]["drums"]
    assert d["source"] == "soundfont" and "Red_Zeppelin" in d["soundfont"]
    assert d["soundfont_name"] and 36 in d["keys"] and 38 in d["keys"]
    drums = clip.stems["drums"].samples
    assert rms_dbfs(drums) > -40.0
    # The kit's kick (its boom below 120 Hz) and its cymbals (above 5 kHz) are both there.
    spectrum = np.abs(np.fft.rfft(drums[0].astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(drums.shape[1], 1 / clip.stems["drums"].sample_rate)
    assert spectrum[freqs < 120].sum() / spectrum.sum() > 0.05
    assert spectrum[freqs > 5000].sum() / spectrum.sum() > 0.002
    gm = ProceduralGenerator(drum_kits={}).generate(request)
    assert gm.details["sources"]["drums"]["soundfont"] == str(GM)
    assert not np.allclose(gm.stems["drums"].samples, drums, atol=1e-3)
    assert "fallback" in gm.details["sources"]["drums"]


@pytest.mark.parametrize("genre", ["trap", "rock"])
def test_same_seed_same_bytes_with_every_kind_of_source(genre: str) -> None:
    request = GenerateRequest(analysis=analysis(genre, 140.0), seed=9, duration_s=8.0)
    a = ProceduralGenerator().generate(request)
    b = ProceduralGenerator(parallel=False).generate(request)
    assert a.details["sources"] == b.details["sources"]
    for name in a.stems:
        assert a.stems[name].samples.tobytes() == b.stems[name].samples.tobytes(), name
