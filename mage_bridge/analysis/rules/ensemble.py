"""Whether a prompt names the whole ensemble, and the players an ensemble word implies.

"solo piano", "cello solo", "a violin and piano duet", "string quartet",
"piano only", "just guitar and voice", "nothing but strings": the prompt says
who plays, so nobody else does (no drums or bass unless named). The ensemble
words that imply players add them: "string quartet" is violins, viola and
cello (two violins: ``instruments`` names one twice), "jazz trio" piano, double bass and
drums. A form written for one player ("nocturne", "etude") is that player
alone: the named instrument, else the piano.

"guitar solo" inside a band ("rock song with a guitar solo") is a passage, not
the line-up: a solo after "with", "and", "featuring" or "plus" does not close
the ensemble. This module reads the lower-case prompt before the genre rule
blanks "string quartet" and "jazz trio" (which also name a genre); it blanks
nothing itself.
"""

from __future__ import annotations

import re
from functools import lru_cache

from mage_bridge.analysis.rules.instrument_words import instrument_patterns

#: Ensemble words that imply their players (canonical instrument names).
IMPLIED_PLAYERS: dict[str, tuple[str, ...]] = {
    "string quartet": ("violin", "violin", "viola", "cello"),
    "string trio": ("violin", "viola", "cello"),
    "string duo": ("violin", "cello"),
    "piano trio": ("piano", "violin", "cello"),
    "jazz trio": ("piano", "acoustic bass", "drums"),
    "jazz piano trio": ("piano", "acoustic bass", "drums"),
    "jazz quartet": ("saxophone", "piano", "acoustic bass", "drums"),
    "power trio": ("overdriven guitar", "electric bass", "drums"),
    "brass quintet": ("trumpet", "french horn", "trombone", "tuba"),
    "brass quartet": ("trumpet", "french horn", "trombone", "tuba"),
    "wind quintet": ("flute", "oboe", "clarinet", "french horn", "bassoon"),
}
_IMPLIED = re.compile(r"\b(" + "|".join(sorted((re.escape(k).replace(r"\ ", r"[\s\-]+") for k in IMPLIED_PLAYERS),
                                              key=len, reverse=True)) + r")\b")
#: Forms written for one player: the named instrument alone, else the piano ("a nocturne").
_SOLO_FORMS = re.compile(r"\b(?:nocturnes?|etudes?|études?|impromptus?|preludes?|mazurkas?|ballades|bagatelles?)\b")
#: Words that make the named instruments the whole ensemble wherever they stand.
_GROUP = re.compile(r"\b(?:duet|duo|trio|quartet|quintet|unaccompanied|a[\s\-]?cappella|acapella)\b")
#: Words right before an instrument that close the ensemble ("solo piano", "only strings").
_BEFORE = re.compile(r"\b(?:solo|only|just|nothing\s+but|purely|unaccompanied|lone|for\s+solo)\s+"
                     r"(?:an?\s+|the\s+|one\s+)?$")
#: Words right after an instrument that close the ensemble ("piano solo", "strings only", "piano alone").
_AFTER = re.compile(r"^[\s\-]*(?:solo|only|alone|unaccompanied)\b")
#: A solo passage inside a band: "with a guitar solo", "and a sax solo".
_PASSAGE = re.compile(r"\b(?:with|and|featuring|feat\.?|plus|including|has|over)\s+(?:an?\s+|the\s+|some\s+)?"
                      r"(?:\w+[\s\-]+){0,2}$")
_JOINED = re.compile(r"(?:\s*(?:,|/|&|\+|\band\b|\bwith\b|\ba\b|\ban\b|\bthe\b)\s*)*")


def read_ensemble(text: str) -> tuple[tuple[str, ...], bool]:
    """The players an ensemble word implies, and whether the prompt names the whole ensemble.

    ``text`` is the lower-case prompt with tempo, metre and key already blanked.
    Instrument names stay to the instrument rule; the tuple holds only what an
    ensemble word adds ("string quartet": violin, violin, viola, cello).
    """
    implied: list[str] = []
    exclusive = False
    for m in _IMPLIED.finditer(text):
        key = " ".join(re.split(r"[\s\-]+", m.group(1)))
        implied.extend(n for n in IMPLIED_PLAYERS[key] if implied.count(n) < IMPLIED_PLAYERS[key].count(n))
        exclusive = exclusive or not _PASSAGE.search(text[:m.start()])
    named = _named_spans(text)
    if named and _GROUP.search(text):
        exclusive = True
    form = _SOLO_FORMS.search(text)
    if form is not None and not _PASSAGE.search(text[:form.start()]):
        exclusive = True
        if not named and not implied:
            implied.append("piano")
    for start, end in named:
        if _BEFORE.search(text[max(0, start - 30):start]):
            exclusive = True
        elif _AFTER.match(text[end:]):
            word = _AFTER.match(text[end:])
            solo = word is not None and "solo" in word.group(0)
            if not (solo and _PASSAGE.search(text[max(0, start - 40):start])):
                exclusive = True
    return tuple(implied), exclusive


@lru_cache(maxsize=1)
def _any_instrument() -> re.Pattern[str]:
    """One pattern for every instrument phrase, longest first (one scan instead of one per phrase)."""
    return re.compile("|".join(f"(?:{pattern.pattern})" for pattern, _ in instrument_patterns()))


def _named_spans(text: str) -> list[tuple[int, int]]:
    """Where instruments are named, a run of joined names ("piano and violin") as one span."""
    spans: list[tuple[int, int]] = []
    for m in _any_instrument().finditer(text):
        if spans and _JOINED.fullmatch(text, spans[-1][1], m.start()):
            spans[-1] = (spans[-1][0], m.end())
        else:
            spans.append((m.start(), m.end()))
    return spans
