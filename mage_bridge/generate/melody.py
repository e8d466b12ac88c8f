"""The lead part: a one-bar motif in the scale, answered and repeated over the progression.

The tune plays in the sections that have it, in a register each section lifts
(a chorus sings higher than its verse), and a jazz solo plays a busier rhythm
than its head.

A melody needs the scale and the chord tones, not the voicings the chordal
parts share, so it is written on its own. What makes a key heard is sung
first: a bar whose chord holds the mode's characteristic degree (dorian's
major 6th, lydian's #4...) starts on it, and in a minor key a bar on the
tonic chord starts on the minor third.
"""

from __future__ import annotations

from mage_bridge.generate.context import ClipContext
from mage_bridge.generate.harmony import place
from mage_bridge.generate.metre import PPQ
from mage_bridge.generate.score import Note
from mage_bridge.music import CHARACTERISTIC, SCALE_FAMILY


def lead_notes(ctx: ClipContext) -> list[Note]:
    """A one-bar motif in the scale, answered and repeated; strong beats land on chord tones."""
    m, rng = ctx.metre, ctx.rng
    scale = list(ctx.scale_pcs)
    name = ctx.scale or ctx.mode
    colours = [(ctx.tonic_pc + d) % 12 for d in CHARACTERISTIC[name]]
    minor_third = (ctx.tonic_pc + 3) % 12 if SCALE_FAMILY[name] == "minor" else None
    step = m.unit_ticks if m.compound else PPQ // 2
    slots = m.bar_ticks // step
    plain = [i for i in range(slots) if i == 0 or rng.random() < 0.45]
    busy = sorted(set(plain) | {i for i in range(slots) if rng.random() < 0.5})
    contours = [int(x) for x in rng.integers(-2, 3, size=slots)]
    notes: list[Note] = []
    for b, chord in enumerate(ctx.body_chords):
        plan = ctx.plan_of(b)
        if not plan.lead or (b - plan.start) % 4 == 3 or b == 0 and ctx.body_bars > 2:
            continue  # breathe: the lead rests on the first bar and every fourth bar of a section
        lo, hi = 64 + plan.lift, 84 + plan.lift
        rhythm = busy if plan.name == "solo" else plain
        contour = contours[:len(rhythm)]
        pitch = place(_first_pc(b, chord.root_pc, chord.pitch_classes, colours, minor_third, ctx.tonic_pc),
                      low=lo + 2, high=hi - 4)
        for k, slot in enumerate(rhythm):
            if k:
                pitch = _step_in_scale(pitch, contour[k] if b % 2 == 0 else -contour[k], scale)
                pitch = min(max(pitch, lo), hi)
            if (slot * step) % m.beat_ticks == 0:
                pitch = _nearest_of(pitch, chord.pitch_classes)
            nxt = rhythm[k + 1] if k + 1 < len(rhythm) else slots
            notes.append(Note(ctx.at(b, slot * step), (nxt - slot) * step - 40, pitch, ctx.vel(92 if k == 0 else 82)))
    end = place(ctx.tonic_pc, low=66, high=80)
    return notes + [Note(ctx.lead_out_tick, ctx.hold_ticks, end, 86)]


def _first_pc(bar: int, root: int, chord: tuple[int, ...], colours: list[int], minor_third: int | None,
              tonic_pc: int) -> int:
    """The bar's first note: the mode's colour where the chord holds it, the minor third on a minor
    tonic chord, else the root on even bars and the chord's third on odd ones (the answer)."""
    for pc in colours:
        if pc in chord:
            return pc
    if minor_third is not None and root == tonic_pc and minor_third in chord:
        return minor_third
    return root if bar % 2 == 0 else chord[1]


def _step_in_scale(pitch: int, steps: int, scale: list[int]) -> int:
    direction = 1 if steps > 0 else -1
    for _ in range(abs(steps)):
        pitch += direction
        while pitch % 12 not in scale:
            pitch += direction
    return pitch


def _nearest_of(pitch: int, pcs: tuple[int, ...]) -> int:
    return min((p for p in range(pitch - 6, pitch + 7) if p % 12 in pcs), key=lambda p: (abs(p - pitch), p))
