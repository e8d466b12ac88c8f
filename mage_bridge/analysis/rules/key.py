"""Key, mode and scale in a prompt: "A minor", "F#m", "in D", "key of Eb", "minor key", "D dorian".

Letter names collide with English ("a minor hit", "in a", "Am I"), so the
patterns go from the most explicit to the barest and the article "a" is only a
note after "in" or "key of". A malformed key ("H# major") is ignored with a
warning, never an error. A church mode ("D dorian", "lydian ... in F",
"mixolydian") names the scale and, through its family, the mode: dorian,
phrygian and locrian are minor, lydian and mixolydian major; ionian and aeolian
are the major and natural minor scales themselves.
"""

from __future__ import annotations

import re

from mage_bridge.analysis.rules.text import mask
from mage_bridge.errors import InvalidInputError
from mage_bridge.music import SCALE_FAMILY, pitch_class

_ACC = r"(?:\s*(?P<acc>[#b])(?![a-z])|[\s\-]*(?P<accw>sharp|flat)\b)?"
_NOTE = rf"(?<![\w#])(?P<letter>[A-Ga-g]){_ACC}"
_MODE_WORD = r"(?P<mode>major|minor|maj|min|moll|dur)\b"
_KEY_FULL = re.compile(rf"{_NOTE}[\s\-]*{_MODE_WORD}", re.IGNORECASE)
_KEY_SHORT = re.compile(r"(?<![\w#])(?P<letter>[A-G])(?P<acc>[#b])?(?P<m>m|M)(?![\w#])")
_KEY_OF = re.compile(rf"\bkey(?:\s+of|\s*[:=])?\s+{_NOTE}(?![\w#])", re.IGNORECASE)
_KEY_IN = re.compile(r"\bin\s+(?P<letter>[A-G])"
                     r"(?:(?P<acc>[#b])(?![\w#])|\s*[\-]?\s*(?P<accw>sharp|flat)\b|(?![\w#'’]))")
_KEY_BARE = re.compile(r"(?<![\w#/])(?P<letter>[A-G])(?P<acc>[#b])(?![\w#])")
_MODE_ONLY = re.compile(
    r"\b(?P<mode>minor|major)[\s\-]+(?:key|scale|mode|tonality|feel)\b|\bin\s+(?P<mode2>minor|major)\b"
    r"|\b(?P<mode3>minor)\b"
)
_CHURCH_WORDS = r"(?P<church>dorian|phrygian|aeolian|locrian|lydian|mixolydian|ionian)\b"
#: Church mode names -> the scale names of :data:`mage_bridge.music.SCALES`.
_CHURCH_SCALES = {"dorian": "dorian", "phrygian": "phrygian", "lydian": "lydian", "mixolydian": "mixolydian",
                  "locrian": "locrian", "ionian": "major", "aeolian": "minor"}
_CHURCH = re.compile(rf"\b{_CHURCH_WORDS}", re.IGNORECASE)
_CHURCH_KEY = re.compile(rf"{_NOTE}[\s\-]*{_CHURCH_WORDS}", re.IGNORECASE)
_NOT_A_KEY = re.compile(r"(?<![\w#])(?P<bad>[H-Z][#b]?|[A-G](?:##|bb|#b|b#))\s*-?\s*(?:major|minor)\b", re.IGNORECASE)
_ARTICLE_A = re.compile(r"\b(?:in\s+the\s+key\s+of|key\s*[:=]|in)\s*$", re.IGNORECASE)


def _tonic(letter: str, acc: str | None, accw: str | None) -> str:
    sign = acc or {"sharp": "#", "flat": "b"}.get((accw or "").lower(), "")
    return letter.upper() + sign


def _mode_of(word: str) -> str:
    w = word.lower()
    return "major" if w in ("major", "maj", "dur") else "minor"


def _church_key(text: str) -> tuple[str | None, str, str]:
    """A tonic named with a church mode ("D dorian", "F# lydian"): (tonic, scale, text masked) or (None, "", text).

    A lower-case "a" is the article ("a dorian vamp") unless "in"/"key of" comes before it.
    """
    for m in _CHURCH_KEY.finditer(text):
        if m.group("letter") == "a" and not m.group("acc") and not m.group("accw") \
                and not _ARTICLE_A.search(text[:m.start()]):
            continue
        tonic = _tonic(m.group("letter"), m.group("acc"), m.group("accw"))
        return tonic, _CHURCH_SCALES[m.group("church").lower()], mask(text, m.start(), m.end())
    return None, "", text


def parse_key(text: str) -> tuple[str | None, str | None, str, list[str]]:
    """Stated tonic and mode in ``text``: :func:`parse_key_scale` without the scale."""
    tonic, mode, _, text, warnings = parse_key_scale(text)
    return tonic, mode, text, warnings


def parse_key_scale(text: str) -> tuple[str | None, str | None, str, str, list[str]]:
    """Stated tonic, mode and scale in ``text`` (original case, normalised by :func:`normalise`).

    Returns ``(tonic or None, mode or None, scale, text with the key masked, warnings)``;
    ``scale`` is ``""`` unless a church mode is named (``"D dorian"`` -> ("D", "minor", "dorian"),
    ``"Ionian"`` -> (None, "major", "major")). A church mode whose family contradicts a stated
    mode ("C major, dorian") is ignored with a warning.
    ``"A minor"`` -> ("A", "minor"); ``"Am"`` / ``"F#m"`` (capital letter) -> minor;
    ``"in D"`` / ``"key of D"`` -> tonic only; ``"minor key"`` -> mode only. A lower-case
    ``"a minor ..."`` is the article unless preceded by "in"/"key of" ("in a minor"
    is A minor). Non-keys such as ``"H# major"`` are ignored with a warning.
    """
    warnings: list[str] = []
    m: re.Match[str] | None
    for m in _NOT_A_KEY.finditer(text):
        warnings.append(f"{m.group(0).strip()!r} is not a key (tonics are A to G with one # or b); ignored")
        text = mask(text, m.start(), m.end())

    tonic, scale, text = _church_key(text)
    mode: str | None = SCALE_FAMILY[scale] if scale else None
    for m in () if tonic is not None else _KEY_FULL.finditer(text):
        letter = m.group("letter")
        after = text[m.end():m.end() + 12].lower()
        if letter == "a" and not m.group("acc") and not m.group("accw"):
            before = text[:m.start()]
            if not _ARTICLE_A.search(before) or re.match(r"[\s\-]*(key|scale|mode|tonality)\b", after):
                continue  # "a minor key", "a major hit": the article, not the note
        if m.group("mode").lower() in ("min", "maj") and after[:1] == "u":  # "minute"/"majuscule" guard
            continue
        tonic = _tonic(letter, m.group("acc"), m.group("accw"))
        mode = _mode_of(m.group("mode"))
        text = mask(text, m.start(), m.end())
        break
    if tonic is None:
        m = _KEY_SHORT.search(text)
        if m and m.group("m") == "m":
            tonic, mode = _tonic(m.group("letter"), m.group("acc"), None), "minor"
            text = mask(text, m.start(), m.end())
    if tonic is None:
        for pattern in (_KEY_OF, _KEY_IN, _KEY_BARE):
            m = pattern.search(text)
            if m:
                groups = m.groupdict()
                tonic = _tonic(m.group("letter"), groups.get("acc"), groups.get("accw"))
                text = mask(text, m.start(), m.end())
                break
    if tonic is not None:
        try:
            pitch_class(tonic)
        except InvalidInputError:
            warnings.append(f"{tonic!r} is not a key; ignored")
            tonic = None
    if not scale:
        m = _CHURCH.search(text)
        if m:
            scale = _CHURCH_SCALES[m.group("church").lower()]
            text = mask(text, m.start(), m.end())
            if mode is not None and SCALE_FAMILY[scale] != mode:
                warnings.append(f"{m.group('church').lower()} is a {SCALE_FAMILY[scale]} mode, the prompt says "
                                f"{mode}; playing plain {mode}")
                scale = ""
            mode = mode or (SCALE_FAMILY[scale] if scale else None)
    if mode is None:
        m = _MODE_ONLY.search(text.lower())
        if m:
            mode = m.group("mode") or m.group("mode2") or m.group("mode3")
            text = mask(text, m.start(), m.end())
    return tonic, mode, scale, text, warnings
