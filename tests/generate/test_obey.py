"""The clip does what the words say: a named ensemble plays alone, a stated length is kept, named sounds play."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import pytest

from mage_bridge.analysis.rules import RulesAnalyzer
from mage_bridge.api import generate
from mage_bridge.generate.compose import Score, compose

_RULES = RulesAnalyzer()


def _score(prompt: str, seed: int = 0) -> Score:
    return compose(_RULES.analyze(prompt), seed=seed)


def _programs(score: Score, stem: str) -> set[int]:
    return {p.program for p in score.stems().get(stem, ())}


@pytest.mark.parametrize("prompt, programs", [
    ("solo piano ballad", {0}),
    ("piano nocturne in Db major", {0}),
    ("a violin and piano duet", {40, 0}),
    ("string quartet only", {40, 41, 42}),
    ("cello solo, 60 bpm", {42}),
    ("nothing but strings, epic", {48}),
], ids=lambda v: str(v))
def test_a_named_ensemble_plays_alone(prompt: str, programs: set[int]) -> None:
    for seed in (0, 1, 2):
        score = _score(prompt, seed)
        assert set(score.stems()) == {"other"}, (prompt, seed, score.stems())
        assert _programs(score, "other") == programs
        assert any(p.role == "lead" for p in score.parts), "one of the players carries the tune"


def test_a_string_quartet_is_two_violins_viola_and_cello() -> None:
    analysis = _RULES.analyze("string quartet only")
    assert analysis.instruments == ("violin", "violin", "viola", "cello") and analysis.exclusive
    parts = compose(analysis, seed=0).stems()["other"]
    assert sorted((p.program, p.role) for p in parts) == [(40, "lead"), (40, "strings"), (41, "strings"),
                                                          (42, "strings")]
    assert len({p.channel for p in parts}) == 4


def test_a_named_ensemble_keeps_the_drums_and_bass_it_names() -> None:
    score = _score("jazz trio at 120 bpm")
    assert set(score.stems()) == {"drums", "bass", "other"}
    assert _programs(score, "bass") == {32} and _programs(score, "other") == {0}


def test_a_solo_passage_inside_a_band_does_not_close_the_ensemble() -> None:
    score = _score("rock song with a guitar solo at 130 bpm")
    assert set(score.stems()) == {"drums", "bass", "other"}


def test_horns_are_a_brass_section() -> None:
    assert 61 in _programs(_score("funk groove with horns"), "other")
    assert 60 not in _programs(_score("funk groove with horns"), "other")


@pytest.mark.parametrize("prompt, key", [("pop song with tambourine", 54), ("irish folk with bodhran", 41)])
def test_named_hand_percussion_plays_on_the_drum_channel(prompt: str, key: int) -> None:
    score = _score(prompt)
    drums = score.stems()["drums"][0]
    assert drums.channel == 9
    assert sum(n.pitch == key for n in drums.notes) >= score.body_bars
    assert any("GM percussion" in note for note in score.notes), score.notes
    without = _score(prompt.replace("tambourine", "piano").replace("bodhran", "fiddle"))
    assert sum(n.pitch == key for n in without.stems()["drums"][0].notes) < score.body_bars


def test_brushes_pick_the_brush_kit_and_say_so() -> None:
    score = _score("pop song with brushes")
    assert _programs(score, "drums") == {40}
    assert _programs(_score("pop song"), "drums") != {40}
    assert any("Brush" in note for note in score.notes)


def test_a_stand_in_sound_is_named() -> None:
    score = _score("country song with pedal steel")
    assert 26 in _programs(score, "other")
    assert any(note.startswith("pedal steel plays as GM 27") for note in score.notes)


def test_solo_piano_ballad_renders_only_piano(tmp_path: Path) -> None:
    """A real render: no drums or bass stem is written, the MIDI holds only piano parts."""
    clip = tmp_path / "clip"
    manifest = json.loads(generate("solo piano ballad", clip, seed=3, backend="procedural").read_text())
    assert manifest["analysis"]["exclusive"] is True
    assert manifest["stems"] == {"other": "other.wav"}
    assert not (clip / "drums.wav").exists() and not (clip / "bass.wav").exists()
    assert {p["program"] for p in manifest["midi"]["parts"]} == {0}
    assert {p["stem"] for p in manifest["midi"]["parts"]} == {"other"}
    parts = mido.MidiFile(clip / manifest["midi"]["file"])
    channels = {m.channel for t in parts.tracks for m in t if m.type == "note_on"}
    assert 9 not in channels, "nothing plays on the drum channel"


def test_a_stated_length_is_kept_to_one_bar(tmp_path: Path) -> None:
    """A real render through the API: "a 45 second lo-fi beat" lasts 45 s give or take one bar."""
    manifest = json.loads(generate("a 45 second lo-fi beat", tmp_path / "clip", seed=0,
                                   backend="procedural").read_text())
    bar_s = manifest["backend"]["bar_s"]
    assert manifest["analysis"]["duration_s"] == 45.0
    assert abs(manifest["duration_s"] - 45.0) <= bar_s
    assert manifest["bars"] == round(manifest["duration_s"] / bar_s)
    assert abs(manifest["bars"] * bar_s - manifest["duration_s"]) < 1e-3


def test_an_option_beats_the_stated_length(tmp_path: Path) -> None:
    manifest = json.loads(generate("a 45 second lo-fi beat", tmp_path / "clip", seed=0, backend="procedural",
                                   options={"duration_s": 12}).read_text())
    assert abs(manifest["duration_s"] - 12.0) < 1e-3
    assert any("option wins" in w for w in manifest["analysis"]["warnings"])


def test_a_decade_is_not_a_length() -> None:
    analysis = _RULES.analyze("90s hip hop beat")
    assert analysis.duration_s is None and analysis.genre in ("boom bap", "hip hop")
