"""What every part writer of one clip reads: metre, style, swing, chords, sections and the seeded rng.

The composer decides these once per clip; the drum, bass, accompaniment and
melody writers all draw from the same :class:`ClipContext` (and the same random
generator, in a fixed order), so a seed re-renders the same clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mage_bridge.generate.harmony import Chord
from mage_bridge.generate.metre import Metre, swing_tick
from mage_bridge.generate.sections import SectionPlan
from mage_bridge.music import scale_pitch_classes


@dataclass(frozen=True)
class ClipContext:
    """One clip's plan: the body's chords and bars, the lead-out, the groove and its swing."""

    metre: Metre
    rng: np.random.Generator
    style: str
    base_style: str
    swing: float
    swing_unit: int
    lead_in_bars: int
    body_bars: int
    body_chords: list[Chord]
    tonic: Chord
    tonic_pc: int
    mode: str
    lead_out_tick: int
    hold_ticks: int
    crash_at_end: bool
    #: The scale the parts keep to (a key of :data:`mage_bridge.music.SCALES`): ``mode`` itself or a church
    #: mode of its family; ``""`` is the plain scale of ``mode``.
    scale: str = ""
    #: The body's sections in play order, covering its bars (empty: the whole body is one full section).
    sections: tuple[SectionPlan, ...] = ()
    #: The clip's seed (its remainder picks whole-clip choices that neighbouring seeds must not share).
    seed: int = 0

    @property
    def scale_pcs(self) -> tuple[int, ...]:
        """The pitch classes of the clip's scale, tonic first."""
        return scale_pitch_classes(self.tonic_pc, self.scale or self.mode)

    def plan_of(self, body_bar: int) -> SectionPlan:
        """The section body bar ``body_bar`` belongs to."""
        for plan in self.sections:
            if plan.start <= body_bar < plan.end:
                return plan
        return SectionPlan("verse", 0, self.body_bars)

    def section_edge(self, body_bar: int) -> tuple[bool, bool]:
        """Whether ``body_bar`` is the first and whether it is the last bar of its section."""
        plan = self.plan_of(body_bar)
        return body_bar == plan.start, body_bar == plan.end - 1

    def bar_start(self, body_bar: int) -> int:
        return (self.lead_in_bars + body_bar) * self.metre.bar_ticks

    def at(self, body_bar: int, offset: int) -> int:
        """Absolute tick of ``offset`` into body bar ``body_bar``, swung."""
        return self.bar_start(body_bar) + swing_tick(offset, unit=self.swing_unit, amount=self.swing)

    def vel(self, v: int, spread: int = 6) -> int:
        return int(np.clip(v + self.rng.integers(-spread, spread + 1), 1, 127))
