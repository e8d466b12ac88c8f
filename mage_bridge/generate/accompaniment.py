"""The chordal parts of the ``other`` stem: held pads, comped chords, strummed guitar, broken chords.

They share the voice-led voicings of the progression (each chord moves least
from the one before) and end on the tonic chord struck with the lead-out;
what differs is the rhythm each plays them in.
"""

from __future__ import annotations

from mage_bridge.generate.context import ClipContext
from mage_bridge.generate.harmony import Chord, place, voice
from mage_bridge.generate.metre import PPQ
from mage_bridge.generate.score import Control, Note


def _voicings(ctx: ClipContext, *, low: int, high: int, size: int) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = []
    prev: tuple[int, ...] | None = None
    for chord in ctx.body_chords:
        prev = voice(chord, previous=prev, low=low, high=high, notes=size)
        out.append(prev)
    out.append(voice(ctx.tonic, previous=prev, low=low, high=high, notes=size))
    return out


def pad_notes(ctx: ClipContext, *, swell: bool) -> list[Note]:
    """Sustained chords, one per bar; the lead-in swells in on the tonic."""
    size = 3 + int(ctx.rng.integers(2))
    voicings = _voicings(ctx, low=52, high=76, size=size)
    bar = ctx.metre.bar_ticks
    notes: list[Note] = []
    if swell and ctx.lead_in_bars:
        first = voice(ctx.tonic, previous=voicings[0], low=52, high=76, notes=size)
        for p in first:
            notes.append(Note(0, ctx.lead_in_bars * bar - 20, p, 76))
    for b in range(ctx.body_bars):
        chord = voicings[b] + _pedal(ctx, ctx.body_chords[b], voicings[b])
        for p in chord:
            notes.append(Note(ctx.bar_start(b), bar - 20, p, ctx.vel(80, 4)))
    notes += _final(ctx, voicings[-1], 84)
    return notes


def _pedal(ctx: ClipContext, chord: Chord, voicing: tuple[int, ...]) -> tuple[int, ...]:
    """The tonic held above a chord that lacks it, where it does not rub a semitone.

    An inner pedal on the tonic is how pads keep a loop like i-VII-VI-VII from
    sounding like the relative major: Gadd9 over A, C6 in A minor.
    """
    pcs = chord.pitch_classes
    t = ctx.tonic_pc
    if t in pcs or (t + 1) % 12 in pcs or (t - 1) % 12 in pcs:
        return ()
    top = max(voicing)
    pedal = top + ((t - top) % 12 or 12)
    if pedal > 81:
        pedal -= 12
    return () if pedal in voicing else (pedal,)


def swell_controls(ctx: ClipContext, channel: int) -> list[Control]:
    """Expression (CC11): rising over the lead-in; held back in a quiet section, swelling through a loud one
    (a chorus, a drop, an ambient piece's B); back to the lead-in's level for the final chord."""
    span = ctx.lead_in_bars * ctx.metre.bar_ticks
    steps = 16
    out = [Control(span * i // steps, 11, 30 + 90 * i // steps) for i in range(steps + 1)] if span else []
    for plan in ctx.sections:
        start, length = ctx.bar_start(plan.start), plan.bars * ctx.metre.bar_ticks
        if plan.velocity < 0:
            out.append(Control(start, 11, 100))
        elif plan.velocity > 0:
            out += [Control(start + length * i // steps, 11, 100 + 27 * i // steps) for i in range(steps)]
        else:
            out.append(Control(start, 11, 120))
    out.append(Control(ctx.lead_out_tick, 11, 120))
    return out if span or ctx.sections else [Control(0, 11, 120)]


def _final(ctx: ClipContext, chord: tuple[int, ...], velocity: int) -> list[Note]:
    return [Note(ctx.lead_out_tick, ctx.hold_ticks, p, velocity) for p in chord]


#: Comp rhythms in 4/4: (offset in 16ths, length in 16ths, velocity).
_COMP: dict[str, tuple[tuple[tuple[int, int, int], ...], ...]] = {
    "four_on_floor": (((2, 1, 92), (6, 1, 88), (10, 1, 92), (14, 1, 88)),
                      ((0, 3, 96), (6, 2, 88), (10, 3, 90)),
                      ((3, 2, 90), (6, 2, 88), (11, 2, 92))),
    "one_drop": (((4, 1, 96), (12, 1, 96)), ((4, 1, 96), (6, 1, 70), (12, 1, 96), (14, 1, 70))),
    "swing_ride": (((0, 4, 92), (6, 2, 84)), ((4, 2, 88), (12, 2, 88)), ((0, 2, 90), (10, 2, 84))),
    "boom_bap": (((0, 6, 92), (10, 4, 84)), ((0, 8, 90), (8, 8, 84))),
    "latin": (((0, 3, 90), (3, 3, 82), (6, 2, 84), (10, 3, 86), (13, 3, 82)),),
    "breakbeat": (((0, 1, 96), (3, 1, 78), (4, 1, 92), (6, 1, 78), (8, 1, 96), (11, 1, 78), (12, 1, 92),
                   (14, 1, 78)),
                  ((0, 2, 96), (4, 1, 90), (7, 1, 76), (8, 2, 94), (12, 1, 90), (14, 1, 76))),
    "trap": (((0, 8, 88), (8, 8, 80)),),
    "dnb": (((0, 16, 86),), ((0, 10, 88), (10, 6, 80))),
    "rock": (((0, 2, 96), (2, 2, 80), (4, 2, 90), (6, 2, 80), (8, 2, 96), (10, 2, 80), (12, 2, 90),
              (14, 2, 80)), ((0, 4, 96), (4, 4, 88), (8, 4, 92), (12, 4, 88))),
    "ballad": (((0, 8, 88), (8, 8, 82)), ((0, 4, 88), (4, 4, 80), (8, 4, 84), (12, 4, 80))),
}
_COMP_DEFAULT = (((0, 4, 94), (4, 4, 84), (8, 4, 90), (12, 4, 84)), ((0, 8, 92), (8, 8, 86)))


def _comp_rhythm(ctx: ClipContext) -> list[tuple[int, int, int]]:
    """Onsets (ticks in bar), lengths and velocities of a comping pattern for this metre."""
    m = ctx.metre
    if m.numerator == 4 and m.denominator == 4:
        table = _COMP.get(ctx.style, _COMP_DEFAULT)
        pattern = table[int(ctx.rng.integers(len(table)))]
        step = PPQ // 4
        return [(o * step, max(1, n * step - 30), v) for o, n, v in pattern]
    if ctx.style == "waltz" or (not m.compound and m.numerator == 3):
        return [(b * m.beat_ticks, m.beat_ticks - 40, 86) for b in range(1, m.beats)]  # oom-pah-pah
    if m.compound:
        unit = m.unit_ticks
        variant = int(ctx.rng.integers(3))
        if variant == 1:  # 8th-triplet chords, slow-blues piano: accent on the beat
            return [(i * unit, unit - 30, 90 if i % 3 == 0 else 70) for i in range(m.bar_ticks // unit)]
        if variant == 2:  # long-short: the beat held two 8ths, the third one a pickup
            return [(b * m.beat_ticks + k * unit, (2 if k == 0 else 1) * unit - 30, 92 if k == 0 else 72)
                    for b in range(m.beats) for k in (0, 2)]
    return [(b * m.beat_ticks, m.beat_ticks - 40, 92 if b == 0 else 84) for b in range(m.beats)]


def comp_notes(ctx: ClipContext, *, short: bool) -> list[Note]:
    """Comped chords: the same rhythm each bar, voices led smoothly."""
    voicings = _voicings(ctx, low=55, high=79, size=4)
    rhythm = _comp_rhythm(ctx)
    notes: list[Note] = []
    for b in range(ctx.body_bars):
        for offset, length, vel in rhythm:
            length = min(length, PPQ // 3) if short else length
            for p in voicings[b]:
                notes.append(Note(ctx.at(b, offset), length, p, ctx.vel(vel, 4)))
    notes += _final(ctx, voicings[-1], 86)
    return notes


def strum_notes(ctx: ClipContext, *, power: bool) -> list[Note]:
    """Guitar: strummed chords (each string a few ms later), power chords on 8ths when driven."""
    notes: list[Note] = []
    if power:
        step = ctx.metre.unit_ticks if ctx.metre.compound else PPQ // 2
        for b, chord in enumerate(ctx.body_chords):
            root = place(chord.root_pc, low=40, high=52)
            shape = _power_shape(ctx, chord)
            for i in range(ctx.metre.bar_ticks // step):
                for p in (root + i for i in shape):
                    notes.append(Note(ctx.at(b, i * step), step - 40, p, ctx.vel(100 if i % 2 == 0 else 84)))
        root = place(ctx.tonic_pc, low=40, high=52)
        return notes + _final(ctx, tuple(root + i for i in _power_shape(ctx, ctx.tonic)), 96)
    voicings = _voicings(ctx, low=48, high=76, size=5)
    rhythm = _comp_rhythm(ctx)
    for b in range(ctx.body_bars):
        for k, (offset, length, vel) in enumerate(rhythm):
            down = k % 2 == 0
            order = voicings[b] if down else tuple(reversed(voicings[b]))
            for s, p in enumerate(order):
                notes.append(Note(ctx.at(b, offset) + 12 * s, max(60, length - 12 * s), p, ctx.vel(vel - 4 * s, 4)))
    return notes + [Note(ctx.lead_out_tick + 14 * s, ctx.hold_ticks, p, 86)
                    for s, p in enumerate(voicings[-1])]


def _power_shape(ctx: ClipContext, chord: Chord) -> tuple[int, ...]:
    """A driven guitar's chord in semitones over the root: root, fifth and octave, plus the minor
    tenth on a minor chord of a minor key. Distortion sounds the sum of root and fifth, a major
    third two octaves up, so a bare power chord on the tonic makes a minor key sound major."""
    fifth = _fifth(chord)
    if chord.is_minor and ctx.mode == "minor":
        return (0, fifth, 12, 15)
    return (0, fifth, 12)


def _fifth(chord: Chord) -> int:
    """The chord's fifth over its root: flat in a diminished chord (locrian's tonic), else perfect."""
    return next((i for i in chord.intervals if i in (6, 7, 8)), 7)


def arpeggio_notes(ctx: ClipContext, *, eighths: bool = False) -> list[Note]:
    """Broken chords on 8ths (sometimes 16ths), in one pattern picked per clip."""
    m, rng = ctx.metre, ctx.rng
    sixteenths = not eighths and m.numerator == 4 and m.denominator == 4 and rng.random() < 0.3
    step = m.unit_ticks if m.compound else (PPQ // 4 if sixteenths else PPQ // 2)
    shape = ("up", "updown", "alberti")[int(rng.integers(3))]
    notes: list[Note] = []
    for b, chord in enumerate(ctx.body_chords):
        tones = voice(chord, previous=None, low=60, high=84, notes=3)
        tones = tones + (tones[0] + 12,)
        order = {"up": [0, 1, 2, 3], "updown": [0, 1, 2, 3, 2, 1], "alberti": [0, 2, 1, 2]}[shape]
        for i in range(m.bar_ticks // step):
            pitch = tones[order[i % len(order)]]
            accent = (i * step) % m.beat_ticks == 0
            notes.append(Note(ctx.at(b, i * step), step * 2, pitch, ctx.vel(90 if accent else 66, 4)))
    tones = voice(ctx.tonic, previous=None, low=60, high=84, notes=3)
    return notes + _final(ctx, tones, 80)
