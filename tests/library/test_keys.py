"""Keys, Camelot codes and compatible keys, against the Camelot wheel as DJs print it."""

from __future__ import annotations

import pytest

from mage_bridge.errors import InvalidInputError
from mage_bridge.library.keys import Key, from_camelot, key_of, parse_key
from mage_bridge.music import pitch_class

#: The Camelot wheel: code -> key, all 24 (Mixed In Key's chart).
WHEEL = {
    "1A": "G# minor", "2A": "D# minor", "3A": "A# minor", "4A": "F minor", "5A": "C minor", "6A": "G minor",
    "7A": "D minor", "8A": "A minor", "9A": "E minor", "10A": "B minor", "11A": "F# minor", "12A": "C# minor",
    "1B": "B major", "2B": "F# major", "3B": "C# major", "4B": "G# major", "5B": "D# major", "6B": "A# major",
    "7B": "F major", "8B": "C major", "9B": "G major", "10B": "D major", "11B": "A major", "12B": "E major",
}


def _key(name: str) -> Key:
    tonic, mode = name.split()
    return Key(pitch_class(tonic), mode)


@pytest.mark.parametrize("code,name", WHEEL.items(), ids=list(WHEEL))
def test_every_key_has_its_camelot_code_both_ways(code: str, name: str) -> None:
    assert _key(name).camelot == code
    assert from_camelot(code) == _key(name)
    assert parse_key(code.lower()) == _key(name)


@pytest.mark.parametrize("name,expected", [
    ("A minor", {"A minor", "D minor", "E minor", "C major"}),
    ("C major", {"C major", "F major", "G major", "A minor"}),
    ("G# minor", {"G# minor", "C# minor", "D# minor", "B major"}),  # 1A: its neighbours 12A and 2A
    ("E major", {"E major", "A major", "B major", "C# minor"}),     # 12B: wraps to 1B
], ids=["8A", "8B", "1A-wraps-to-12A", "12B-wraps-to-1B"])
def test_compatible_keys_are_the_same_the_neighbours_and_the_relative(name: str, expected: set[str]) -> None:
    assert set(_key(name).compatible()) == {_key(n) for n in expected}
    assert len(_key(name).compatible()) == 4


@pytest.mark.parametrize("text,name", [
    ("A minor", "A minor"), ("Am", "A minor"), ("a min", "A minor"), ("A-minor", "A minor"), ("Amin", "A minor"),
    ("F# major", "F# major"), ("Gb maj", "F# major"), ("F♯", "F# major"), ("Ebm", "D# minor"), ("eb minor", "D# minor"),
    ("Bb", "A# major"), ("BbM", "A# major"), ("C", "C major"), (" 8a ", "A minor"), ("08B", "C major"),
])
def test_keys_are_read_as_people_write_them(text: str, name: str) -> None:
    assert parse_key(text) == _key(name)


def test_a_key_name_spells_its_tonic_as_the_key_is_written() -> None:
    assert parse_key("A# major").name == "Bb major"
    assert parse_key("D# minor").name == "Eb minor"
    assert parse_key("F# minor").name == "F# minor"


@pytest.mark.parametrize("text", ["H minor", "A dorianish", "", "   ", "13A", "0B", "C##b", "A minor minor", "xyz"])
def test_unknown_keys_are_refused_naming_the_text(text: str) -> None:
    with pytest.raises(InvalidInputError) as e:
        parse_key(text)
    assert repr(text) in str(e.value)


def test_a_manifest_key_that_is_not_understood_is_none() -> None:
    assert key_of("G", "minor") == Key(7, "minor")
    assert key_of(None, "minor") is None
    assert key_of("G", "dorian") is None
    assert key_of("H", "major") is None
