"""The composer's output: notes, controls and parts on a tick grid, gathered in a :class:`Score`.

These are plain values that the part writers produce and that the renderer
and the MIDI file writer read; keeping them apart from the writers lets those
readers import what a score *is* without importing how one is composed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mage_bridge.generate.metre import PPQ, Metre
from mage_bridge.music import key_name


@dataclass(frozen=True)
class Note:
    """A note in ticks from the clip start."""

    start: int
    length: int
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Control:
    """A MIDI control change at ``tick``."""

    tick: int
    control: int
    value: int


@dataclass(frozen=True)
class Part:
    """One instrument on one MIDI channel, landing in ``stem``."""

    name: str
    role: str
    stem: str
    channel: int
    bank: int
    program: int
    notes: tuple[Note, ...]
    controls: tuple[Control, ...] = ()
    volume: int = 100
    pan: int = 64
    reverb: int = 40
    chorus: int = 0


@dataclass(frozen=True)
class Section:
    """A named stretch of the clip in whole bars from the clip start (the lead-in's first bar is bar 0)."""

    name: str
    start_bar: int
    bars: int


@dataclass(frozen=True)
class Score:
    """Everything the renderer needs, on a tick grid tied to frames by ``bpm``."""

    bpm: float
    metre: Metre
    sample_rate: int
    total_frames: int
    lead_in_bars: int
    body_bars: int
    tonic_pc: int
    mode: str
    drum_style: str
    swing: float
    progression: tuple[str, ...]
    parts: tuple[Part, ...]
    notes: tuple[str, ...] = field(default=())
    #: The drums' whole-clip feel (``backbeat``, ``four``, ``halftime``; ``""`` for styles without feels).
    drum_feel: str = ""
    #: The clip's sections in play order, lead-in to lead-out, covering every bar.
    sections: tuple[Section, ...] = field(default=())
    #: The scale the parts keep to (a key of :data:`mage_bridge.music.SCALES`, e.g. ``"dorian"``); ``""`` is
    #: the plain scale of ``mode``.
    scale: str = ""

    def frame(self, tick: int) -> int:
        """The frame a tick falls on (ticks are exact; frames round to the nearest)."""
        return int(round(tick * 60.0 * self.sample_rate / (self.bpm * PPQ)))

    @property
    def bar_frames(self) -> float:
        return self.metre.bar_ticks * 60.0 * self.sample_rate / (self.bpm * PPQ)

    @property
    def body_start_tick(self) -> int:
        return self.lead_in_bars * self.metre.bar_ticks

    @property
    def lead_out_tick(self) -> int:
        return (self.lead_in_bars + self.body_bars) * self.metre.bar_ticks

    def stems(self) -> dict[str, tuple[Part, ...]]:
        """Parts grouped by stem, in the order drums, bass, other; empty stems left out."""
        out: dict[str, tuple[Part, ...]] = {}
        for stem in ("drums", "bass", "other"):
            parts = tuple(p for p in self.parts if p.stem == stem and p.notes)
            if parts:
                out[stem] = parts
        return out

    def structure(self) -> list[dict[str, Any]]:
        """The section map for the manifest: name, first bar, bars, and start/end in seconds of the clip."""
        out = []
        for s in self.sections:
            start = self.frame(s.start_bar * self.metre.bar_ticks) / self.sample_rate
            end = min(self.frame((s.start_bar + s.bars) * self.metre.bar_ticks), self.total_frames) / self.sample_rate
            out.append({"name": s.name, "bar": s.start_bar, "bars": s.bars,
                        "start_s": round(start, 6), "end_s": round(end, 6)})
        return out

    def details(self) -> dict[str, Any]:
        bar_s = self.bar_frames / self.sample_rate
        lead_in_s = self.frame(self.body_start_tick) / self.sample_rate
        lead_out_start_s = self.frame(self.lead_out_tick) / self.sample_rate
        return {
            "bpm": self.bpm,
            "time_signature": [self.metre.numerator, self.metre.denominator],
            "key": key_name(self.tonic_pc, self.mode),
            "mode": self.mode,
            "scale": self.scale or self.mode,
            "bar_s": round(bar_s, 6),
            "lead_in_bars": self.lead_in_bars,
            "lead_in_s": round(lead_in_s, 6),
            "body_bars": self.body_bars,
            "lead_out_s": round(self.total_frames / self.sample_rate - lead_out_start_s, 6),
            "drum_style": self.drum_style,
            "drum_feel": self.drum_feel,
            "swing": self.swing,
            "progression": list(self.progression),
            "parts": [
                {"name": p.name, "role": p.role, "stem": p.stem, "channel": p.channel + 1,
                 "bank": p.bank, "program": p.program, "notes": len(p.notes)}
                for p in self.parts
            ],
            "notes": list(self.notes),
        }


def clean_notes(notes: list[Note]) -> tuple[Note, ...]:
    """Sort, and shorten a note that would overlap the next of the same pitch (one note-off each)."""
    ordered = sorted(notes, key=lambda n: (n.start, n.pitch))
    last: dict[int, int] = {}
    out: list[Note | None] = list(ordered)
    for i, n in enumerate(ordered):
        j = last.get(n.pitch)
        if j is not None:
            prev = out[j]
            if prev is not None and prev.start + prev.length > n.start - 1:
                length = n.start - prev.start - 1
                out[j] = Note(prev.start, length, prev.pitch, prev.velocity) if length > 0 else None
        last[n.pitch] = i
    return tuple(n for n in out if n is not None)
