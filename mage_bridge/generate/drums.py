"""The drum part: the clip's groove section by section, with fills, crashes, the count-in and the final hit.

:mod:`~mage_bridge.generate.patterns` makes the clip's groove (its main bar, the
answer bar that closes each two-bar phrase, a percussion layer); this module
plays it at each section's level (cymbals alone in an intro, kick and a rising
snare roll in a build, everything in a chorus or drop), fills the last bar of a
section into the next, crashes on a section's first downbeat, and hands the
bass the kick positions it locks to. Hand percussion named in the prompt
(tambourine, bodhran) plays beside the groove.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mage_bridge.generate import grooves
from mage_bridge.generate.context import ClipContext
from mage_bridge.generate.grooves import Hit
from mage_bridge.generate.metre import PPQ, Metre
from mage_bridge.generate.patterns import CYMBALS as _CYMBALS
from mage_bridge.generate.patterns import Groove, make_groove, trap_hats
from mage_bridge.generate.score import Note, Part, clean_notes
from mage_bridge.generate.sections import SectionPlan
from mage_bridge.instruments import Instrument

#: The frame drum's high, muted stroke: GM 43 High Floor Tom.
_FRAME_DRUM_HIGH = 43
_KICKS = frozenset({grooves.KICK, grooves.KICK2})
#: Cymbals that ring on for seconds whatever the note-off (GM rides and open hats).
_RINGING = frozenset({grooves.RIDE, grooves.RIDE_BELL, grooves.OPEN_HAT})
#: Kicks at least this hard are the groove's own, which the bass doubles; softer ones (a house kick's
#: ghost between the beats, a chorus's pushes) are the drummer's alone.
_BASS_KICK = 80
#: Velocity the cymbals lose where they play without the kit (an intro, a build, a breakdown).
_QUIET = 24
#: Levels that play the whole kit, so a fill leads into them and a crash opens them.
_KIT_LEVELS = frozenset({"light", "full"})


def drum_part(ctx: ClipContext, *, include: bool, kit: int | None = None,
              extras: Sequence[Instrument] = ()) -> tuple[list[int], Part | None]:
    """The drum part, and the kick positions of the groove (the bass locks to them).

    ``kit`` is the drum-bank program (default: the style's kit); ``extras`` are
    hand percussion with a GM key (tambourine, bodhran) that play beside the
    groove, or alone when ``include`` is false.
    """
    m, rng = ctx.metre, ctx.rng
    groove = make_groove(ctx.style, m, rng, variant=ctx.seed)
    notes: list[Note] = []
    kicks: list[int] = []
    for hit in grooves.count_in(ctx.style, m):
        for lb in range(ctx.lead_in_bars):
            notes.append(Note(lb * m.bar_ticks + hit.tick, PPQ // 2, hit.note, hit.velocity))
    for b in range(ctx.body_bars):
        plan = ctx.plan_of(b)
        first, last_of_section = ctx.section_edge(b)
        last = b == ctx.body_bars - 1
        nxt = ctx.plan_of(b + 1) if not last else None
        into = last and ctx.body_bars >= 2 or nxt is not None and last_of_section and nxt.drums in _KIT_LEVELS
        fill = plan.drums in _KIT_LEVELS and (into or (b - plan.start) % 8 == 7 and not last_of_section)
        crash = plan.drums in _KIT_LEVELS and (first and (b > 0 or plan.drums == "full") or
                                               (b - plan.start) % 8 == 0 and b > plan.start)
        hits = bar_hits(groove, m, plan, b - plan.start, rng)
        if last:  # long-ringing cymbals would outlast the lead-out: the last bar keeps time on the hats
            crash = crash and ctx.crash_at_end
            hits = [Hit(h.tick, grooves.CLOSED_HAT, h.velocity) if h.note in _RINGING else h for h in hits]
        if fill:
            hits = grooves.fill(hits, ctx.style, m, rng, beats=groove.fill_beats, rate=groove.fill_rate)
        if crash:
            hits = grooves.with_crash(hits)
        for hit in hits:
            tick = ctx.at(b, hit.tick)
            if hit.note in _KICKS and hit.velocity >= _BASS_KICK:
                kicks.append(tick)
            length = 4 * PPQ if hit.note == grooves.CRASH else PPQ // 2
            notes.append(Note(tick, length, hit.note, ctx.vel(hit.velocity, 4)))
    end = ctx.lead_out_tick
    notes.append(Note(end, ctx.hold_ticks, grooves.KICK, 118))
    kicks.append(end)
    if ctx.crash_at_end:
        notes.append(Note(end, ctx.hold_ticks, grooves.CRASH, 96))
    if not include:
        notes = []
    for inst in extras:
        notes.extend(percussion_notes(ctx, inst))
    if not notes:
        return kicks, None
    program = grooves.KITS.get(ctx.base_style, 0) if kit is None else kit
    part = Part(name="drums", role="drums", stem="drums", channel=9, bank=128,
                program=program, notes=clean_notes(notes), volume=96, reverb=24)
    return kicks, part


def bar_hits(groove: Groove, metre: Metre, plan: SectionPlan, bar: int, rng: np.random.Generator) -> list[Hit]:
    """Bar ``bar`` of section ``plan`` (counted from the section's start) at the section's drum level."""
    level = plan.drums
    if level == "none" or groove.style == "none":
        return []
    hits = list(groove.answer if bar % 2 == 1 else groove.bar)
    if groove.trap_beats:
        hits += trap_hats(groove.trap_beats, rng)
    if level == "full":
        if groove.full_cymbals is not None:
            hits = [h for h in hits if h.note not in _CYMBALS] + list(groove.full_cymbals)
        taken = {(h.tick, h.note) for h in hits}
        return hits + [h for h in groove.lift if (h.tick, h.note) not in taken] + list(groove.percussion)
    if level == "light":  # no open hats, ghost notes or percussion: the verse leaves room
        light = [Hit(h.tick, grooves.CLOSED_HAT, h.velocity) if h.note == grooves.OPEN_HAT else h
                 for h in hits if h.velocity > 50 or h.note in _CYMBALS]
        if plan.name == "pre":  # back on the snare; on every beat, it lifts into the chorus
            if groove.pre_feel == "quarters":
                snared = {h.tick for h in light if h.note == grooves.SNARE}
                light += [Hit(b * metre.beat_ticks, grooves.SNARE, 84 + 4 * b) for b in range(metre.beats)
                          if b * metre.beat_ticks not in snared]
        elif groove.verse_feel == "cross-stick":  # the backbeat on the rim
            light = [Hit(h.tick, grooves.SIDE_STICK, h.velocity) if h.note == grooves.SNARE else h for h in light]
        elif groove.verse_feel == "toms":  # the hats' 8ths on the floor tom
            light = [Hit(h.tick, grooves.FLOOR_TOM, max(60, h.velocity - 6))
                     if h.note == grooves.CLOSED_HAT and h.tick % (PPQ // 2) == 0 else h
                     for h in light if h.note not in (grooves.RIDE, grooves.RIDE_BELL) or h.tick % PPQ == 0]
        return light
    # an intro, build or breakdown keeps time on the groove's cymbals, well under the drop's
    cymbals = [Hit(h.tick, h.note, max(1, h.velocity - _QUIET)) for h in hits if h.note in _CYMBALS]
    if level == "hats":
        return cymbals
    kick = [h for h in hits if h.note in _KICKS]
    if level == "kick":
        return kick + cymbals
    return _build(groove, metre, plan, bar, cymbals)


def _build(groove: Groove, metre: Metre, plan: SectionPlan, bar: int, cymbals: list[Hit]) -> list[Hit]:
    """A build: the kick on every beat and a roll that speeds up and rises to the next section.

    The groove says which drum rolls and how fast in each third of the build
    (its notes per beat); the last third always rolls in 16ths (in the 8ths'
    triplets in compound metres).
    """
    beat = metre.beat_ticks
    hits = [Hit(i * beat, grooves.KICK, 112) for i in range(metre.beats)]
    progress = (bar + 1) / plan.bars
    rate = groove.build_rates[0 if progress <= 0.34 else 1 if progress <= 0.67 else 2]
    if metre.compound:
        rate = 1 if rate == 1 else 3
    sub = beat // rate
    n = metre.bar_ticks // sub
    low = 50 + int(50 * bar / plan.bars)
    high = 50 + int(50 * (bar + 1) / plan.bars)
    hits += [Hit(k * sub, groove.build_drum, low + (high - low) * k // max(n - 1, 1)) for k in range(n)]
    return hits + cymbals


def percussion_notes(ctx: ClipContext, inst: Instrument) -> list[Note]:
    """Hand percussion through the body: a tambourine shakes the 8ths with the backbeat accented,
    a frame drum (bodhran) plays a low beat with a high pickup, as a player keeps time beside the kit."""
    m = ctx.metre
    key = inst.drum_key if inst.drum_key is not None else grooves.TAMBOURINE
    notes: list[Note] = []
    for b in range(ctx.body_bars):
        if key == grooves.TAMBOURINE:
            for i in range(m.bar_ticks // (PPQ // 2)):
                tick = i * (PPQ // 2)
                backbeat = tick % m.beat_ticks == 0 and (tick // m.beat_ticks) % 2 == 1
                notes.append(Note(ctx.at(b, tick), PPQ // 4, key, ctx.vel(96 if backbeat else 64, 6)))
        else:
            for beat in range(m.bar_ticks // m.beat_ticks):
                tick = beat * m.beat_ticks
                notes.append(Note(ctx.at(b, tick), PPQ // 2, key, ctx.vel(104 if beat == 0 else 84, 6)))
                notes.append(Note(ctx.at(b, tick + m.beat_ticks // 2), PPQ // 4, _FRAME_DRUM_HIGH,
                                  ctx.vel(62, 6)))
    return notes


def hits_of(notes: tuple[Note, ...]) -> list[Hit]:
    """Notes as drum hits (for tests and tools that look at grooves)."""
    return [Hit(n.start, n.pitch, n.velocity) for n in notes]
