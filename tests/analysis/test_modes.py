"""Church modes in prompts: the scale by name, the mode as its major/minor family, the key shown as "D dorian"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mage_bridge.analysis import analyze
from mage_bridge.analysis.rules.key import parse_key_scale
from mage_bridge.analysis.rules.text import normalise
from mage_bridge.music import SCALE_FAMILY, SCALES, pitch_class, scale_pitch_classes, spell_scale

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("prompt, key, mode, scale", [
    ("D dorian jazz vamp", "D", "minor", "dorian"),
    ("lydian film cue in F", "F", "major", "lydian"),
    ("mixolydian rock in A", "A", "major", "mixolydian"),
    ("phrygian metal in E", "E", "minor", "phrygian"),
    ("B locrian metal riff", "B", "minor", "locrian"),
    ("F# Mixolydian funk", "F#", "major", "mixolydian"),
    ("Bb-dorian lofi beat", "Bb", "minor", "dorian"),
    ("Ionian pop song in G", "G", "major", "major"),
    ("Aeolian folk ballad in A", "A", "minor", "minor"),
    ("a dorian groove in C", "C", "minor", "dorian"),  # "a" is the article: the tonic is "in C"
    ("jazz blues in E minor, slow swing", "E", "minor", ""),
    ("house track in G major", "G", "major", ""),
], ids=lambda v: str(v))
def test_church_modes_are_read_as_the_scale_and_its_family(prompt: str, key: str, mode: str, scale: str) -> None:
    a = analyze(prompt, backend="rules")
    assert (pitch_class(a.key), a.mode, a.scale) == (pitch_class(key), mode, scale)
    assert a.to_dict()["scale"] == scale
    assert not any("nearest" in w for w in a.warnings)


def test_a_mode_without_a_tonic_still_names_the_scale() -> None:
    a = analyze("dark locrian metal", backend="rules")
    assert (a.mode, a.scale) == ("minor", "locrian")
    assert a.sources["mode"] == "prompt"


def test_a_church_mode_against_the_stated_mode_is_dropped_with_a_warning() -> None:
    tonic, mode, scale, _, warnings = parse_key_scale(normalise("C major with a dorian touch"))
    assert (tonic, mode, scale) == ("C", "major", "")
    assert warnings and "dorian" in warnings[0]


@pytest.mark.parametrize("text, tonic, mode, scale", [
    ("D dorian", "D", "minor", "dorian"), ("in E phrygian", "E", "minor", "phrygian"),
    ("key of F lydian", "F", "major", "lydian"), ("dorian in D", "D", "minor", "dorian"),
    ("A minor, dorian colour", "A", "minor", "dorian"), ("in Dorian", None, "minor", "dorian"),
    ("Eb minor", "Eb", "minor", ""), ("Am", "A", "minor", ""), ("in C", "C", None, ""),
], ids=lambda v: str(v))
def test_parse_key_scale(text: str, tonic: str | None, mode: str | None, scale: str) -> None:
    got = parse_key_scale(normalise(text))
    assert got[:3] == (tonic, mode, scale)


def test_every_scale_has_a_family_and_seven_degrees() -> None:
    assert set(SCALE_FAMILY) == set(SCALES)
    for name, degrees in SCALES.items():
        assert len(degrees) == 7 and degrees[0] == 0 and list(degrees) == sorted(degrees)
        assert (3 if SCALE_FAMILY[name] == "minor" else 4) in degrees


@pytest.mark.parametrize("tonic, scale, names", [
    ("D", "dorian", "D E F G A B C"), ("F", "lydian", "F G A B C D E"), ("A", "mixolydian", "A B C# D E F# G"),
    ("E", "phrygian", "E F G A B C D"), ("B", "locrian", "B C D E F G A"), ("Eb", "minor", "Eb F Gb Ab Bb Cb Db"),
    ("F#", "major", "F# G# A# B C# D# E#"), ("Bb", "dorian", "Bb C Db Eb F G Ab"),
], ids=lambda v: str(v))
def test_scales_are_spelled_one_letter_a_degree(tonic: str, scale: str, names: str) -> None:
    assert spell_scale(tonic, scale) == tuple(names.split())
    assert tuple(pitch_class(n) for n in names.split()) == scale_pitch_classes(pitch_class(tonic), scale)


def test_analyze_prints_the_mode_by_name(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), MAGE_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(REPO))
    p = subprocess.run([sys.executable, "-m", "mage_bridge.cli", "analyze", "--backend", "rules", "D dorian jazz vamp"],
                       capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
    assert p.returncode == 0, p.stderr
    assert any(line.split(":", 1)[0].strip() == "key" and "D dorian" in line for line in p.stdout.splitlines())
