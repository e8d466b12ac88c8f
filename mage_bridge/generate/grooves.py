"""Drum grooves per style, as GM drum hits on the tick grid of one bar.

What every groove shares: the General MIDI drum keys, the kit of each style,
its swing, the beat of metres other than 4/4, fills, the crash and the count-in.
Each clip's own 4/4 groove comes from :mod:`~mage_bridge.generate.patterns`.
Kick and snare carry the beat; hats and shakers sit quieter so the pulse is
unambiguous, as in records.
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

#: Styles written on a 4/4 bar (:mod:`~mage_bridge.generate.patterns` makes each clip's groove).
FOUR_FOUR_STYLES = frozenset({"four_on_floor", "boom_bap", "trap", "dnb", "breakbeat", "one_drop", "rock",
                              "halftime", "latin", "ballad", "swing_ride", "shuffle"})


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
        return style if style in FOUR_FOUR_STYLES else "rock"
    if metre.compound:
        return "six_eight"
    if metre.numerator == 3:
        return "waltz"
    return "generic"


#: Compound-metre grooves (6/8, 12/8): hats on every 8th, an 8th-triplet ride, a long-short shuffle.
COMPOUND_VARIANTS = 3


def with_crash(hits: list[Hit]) -> list[Hit]:
    """The bar with a crash on its downbeat in place of the downbeat's hat or ride."""
    out = [h for h in hits if not (h.tick == 0 and h.note in (CLOSED_HAT, OPEN_HAT, RIDE))]
    return sorted(out + [Hit(0, CRASH, 100)], key=lambda h: (h.tick, h.note))


def simple_metre_hits(metre: Metre) -> list[Hit]:
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


def compound_metre_hits(metre: Metre, *, variant: int = 0) -> list[Hit]:
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


def fill(hits: list[Hit], style: str, metre: Metre, rng: np.random.Generator, *,
         beats: int = 1, rate: int = 4) -> list[Hit]:
    """Replace the last ``beats`` beats with a snare or tom fill that still lands on the beat.

    ``rate`` is notes per beat in simple metres (2: 8ths, 3: triplets, 4: 16ths);
    compound metres fill in their own 8ths. A trap fill is a hat roll over the groove.
    """
    beat = metre.beat_ticks
    beats = max(1, min(beats, metre.beats - 1)) if metre.beats > 1 else 1
    start = metre.bar_ticks - beats * beat
    if style == "trap":  # a hat roll over the beat: kick, clap and 808 carry on under it
        kept = [h for h in hits if h.tick < start or h.note not in (CLOSED_HAT, OPEN_HAT)]
        return kept + [Hit(start + k * PPQ // 8, CLOSED_HAT, 48 + 5 * k) for k in range(8 * beats)]
    kept = [h for h in hits if h.tick < start or h.note == KICK]
    sub = beat // 3 if metre.compound else beat // rate
    n = beats * beat // sub
    if rng.random() < 0.5:
        fill = [Hit(start + k * sub, SNARE, 84 + int(30 * k / max(n - 1, 1))) for k in range(n)]
    else:
        toms = (HIGH_TOM, MID_TOM, LOW_TOM, FLOOR_TOM)
        fill = [Hit(start + k * sub, toms[min(4 * k // n, 3)], 96 + 6 * (k == 0)) for k in range(n)]
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
