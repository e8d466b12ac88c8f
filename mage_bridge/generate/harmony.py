"""Roman-numeral chords relative to a key, the progression a clip plays, and the voicings of its chords.

A numeral names a scale degree of the key's scale (``"VII"`` in A minor is G,
``"IV"`` in D dorian is G with its B natural);
its case gives the triad quality (upper = major, lower = minor) and a suffix
can change it: ``°``/``o``/``dim``, ``+``/``aug``, ``ø`` (half-diminished 7th),
``7``, ``maj7`` (``M7``, ``Δ7``), ``6``, ``9``, ``sus2``, ``sus4``. An accidental
prefix (``b``/``#``, ``♭``/``♯``) moves the root a semitone; a flat on a degree
the scale already lowers (``bIII``, ``bVI``, ``bVII`` in minor, ``bII`` in
phrygian) is read as that lowered degree, as lead sheets write it, and a sharp
on a degree it already raises (``#IV`` in lydian) likewise.

A clip's progression is the genre's (one that fits the mode), else its drum
style's (12-bar blues for a shuffle, ii-V turnarounds for swing), else a common
one of the mode, rotated so the clip starts on the tonic chord. A church mode
plays a modal vamp instead (dorian i-IV, mixolydian I-bVII, lydian I-II,
phrygian i-bII, locrian i°-bII): chords of the mode only, one of them carrying
its characteristic degree, which the major/minor progressions of a genre would
contradict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from mage_bridge import genres
from mage_bridge.errors import InvalidInputError
from mage_bridge.music import SCALE_FAMILY, SCALES

_NUMERALS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7}
_PATTERN = re.compile(
    r"^(?P<acc>[b#♭♯]*)(?P<num>vii|iii|ii|iv|vi|v|i)(?P<suffix>.*)$", re.IGNORECASE
)
_SUFFIXES: dict[str, tuple[str, tuple[int, ...]]] = {
    # suffix -> (quality override or "", extra intervals)
    "": ("", ()),
    "7": ("", (10,)),
    "maj7": ("", (11,)),
    "m7": ("minor", (10,)),
    "6": ("", (9,)),
    "9": ("", (10, 14)),
    "maj9": ("", (11, 14)),
    "add9": ("", (14,)),
    "sus2": ("sus2", ()),
    "sus4": ("sus4", ()),
    "7sus4": ("sus4", (10,)),
    "dim": ("dim", ()),
    "dim7": ("dim", (9,)),
    "aug": ("aug", ()),
    "m7b5": ("dim", (10,)),
}
_ALIASES = {"°": "dim", "o": "dim", "°7": "dim7", "o7": "dim7", "+": "aug", "ø": "m7b5", "ø7": "m7b5",
            "m7b5": "m7b5", "M7": "maj7", "Δ": "maj7", "Δ7": "maj7", "^7": "maj7", "M9": "maj9"}
_TRIADS = {
    "major": (0, 4, 7), "minor": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8),
    "sus2": (0, 2, 7), "sus4": (0, 5, 7),
}


@dataclass(frozen=True)
class Chord:
    """A chord as a root pitch class and intervals above it (semitones, root first)."""

    symbol: str
    root_pc: int
    intervals: tuple[int, ...]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root_pc + i) % 12 for i in self.intervals)

    @property
    def is_minor(self) -> bool:
        return 3 in self.intervals[:3] and 4 not in self.intervals


def parse_roman(symbol: str, *, tonic_pc: int, mode: str) -> Chord:
    """One numeral (``"bVII"``, ``"ii7"``, ``"V/…"`` is not supported) -> :class:`Chord`.

    ``mode`` is any scale of :data:`mage_bridge.music.SCALES` ("minor", "dorian"...).
    """
    if mode not in SCALES:
        raise InvalidInputError(f"scale must be one of {sorted(SCALES)}, got {mode!r}")
    text = symbol.strip()
    m = _PATTERN.match(text)
    if not m:
        raise InvalidInputError(f"not a roman numeral chord: got {symbol!r}")
    numeral = m.group("num")
    if numeral != numeral.upper() and numeral != numeral.lower():
        raise InvalidInputError(f"roman numeral must be all upper or all lower case: got {symbol!r}")
    degree = _NUMERALS[numeral.lower()]
    suffix = m.group("suffix").strip()
    suffix = _ALIASES.get(suffix, suffix)
    if suffix not in _SUFFIXES:
        raise InvalidInputError(f"unknown chord suffix {m.group('suffix')!r} in {symbol!r}")
    scale = SCALES[mode]
    semitones = scale[degree - 1]
    major_degree = SCALES["major"][degree - 1]
    for acc in m.group("acc"):
        if acc in "b♭":
            # A flat on a degree the mode already lowers is the lowered degree itself.
            semitones = semitones if semitones < major_degree else semitones - 1
        else:
            # A sharp on a degree the mode already raises is the raised degree itself.
            semitones = semitones if semitones > major_degree else semitones + 1
    quality, extra = _SUFFIXES[suffix]
    if not quality:
        quality = "major" if numeral.isupper() else "minor"
    if suffix == "m7b5":
        quality = "dim"
    intervals = _TRIADS[quality] + extra
    return Chord(symbol=text, root_pc=(tonic_pc + semitones) % 12, intervals=intervals)


def parse_progression(text: str, *, tonic_pc: int, mode: str) -> tuple[Chord, ...]:
    """``"i-VII-VI-VII"`` (``-``, spaces, ``|`` or ``,`` between chords) -> chords."""
    symbols = [s for s in re.split(r"[\s,|–-]+", text.strip()) if s]
    if not symbols:
        raise InvalidInputError(f"empty chord progression: got {text!r}")
    return tuple(parse_roman(s, tonic_pc=tonic_pc, mode=mode) for s in symbols)


def tonic_chord(*, tonic_pc: int, mode: str) -> Chord:
    """The triad on the tonic of ``mode`` (any scale): I, i, or i° in locrian."""
    symbol = "i°" if mode == "locrian" else "i" if SCALE_FAMILY.get(mode) == "minor" else "I"
    return parse_roman(symbol, tonic_pc=tonic_pc, mode=mode)


def fit_pitch(pitch: int, *, chord: Chord, scale_pcs: tuple[int, ...]) -> int:
    """``pitch`` if it is a chord tone or in the scale, else its neighbour a semitone away that is
    (a chord tone first, then upward): how a figure written in semitones keeps to a mode."""
    allowed = set(chord.pitch_classes) | set(scale_pcs)
    if pitch % 12 in allowed:
        return pitch
    for p in sorted((pitch + 1, pitch - 1), key=lambda p: (p % 12 not in chord.pitch_classes, p < pitch)):
        if p % 12 in allowed:
            return p
    return pitch


def place(pc: int, *, low: int, high: int) -> int:
    """The MIDI note of pitch class ``pc`` in ``[low, high]`` closest to their middle."""
    mid = (low + high) / 2
    candidates = [n for n in range(low, high + 1) if n % 12 == pc % 12]
    if not candidates:
        raise InvalidInputError(f"no pitch class {pc} between MIDI {low} and {high}")
    return min(candidates, key=lambda n: (abs(n - mid), n))


def voice(chord: Chord, *, previous: tuple[int, ...] | None, low: int = 52, high: int = 76,
          notes: int = 4) -> tuple[int, ...]:
    """A close voicing of ``chord`` in ``[low, high]`` that moves least from ``previous``.

    Triads double the root to reach ``notes`` voices; 7ths and 9ths keep their colour
    tones first. The root is always present, so the chord is never mistaken for another.
    """
    pcs = list(chord.pitch_classes)
    if len(pcs) > notes:
        # drop the fifth first: root, third and the colour tones carry the chord
        pcs = pcs[:2] + pcs[3:]
        pcs = pcs[:2] + pcs[2:][-(notes - 2):] if notes > 2 else pcs[:notes]
    options = []
    for inversion in range(len(pcs)):
        order = pcs[inversion:] + pcs[:inversion]
        for base in range(low, high - 6):
            if base % 12 != order[0]:
                continue
            stack = [base]
            for pc in order[1:]:
                n = stack[-1] + 1
                while n % 12 != pc:
                    n += 1
                stack.append(n)
            while len(stack) < notes:
                stack.append(stack[len(stack) - len(order)] + 12)
            if stack[-1] <= high:
                options.append(tuple(stack))
    if not options:
        raise InvalidInputError(f"cannot voice {chord.symbol!r} between MIDI {low} and {high}")
    if previous is None:
        centre = (low + high) / 2
        return min(options, key=lambda v: (abs(sum(v) / len(v) - centre), v))
    return min(options, key=lambda v: (_distance(v, previous), v))


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    return sum(min(abs(x - y) for y in b) for x in a) + sum(min(abs(x - y) for x in a) for y in b)


#: Progressions per mode, for genres and drum styles without their own.
DEFAULT_PROGRESSIONS: dict[str, tuple[str, ...]] = {
    "major": ("I-V-vi-IV", "I-IV-V-IV", "I-vi-IV-V", "I-IV-I-V"),
    "minor": ("i-VI-III-VII", "i-iv-v-i", "i-VII-VI-VII", "i-iv-VI-V"),
}
#: Vamps of the church modes: their own chords, the characteristic degree in at least one of them.
MODAL_PROGRESSIONS: dict[str, tuple[str, ...]] = {
    "dorian": ("i-IV", "i-IV-i-IV", "i-ii-IV-i", "i-IV-VII-IV"),
    "phrygian": ("i-bII", "i-bII-bIII-bII", "i-bII-i-bvii", "i-iv-bII-i"),
    "lydian": ("I-II", "I-II-I-II", "I-II-vii-I", "I-II-iii-II"),
    "mixolydian": ("I-bVII-IV-I", "I-bVII", "I-v-IV-I", "I-bVII-I-IV"),
    "locrian": ("i°-bII", "i°-bII-biii-bII", "i°-bII-bV-bII", "i°-bvii-bII-i°"),
}
#: The same vamps with sevenths, for jazz and blues grooves.
MODAL_SEVENTHS: dict[str, tuple[str, ...]] = {
    "dorian": ("i7-IV7", "i7-i7-IV7-IV7", "i7-ii7-IV7-i7"),
    "phrygian": ("i7-bIImaj7", "i7-bIImaj7-bIII7-bIImaj7"),
    "lydian": ("Imaj7-II7", "Imaj7-II7-Imaj7-II"),
    "mixolydian": ("I7-bVII-IV-I7", "I7-bVIImaj7", "I7-v7-IV6-I7"),
    "locrian": ("iø-bIImaj7", "iø-bIImaj7-bVmaj7-bIImaj7"),
}
_SEVENTH_STYLES = frozenset({"swing_ride", "shuffle"})
#: Progressions a drum style implies when the genre names none: the blues form, jazz turnarounds.
STYLE_PROGRESSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("shuffle", "major"): ("I7-IV7-I7-I7-IV7-IV7-I7-I7-V7-IV7-I7-V7",),
    ("shuffle", "minor"): ("i7-iv7-i7-i7-iv7-iv7-i7-i7-V7-iv7-i7-V7",),
    ("swing_ride", "major"): ("Imaj7-vi7-ii7-V7", "Imaj7-IV7-iii7-vi7-ii7-V7"),
    ("swing_ride", "minor"): ("i7-iv7-iiø-V7", "i7-i7-iv7-V7"),
}


def choose_progression(mode: str, tonic_pc: int, genre: genres.Genre | None, style: str,
                       rng: np.random.Generator) -> tuple[tuple[Chord, ...], tuple[str, ...]]:
    """A progression that fits the mode (any scale), rotated to start on the tonic chord."""
    if mode in MODAL_PROGRESSIONS:
        candidates = list((MODAL_SEVENTHS if style in _SEVENTH_STYLES else MODAL_PROGRESSIONS)[mode])
    else:
        candidates = [p for p in (genre.progressions if genre else ()) if _fits_mode(p, mode)]
    if not candidates:
        candidates = list(STYLE_PROGRESSIONS.get((style, mode), DEFAULT_PROGRESSIONS[mode]))
    text = candidates[int(rng.integers(len(candidates)))]
    chords = parse_progression(text, tonic_pc=tonic_pc, mode=mode)
    family = SCALE_FAMILY[mode]
    for i, c in enumerate(chords):
        if c.root_pc == tonic_pc and c.is_minor == (family == "minor"):
            chords = chords[i:] + chords[:i]
            break
    return chords, tuple(c.symbol for c in chords)


def _fits_mode(progression: str, mode: str) -> bool:
    first = progression.strip().lstrip("b#♭♯")[:1]
    return bool(first) and (first.islower() if mode == "minor" else first.isupper())
