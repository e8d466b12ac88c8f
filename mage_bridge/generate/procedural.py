"""The embedded generator: a procedural composer rendered with FluidSynth and a GM SoundFont.

Always available where libfluidsynth and a General MIDI SoundFont are
installed (:mod:`mage_bridge.platforms` says where it looks on each platform);
no model weights. It follows the analysis's tempo, key, mode,
metre, swing, genre and instruments, and the same seed renders the same audio.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from mage_bridge.audio import Audio
from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError
from mage_bridge.generate.base import GeneratedClip, GenerateRequest, Generator
from mage_bridge.generate.compose import compose
from mage_bridge.platforms import find_soundfont, soundfont_hint
from mage_bridge.progress import ProgressFn, no_progress

BACKEND_VERSION = "procedural-1.0"
#: The mix peak the stems are scaled to together (dBFS), leaving headroom for mastering.
TARGET_PEAK_DBFS = -1.0
#: Safety margin under the target so float32 rounding of the summed stems never crosses it.
_PEAK_MARGIN_DB = 0.05
#: A safety fade at the very end; the music itself has rung out before it.
SAFETY_FADE_S = 0.02


class ProceduralGenerator(Generator):
    """Compose with :func:`~mage_bridge.generate.compose.compose`, render with FluidSynth.

    ``soundfont`` is a GM ``.sf2``/``.sf3`` file (default: the config's, else the
    first one :func:`~mage_bridge.platforms.find_soundfont` finds); ``parallel``
    renders the stems on threads.
    """

    name = "procedural"

    def __init__(self, *, soundfont: str | os.PathLike[str] | None = None, parallel: bool = True) -> None:
        if soundfont is None:
            soundfont = find_soundfont()
        if soundfont is None:
            raise BackendUnavailableError(f"no General MIDI SoundFont found: {soundfont_hint()}")
        self.soundfont = Path(soundfont)
        if not self.soundfont.is_file():
            raise BackendUnavailableError(f"SoundFont {str(self.soundfont)!r} not found: {soundfont_hint()}")
        self.parallel = parallel

    @classmethod
    def unavailable_reason(cls, config: Config) -> str | None:
        from mage_bridge.generate.fluidsynth import library_available

        reason = library_available()
        if reason is not None:
            return reason
        soundfont = config.resolved_soundfont()
        if soundfont is None:
            return f"no General MIDI SoundFont found: {soundfont_hint(config.data_dir)}"
        if not Path(soundfont).is_file():
            return (f"SoundFont {str(soundfont)!r} (config key `soundfont` or MAGE_SOUNDFONT) not found: "
                    f"{soundfont_hint(config.data_dir)}")
        return None

    @classmethod
    def from_config(cls, config: Config, **options: Any) -> ProceduralGenerator:
        reason = cls.unavailable_reason(config)
        if reason is not None:
            raise BackendUnavailableError(f"generate backend 'procedural' is unavailable: {reason}")
        options.setdefault("soundfont", config.resolved_soundfont())
        return cls(**options)

    def generate(self, request: GenerateRequest, *, progress: ProgressFn | None = None) -> GeneratedClip:
        """Compose and render ``request``: stems ``drums`` (unless none), ``bass``, ``other`` at 48 kHz."""
        from mage_bridge.generate import fluidsynth
        from mage_bridge.generate.render import render_stems

        progress = progress or no_progress
        started = time.perf_counter()
        fluidsynth.load_library()
        progress("generate", 0.0)
        score = compose(request.analysis, seed=request.seed, duration_s=request.duration_s,
                        lead_in_bars=request.lead_in_bars, sample_rate=self.sample_rate)
        composed = time.perf_counter()
        groups = score.stems()
        done: list[str] = []

        def on_done(name: str) -> None:
            done.append(name)
            progress("generate", 0.1 + 0.85 * len(done) / len(groups))

        progress("generate", 0.1)
        raw = render_stems(score, soundfont=self.soundfont, parallel=self.parallel, on_done=on_done)
        rendered = time.perf_counter()
        stems, gain_db, tail_dbfs = _gain_stage(raw, sample_rate=self.sample_rate)
        progress("generate", 1.0)
        details = {
            "backend_version": BACKEND_VERSION,
            "seed": request.seed,
            "soundfont": str(self.soundfont),
            "soundfont_name": fluidsynth.soundfont_name(self.soundfont),
            "fluidsynth_version": fluidsynth.version(),
            **score.details(),
            "gain_db": round(float(gain_db), 3),
            "tail_peak_dbfs_before_fade": round(float(tail_dbfs), 2) if np.isfinite(tail_dbfs) else None,
            "safety_fade_s": SAFETY_FADE_S,
            "timing_s": {"compose": round(composed - started, 4), "render": round(rendered - composed, 4)},
        }
        return GeneratedClip(stems=stems, details=details, score=score)


def _gain_stage(raw: dict[str, np.ndarray], *, sample_rate: int) -> tuple[dict[str, Audio], float, float]:
    """Scale every stem by one factor so the mix peaks at :data:`TARGET_PEAK_DBFS`; fade the last frames.

    Returns the stems, the gain applied (dB) and the mix's peak over its last
    100 ms before the safety fade (dBFS), which says whether the music rang out.
    """
    mix = np.zeros_like(next(iter(raw.values())), dtype=np.float64)
    for x in raw.values():
        mix += x
    peak = float(np.max(np.abs(mix)))
    scale = 10.0 ** ((TARGET_PEAK_DBFS - _PEAK_MARGIN_DB) / 20.0) / peak if peak > 0 else 1.0
    tail = int(0.1 * sample_rate)
    tail_peak = float(np.max(np.abs(mix[:, -tail:]))) * scale
    tail_dbfs = float(20.0 * np.log10(tail_peak)) if tail_peak > 0 else float("-inf")
    n = min(int(SAFETY_FADE_S * sample_rate), mix.shape[1])
    ramp = np.ones(mix.shape[1])
    ramp[-n:] = 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, n))
    stems = {name: Audio((x * (scale * ramp)).astype(np.float32), sample_rate) for name, x in raw.items()}
    gain_db = float(20.0 * np.log10(scale))
    return stems, gain_db, tail_dbfs
