"""Pitch names, keys and scales: one place that spells notes.

Pitch classes are ints 0-11 with C = 0. Keys are a tonic name plus a mode
(``"major"`` or ``"minor"``); comparisons go through pitch classes so that
``"F#"`` and ``"Gb"`` are the same key. A scale is a mode by name: major,
natural minor or a church mode, each of which belongs to the major or the minor
family (:data:`SCALE_FAMILY`), the mode a DAW's key field takes.
"""

from __future__ import annotations

from mage_bridge.errors import InvalidInputError

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")

#: Semitone offsets of the scale degrees from the tonic.
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),  # ionian
    "minor": (0, 2, 3, 5, 7, 8, 10),  # natural minor, aeolian; composers raise the 7th where they want
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
}
#: The major/minor family of each scale: the quality of its tonic triad's third.
SCALE_FAMILY: dict[str, str] = {
    "major": "major", "lydian": "major", "mixolydian": "major",
    "minor": "minor", "dorian": "minor", "phrygian": "minor", "locrian": "minor",
}
#: The degrees (semitones over the tonic) that tell a church mode from the plain scale of its family:
#: dorian's major 6th, phrygian's flat 2nd, lydian's sharp 4th, mixolydian's flat 7th, locrian's flat 2nd and 5th.
CHARACTERISTIC: dict[str, tuple[int, ...]] = {
    "major": (), "minor": (), "dorian": (9,), "phrygian": (1,), "lydian": (6,), "mixolydian": (10,),
    "locrian": (1, 6),
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


def key_signature_of(tonic_pc: int, scale: str) -> tuple[int, str]:
    """The major or minor key whose signature (sharps and flats) writes ``scale`` on ``tonic_pc``.

    A church mode is written with the signature of the key of its family that
    holds the same notes: D dorian as A minor (no sharps or flats), F lydian as
    C major. Returns ``(tonic_pc, "major" | "minor")``; a plain scale is its own key.
    """
    family = SCALE_FAMILY.get(scale)
    if family is None:
        raise InvalidInputError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
    notes = set(scale_pitch_classes(tonic_pc, scale))
    for pc in range(12):
        if set(scale_pitch_classes(pc, family)) == notes:
            return pc, family
    return tonic_pc % 12, family


def scale_pitch_classes(tonic_pc: int, scale: str) -> tuple[int, ...]:
    """The pitch classes of ``scale`` on ``tonic_pc``, tonic first: D dorian -> (2, 4, 5, 7, 9, 11, 0)."""
    if scale not in SCALES:
        raise InvalidInputError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
    return tuple((tonic_pc + s) % 12 for s in SCALES[scale])


def spell_scale(tonic: str, scale: str) -> tuple[str, ...]:
    """The degrees of ``scale`` on ``tonic``, one letter each: ``("D", "E", "F", "G", "A", "B", "C")`` for
    D dorian, ``("F", "G", "A", "B", "C", "D", "E")`` for F lydian, ``("Eb", "F", "Gb", ...)`` for Eb minor.

    Each degree takes the next letter after the tonic's and the accidentals that make its pitch
    (``"##"``/``"bb"`` where a theoretical key needs them), as a staff would write them.
    """
    tonic_pc = pitch_class(tonic)
    letter = tonic.strip()[0].upper()
    names = []
    order = "CDEFGAB"
    for degree, pc in enumerate(scale_pitch_classes(tonic_pc, scale)):
        degree_letter = order[(order.index(letter) + degree) % 7]
        offset = (pc - _LETTERS[degree_letter] + 6) % 12 - 6  # -6..5: semitones above the letter
        names.append(degree_letter + ("#" * offset if offset > 0 else "b" * -offset))
    return tuple(names)


def same_key(tonic_a: str, mode_a: str, tonic_b: str, mode_b: str) -> bool:
    return mode_a == mode_b and pitch_class(tonic_a) == pitch_class(tonic_b)


def midi_to_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def bar_seconds(bpm: float, time_signature: tuple[int, int]) -> float:
    """Seconds of one bar: ``numerator * 4 / denominator`` quarter notes at ``bpm``."""
    return time_signature[0] * 4.0 / time_signature[1] * 60.0 / bpm
