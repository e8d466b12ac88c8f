"""Metre and swing in a prompt: "3/4", "seven-eight", "waltz", "in 6"; "swung", "shuffle", "straight".

A fraction is a metre only when it could be one (24/7 and 50/50 are not),
and a metre word that is also a genre ("waltz") is left readable for the genre rules.
"""

from __future__ import annotations

import re

from mage_bridge.analysis.rules.text import mask

_TS_SLASH = re.compile(r"(?<![\w/.])(\d{1,2})\s*/\s*(\d{1,2})(?![\w/.])")
_TS_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "nine": 9, "eleven": 11, "twelve": 12,
}
_TS_WORD_PAIR = re.compile(
    r"\b(two|three|four|five|six|seven|nine|eleven|twelve)[\s\-]+(two|four|eight|sixteen)\b(?:[\s\-]+(?:time|metre|meter))?"
)
_TS_COUNT = re.compile(
    r"\bin\s+(3|4|5|6|7|three|four|five|six|seven)\b(?!\s*(?:/|-|minutes?|min\b|seconds?|sec\b|s\b|bars?|parts?|hours?"
    r"|days?|%|x\b|times|steps?|layers?|stems?|sections?|keys?|songs?|tracks?|movements?|variations?|versions?))"
)
_TS_NAMED = (
    (re.compile(r"\bwaltz(?:es|ing)?\b|\btriple\s+(?:time|metre|meter)\b"), (3, 4)),
    (re.compile(r"\bcompound\s+(?:time|metre|meter)\b"), (6, 8)),
    (re.compile(r"\bcommon\s+time\b"), (4, 4)),
)
_COUNT_METRE = {3: (3, 4), 4: (4, 4), 5: (5, 4), 6: (6, 8), 7: (7, 8)}
_DENOMINATORS = {"two": 2, "four": 4, "eight": 8, "sixteen": 16}


def parse_time_signature(text: str) -> tuple[tuple[int, int] | None, str]:
    """Stated metre in ``text`` (lower case) and the text with it masked.

    "3/4", "12/8", "seven-eight", "waltz" (3/4), "in 6" (6/8), "in 5" (5/4).
    A fraction that is not a metre (24/7, 50/50) is ignored.
    """
    m: re.Match[str] | None
    for m in _TS_SLASH.finditer(text):
        num, den = int(m.group(1)), int(m.group(2))
        if den in (2, 4, 8, 16) and 2 <= num <= 15:
            return (num, den), mask(text, m.start(), m.end())
    m = _TS_WORD_PAIR.search(text)
    if m:
        return (_TS_WORDS[m.group(1)], _DENOMINATORS[m.group(2)]), mask(text, m.start(), m.end())
    for pattern, metre in _TS_NAMED:
        m = pattern.search(text)
        if m:
            return metre, text  # "waltz" stays readable as a genre word
    m = _TS_COUNT.search(text)
    if m:
        word = m.group(1)
        count = int(word) if word.isdigit() else _TS_WORDS[word]
        return _COUNT_METRE[count], mask(text, m.start(), m.end())
    return None, text


_SWING_ON = re.compile(r"\b(?:swing|swung|swingy|swinging|shuffle|shuffled|shuffling|triplet\s+feel)\b")
_SWING_OFF = re.compile(r"\b(?:straight(?:\s+(?:eighths|8ths|sixteenths|16ths|feel|time))?|no\s+swing|unswung)\b")
#: Swing amount for "swung"/"shuffle" (1.0 = full triplet), unless the genre swings harder.
PROMPT_SWING = 0.6


def parse_swing(text: str) -> float | None:
    """``PROMPT_SWING`` for "swung"/"shuffle", ``0.0`` for "straight", else ``None``."""
    if _SWING_OFF.search(text):
        return 0.0
    if _SWING_ON.search(text):
        return PROMPT_SWING
    return None
