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

Vocals: when the request carries its lyrics timed (:attr:`GenerateRequest.sung`), a melody is written for
them over the composed chords (:func:`~mage_bridge.lyrics.melody.vocal_melody`, in the voice the prompt
names, "female" by default), added to the score as its ``vocals`` part (so to the clip's MIDI), and sung by
:func:`~mage_bridge.lyrics.voice.sing` into the ``vocals`` stem, set :data:`VOCAL_LEVEL_DB` against the
instruments before the mix stage. Without espeak-ng the clip stays instrumental and its notes say why.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError
from mage_bridge.generate.base import GeneratedClip, GenerateRequest, Generator
from mage_bridge.generate.compose import compose
from mage_bridge.generate.mix import mix_stems
from mage_bridge.generate.score import Score
from mage_bridge.generate.sources import Soundfonts, choose_sources
from mage_bridge.platforms import find_drum_kits, find_named_soundfont, find_soundfont, soundfont_hint
from mage_bridge.progress import ProgressFn, no_progress

BACKEND_VERSION = "procedural-1.3"
#: The sung vocal's integrated loudness against the instruments' sum, before the mix stage (LU): a pop
#: vocal sits about level with the band, a little under it.
VOCAL_LEVEL_DB = -2.0
#: Where the finished ``vocals`` stem's integrated loudness sits against the finished mix's (LU, low, high):
#: under it the words are buried, over it the vocal sits on top of the band. The mix stage's per-stem chains
#: move it a little from :data:`VOCAL_LEVEL_DB`; the tests hold every vocal clip to this window.
VOCAL_WINDOW_LU = (-6.0, -1.0)


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
        score, vocal = sing_vocals(request, score, raw)
        sung = time.perf_counter()
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
                         "vocal": round(sung - rendered, 4), "mix": round(finished - sung, 4)},
        }
        if vocal:
            details["vocal"] = vocal
        return GeneratedClip(stems=stems, details=details, score=score, structure=score.structure())



def sing_vocals(request: GenerateRequest, score: Score, raw: dict[str, np.ndarray]) -> tuple[Score, dict[str, Any]]:
    """Sing ``request.sung`` over ``score``: ``raw["vocals"]`` set and the score given its ``vocals`` part.

    Returns the score (with the part) and the details' ``vocal`` record (``{}`` when nothing is sung). An
    analysis that asks for vocals with nothing to sing, or a machine without espeak-ng, keeps the clip
    instrumental with a note in the score saying why.
    """
    from mage_bridge.audio import Audio
    from mage_bridge.effects.loudness import integrated_loudness
    from mage_bridge.lyrics.melody import score_chords, vocal_melody, vocal_part
    from mage_bridge.lyrics.voice import espeak_voice, sing, voice_for_prompt

    analysis = request.analysis
    if not request.sung:
        if analysis.vocals:
            return replace(score, notes=(*score.notes, "vocals were asked for but no lyrics were timed for the "
                                         "clip: it is instrumental")), {}
        return score, {}
    voice = voice_for_prompt(analysis.prompt)
    times = vocal_melody(request.sung, tonic_pc=score.tonic_pc, scale=score.scale or score.mode,
                         chords=score_chords(score), voice=voice, seed=request.seed)
    try:
        audio = sing(times, voice=voice, sample_rate=score.sample_rate,
                     duration_s=score.total_frames / score.sample_rate, seed=request.seed)
    except BackendUnavailableError as e:
        return replace(score, notes=(*score.notes, f"vocals are not sung: {e}")), {}
    vocal = np.asarray(audio.samples, dtype=np.float32)[:, :score.total_frames]
    if vocal.shape[1] < score.total_frames:
        vocal = np.pad(vocal, ((0, 0), (0, score.total_frames - vocal.shape[1])))
    band = np.sum([x.astype(np.float64) for x in raw.values()], axis=0) if raw else np.zeros_like(vocal)
    band_lufs = integrated_loudness(Audio(band.astype(np.float32), score.sample_rate))
    vocal_lufs = integrated_loudness(Audio(vocal, score.sample_rate))
    gain_db = (band_lufs + VOCAL_LEVEL_DB - vocal_lufs) if math.isfinite(band_lufs) and math.isfinite(vocal_lufs) \
        else 0.0
    raw["vocals"] = (vocal * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)
    part = vocal_part(times, score, channel=len(score.parts))
    record = {"voice": voice, "espeak_voice": espeak_voice(voice)[0], "notes": [t.note for t in times],
              "syllables": len(times), "level_db_vs_instruments": VOCAL_LEVEL_DB, "gain_db": round(gain_db, 3)}
    return replace(score, parts=(*score.parts, part)), record
