"""A length the prompt states: "a 45 second lo-fi beat", "2 minute", "1:30 long", "90 sec".

Only a number with a clear unit or phrase is a length. "90s hip hop" and
"80s synthwave" name a decade, so a bare ``s`` after a round ten (10s ... 90s,
or with an apostrophe) is never read as seconds, nor is "808s"; "45s" is. "1:30" is a length
when a length word stands by it ("1:30 long", "a 1:30 track", "length 1:30")
so that "4:3" or a time of day are left alone.
"""

from __future__ import annotations

import re

from mage_bridge.analysis.rules.text import mask

_NUMBER_WORDS = {"a": 1.0, "one": 1.0, "half a": 0.5, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0,
                 "ten": 10.0, "fifteen": 15.0, "twenty": 20.0, "thirty": 30.0, "forty": 40.0, "forty-five": 45.0,
                 "forty five": 45.0, "sixty": 60.0, "ninety": 90.0}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted((re.escape(w) for w in _NUMBER_WORDS), key=len, reverse=True)) + ")"
_SECONDS = re.compile(r"(?<![\w.'’])" + _NUM + r"[\s\-]*(?:seconds?|secs?)\b")
_BARE_S = re.compile(r"(?<![\w.'’])(\d+(?:\.\d+)?)s\b")
_MINUTES = re.compile(r"(?<![\w.'’])" + _NUM + r"[\s\-]*(?:minutes?|mins?)\b(?:[\s\-]+(?:and[\s\-]+)?"
                      r"(\d+)[\s\-]*(?:seconds?|secs?|s)\b)?")
_CLOCK = re.compile(r"(?<![\w.:/])(\d{1,2}):([0-5]\d)(?![\w:/])")
_LENGTH_WORD = re.compile(r"\b(?:long|length|duration|lasting|runtime|run[\s\-]time|track|clip|song|piece|"
                          r"loop|beat|cue|intro|outro|jingle|minutes?)\b")
_DECADE = re.compile(r"^(?:[1-9]0|[12]\d{3})$")


def _value(word: str) -> float:
    return float(word) if word[0].isdigit() else _NUMBER_WORDS[word]


def parse_duration(text: str) -> tuple[float | None, str]:
    """The stated length in seconds (or ``None``) and ``text`` (lower case) with it blanked."""
    m = _MINUTES.search(text)
    if m:
        seconds = _value(m.group(1)) * 60.0 + (float(m.group(2)) if m.group(2) else 0.0)
        return seconds, mask(text, m.start(), m.end())
    m = _SECONDS.search(text)
    if m:
        return _value(m.group(1)), mask(text, m.start(), m.end())
    for m in _BARE_S.finditer(text):
        if not _DECADE.match(m.group(1)) and 4.0 <= float(m.group(1)) <= 300.0:  # not "808s"
            return float(m.group(1)), mask(text, m.start(), m.end())
    for m in _CLOCK.finditer(text):
        around = text[max(0, m.start() - 24):m.end() + 24]
        if _LENGTH_WORD.search(around):
            return int(m.group(1)) * 60.0 + int(m.group(2)), mask(text, m.start(), m.end())
    return None, text
