from __future__ import annotations

import pytest

from mage_bridge.errors import InvalidInputError
from mage_bridge.music import key_name, pitch_class, same_key


@pytest.mark.parametrize("name,pc", [
    ("C", 0), ("C#", 1), ("Db", 1), ("d", 2), ("E♭", 3), ("F♯", 6), ("Cb", 11), ("B#", 0), ("Bb", 10),
])
def test_pitch_class(name: str, pc: int) -> None:
    assert pitch_class(name) == pc


@pytest.mark.parametrize("name", ["H#", "", "X", "C$", "##"])
def test_pitch_class_rejects(name: str) -> None:
    with pytest.raises(InvalidInputError):
        pitch_class(name)


def test_conventional_spelling() -> None:
    assert key_name(10, "major") == "Bb" and key_name(6, "minor") == "F#" and key_name(3, "minor") == "Eb"
    assert same_key("F#", "minor", "Gb", "minor") and not same_key("A", "minor", "C", "major")
