"""Metre and the tick grid: bars, beats and swing in integer ticks.

The composer works in ticks (:data:`PPQ` per quarter note, divisible by 2, 3, 4,
8 and 16 so straight, triplet and 32nd grids are all exact). A metre's *beat*
is the felt pulse: a quarter in 4/4 and 3/4, a dotted quarter in 6/8 and 12/8.
BPM is always quarter-note BPM, as in DAWs and MIDI files.
"""

from __future__ import annotations

from dataclasses import dataclass

from mage_bridge.errors import InvalidInputError

PPQ = 960


@dataclass(frozen=True)
class Metre:
    """A time signature on the tick grid."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if not 1 <= self.numerator <= 16 or self.denominator not in (2, 4, 8, 16):
            raise InvalidInputError(
                f"time_signature must be n/d with n in 1..16 and d in 2, 4, 8, 16, "
                f"got {self.numerator}/{self.denominator}"
            )

    @property
    def unit_ticks(self) -> int:
        """Ticks of one denominator unit (an 8th in 6/8)."""
        return 4 * PPQ // self.denominator

    @property
    def compound(self) -> bool:
        """6/8, 9/8, 12/8...: beats are dotted, grouped in threes of the unit."""
        return self.denominator >= 8 and self.numerator % 3 == 0 and self.numerator >= 6

    @property
    def bar_ticks(self) -> int:
        return self.numerator * self.unit_ticks

    @property
    def beat_ticks(self) -> int:
        return 3 * self.unit_ticks if self.compound else self.unit_ticks

    @property
    def beats(self) -> int:
        """Felt beats per bar: 4 in 4/4, 3 in 3/4, 2 in 6/8, 4 in 12/8."""
        return self.bar_ticks // self.beat_ticks

    @property
    def quarters(self) -> float:
        """Bar length in quarter notes (what BPM counts)."""
        return self.bar_ticks / PPQ

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


def swing_tick(tick: int, *, unit: int, amount: float) -> int:
    """Move ``tick`` as swing moves it: off-beat ``unit`` notes are delayed.

    Within each pair of ``unit`` lengths, time is warped piecewise linearly so
    the off-beat lands ``amount * unit / 3`` late (``amount`` 1.0 is the full
    triplet feel, 2:1); on-beats never move, and finer notes follow the warp.
    """
    if amount <= 0.0 or unit <= 0:
        return tick
    pair = 2 * unit
    base, pos = divmod(tick, pair)
    delay = amount * unit / 3.0
    if pos <= unit:
        moved = pos * (unit + delay) / unit
    else:
        moved = unit + delay + (pos - unit) * (unit - delay) / unit
    return int(base * pair + round(moved))
