"""Instruments wanted and excluded in a prompt, and whether a voice is wanted.

Names come from the instrument table (plus plurals), vocal words and generic
family words ("guitar", "bass") that are resolved against the genre later.
Exclusions are read first, so "no drums, just piano" wants a piano and
excludes drums. Any human voice counts as vocals: a singer, a choir ("gospel
choir" also wants the choir sound), "vox", and "vocal chops" (a sampled voice
is still a voice a backend should render).
"""

from __future__ import annotations

import re
from functools import lru_cache

from mage_bridge import genres as genre_table
from mage_bridge import instruments as instrument_table
from mage_bridge.analysis.rules.text import longest_first, mask

#: Words that name an instrument family rather than one instrument; resolved against the genre.
GENERIC_ROLES: dict[str, str] = {
    "guitar": "guitar", "guitars": "guitar", "guitar riffs": "guitar", "riffs": "guitar",
    "bass": "bass", "bassline": "bass", "basslines": "bass", "bass line": "bass", "bass lines": "bass",
    "drum": "drums", "drum machine": "drums", "drum beat": "drums", "drum loop": "drums", "breakbeats": "drums",
    "beat": "drums", "beats": "drums",
}
_VOCAL_WORDS = ("vocals", "vocal", "vocalist", "voice", "voices", "singer", "singers", "singing", "sung", "sing",
                "sings", "lyrics", "lyric", "rapper", "rapping", "rap vocals", "verses", "chorus vocals",
                "female vocals", "male vocals", "female vocal", "male vocal", "female singer", "male singer",
                "duet", "crooner", "crooning", "vox", "vocal chops", "vocal chop", "vocal samples", "vocal sample",
                "chopped vocals", "chopped vocal", "vocal stabs", "vocal fx", "a cappella", "acapella")
#: Instruments that are human voices: naming them asks for vocals too.
_VOICE_INSTRUMENTS = frozenset({"choir"})
#: Vocal words that name a pair of players: voices only when no instrument is named.
_ENSEMBLE_WORDS = frozenset({"duet"})
_INSTRUMENTAL = re.compile(r"\binstrumental(?:ly)?\b|\bno[\s\-]+vocals?\b|\bvocal[\s\-]?free\b|\bvoiceless\b")
_NEGATION = re.compile(
    r"\b(?:no|without|minus|sans|w/o|excluding|except(?:\s+for)?|leave\s+out|skip|lose\s+the|drop\s+the|zero)\s+"
)
_JOINER = re.compile(r"(?:\s*(?:,|/|&|\+|\band\b|\bor\b|\bnor\b|\bany\b|\bthe\b|\ba\b|\breal\b|\blive\b)\s*)*")
_SUFFIX_EXCLUSION = re.compile(r"\b(drum|vocal|bass|guitar|piano)(?:less|[\s\-]free)\b")
_DRUMS_NAME = "drums"
VOCALS = "vocals"


@lru_cache(maxsize=1)
def instrument_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Every instrument, vocal and generic phrase as ``(pattern, canonical name)``, longest first."""
    phrases: dict[str, str] = {}
    # Names as written first, plurals after: "horns" is the brass section, not two French horns.
    for inst in instrument_table.INSTRUMENTS:
        for alias in (inst.name, *inst.aliases):
            phrases.setdefault(alias.lower(), VOCALS if inst.role == "vocals" else inst.name)
    for inst in instrument_table.INSTRUMENTS:
        canonical = VOCALS if inst.role == "vocals" else inst.name
        for alias in (inst.name, *inst.aliases):
            if not alias.endswith("s") and not alias[-1].isdigit():
                phrases.setdefault(alias.lower() + ("es" if alias.endswith(("sh", "ch", "x")) else "s"), canonical)
    for word in _VOCAL_WORDS:
        phrases.setdefault(word, VOCALS)
    for word, role in GENERIC_ROLES.items():
        phrases.setdefault(word, "<" + role + ">")
    return longest_first(phrases.items())


def _instrument_at(text: str, pos: int) -> tuple[str, int] | None:
    """The instrument phrase starting exactly at ``pos``: ``(name, end)``."""
    for pattern, name in instrument_patterns():
        m = pattern.match(text, pos)
        if m:
            return name, m.end()
    return None


def find_instruments(text: str) -> tuple[list[str], list[str], bool | None, str]:
    """Instruments wanted and excluded, and the vocal intent, from ``text`` (lower case).

    Returns ``(instruments, excluded, vocals, text with all of it masked)``; names
    are canonical (instruments.py) or ``"<guitar>"``-style placeholders for generic
    words resolved later against the genre. ``vocals`` is ``True`` (asked for),
    ``False`` (excluded / "instrumental") or ``None`` (not said).
    """
    excluded: list[str] = []
    vocals: bool | None = None
    if _INSTRUMENTAL.search(text):
        vocals = False
        excluded.append(VOCALS)
        text = _INSTRUMENTAL.sub(lambda m: " " * len(m.group(0)), text)
    for m in _SUFFIX_EXCLUSION.finditer(text):
        name = {"drum": _DRUMS_NAME, "vocal": VOCALS, "bass": "<bass>", "guitar": "<guitar>",
                "piano": "piano"}[m.group(1)]
        excluded.append(name)
        if name == VOCALS:
            vocals = False
        text = mask(text, m.start(), m.end())
    for neg in list(_NEGATION.finditer(text)):
        pos = neg.end()
        while True:
            joiner = _JOINER.match(text, pos)
            start = joiner.end() if joiner else pos
            hit = _instrument_at(text, start)
            if hit is None:
                break
            name, end = hit
            excluded.append(name)
            if name == VOCALS:
                vocals = False
            text = mask(text, neg.start(), end)
            pos = end
    wanted: list[tuple[int, str]] = []
    voice_words: set[str] = set()
    for pattern, name in instrument_patterns():
        for m in pattern.finditer(text):
            if name == VOCALS:
                voice_words.add(" ".join(m.group(0).split()))
                if vocals is None:
                    vocals = True
            elif m.group(0) not in ("beat", "beats"):
                wanted.append((m.start(), name))
                if name in _VOICE_INSTRUMENTS and vocals is None:
                    vocals = True
            text = mask(text, m.start(), m.end())
    if voice_words and voice_words <= _ENSEMBLE_WORDS and wanted and not any(n in _VOICE_INSTRUMENTS
                                                                             for _, n in wanted):
        vocals = None  # "a violin and piano duet" is two instruments, not two singers
    out: list[str] = []
    for _, name in sorted(wanted):
        if name not in out and name not in excluded:
            out.append(name)
    return out, list(dict.fromkeys(excluded)), vocals, text


def resolve_generic(name: str, genre: genre_table.Genre | None) -> str:
    """A placeholder like ``"<guitar>"`` -> the genre's instrument of that role (canonical name)."""
    if not name.startswith("<"):
        return name
    role = name[1:-1]
    if role == "bass":
        return genre.bass if genre is not None else "electric bass"
    if role == "drums":
        return _DRUMS_NAME
    if genre is not None:
        for inst_name in genre.instruments:
            if instrument_table.lookup(inst_name).role == role:
                return instrument_table.lookup(inst_name).name
    return {"guitar": "acoustic guitar", "brass": "brass"}.get(role, role)
