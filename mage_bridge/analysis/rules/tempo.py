"""Tempo in a prompt: a stated BPM (or a range), a tempo word ("slow", "allegro") and a feel ("half-time").

BPM is quarter-note BPM whatever the metre; a stated BPM outside
:data:`BPM_RANGE` is an input error, while a loose "at 1000" is simply not a
tempo. A tempo word picks a point of the genre's range, so it is resolved only
once the genre is known (:func:`tempo_from_word`).
"""

from __future__ import annotations

import re

from mage_bridge import genres as genre_table
from mage_bridge.analysis.rules.text import mask
from mage_bridge.errors import InvalidInputError

#: Stated tempi outside this range (quarter-note BPM) are rejected as input errors.
BPM_RANGE = (40.0, 240.0)

_NUM = r"(\d{1,4}(?:\.\d+)?)"
_BPM_UNIT = r"(?:bpm|b\.p\.m\.?|beats?\s+per\s+minute)"
_BPM_EXPLICIT = (
    re.compile(rf"\bbetween\s+{_NUM}\s*(?:and|-)\s*{_NUM}\s*-?\s*{_BPM_UNIT}(?!\w)"),
    re.compile(rf"(?<![\w.]){_NUM}\s*(?:-|to|~)\s*{_NUM}\s*-?\s*{_BPM_UNIT}(?!\w)"),
    re.compile(rf"(?<![\w.]){_NUM}\s*-?\s*{_BPM_UNIT}(?!\w)"),
    re.compile(rf"\b(?:bpm|tempo)(?:\s*(?:of|is|=|:|at|around|about|~|near|roughly|approximately|approx\.?))*"
               rf"\s*~?\s*{_NUM}(?![\w.])"),
)
# "at 90", "@ 128": read as BPM only when plausible, since "at 3" may mean anything.
_BPM_LOOSE = re.compile(
    rf"(?:\bat|@|\baround)\s*~?\s*{_NUM}(?![\w.%/:])(?!\s*(?:%|hz|khz|db|ms|sec|second|minute|min\b|hour|am\b|pm\b"
    rf"|year|bars?\b|k\b|x\b|times|o'?clock|feet|miles|degrees|people|fps))"
)
_TEMPO_WORDS = (
    ("very slow", re.compile(r"\b(?:very|super|really|extremely)\s+slow\b")),
    ("very fast", re.compile(r"\b(?:very|super|really|extremely)\s+(?:fast|quick|uptempo|up-tempo)\b")),
    ("mid", re.compile(r"\b(?:mid|medium|moderate)[\s\-]?(?:tempo|paced?)\b|\bmoderato\b|\bmidtempo\b")),
    ("slow", re.compile(r"\b(?:slow|slowly|slower|slow[\s\-]paced|largo|adagio|lento)\b")),
    ("fast", re.compile(r"\b(?:fast|faster|quick|rapid|up[\s\-]?tempo|high[\s\-]tempo|allegro|presto)\b")),
)
_FEELS = (
    ("halftime", re.compile(r"\bhalf[\s\-]?time\b")),
    ("doubletime", re.compile(r"\bdouble[\s\-]?time\b")),
)


def _check_bpm(value: float, what: str) -> float:
    lo, hi = BPM_RANGE
    if not lo <= value <= hi:
        raise InvalidInputError(
            f"tempo must be from {lo:g} to {hi:g} BPM (quarter notes), got {value:g} from {what!r}"
        )
    return value


def parse_bpm(text: str) -> tuple[float | None, str, list[str]]:
    """Stated tempo in ``text`` (lower case): ``(bpm or None, text with it masked, warnings)``.

    Raises :class:`InvalidInputError` for an explicit tempo ("1000 bpm", "tempo 0")
    outside :data:`BPM_RANGE`; a loose "at 1000" is not a tempo and is left alone.
    """
    found: list[tuple[int, float, str]] = []
    for pattern in _BPM_EXPLICIT:
        for m in pattern.finditer(text):
            nums = [float(g) for g in m.groups() if g is not None]
            for n in nums:
                _check_bpm(n, m.group(0).strip())
            if len(nums) == 2 and nums[0] > nums[1]:
                nums.reverse()
            found.append((m.start(), sum(nums) / len(nums), m.group(0).strip()))
            text = mask(text, m.start(), m.end())
    if not found:
        for m in _BPM_LOOSE.finditer(text):
            value = float(m.group(1))
            if BPM_RANGE[0] <= value <= BPM_RANGE[1]:
                found.append((m.start(), value, m.group(0).strip()))
                text = mask(text, m.start(), m.end())
    warnings: list[str] = []
    if not found:
        return None, text, warnings
    found.sort()
    bpm = round(found[0][1], 2)
    others = sorted({f[1] for f in found[1:] if abs(f[1] - bpm) > 1e-6})
    if others:
        warnings.append(f"several tempi in the prompt; using {bpm:g} BPM, ignoring "
                        + ", ".join(f"{o:g}" for o in others))
    return bpm, text, warnings


def parse_tempo_word(text: str) -> str | None:
    """``"slow"``, ``"very slow"``, ``"mid"``, ``"fast"``, ``"very fast"`` or ``None``."""
    for name, pattern in _TEMPO_WORDS:
        if pattern.search(text):
            return name
    return None


def parse_feel(text: str) -> str:
    """``"halftime"``, ``"doubletime"`` or ``""``."""
    for name, pattern in _FEELS:
        if pattern.search(text):
            return name
    return ""


def tempo_from_word(word: str, genre: genre_table.Genre) -> float:
    """BPM for a tempo word inside ``genre``'s range (its low end for "slow", ...)."""
    lo, hi = genre.bpm_range
    value = {
        "very slow": lo * 0.85, "slow": lo, "mid": genre.default_bpm, "fast": hi, "very fast": hi * 1.15,
    }[word]
    return float(round(min(max(value, BPM_RANGE[0]), BPM_RANGE[1])))
