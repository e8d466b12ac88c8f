"""Genres named or suggested in a prompt, and the choice of the primary one.

Every name and alias in the genre table is matched, longest first ("deep
house" over "house"), together with adjectives that only lean towards a genre
("jazzy"). A match that merely modifies another ("lofi house", "jazz-influenced")
is weak; the primary genre is the first strong one, made as specific as the
prompt allows through :data:`PARENT`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mage_bridge import genres as genre_table
from mage_bridge.analysis.rules.text import longest_first, mask, phrase

#: A genre's more general family, so "boom bap hip hop" picks the specific one.
PARENT: dict[str, str] = {
    "lofi": "hip hop", "boom bap": "hip hop", "trap": "hip hop", "drill": "trap", "phonk": "trap",
    "deep house": "house", "tech house": "house", "house": "edm", "techno": "edm", "trance": "edm",
    "dubstep": "edm", "drum and bass": "edm", "jungle": "drum and bass", "uk garage": "edm", "breakbeat": "edm",
    "grunge": "rock", "metal": "rock", "punk": "rock", "bossa nova": "latin", "reggaeton": "latin",
}
#: Adjectives that lean towards a genre without naming the piece's genre.
_ADJECTIVES = {"jazzy": "jazz", "funky": "funk", "bluesy": "blues", "soulful": "soul", "poppy": "pop",
               "folky": "folk", "punky": "punk", "housey": "house", "trappy": "trap",
               "orchestral": "cinematic", "latin-tinged": "latin", "gospel-tinged": "gospel",
               "electronic": "edm", "dubby": "reggae", "classical-style": "classical"}
_MODIFIER_AFTER = re.compile(
    r"^[\s\-]*(?:influenced|inspired|tinged|flavou?red|infused|elements|influences|touches|undertones|accents)\b"
)
_METRE_GENRES = frozenset({"waltz"})


@dataclass(frozen=True)
class GenreMatch:
    name: str
    start: int
    end: int
    weak: bool


@lru_cache(maxsize=1)
def _genre_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    phrases: list[tuple[str, str]] = []
    for g in genre_table.GENRES:
        for alias in (g.name, *g.aliases):
            phrases.append((alias.lower(), g.name))
    return longest_first(phrases)


def find_genres(text: str, *, original: str | None = None) -> tuple[list[GenreMatch], str]:
    """Genres named in ``text`` (lower case), in prompt order, and the text with them masked.

    Longer aliases win ("deep house" over "house"). A match is *weak* when it only
    modifies something: an adjective ("jazzy"), "jazz-influenced", or a genre word
    directly before another ("lofi house" is house). ``original`` (same length, unmasked)
    decides what lies between two matches; default ``text``.
    """
    gaps = text if original is None else original
    matches: list[GenreMatch] = []
    for pattern, name in _genre_patterns():
        for m in pattern.finditer(text):
            after = text[m.end():m.end() + 24]
            weak = bool(_MODIFIER_AFTER.match(after)) or name in _METRE_GENRES
            matches.append(GenreMatch(name, m.start(), m.end(), weak))
            text = mask(text, m.start(), m.end())
    for word, name in _ADJECTIVES.items():
        for m in re.finditer(phrase(word), text):
            matches.append(GenreMatch(name, m.start(), m.end(), True))
            text = mask(text, m.start(), m.end())
    matches.sort(key=lambda g: g.start)
    out: list[GenreMatch] = []
    for i, g in enumerate(matches):
        nxt = matches[i + 1] if i + 1 < len(matches) else None
        compound = (nxt is not None and nxt.name not in _METRE_GENRES
                    and re.fullmatch(r"[\s\-]*", gaps[g.end:nxt.start]) is not None)
        out.append(GenreMatch(g.name, g.start, g.end, g.weak or compound))
    return out, text


def _ancestors(name: str) -> list[str]:
    chain = []
    while name in PARENT:
        name = PARENT[name]
        chain.append(name)
    return chain


def choose_primary(matches: list[GenreMatch]) -> tuple[str | None, tuple[str, ...]]:
    """Primary genre (first strong match, then its most specific relative) and all genres in order."""
    if not matches:
        return None, ()
    ordered: list[str] = []
    for g in matches:
        if g.name not in ordered:
            ordered.append(g.name)
    strong = [g.name for g in matches if not g.weak]
    primary = strong[0] if strong else matches[0].name
    descendants = [n for n in ordered if primary in _ancestors(n)]
    if descendants:
        primary = max(descendants, key=lambda n: (len(_ancestors(n)), -ordered.index(n)))
    return primary, (primary, *[n for n in ordered if n != primary])


#: Words that say the music is for picture: a film cue is cinematic whatever plays it. ("scene" is not
#: one of them: "the rave scene" is a crowd; the embedding reads "an epic battle scene".)
_PICTURE_WORDS = re.compile(r"\b(?:film|movie|cue|trailer|cinematic|underscore|cutscene|cut-scene)\b")
#: Words that make a song a ballad: a ballad is pop unless the band says otherwise.
_BALLAD_WORDS = re.compile(r"\b(?:ballad|love song|power ballad)\b")
#: Instruments that belong to one genre so firmly that naming them names it.
_INSTRUMENT_GENRE: dict[str, str] = {
    "808": "trap", "banjo": "country", "pedal steel": "country", "bodhran": "folk", "bagpipes": "folk",
    "bandoneon": "latin", "music box": "lullaby", "steel drums": "reggae",
}
#: Instruments of the concert hall: a band of only these (or a closed ensemble of them) is classical.
_CONCERT: frozenset[str] = frozenset({
    "piano", "bright piano", "harpsichord", "church organ", "violin", "viola", "cello", "strings", "harp",
    "flute", "oboe", "clarinet", "bassoon", "french horn", "trumpet", "trombone", "tuba", "timpani", "celesta",
    "pizzicato strings", "nylon guitar", "choir", "acoustic bass", "recorder", "glockenspiel", "tubular bells",
    "brass", "acoustic guitar",
})
#: Of those, the ones that do not also lead pop bands: one of them tips an open band to the concert hall.
_ORCHESTRAL: frozenset[str] = frozenset({
    "violin", "viola", "cello", "strings", "harp", "oboe", "bassoon", "french horn", "timpani", "harpsichord",
    "pizzicato strings",
})
#: A closed band of these alone ("just guitar and voice") is folk.
_FOLK = frozenset({"acoustic guitar", "nylon guitar", "ukulele", "banjo", "harmonica", "violin", "accordion"})
#: A generic "guitar" with no genre to resolve it is the acoustic one.
_PLACEHOLDERS = {"<guitar>": "acoustic guitar"}
#: Moods that take concert instruments to the cinema rather than the concert hall.
_CINEMATIC_MOODS = frozenset({"epic", "tense", "spooky", "triumphant"})


def genre_from_band(instruments: list[str], moods: tuple[str, ...], text: str, *,
                    exclusive: bool) -> str | None:
    """A genre implied by what plays and how it feels, when the prompt names none; ``None`` when unclear.

    The band and the mood are facts the prompt states, so they decide before any
    embedding guess does: a film cue is cinematic, a ballad is pop, a pedal steel
    is country, a solo cello or a band of concert instruments is classical
    (cinematic when epic or tense). ``text`` is the lower-case prompt.
    """
    names = [_PLACEHOLDERS.get(n, n) for n in instruments if not n.startswith("<") or n in _PLACEHOLDERS]
    if _PICTURE_WORDS.search(text):
        return "cinematic"
    for name in names:
        if name in _INSTRUMENT_GENRE:
            return _INSTRUMENT_GENRE[name]
    if _BALLAD_WORDS.search(text):
        return "pop"
    concert = bool(names) and len(names) == len(instruments) and all(n in _CONCERT for n in names)
    if names and len(names) == len(instruments) and all(n in _FOLK for n in names) and exclusive:
        return "folk"
    if concert and (exclusive or any(n in _ORCHESTRAL for n in names)):
        return "cinematic" if _CINEMATIC_MOODS.intersection(moods) else "classical"
    return None
