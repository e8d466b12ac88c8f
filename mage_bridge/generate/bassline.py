"""The bass part: chord roots locked to the kick, walking lines in jazz, boogie figures in blues.

Bass lines follow the drum style more than the harmony does, so each style
gets its own figure here, played in the sections that have the bass; all of them land on the chord root on the downbeat
and end on the tonic with the lead-out. Figures are written in semitones over
the root, then kept to the chord and the clip's scale (a boogie's major 6th
becomes the minor 7th over a minor chord of a minor key, a walk approaches
its target from a scale step), so the bass never contradicts the mode.
"""

from __future__ import annotations

import numpy as np

from mage_bridge import instruments
from mage_bridge.generate.context import ClipContext
from mage_bridge.generate.harmony import Chord, fit_pitch, place
from mage_bridge.generate.metre import PPQ
from mage_bridge.generate.score import Note, Part, clean_notes


def bass_part(ctx: ClipContext, inst: instruments.Instrument, kicks: list[int]) -> Part:
    """Bass on the chord roots: locked to the kick, walking in jazz, boogie in blues."""
    m, rng = ctx.metre, ctx.rng
    low, high = (28, 43) if inst.name == "808" else (33, 47)
    notes: list[Note] = []
    bar = m.bar_ticks
    style = ctx.base_style if ctx.style == ctx.base_style else ctx.style
    # boogie lines in semitones over the root (4 = the chord's third); the last bar turns around
    boogie = (_BOOGIE[int(rng.integers(len(_BOOGIE)))], _BOOGIE_TURNAROUND)
    pickups = bool(rng.random() < 0.5)
    for b, chord in enumerate(ctx.body_chords):
        if not ctx.plan_of(b).bass:
            continue  # the section leaves the bass out (an intro, a build, a breakdown)
        start = ctx.bar_start(b)
        root = place(chord.root_pc, low=low, high=high)
        fifth_up = next((i for i in chord.intervals if i in (6, 7, 8)), 7)  # a diminished chord's is flat
        fifth = root + fifth_up if root + fifth_up <= high + 5 else root + fifth_up - 12
        next_chord = ctx.body_chords[b + 1] if b + 1 < ctx.body_bars else ctx.tonic
        if style == "swing_ride" and m.beats == 4:
            line = _walk(chord, next_chord, root, rng, ctx.scale_pcs)
            for i, pitch in enumerate(line):
                notes.append(Note(start + i * PPQ, PPQ - 40, pitch, ctx.vel(100 if i == 0 else 88)))
        elif style == "shuffle" and m.beats == 4:
            for i, step in enumerate(boogie[int(b == ctx.body_bars - 1)]):
                pitch = root + (3 if chord.is_minor and step == 4 else step)
                pitch = fit_pitch(pitch, chord=chord, scale_pcs=ctx.scale_pcs)
                notes.append(Note(ctx.at(b, i * PPQ // 2), PPQ // 2 - 30, pitch, ctx.vel(100 if i % 2 == 0 else 80)))
        elif style == "halftime":
            # a wobble bass: re-struck 8ths on the root, accented on the beat
            for i in range(8):
                pitch = root + 12 if (i == 7 and rng.random() < 0.5) else root
                notes.append(Note(ctx.at(b, i * PPQ // 2), PPQ // 2 - 40, pitch, ctx.vel(110 if i % 2 == 0 else 84)))
        elif style == "four_on_floor":
            notes.append(Note(start, PPQ // 4, root, ctx.vel(104)))
            for beat in range(4):
                pitch = root + 12 if (beat == 3 and rng.random() < 0.4) else root
                notes.append(Note(ctx.at(b, beat * PPQ + PPQ // 2), PPQ // 3, pitch, ctx.vel(110)))
        elif style == "one_drop":
            notes.append(Note(start, PPQ * 3 // 2, root, ctx.vel(108)))
            notes.append(Note(ctx.at(b, PPQ * 2), PPQ // 2, root, ctx.vel(96)))
            notes.append(Note(ctx.at(b, PPQ * 5 // 2), PPQ // 2, fifth, ctx.vel(90)))
            notes.append(Note(ctx.at(b, PPQ * 3), PPQ, root + 12 if rng.random() < 0.5 else root, ctx.vel(92)))
        elif style in ("waltz", "six_eight", "generic", "none") or ctx.base_style == "none":
            if style == "none" and ctx.plan_of(b).drums != "light" or style == "none" and m.beats % 2:
                notes.append(Note(start, bar - 60, root, ctx.vel(88)))  # a held pedal under the swell
                continue
            if style == "none":  # a drumless ensemble's outer sections: the bass moves in half notes
                half = bar // 2
                notes.append(Note(start, half - 40, root, ctx.vel(92)))
                notes.append(Note(start + half, half - 40, fifth if rng.random() < 0.6 else root, ctx.vel(80)))
                continue
            notes.append(Note(start, m.beat_ticks - 30, root, ctx.vel(108)))
            for beat in range(1, m.beats):
                pitch = fifth if beat == m.beats // 2 or m.beats == 2 else root
                notes.append(Note(start + beat * m.beat_ticks, m.beat_ticks - 30, pitch, ctx.vel(88)))
                if m.compound and pickups:  # the last 8th of the beat before walks into this one
                    notes.append(Note(start + beat * m.beat_ticks - m.unit_ticks, m.unit_ticks - 30,
                                      _approach(pitch, 2 if rng.random() < 0.5 else -1, ctx.scale_pcs),
                                      ctx.vel(72)))
        else:
            bar_kicks = sorted(k for k in kicks if start <= k < start + bar)
            if not bar_kicks or bar_kicks[0] != start:
                bar_kicks.insert(0, start)
            backbeats = {start + m.beat_ticks * i for i in range(1, m.beats, 2)}
            if ctx.base_style in ("breakbeat", "boom_bap", "rock", "ballad") and not backbeats & set(bar_kicks):
                # no kick on a backbeat: the bass answers the snare on the last beat, into the next bar
                bar_kicks = sorted(set(bar_kicks) | {start + (m.beats - 1) * m.beat_ticks})
            for i, k in enumerate(bar_kicks):
                nxt = bar_kicks[i + 1] if i + 1 < len(bar_kicks) else start + bar
                pitch = root if (i == 0 or rng.random() < 0.75) else (fifth if rng.random() < 0.6 else root + 12)
                length = max(PPQ // 4, nxt - k - 30)
                if ctx.base_style not in ("trap", "dnb", "halftime"):
                    length = min(length, PPQ)
                notes.append(Note(k, length, pitch, ctx.vel(110 if i == 0 else 96)))
    end_root = place(ctx.tonic_pc, low=low, high=high)
    notes.append(Note(ctx.lead_out_tick, ctx.hold_ticks, end_root, 108))
    return Part(name=inst.name, role="bass", stem="bass", channel=0, bank=0, program=inst.program,
                notes=clean_notes(notes), volume=112, reverb=16)


#: Shuffle bass figures on the eight swung 8ths of a bar (semitones over the root; 4 = the third).
_BOOGIE = ((0, 4, 7, 9, 12, 9, 7, 4), (0, 0, 7, 7, 9, 9, 7, 7), (0, 7, 9, 10, 12, 10, 9, 7))
_BOOGIE_TURNAROUND = (0, 4, 7, 9, 10, 9, 7, 4)


def _walk(chord: Chord, next_chord: Chord, root: int, rng: np.random.Generator,
          scale_pcs: tuple[int, ...]) -> list[int]:
    """Four quarter notes: root, two chord tones, a step into the next root (a semitone where the
    scale has one there, else a whole tone: a chromatic approach would sound the wrong third)."""
    tones = [root + i for i in chord.intervals[1:4]]
    pick = [root, tones[int(rng.integers(len(tones)))], tones[int(rng.integers(len(tones)))]]
    target = root + ((next_chord.root_pc - chord.root_pc) % 12)
    if target - root > 6:
        target -= 12
    approach = _approach(target, 1 if rng.random() < 0.5 else -1, scale_pcs)
    return [pick[0], pick[1], pick[2], approach]


def _approach(target: int, offset: int, scale_pcs: tuple[int, ...]) -> int:
    """``target + offset`` (``offset`` +-1 or +-2), the note that leads into ``target``, kept to the scale:
    a half step where the scale has a whole step there becomes the whole step, and the other way round."""
    if target % 12 in scale_pcs and (target + offset) % 12 not in scale_pcs:
        sign = 1 if offset > 0 else -1
        offset = sign * (3 - abs(offset))
    return target + offset
