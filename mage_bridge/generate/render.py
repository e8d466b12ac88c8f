"""Render a :class:`Score` to stems with FluidSynth: one fresh synth per stem, in parallel.

Each stem gets its own synth, so its reverb and chorus hold only its own
notes: stems never bleed into each other and they sum exactly to the mix.
Events are sent sample-accurately: the synth renders up to an event's frame,
then receives it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mage_bridge.generate.compose import Part, Score
from mage_bridge.generate.fluidsynth import Synth

_NOTE_OFF, _CONTROL, _NOTE_ON = 0, 1, 2


def events(parts: tuple[Part, ...], score: Score) -> np.ndarray:
    """All events of ``parts`` as rows ``(frame, kind, channel, data1, data2)``, in play order.

    At one frame note-offs come before controls and controls before note-ons,
    so a re-struck note is released first and a swell is set before it sounds.
    """
    rows: list[tuple[int, int, int, int, int]] = []
    last = score.total_frames - 1
    for part in parts:
        for n in part.notes:
            on = score.frame(n.start)
            if on > last:
                continue
            off = min(score.frame(n.start + n.length), last)
            rows.append((on, _NOTE_ON, part.channel, n.pitch, n.velocity))
            rows.append((off, _NOTE_OFF, part.channel, n.pitch, 0))
        for c in part.controls:
            rows.append((min(score.frame(c.tick), last), _CONTROL, part.channel, c.control, c.value))
    if not rows:
        return np.zeros((0, 5), dtype=np.int64)
    table = np.asarray(rows, dtype=np.int64)
    order = np.lexsort((table[:, 3], table[:, 2], table[:, 1], table[:, 0]))
    return table[order]


def render_stem(parts: tuple[Part, ...], score: Score, *, soundfont: str | os.PathLike[str]) -> np.ndarray:
    """Render ``parts`` on one fresh synth; float32 ``(2, score.total_frames)``."""
    out = np.zeros((2, score.total_frames), dtype=np.float32)
    table = events(parts, score)
    with Synth(soundfont, sample_rate=score.sample_rate) as synth:
        for part in parts:
            if not synth.program_select(part.channel, bank=part.bank, program=part.program):
                synth.program_select(part.channel, bank=part.bank, program=0)
            synth.cc(part.channel, 7, part.volume)
            synth.cc(part.channel, 10, part.pan)
            synth.cc(part.channel, 91, part.reverb)
            synth.cc(part.channel, 93, part.chorus)
        pos = 0
        for frame, kind, channel, d1, d2 in table.tolist():
            if frame > pos:
                synth.write(out, pos, frame - pos)
                pos = frame
            if kind == _NOTE_ON:
                synth.noteon(channel, d1, d2)
            elif kind == _NOTE_OFF:
                synth.noteoff(channel, d1)
            else:
                synth.cc(channel, d1, d2)
        synth.write(out, pos, score.total_frames - pos)
    return out


def render_stems(
    score: Score,
    *,
    soundfont: str | os.PathLike[str],
    parallel: bool = True,
    on_done: Callable[[str], None] | None = None,
) -> dict[str, np.ndarray]:
    """Every stem of ``score`` as float32 ``(2, frames)`` arrays, rendered on threads when ``parallel``."""
    groups = score.stems()
    if not parallel:
        out = {}
        for name, parts in groups.items():
            out[name] = render_stem(parts, score, soundfont=soundfont)
            if on_done:
                on_done(name)
        return out
    with ThreadPoolExecutor(max_workers=max(1, len(groups))) as pool:
        futures = {name: pool.submit(render_stem, parts, score, soundfont=soundfont)
                   for name, parts in groups.items()}
        out = {}
        for name, future in futures.items():
            out[name] = future.result()
            if on_done:
                on_done(name)
    return out
