"""Drum grooves per style, as GM drum hits on the tick grid of one bar.

Patterns are written the way drummers read step sequencers: one string per
drum, one character per step (``X`` accent, ``x`` hit, ``o`` soft, ``g``
ghost, ``-`` rest). Kick and snare carry the beat; hats and shakers sit
quieter so the pulse is unambiguous, as in records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mage_bridge.generate.metre import PPQ, Metre

# General MIDI percussion keys (channel 10).
KICK, KICK2, SIDE_STICK, SNARE, CLAP, E_SNARE = 36, 35, 37, 38, 39, 40
CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 42, 44, 46
FLOOR_TOM, LOW_TOM, MID_TOM, HIGH_TOM = 43, 45, 47, 50
CRASH, RIDE, RIDE_BELL, TAMBOURINE, COWBELL = 49, 51, 53, 54, 56
HIGH_BONGO, LOW_BONGO, HIGH_CONGA, LOW_CONGA, MARACAS, CLAVES = 60, 61, 62, 64, 70, 75

_VELOCITY = {"X": 118, "x": 98, "o": 72, "g": 46}

#: GM drum kit (bank 128 preset) per style; the renderer falls back to 0 (Standard).
KITS: dict[str, int] = {
    "four_on_floor": 24, "trap": 25, "boom_bap": 8, "dnb": 0, "breakbeat": 8, "one_drop": 0,
    "swing_ride": 32, "rock": 16, "shuffle": 8, "waltz": 0, "six_eight": 0, "halftime": 0,
    "latin": 0, "ballad": 40,
}

#: Styles that swing 8ths (the rest swing 16ths).
EIGHTH_SWING = frozenset({"swing_ride", "shuffle", "ballad", "one_drop", "waltz"})

#: Default swing when neither prompt nor genre says (1.0 = full triplet).
STYLE_SWING: dict[str, float] = {"swing_ride": 0.85, "shuffle": 1.0}

#: What each style plays in 4/4: variants of {drum: steps}; step = a 16th unless noted.
_FOUR_FOUR: dict[str, tuple[dict[int, str], ...]] = {
    "four_on_floor": (
        {KICK: "X---X---X---X---", CLAP: "----x-------x---", OPEN_HAT: "--o---o---o---o-"},
        {KICK: "X---X---X---X---", CLAP: "----x-------x---", CLOSED_HAT: "g-o-g-o-g-o-g-o-",
         OPEN_HAT: "------o-------o-"},
        {KICK: "X---X---X---X---", SNARE: "----o-------o---", CLAP: "----x-------x---",
         CLOSED_HAT: "ggogggogggogggog"},
    ),
    "boom_bap": (
        {KICK: "X-----x-X-------", SNARE: "----X-------X---", CLOSED_HAT: "o-o-o-o-o-o-o-o-"},
        {KICK: "X--x----X-x-----", SNARE: "----X-------X---", CLOSED_HAT: "o-o-o-o-o-o-o-o-"},
        {KICK: "X-------X--x--x-", SNARE: "----X-------X--g", CLOSED_HAT: "o-g-o-g-o-g-o-g-"},
    ),
    "trap": (
        {KICK: "X------X--X-X---", CLAP: "--------X-------", SIDE_STICK: "----o-------o---"},
        {KICK: "X-----X-----X---", CLAP: "--------X-------", SIDE_STICK: "----o-------o---"},
        {KICK: "X---x-----X-----", CLAP: "--------X-------", SIDE_STICK: "----o-------o---"},
    ),
    "dnb": (
        {KICK: "X---------X-----", SNARE: "----X-------X---", CLOSED_HAT: "o-o-o-o-o-o-o-o-"},
        {KICK: "X---------X-----", SNARE: "----X--g-g--X---", RIDE: "o-o-o-o-o-o-o-o-"},
        {KICK: "X---------X--x--", SNARE: "----X-------X-g-", CLOSED_HAT: "o-g-o-g-o-g-o-g-"},
    ),
    "breakbeat": (
        {KICK: "X-x-----X-x-----", SNARE: "----X--g-g--X--g", CLOSED_HAT: "x-g-x-g-x-g-x-g-"},
        {KICK: "X-----x-X-------", SNARE: "----X-------X---", CLOSED_HAT: "x-g-x-g-x-g-x-g-"},
    ),
    "one_drop": (
        {KICK: "--------X-------", SIDE_STICK: "--------X-------", CLOSED_HAT: "x-o-x-o-x-o-x-o-"},
        {KICK: "--------X-------", SIDE_STICK: "--------X-------", CLOSED_HAT: "x-o-x-o-x-o-x-og"},
    ),
    "rock": (
        {KICK: "X-------X-x-----", SNARE: "----X-------X---", CLOSED_HAT: "o-o-o-o-o-o-o-o-"},
        {KICK: "X-x-----X-------", SNARE: "----X-------X---", CLOSED_HAT: "o-o-o-o-o-o-o-o-"},
        {KICK: "X-------X-X-----", SNARE: "----X-------X---", RIDE: "o-o-o-o-o-o-o-o-"},
    ),
    "halftime": (
        {KICK: "X------x--x-----", SNARE: "--------X-------", SIDE_STICK: "----o-------o---",
         CLOSED_HAT: "x-o-x-o-x-o-x-o-"},
        {KICK: "X-----x---x-----", SNARE: "--------X-------", SIDE_STICK: "----o-------o---",
         CLOSED_HAT: "x-g-x-g-x-g-x-g-"},
    ),
    "latin": (
        {KICK: "X--oX--oX--oX--o", SIDE_STICK: "x--x--x---x-x---", MARACAS: "gogggogggogggogg"},
        {KICK: "X--oX--oX--oX--o", CLAVES: "x--x---x--x-x---", HIGH_CONGA: "---o--o----o--o-",
         LOW_CONGA: "--------o-o-----", MARACAS: "gogggogggogggogg"},
    ),
    "ballad": (
        {KICK: "X-------X-------", SNARE: "----x-------x---", CLOSED_HAT: "o-o-o-o-o-o-o-o-"},
        {KICK: "X-------X-o-----", SIDE_STICK: "----x-------x---", CLOSED_HAT: "o-g-o-g-o-g-o-g-"},
    ),
    # 8th-note grids (8 steps): swung by 8ths.
    "swing_ride": (
        {RIDE: "x-xox-xo", PEDAL_HAT: "--o---o-", KICK: "g-g-g-g-"},
        {RIDE: "x-xox-xo", PEDAL_HAT: "--o---o-", KICK: "g-g-g-g-", SNARE: "-----g--"},
    ),
    "shuffle": (
        {KICK: "X---X---", SNARE: "--X---X-", CLOSED_HAT: "xoxoxoxo"},
        {KICK: "X---X-g-", SNARE: "--X---X-", RIDE: "xoxoxoxo"},
    ),
}


@dataclass(frozen=True)
class Hit:
    """One drum hit: ``tick`` within the bar (before swing), GM drum ``note``, ``velocity``."""

    tick: int
    note: int
    velocity: int


def groove_style(style: str, metre: Metre) -> str:
    """The style actually played in ``metre``: 4/4 grooves turn into waltz or 6/8 grooves."""
    if style == "none":
        return "none"
    if metre.numerator == 4 and metre.denominator == 4:
        return style if style in _FOUR_FOUR else "rock"
    if metre.compound:
        return "six_eight"
    if metre.numerator == 3:
        return "waltz"
    return "generic"


#: Compound-metre grooves (6/8, 12/8): hats on every 8th, an 8th-triplet ride, a long-short shuffle.
COMPOUND_VARIANTS = 3


def variants(style: str) -> int:
    """How many grooves ``style`` has to pick from (a seed picks one per clip)."""
    if style == "six_eight":
        return COMPOUND_VARIANTS
    return len(_FOUR_FOUR.get(style, ({},)))


def _steps(pattern: dict[int, str], *, step: int) -> list[Hit]:
    hits = []
    for note, grid in pattern.items():
        for i, ch in enumerate(grid):
            if ch in _VELOCITY:
                hits.append(Hit(i * step, note, _VELOCITY[ch]))
    return hits


def bar_hits(style: str, metre: Metre, *, variant: int, rng: np.random.Generator,
             fill: bool = False, crash: bool = False) -> list[Hit]:
    """The hits of one bar of ``style`` in ``metre`` (already mapped by :func:`groove_style`)."""
    if style == "none":
        return []
    if style in _FOUR_FOUR:
        table = _FOUR_FOUR[style]
        pattern = table[variant % len(table)]
        step = PPQ // 2 if len(next(iter(pattern.values()))) == 8 else PPQ // 4
        hits = _steps(pattern, step=step)
        if style == "trap":
            hits += _trap_hats(rng)
    elif style == "waltz" or (style == "generic" and not metre.compound):
        hits = _simple_metre(metre)
    else:
        hits = _compound_metre(metre, variant=variant % COMPOUND_VARIANTS)
    if fill:
        hits = _fill(hits, style, metre, rng)
    if crash:
        hits = [h for h in hits if not (h.tick == 0 and h.note in (CLOSED_HAT, OPEN_HAT, RIDE))]
        hits.append(Hit(0, CRASH, 100))
    return sorted(hits, key=lambda h: (h.tick, h.note))


def _simple_metre(metre: Metre) -> list[Hit]:
    """Kick on one (and the middle of long bars), snare on the other beats, hats on 8ths."""
    beat = metre.beat_ticks
    hits = [Hit(0, KICK, 118)]
    for b in range(1, metre.beats):
        if metre.beats >= 4 and b == metre.beats // 2 and metre.beats % 2 == 0:
            hits.append(Hit(b * beat, KICK, 108))
        else:
            hits.append(Hit(b * beat, SNARE, 96 if metre.beats > 3 or b == 1 else 84))
    half = beat // 2
    for i in range(metre.bar_ticks // half):
        hits.append(Hit(i * half, CLOSED_HAT, 74 if i % 2 == 0 else 52))
    return hits


def _compound_metre(metre: Metre, *, variant: int = 0) -> list[Hit]:
    """6/8, 12/8: kick on one (and the middle beat in 12/8), snare on the others, a cymbal on the 8ths.

    Variant 0 plays closed hats on every 8th, 1 an 8th-triplet ride with a kick
    pickup into the next bar, 2 a long-short shuffle (the first and third 8th of
    each beat). All accent the dotted-quarter beat, which is what the ear counts.
    """
    beat, unit = metre.beat_ticks, metre.unit_ticks
    hits = [Hit(0, KICK, 118)]
    for b in range(1, metre.beats):
        if metre.beats >= 4 and b == metre.beats // 2:
            hits.append(Hit(b * beat, KICK, 108))
        else:
            hits.append(Hit(b * beat, SNARE, 100))
    units = metre.bar_ticks // unit
    if variant == 1:
        hits += [Hit(i * unit, RIDE, 84 if i % 3 == 0 else 58) for i in range(units)]
        hits.append(Hit(metre.bar_ticks - unit, KICK, 76))
    elif variant == 2:
        hits += [Hit(i * unit, CLOSED_HAT, 78 if i % 3 == 0 else 56) for i in range(units) if i % 3 != 1]
    else:
        hits += [Hit(i * unit, CLOSED_HAT, 76 if i % 3 == 0 else 50) for i in range(units)]
    return hits


def _trap_hats(rng: np.random.Generator) -> list[Hit]:
    """8th hats accented on the beat, with a 16th, triplet or 32nd roll on some beats."""
    hits = []
    eighth = PPQ // 2
    for beat in range(4):
        start = beat * PPQ
        kind = rng.choice(["8", "8", "8", "16", "trip", "32"], p=[0.25, 0.2, 0.15, 0.2, 0.1, 0.1])
        hits.append(Hit(start, CLOSED_HAT, 92))
        if kind == "8":
            hits.append(Hit(start + eighth, CLOSED_HAT, 56))
        elif kind == "16":
            for k in range(1, 4):
                hits.append(Hit(start + k * PPQ // 4, CLOSED_HAT, 50 if k != 2 else 60))
        elif kind == "trip":
            for k in range(1, 3):
                hits.append(Hit(start + k * PPQ // 3, CLOSED_HAT, 54))
        else:  # a 32nd roll on the second half of the beat, rising
            for k in range(4):
                hits.append(Hit(start + eighth + k * PPQ // 8, CLOSED_HAT, 44 + 6 * k))
    return hits


def _fill(hits: list[Hit], style: str, metre: Metre, rng: np.random.Generator) -> list[Hit]:
    """Replace the last beat with a short snare or tom fill that still lands on the beat."""
    beat = metre.beat_ticks
    start = metre.bar_ticks - beat
    kept = [h for h in hits if h.tick < start or h.note == KICK]
    if style == "trap":
        return kept + [Hit(start + k * PPQ // 8, CLOSED_HAT, 48 + 5 * k) for k in range(8)]
    sub = beat // 3 if metre.compound else beat // 4
    n = beat // sub
    if rng.random() < 0.5:
        fill = [Hit(start + k * sub, SNARE, 84 + int(30 * k / max(n - 1, 1))) for k in range(n)]
    else:
        toms = (HIGH_TOM, MID_TOM, LOW_TOM, FLOOR_TOM)
        fill = [Hit(start + k * sub, toms[min(k, 3)], 96 + 6 * (k == 0)) for k in range(n)]
    return kept + fill


def count_in(style: str, metre: Metre) -> list[Hit]:
    """The lead-in bar: sticks on every beat (accent on one), as a drummer counts a band in."""
    if style == "none":
        return []
    note = PEDAL_HAT if style == "swing_ride" else SIDE_STICK
    hits = [Hit(b * metre.beat_ticks, note, 100 if b == 0 else 84) for b in range(metre.beats)]
    if metre.compound:
        unit = metre.unit_ticks
        hits += [Hit(i * unit, CLOSED_HAT, 40) for i in range(metre.bar_ticks // unit) if i % 3]
    return hits
