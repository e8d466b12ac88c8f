"""The procedural composer: a :class:`PromptAnalysis` becomes a :class:`Score` of MIDI parts.

Pure Python and numpy, no audio. The clip has three parts on one bar grid:
a one-bar lead-in (a stick count-in and a pad swell on the tonic), the body,
and a lead-out (the tonic chord struck on a downbeat and released early enough
to ring out before the end). The body is arranged in the sections of its genre's
form (:mod:`~mage_bridge.generate.sections`: intro, verse, pre, chorus in a band;
intro, build, drop, breakdown in club music; head and solo in jazz...), each
with its own drum level, bass, tune register and dynamics, over the seed's own
groove and a chord progression that starts on the tonic and again at each
section. A named ensemble, "solo piano" or "string quartet", plays alone and one
of its players carries a tune. Everything random comes from one
``numpy.random.default_rng(seed)``, so a seed re-renders the same clip.

This module sets out the clip (sections, bars, lead-out, chords) and hands each
stem to its writer: :mod:`~mage_bridge.generate.drums`, :mod:`~mage_bridge.generate.bassline`,
:mod:`~mage_bridge.generate.accompaniment` and :mod:`~mage_bridge.generate.melody`, with the
band from :mod:`~mage_bridge.generate.style` and the progression from
:mod:`~mage_bridge.generate.harmony`. The score types live in :mod:`~mage_bridge.generate.score`.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from mage_bridge import genres, instruments
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.errors import InvalidInputError
from mage_bridge.generate import grooves, patterns
from mage_bridge.generate.accompaniment import arpeggio_notes, comp_notes, pad_notes, strum_notes, swell_controls
from mage_bridge.generate.bassline import bass_part
from mage_bridge.generate.context import ClipContext
from mage_bridge.generate.drums import drum_part, hits_of
from mage_bridge.generate.harmony import DEFAULT_PROGRESSIONS, STYLE_PROGRESSIONS, choose_progression, tonic_chord
from mage_bridge.generate.melody import lead_notes
from mage_bridge.generate.metre import PPQ, Metre
from mage_bridge.generate.score import Control, Note, Part, Score, Section, clean_notes
from mage_bridge.generate.sections import SectionPlan, form_family, plan_sections, with_dynamics
from mage_bridge.generate.style import (
    POWER_CHORD_PROGRAMS,
    choose_instruments,
    drum_kit,
    drum_style_for,
    swing_for,
)
from mage_bridge.music import SCALE_FAMILY, pitch_class

__all__ = [
    "CRASH_RING_S", "DEFAULT_PROGRESSIONS", "MIN_LEAD_OUT_S", "RELEASE_S", "STYLE_PROGRESSIONS", "Control", "Note",
    "Part", "Score", "compose", "drum_style_for", "hits_of",
]

#: Seconds the lead-out needs at least: the final chord held, then released to silence.
MIN_LEAD_OUT_S = 2.8
#: Seconds a released note (pads are the slowest in GM sets) needs to fall below -60 dB.
RELEASE_S = 2.2
#: Seconds a crash needs to die away (GM crashes ignore note-off).
CRASH_RING_S = 4.4

#: Half-time grooves whose keys play broken chords on 8ths rather than held chords.
_ARPEGGIO_STYLES = frozenset({"trap", "halftime"})
#: Solo bowed strings (violin, viola, cello), highest first by program.
_SOLO_STRING_PROGRAMS = frozenset({40, 41, 42})


def compose(
    analysis: PromptAnalysis,
    *,
    seed: int,
    duration_s: float = 32.0,
    lead_in_bars: int = 1,
    sample_rate: int = 48_000,
) -> Score:
    """Write the clip for ``analysis`` as a :class:`Score` (no audio yet)."""
    if not math.isfinite(analysis.bpm) or not 20.0 <= analysis.bpm <= 400.0:
        raise InvalidInputError(f"bpm must be from 20 to 400, got {analysis.bpm!r}")
    if analysis.mode not in ("major", "minor"):
        raise InvalidInputError(f"mode must be 'major' or 'minor', got {analysis.mode!r}")
    if analysis.scale and analysis.scale not in SCALE_FAMILY:
        raise InvalidInputError(f"scale must be '' or one of {sorted(SCALE_FAMILY)}, got {analysis.scale!r}")
    if not isinstance(lead_in_bars, int) or isinstance(lead_in_bars, bool) or not 0 <= lead_in_bars <= 8:
        raise InvalidInputError(f"lead_in_bars must be an int from 0 to 8, got {lead_in_bars!r}")
    if not math.isfinite(duration_s) or duration_s <= 0:
        raise InvalidInputError(f"duration_s must be a positive number of seconds, got {duration_s!r}")
    tonic_pc = pitch_class(analysis.key)
    metre = Metre(*analysis.time_signature)
    rng = np.random.default_rng(seed)
    genre = genres.find(analysis.genre)
    notes_out: list[str] = []
    if genre is None:
        notes_out.append(f"genre {analysis.genre!r} is not in the genre table; style guessed from its name")

    base_style = drum_style_for(analysis, genre)
    style = grooves.groove_style(base_style, metre)
    swing = swing_for(analysis, genre, base_style, metre)
    swing_unit = PPQ // 2 if base_style in grooves.EIGHTH_SWING else PPQ // 4

    bar_s = metre.quarters * 60.0 / analysis.bpm
    total_frames = int(round(duration_s * sample_rate))
    body_bars = int(math.floor((duration_s - lead_in_bars * bar_s - MIN_LEAD_OUT_S) / bar_s + 1e-9))
    if body_bars < 1:
        raise InvalidInputError(
            f"duration_s={duration_s:g} is too short for {lead_in_bars} lead-in bar(s), one bar of "
            f"{metre} at {analysis.bpm:g} BPM ({bar_s:.2f} s) and a {MIN_LEAD_OUT_S:g} s lead-out"
        )
    bar = metre.bar_ticks
    lead_out_tick = (lead_in_bars + body_bars) * bar
    lead_out_s = duration_s - (lead_in_bars + body_bars) * bar_s
    hold_s = max(0.3, min(bar_s, lead_out_s - RELEASE_S - 0.15))
    hold_ticks = int(round(hold_s * analysis.bpm * PPQ / 60.0))

    scale = analysis.scale or analysis.mode
    if SCALE_FAMILY[scale] != analysis.mode:  # a mode set over the analysis ("--mode major" on a dorian prompt)
        notes_out.append(f"{scale} is not a {analysis.mode} scale; playing plain {analysis.mode}")
        scale = analysis.mode
    chords, symbols = choose_progression(scale, tonic_pc, genre, base_style, rng)
    plans = plan_sections(form_family(base_style, analysis.genre), body_bars)
    steps = _progression_steps(plans, len(chords))
    body_chords = [chords[k] for k in steps]
    tonic = tonic_chord(tonic_pc=tonic_pc, mode=scale)
    progression = tuple(symbols[k] for k in steps) + (tonic.symbol,)

    ctx = ClipContext(metre=metre, rng=rng, style=style, base_style=base_style, swing=swing,
                   swing_unit=swing_unit, lead_in_bars=lead_in_bars, body_bars=body_bars,
                   body_chords=body_chords, tonic=tonic, tonic_pc=tonic_pc, mode=analysis.mode,
                   lead_out_tick=lead_out_tick, hold_ticks=hold_ticks,
                   crash_at_end=lead_out_s >= CRASH_RING_S, scale=scale, sections=plans, seed=seed)

    bass_inst, other_insts = choose_instruments(analysis, genre, base_style, notes_out)
    kit, percussion = drum_kit(analysis, base_style, notes_out)
    kick_ticks, drums = drum_part(ctx, include=base_style != "none", kit=kit, extras=percussion)
    parts: list[Part] = []
    if drums is not None:
        parts.append(drums)
    if bass_inst is not None:
        parts.append(bass_part(ctx, bass_inst, kick_ticks))
    melody, doubled = _melody_voice(analysis, other_insts)
    for channel, inst in enumerate(other_insts):
        parts.append(_other_part(ctx, inst, channel, lead=channel == melody and not doubled))
    if melody is not None and doubled:
        # a solo pianist plays the tune over the chords: a second part on the same instrument
        parts.append(_other_part(ctx, other_insts[melody], len(other_insts), lead=True))
    parts = [replace(p, notes=with_dynamics(p.notes, plans, body_start=lead_in_bars * bar, bar_ticks=bar))
             for p in parts]
    lead_out_bars = max(1, math.ceil(total_frames / (bar_s * sample_rate) - 1e-9) - lead_in_bars - body_bars)
    sections = ((Section("lead-in", 0, lead_in_bars),) if lead_in_bars else ()) + tuple(
        Section(p.name, lead_in_bars + p.start, p.bars) for p in plans) + (
        Section("lead-out", lead_in_bars + body_bars, lead_out_bars),)
    return Score(bpm=float(analysis.bpm), metre=metre, sample_rate=sample_rate, total_frames=total_frames,
                 lead_in_bars=lead_in_bars, body_bars=body_bars, tonic_pc=tonic_pc, mode=analysis.mode,
                 drum_style=style if base_style != "none" else "none", swing=swing,
                 progression=progression, parts=tuple(parts), notes=tuple(notes_out), sections=sections,
                 scale=scale, drum_feel=patterns.feel_of(style, seed) if base_style != "none" else "")


def _progression_steps(plans: tuple[SectionPlan, ...], chords: int) -> list[int]:
    """Which chord of the progression each body bar plays.

    A short loop (four chords or fewer) starts again with a section that follows
    a whole pass of it, as songs restart theirs at the chorus; after a shorter
    section it runs on, so every chord is heard. A longer form (a 12-bar blues)
    runs through the sections unbroken.
    """
    steps: list[int] = []
    k = 0
    for i, plan in enumerate(plans):
        if i and chords <= 4 and plans[i - 1].bars >= chords:
            k = 0
        for _ in range(plan.bars):
            steps.append(k % chords)
            k += 1
    return steps


def _melody_voice(analysis: PromptAnalysis, others: list[instruments.Instrument]) -> tuple[int | None, bool]:
    """Which of ``others`` carries the tune in a named ensemble with no lead, and whether it also keeps its chords.

    ``(None, False)`` when the prompt does not close the ensemble or the band
    has a lead. A lone solo string (violin, viola, cello) plays the tune alone;
    any other lone instrument (a solo pianist, a guitarist, a string section)
    plays the tune over its own chords; in a mixed ensemble the highest solo
    string plays it (the first violin of a quartet) while the others hold the harmony.
    """
    if not analysis.exclusive or not others or any(i.role == "lead" for i in others):
        return None, False
    if len(others) == 1:
        return 0, others[0].program not in _SOLO_STRING_PROGRAMS
    strings = [k for k, i in enumerate(others) if i.program in _SOLO_STRING_PROGRAMS]
    if strings:
        return min(strings, key=lambda k: (others[k].program, k)), False
    return None, False


def _other_part(ctx: ClipContext, inst: instruments.Instrument, channel: int, *, lead: bool = False) -> Part:
    """One part of the ``other`` stem, playing as its role says (the tune when ``lead``)."""
    role = "lead" if lead else inst.role
    controls: tuple[Control, ...] = ()
    if role == "pad" or role == "strings":
        notes, controls = pad_notes(ctx, swell=True), tuple(swell_controls(ctx, channel))
        settings = {"volume": 100, "reverb": 60, "chorus": 30}
    elif role == "lead":
        notes = lead_notes(ctx)
        settings = {"volume": 92, "reverb": 50, "chorus": 0}
    elif role == "pluck":
        notes = arpeggio_notes(ctx)
        settings = {"volume": 94, "reverb": 56, "chorus": 0}
    elif role == "guitar":
        notes = strum_notes(ctx, power=inst.program in POWER_CHORD_PROGRAMS)
        settings = {"volume": 96, "reverb": 40, "chorus": 20}
    elif ctx.style in _ARPEGGIO_STYLES and role == "keys":
        # half-time grooves: the keys keep the quarter pulse with a bell-like broken-chord loop
        notes = arpeggio_notes(ctx, eighths=True)
        settings = {"volume": 96, "reverb": 50, "chorus": 0}
    else:  # keys, brass
        notes = comp_notes(ctx, short=role == "brass")
        settings = {"volume": 100, "reverb": 44, "chorus": 10}
    pans = (64, 44, 84, 30)
    name = inst.name + (" melody" if lead and inst.role != "lead" else "")
    return Part(name=name, role=role, stem="other", channel=channel, bank=0, program=inst.program,
                notes=clean_notes(notes), controls=controls, pan=pans[channel % 4], **settings)
