"""Pitch names, keys and scales: one place that spells notes.

Pitch classes are ints 0-11 with C = 0. Keys are a tonic name plus a mode
(``"major"`` or ``"minor"``); comparisons go through pitch classes so that
``"F#"`` and ``"Gb"`` are the same key.
"""

from __future__ import annotations

from mage_bridge.errors import InvalidInputError

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")

#: Semitone offsets of the scale degrees from the tonic.
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),  # natural minor; composers raise the 7th where they want
}

# Conventional spelling: keys written with flats.
_FLAT_MAJOR = {5, 10, 3, 8, 1}  # F Bb Eb Ab Db
_FLAT_MINOR = {2, 7, 0, 5, 10}  # Dm Gm Cm Fm Bbm


def pitch_class(name: str) -> int:
    """``"C#"`` -> 1, ``"Bb"`` -> 10, ``"E♭"`` -> 3. Raises on anything else (``"H#"``)."""
    text = name.strip().replace("♯", "#").replace("♭", "b")
    if not text or text[0].upper() not in _LETTERS:
        raise InvalidInputError(f"not a note name: got {name!r}")
    pc = _LETTERS[text[0].upper()]
    for accidental in text[1:]:
        if accidental == "#":
            pc += 1
        elif accidental == "b":
            pc -= 1
        else:
            raise InvalidInputError(f"not a note name: got {name!r}")
    return pc % 12


def note_name(pc: int, *, flats: bool = False) -> str:
    return (FLAT_NAMES if flats else SHARP_NAMES)[pc % 12]


def key_name(pc: int, mode: str) -> str:
    """Tonic spelled the conventional way for that key: Bb major, F# minor, Eb minor..."""
    flats = pc % 12 in (_FLAT_MAJOR if mode == "major" else _FLAT_MINOR)
    if mode == "minor" and pc % 12 == 3:  # Eb minor over D# minor
        flats = True
    return note_name(pc, flats=flats)


def same_key(tonic_a: str, mode_a: str, tonic_b: str, mode_b: str) -> bool:
    return mode_a == mode_b and pitch_class(tonic_a) == pitch_class(tonic_b)


def midi_to_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)
