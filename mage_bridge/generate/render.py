"""Render a :class:`Score` to stems: each layer of sources on its own synth or engine, in parallel.

:func:`~mage_bridge.generate.sources.choose_sources` says which source plays
each part: a SoundFont (rendered with FluidSynth) or a synthesis engine
(:mod:`mage_bridge.generate.electronic`). Every SoundFont layer gets a fresh
synth, so its reverb and chorus hold only its own notes: stems never bleed
into each other and they sum exactly to the mix. The synths borrow the
process's loaded SoundFonts (:func:`~mage_bridge.generate.fluidsynth.loaded_soundfont`),
so a font is read once per process, not once per stem. Events are sent
sample-accurately: the synth renders up to an event's frame, then receives it.
In the last :data:`DAMP_S` of the clip every note still ringing is released
quickly, so recorded cymbals that ring for seconds end inside the lead-out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from mage_bridge.generate.fluidsynth import GEN_RELEASE_VOL_ENV, Synth, loaded_soundfont
from mage_bridge.generate.score import Part, Score
from mage_bridge.generate.sources import Layer

_NOTE_OFF, _CONTROL, _NOTE_ON = 0, 1, 2
#: Release offset of pad parts, timecents (−700: ×0.67): long pad tails blur the beat of drumless clips
#: (measured with :data:`~mage_bridge.generate.sources.KEEP_ON_FLUIDR3`, see there).
PAD_RELEASE_TIMECENTS = -700.0
#: The last stretch of a clip, in seconds, where whatever still rings is damped: every note released, with its
#: release shortened by :data:`DAMP_RELEASE_TIMECENTS` (÷64). The AVL kits' crash rings 6 s, past any lead-out.
DAMP_S = 0.75
DAMP_RELEASE_TIMECENTS = -7200.0
_DAMP = 3


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
    """Render ``parts`` on one fresh synth holding ``soundfont``; float32 ``(2, score.total_frames)``."""
    out = np.zeros((2, score.total_frames), dtype=np.float32)
    table = events(parts, score)
    with Synth(loaded_soundfont(soundfont), sample_rate=score.sample_rate) as synth:
        for part in parts:
            if not synth.program_select(part.channel, bank=part.bank, program=part.program):
                synth.program_select(part.channel, bank=part.bank, program=0)
            synth.cc(part.channel, 7, part.volume)
            synth.cc(part.channel, 10, part.pan)
            synth.cc(part.channel, 91, part.reverb)
            synth.cc(part.channel, 93, part.chorus)
            if part.role == "pad":
                synth.offset_generator(part.channel, GEN_RELEASE_VOL_ENV, PAD_RELEASE_TIMECENTS)
        damp = score.total_frames - int(DAMP_S * score.sample_rate)
        if damp > 0:
            table = np.vstack([table, np.asarray([[damp, _DAMP, 0, 0, 0]], dtype=np.int64)])
            table = table[np.lexsort((table[:, 1], table[:, 0]))]
        pos = 0
        for frame, kind, channel, d1, d2 in table.tolist():
            if frame > pos:
                synth.write(out, pos, frame - pos)
                pos = frame
            if kind == _DAMP:
                for ch in sorted({part.channel for part in parts}):
                    synth.offset_generator(ch, GEN_RELEASE_VOL_ENV, DAMP_RELEASE_TIMECENTS)
                    synth.cc(ch, 64, 0)
                    synth.cc(ch, 123, 0)
            elif kind == _NOTE_ON:
                synth.noteon(channel, d1, d2)
            elif kind == _NOTE_OFF:
                synth.noteoff(channel, d1)
            else:
                synth.cc(channel, d1, d2)
        synth.write(out, pos, score.total_frames - pos)
    return out


def render_layer(layer: Layer, score: Score) -> np.ndarray:
    """One layer on its source; float32 ``(2, score.total_frames)``."""
    from mage_bridge.generate import electronic

    if layer.engine == "sub808":
        return electronic.render_sub(layer.parts, score)
    if layer.engine is not None:
        return electronic.render_drums(layer.parts, score, engine=layer.engine)
    if layer.soundfont is None:
        raise ValueError("a layer without a soundfont or an engine")
    return render_stem(layer.parts, score, soundfont=layer.soundfont)


def render_stems(
    score: Score,
    *,
    soundfont: str | os.PathLike[str] | None = None,
    layers: dict[str, tuple[Layer, ...]] | None = None,
    parallel: bool = True,
    on_done: Callable[[str], None] | None = None,
) -> dict[str, np.ndarray]:
    """Every stem of ``score`` as float32 ``(2, frames)`` arrays, its layers rendered on threads when ``parallel``.

    ``layers`` (from :func:`~mage_bridge.generate.sources.choose_sources`) says
    what plays each stem; without it every part plays on ``soundfont``. A
    stem's layers are summed in their listed order, the same on any thread.
    """
    if layers is None:
        if soundfont is None:
            raise ValueError("render_stems needs layers or a soundfont")
        layers = {name: (Layer(parts, soundfont=Path(soundfont)),) for name, parts in score.stems().items()}
    jobs = [(name, i, layer) for name, stem in layers.items() for i, layer in enumerate(stem)]
    if parallel and len(jobs) > 1:
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = {(name, i): pool.submit(render_layer, layer, score) for name, i, layer in jobs}
            rendered = {key: f.result() for key, f in futures.items()}
    else:
        rendered = {(name, i): render_layer(layer, score) for name, i, layer in jobs}
    out: dict[str, np.ndarray] = {}
    for name, stem in layers.items():
        total = rendered[(name, 0)]
        for i in range(1, len(stem)):
            total = total + rendered[(name, i)]
        out[name] = total
        if on_done:
            on_done(name)
    return out
