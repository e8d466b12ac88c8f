"""The drum part: the style's groove bar by bar, with fills, crashes, the count-in and the final hit.

:mod:`~mage_bridge.generate.grooves` knows what one bar of a style sounds
like; this module decides which bar plays where in the clip (a fill before
every fourth bar, a crash after it, a groove variant that may change every
eight bars) and hands the bass the kick positions it locks to. Hand percussion
named in the prompt (tambourine, bodhran) plays beside the groove.
"""

from __future__ import annotations

from collections.abc import Sequence

from mage_bridge.generate import grooves
from mage_bridge.generate.context import ClipContext
from mage_bridge.generate.grooves import Hit
from mage_bridge.generate.metre import PPQ
from mage_bridge.generate.score import Note, Part, clean_notes
from mage_bridge.instruments import Instrument

#: The frame drum's high, muted stroke: GM 43 High Floor Tom.
_FRAME_DRUM_HIGH = 43


def drum_part(ctx: ClipContext, *, include: bool, kit: int | None = None,
              extras: Sequence[Instrument] = ()) -> tuple[list[int], Part | None]:
    """The drum part, and the kick positions of the groove (the bass locks to them).

    ``kit`` is the drum-bank program (default: the style's kit); ``extras`` are
    hand percussion with a GM key (tambourine, bodhran) that play beside the
    groove, or alone when ``include`` is false.
    """
    m, rng = ctx.metre, ctx.rng
    variant = int(rng.integers(grooves.variants(ctx.style)))
    notes: list[Note] = []
    kicks: list[int] = []
    for hit in grooves.count_in(ctx.style, m):
        for lb in range(ctx.lead_in_bars):
            notes.append(Note(lb * m.bar_ticks + hit.tick, PPQ // 2, hit.note, hit.velocity))
    for b in range(ctx.body_bars):
        last = b == ctx.body_bars - 1
        fill = (b % 4 == 3 and not last) or (last and ctx.body_bars >= 2)
        crash = b == 0 or b % 4 == 0
        if b % 8 == 4 and grooves.variants(ctx.style) > 1 and rng.random() < 0.5:
            variant = int(rng.integers(grooves.variants(ctx.style)))
        for hit in grooves.bar_hits(ctx.style, m, variant=variant, rng=rng, fill=fill, crash=crash):
            tick = ctx.at(b, hit.tick)
            if hit.note in (grooves.KICK, grooves.KICK2):
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
