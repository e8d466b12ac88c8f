"""Musical keys as the library stores and searches them: a name, a Camelot code, and the keys that mix with it.

The Camelot wheel puts the 24 major and minor keys on a clock of 12 numbers: the minor keys are
``1A``-``12A``, the major keys ``1B``-``12B``, neighbours a fifth apart (8B = C major, 9B = G major)
and each minor key beside its relative major (8A = A minor, 8B = C major). Two clips mix
harmonically when their codes are equal, one step apart on the same ring (±1, 12 wraps to 1), or
the same number on the other ring (relative major/minor): A minor (8A) goes with 7A (D minor),
9A (E minor) and 8B (C major).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mage_bridge.errors import InvalidInputError
from mage_bridge.music import key_name, pitch_class

_MODE_WORDS = {"major": "major", "maj": "major", "minor": "minor", "min": "minor", "m": "minor", "": "major"}
_KEY = re.compile(r"^\s*([A-Ga-g](?:[#b♯♭]{0,2}))\s*[-_ ]?\s*(major|maj|minor|min|m)?\s*$", re.IGNORECASE)
_CAMELOT = re.compile(r"^\s*0?([1-9]|1[0-2])\s*([ABab])\s*$")
EXAMPLES = "'A minor', 'F# major', 'Ebm', 'C' (major) or a Camelot code such as '8A'"


@dataclass(frozen=True)
class Key:
    """A major or minor key by its tonic's pitch class (C = 0), so ``F#`` and ``Gb`` are one key."""

    pitch_class: int
    mode: str

    @property
    def name(self) -> str:
        """``"A minor"``, ``"Bb major"``: the tonic spelled as the key is written."""
        return f"{key_name(self.pitch_class, self.mode)} {self.mode}"

    @property
    def camelot(self) -> str:
        """The key's Camelot code: ``"8A"`` for A minor, ``"8B"`` for C major."""
        major_pc = self.pitch_class if self.mode == "major" else (self.pitch_class + 3) % 12
        number = (7 * major_pc + 7) % 12 + 1  # C major = 8; each fifth up is one step on
        return f"{number}{'B' if self.mode == 'major' else 'A'}"

    def compatible(self) -> tuple[Key, ...]:
        """This key, its neighbours a fifth down and up on its ring, and its relative major or minor."""
        number, ring = int(self.camelot[:-1]), self.camelot[-1]
        codes = (f"{number}{ring}", f"{(number - 2) % 12 + 1}{ring}", f"{number % 12 + 1}{ring}",
                 f"{number}{'B' if ring == 'A' else 'A'}")
        return tuple(from_camelot(code) for code in codes)


def from_camelot(code: str) -> Key:
    """The key of a Camelot code (``"8A"`` -> A minor)."""
    m = _CAMELOT.match(code)
    if m is None:
        raise InvalidInputError(f"not a Camelot code (1A-12A, 1B-12B): got {code!r}")
    number, mode = int(m.group(1)), "major" if m.group(2).upper() == "B" else "minor"
    major_pc = (7 * (number - 8)) % 12  # 8B = C; each step on is a fifth up (7 semitones)
    return Key(major_pc if mode == "major" else (major_pc - 3) % 12, mode)


def parse_key(text: str) -> Key:
    """A key as a user writes it: ``"A minor"``, ``"Am"``, ``"F#maj"``, ``"Eb"`` (major), ``"8A"``.

    Raises :class:`~mage_bridge.errors.InvalidInputError` naming the text and the forms understood.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"key must be a key name such as {EXAMPLES}, got {text!r}")
    if _CAMELOT.match(text):
        return from_camelot(text)
    m = _KEY.match(text)
    if m is None:
        raise InvalidInputError(f"unknown key {text!r}: give {EXAMPLES}")
    tonic, word = m.group(1), (m.group(2) or "")
    # "m" alone is minor and "M" major, as chord symbols write them; the words in any case.
    mode = "major" if word == "M" else _MODE_WORDS[word.lower()]
    try:
        pc = pitch_class(tonic[0].upper() + tonic[1:])
    except InvalidInputError:
        raise InvalidInputError(f"unknown key {text!r}: give {EXAMPLES}") from None
    return Key(pc, mode)


def key_of(tonic: str | None, mode: str | None) -> Key | None:
    """The key a manifest names (``"G"``, ``"minor"``), or ``None`` when it names none or one not understood."""
    if not tonic or mode not in ("major", "minor"):
        return None
    try:
        return Key(pitch_class(tonic), mode)
    except InvalidInputError:
        return None
