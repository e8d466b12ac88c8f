"""The prompt as text: the input check, and the helpers every rule uses to match and consume words.

Each rule blanks what it has read (:func:`mask`, same length, so positions stay
valid across rules) and the next one never reads it twice; :func:`phrase`
turns a vocabulary entry into a whole-word pattern that tolerates hyphens and
spacing, and :func:`longest_first` makes longer entries win over the words
inside them. All the rule modules share these, so they live apart from any one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mage_bridge.errors import InvalidInputError

#: Longest prompt accepted, in characters (a DAW prompt is a sentence or two).
MAX_PROMPT_CHARS = 2000


def check_prompt(prompt: object, lyrics: object = None) -> str:
    """The prompt stripped, or :class:`InvalidInputError` for a non-string, empty or too long one."""
    if not isinstance(prompt, str):
        raise InvalidInputError(f"prompt must be a string, got {type(prompt).__name__}")
    text = prompt.strip()
    if not text:
        raise InvalidInputError("prompt is empty: describe the music, e.g. 'deep house at 122 BPM in G minor'")
    if len(text) > MAX_PROMPT_CHARS:
        raise InvalidInputError(
            f"prompt is too long: {len(text)} characters, the limit is {MAX_PROMPT_CHARS}"
        )
    if lyrics is not None and not isinstance(lyrics, str):
        raise InvalidInputError(f"lyrics must be a string or None, got {type(lyrics).__name__}")
    return text


def mask(text: str, start: int, end: int) -> str:
    """``text`` with ``[start, end)`` blanked, so later rules do not read it twice."""
    return text[:start] + " " * (end - start) + text[end:]


def phrase(words: str) -> str:
    """Regex for a phrase: any run of spaces/hyphens between words, word boundaries around."""
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", words.strip()) if p]
    return r"(?<![\w&'])" + r"[\s\-]+".join(parts) + r"(?![\w&])"


def longest_first(vocabulary: Iterable[tuple[str, str]]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """``(phrase, name)`` pairs as ``(pattern, name)``, longest phrase first, so "deep house" wins over "house"."""
    ordered = sorted(vocabulary, key=lambda p: -len(p[0]))
    return tuple((re.compile(phrase(words)), name) for words, name in ordered)


def normalise(prompt: str) -> str:
    """Same length as ``prompt``: typographic quotes/dashes to ASCII, ♯/♭ to #/b."""
    table = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "♯": "#", "♭": "b"})
    return prompt.translate(table)
