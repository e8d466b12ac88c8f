"""The embedded generator: a procedural composer rendered with FluidSynth, SoundFonts and drum synthesis.

Always available where libfluidsynth and a General MIDI SoundFont are
installed (:mod:`mage_bridge.platforms` says where it looks on each platform);
no model weights. It follows the analysis's tempo, key, mode, metre, swing,
genre and instruments, and the same seed renders the same audio. The rendered
stems pass through the mix stage (:mod:`mage_bridge.generate.mix`), set per
genre (:mod:`mage_bridge.generate.mixpresets`): high-pass, drive, EQ,
compression, a shared reverb send, sidechain ducking for club genres, low end
mono, no anti-phase, bus glue, the sum at −16 LUFS and ≤ −1 dBTP with a
record's peak-to-loudness ratio.

Sources: the General MIDI font is MuseScore General where installed (recorded
instruments; two presets stay on FluidR3, see
:data:`~mage_bridge.generate.sources.KEEP_ON_FLUIDR3`), else FluidR3 or
whichever GM font is found. Acoustic drum styles play a recorded kit, the AVL
Black Pearl or Red Zeppelin SoundFont, where installed; electronic genres get
synthesised TR-808/TR-909 drums and trap an 808 sub bass
(:mod:`mage_bridge.generate.electronic`); keys or parts with no such source
fall back to the GM font. :mod:`mage_bridge.generate.sources` decides; the
clip's details record each stem's source under ``sources``, fallbacks named.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError
from mage_bridge.generate.base import GeneratedClip, GenerateRequest, Generator
from mage_bridge.generate.compose import compose
from mage_bridge.generate.mix import mix_stems
from mage_bridge.generate.sources import Soundfonts, choose_sources
from mage_bridge.platforms import find_drum_kits, find_named_soundfont, find_soundfont, soundfont_hint
from mage_bridge.progress import ProgressFn, no_progress

BACKEND_VERSION = "procedural-1.2"


class ProceduralGenerator(Generator):
    """Compose with :func:`~mage_bridge.generate.compose.compose`, render with FluidSynth.

    ``soundfont`` is a GM ``.sf2``/``.sf3`` file (default: the config's, else the
    first one :func:`~mage_bridge.platforms.find_soundfont` finds);
    ``drum_kits`` maps AVL kit names to their files (default: those
    :func:`~mage_bridge.platforms.find_drum_kits` finds; ``{}`` for none);
    ``parallel`` renders the stems on threads.
    """

    name = "procedural"

    def __init__(self, *, soundfont: str | os.PathLike[str] | None = None,
                 drum_kits: dict[str, Path] | None = None, parallel: bool = True) -> None:
        if soundfont is None:
            soundfont = find_soundfont()
        if soundfont is None:
            raise BackendUnavailableError(f"no General MIDI SoundFont found: {soundfont_hint()}")
        self.soundfont = Path(soundfont)
        if not self.soundfont.is_file():
            raise BackendUnavailableError(f"SoundFont {str(self.soundfont)!r} not found: {soundfont_hint()}")
        self.drum_kits = dict(find_drum_kits() if drum_kits is None else drum_kits)
        self.fluidr3 = find_named_soundfont("FluidR3_GM.")
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
        options.setdefault("drum_kits", find_drum_kits(config.data_dir))
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
        fonts = Soundfonts(self.soundfont, self.drum_kits, self.fluidr3)
        sources = choose_sources(score, fonts, genre=request.analysis.genre)
        composed = time.perf_counter()
        groups = sources.layers
        done: list[str] = []

        def on_done(name: str) -> None:
            done.append(name)
            progress("generate", 0.1 + 0.85 * len(done) / len(groups))

        progress("generate", 0.1)
        raw = render_stems(score, layers=sources.layers, parallel=self.parallel, on_done=on_done)
        rendered = time.perf_counter()
        stems, mixed = mix_stems(raw, sample_rate=self.sample_rate, genre=request.analysis.genre,
                                  style=score.drum_style)
        finished = time.perf_counter()
        progress("generate", 1.0)
        details = {
            "backend_version": BACKEND_VERSION,
            "seed": request.seed,
            "soundfont": str(self.soundfont),
            "soundfont_name": fluidsynth.soundfont_name(self.soundfont),
            "fluidsynth_version": fluidsynth.version(),
            **score.details(),
            "sources": sources.details,
            "gain_db": round(mixed.gain_db, 3),
            "tail_peak_dbfs_before_fade": (round(mixed.tail_peak_dbfs_before_fade, 2)
                                           if math.isfinite(mixed.tail_peak_dbfs_before_fade) else None),
            "mix": mixed.details(),
            "timing_s": {"compose": round(composed - started, 4), "render": round(rendered - composed, 4),
                         "mix": round(finished - rendered, 4)},
        }
        return GeneratedClip(stems=stems, details=details, score=score, structure=score.structure())

