"""A generated clip's folder: stems, ``mix.wav``, MIDI, the mastered mix, and its manifest.

``generate``, ``retake`` and the edit tasks (``repaint``, ``extend``, ``cover``, ``lego``,
``extract``) all leave the same folder, written here by :func:`write_clip`: the stems and their sum
measured without knowing the request (tempo, key, loudness, peaks), and the measured tempo set
beside the requested one. A generator that drifts to half time (ACE-Step is reported to) is
flagged: ``measured.tempo_off`` and a line in ``warnings`` when the two differ by more than
:data:`TEMPO_TOLERANCE`.

A clip with vocals also holds its lyrics (:func:`clip_lyrics`): written or the user's, timed per
syllable on the clip's beat grid (:func:`clip_grid`), as :data:`LYRICS_TEXT_FILE`, :data:`LRC_FILE`
and :data:`ENHANCED_LRC_FILE` beside the stems and in the manifest's ``lyrics``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mage_bridge import __version__, manifest
from mage_bridge import audio as audio_io
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.config import Config
from mage_bridge.files import write_atomic, write_json_atomic
from mage_bridge.generate.base import GeneratedClip
from mage_bridge.lyrics import (
    Lyrics,
    SyllableTime,
    create_lyric_writer,
    time_lyrics,
    timing_json,
    to_enhanced_lrc,
    to_lrc,
)
from mage_bridge.music import bar_seconds
from mage_bridge.progress import ProgressFn

#: The mastered copy of the mix written beside it when the ``master`` option is on.
MASTER_FILE = "mix.master.wav"
#: A measured tempo further than this (a fraction) from the requested one is flagged.
TEMPO_TOLERANCE = 0.02
#: The lyrics as tagged text ([verse], [chorus]...), as a singer or ACE-Step reads them.
LYRICS_TEXT_FILE = "lyrics.txt"
#: Line-level LRC: ``[mm:ss.xx]line``; what every LRC player and DAW lyric import reads.
LRC_FILE = "lyrics.lrc"
#: Word-level ("enhanced", A2) LRC: ``[mm:ss.xx]<mm:ss.xx>word <mm:ss.xx>word``. It keeps the ``.lrc``
#: extension (players that read word stamps look for ``.lrc``; the others show it as lines with tags).
ENHANCED_LRC_FILE = "lyrics.enhanced.lrc"


@dataclass(frozen=True)
class ClipGrid:
    """The beat grid a clip is laid on: tempo, metre, whole length, and the lead-in and lead-out around
    its body (bar 1 of the body starts at ``lead_in_s``; nothing is sung after ``duration_s - lead_out_s``)."""

    bpm: float
    time_signature: tuple[int, int]
    duration_s: float
    lead_in_s: float
    lead_out_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"bpm": self.bpm, "time_signature": list(self.time_signature), "duration_s": round(self.duration_s, 6),
                "lead_in_s": round(self.lead_in_s, 6), "lead_out_s": round(self.lead_out_s, 6)}


def clip_grid(analysis: PromptAnalysis, *, duration_s: float, lead_in_bars: int) -> ClipGrid:
    """The grid the generator lays a ``duration_s`` clip on: ``lead_in_bars`` whole bars, then as many
    whole body bars as leave the lead-out its :data:`~mage_bridge.generate.compose.MIN_LEAD_OUT_S`
    (the procedural composer's arithmetic; ACE-Step is asked for the same tempo, metre and length)."""
    from mage_bridge.generate.compose import MIN_LEAD_OUT_S

    metre = (int(analysis.time_signature[0]), int(analysis.time_signature[1]))
    bar_s = bar_seconds(analysis.bpm, metre)
    lead_in_s = lead_in_bars * bar_s
    body_bars = max(0, math.floor((duration_s - lead_in_s - MIN_LEAD_OUT_S) / bar_s + 1e-9))
    return ClipGrid(float(analysis.bpm), metre, float(duration_s), lead_in_s,
                    duration_s - lead_in_s - body_bars * bar_s)


@dataclass(frozen=True)
class ClipLyrics:
    """Lyrics for one clip and every sung syllable's time on its grid."""

    lyrics: Lyrics
    times: list[SyllableTime]
    grid: ClipGrid

    @property
    def text(self) -> str:
        """The tagged text: what is sung (and what ACE-Step is given)."""
        return self.lyrics.text()

    def record(self) -> dict[str, Any]:
        """The manifest's ``lyrics``: text, mode, seed, the backend (and model) that wrote them, per-syllable
        timing, the files, sections (with who wrote each line), the lines a model left to the embedded writer,
        and warnings."""
        summary = self.lyrics.to_dict()
        return {"text": self.text, "mode": self.lyrics.mode, "seed": self.lyrics.seed,
                "backend": summary["backend"], "model": summary["model"],
                "file": LYRICS_TEXT_FILE, "lrc": LRC_FILE, "elrc": ENHANCED_LRC_FILE,
                "theme": summary["theme"], "sections": summary["sections"], "fallbacks": summary["fallbacks"],
                "warnings": summary["warnings"], "grid": self.grid.to_dict(), "syllables": timing_json(self.times)}


def clip_lyrics(analysis: PromptAnalysis, grid: ClipGrid, *, mode: str, user_lyrics: str | None,
                seed: int, backend: str | None = None, config: Config | None = None) -> ClipLyrics:
    """Lyrics written for ``analysis`` (``mode`` generate), or the user's kept verbatim (replace) or continued
    (append), fitted between the grid's lead-in and lead-out and timed on it.

    ``backend`` is the lyric writer (``None``: the config's ``backends.lyrics``; see :mod:`mage_bridge.lyrics`).
    Raises :class:`~mage_bridge.errors.InvalidInputError` for a bad mode or lyrics that cannot fit,
    saying how many lines would; :class:`~mage_bridge.errors.BackendUnavailableError` for a named backend
    that cannot run.
    """
    writer = create_lyric_writer(backend, config)
    lyrics = writer.write(analysis, mode=mode,  # type: ignore[arg-type]  # checked by the writer
                          user_lyrics=user_lyrics, seed=seed, duration_s=grid.duration_s,
                          lead_in_s=grid.lead_in_s, lead_out_s=grid.lead_out_s)
    times = time_lyrics(lyrics, bpm=grid.bpm, time_signature=grid.time_signature, lead_in_s=grid.lead_in_s,
                        duration_s=grid.duration_s, lead_out_s=grid.lead_out_s)
    return ClipLyrics(lyrics, times, grid)


def write_lyric_files(folder: Path, sung: ClipLyrics) -> dict[str, Any]:
    """Write :data:`LYRICS_TEXT_FILE`, :data:`LRC_FILE` and :data:`ENHANCED_LRC_FILE` into ``folder``;
    returns the manifest's ``lyrics`` record."""
    for name, text in ((LYRICS_TEXT_FILE, sung.text + "\n"), (LRC_FILE, to_lrc(sung.lyrics, sung.times)),
                       (ENHANCED_LRC_FILE, to_enhanced_lrc(sung.lyrics, sung.times))):
        write_atomic(folder / name, _writer(text.encode("utf-8")))
    return sung.record()


def _writer(data: bytes) -> Callable[[IO[bytes]], None]:
    def write(f: IO[bytes]) -> None:
        f.write(data)
    return write


def measure_mix(mix: audio_io.Audio, *, time_signature: tuple[int, int]) -> dict[str, Any]:
    """Tempo, key, loudness and peaks of a rendered mix, measured without knowing the request."""
    from mage_bridge.effects.loudness import integrated_loudness, true_peak_dbtp
    from mage_bridge.measure import measure_key, measure_tempo

    tempo = measure_tempo(mix, time_signature=time_signature)
    key = measure_key(mix)
    return {
        "bpm": round(float(tempo.bpm), 3),
        "tempo_confidence": round(float(tempo.confidence), 3),
        "key": key.tonic,
        "mode": key.mode,
        "key_confidence": round(float(key.confidence), 3),
        "loudness_lufs": manifest.finite_or_none(integrated_loudness(mix)),
        "true_peak_dbtp": manifest.finite_or_none(true_peak_dbtp(mix)),
        "peak_dbfs": manifest.finite_or_none(mix.peak_dbfs()),
    }


def tempo_warning(requested_bpm: float, measured_bpm: float) -> str | None:
    """A warning when ``measured_bpm`` is more than :data:`TEMPO_TOLERANCE` off ``requested_bpm``, else ``None``."""
    if requested_bpm <= 0 or abs(measured_bpm - requested_bpm) <= TEMPO_TOLERANCE * requested_bpm:
        return None
    ratio = measured_bpm / requested_bpm
    felt = " (it feels half time)" if abs(ratio - 0.5) <= TEMPO_TOLERANCE else \
        " (it feels double time)" if abs(ratio - 2.0) <= 2 * TEMPO_TOLERANCE else ""
    return (f"the measured tempo {measured_bpm:g} BPM is {abs(ratio - 1) * 100:.1f} % off the requested "
            f"{requested_bpm:g} BPM{felt}")


def write_master(mix: audio_io.Audio, folder: Path, settings: Mapping[str, Any], *,
                 progress: ProgressFn) -> dict[str, Any]:
    """Master ``mix`` into ``folder``/:data:`MASTER_FILE` and return the manifest's record.

    The mastering chain reports its own progress as stage ``master``.

    ``measured`` is read back from the written 24-bit file, as :func:`mage_bridge.api.master` does.
    """
    from mage_bridge.api.results import measure_file
    from mage_bridge.effects.master import master

    result = master(mix, target_lufs=settings["target_lufs"], true_peak_dbtp=settings["true_peak_dbtp"],
                    preset=settings["preset"], progress=progress)
    assert result.audio is not None  # master() on a whole Audio returns it (only master_blocks streams)
    audio_io.save(result.audio, folder / MASTER_FILE)
    measured, _ = measure_file(folder / MASTER_FILE)
    return {"file": MASTER_FILE, "target_lufs": settings["target_lufs"],
            "true_peak_dbtp": settings["true_peak_dbtp"], "preset": settings["preset"],
            "measured": measured, "backend": result.to_dict()}


def write_clip(
    staging: Path,
    clip: GeneratedClip,
    *,
    kind: str,
    job_id: str,
    request: dict[str, Any],
    analysis: PromptAnalysis,
    backend: str,
    seed: int,
    bars: int | None,
    started: float,
    progress: ProgressFn,
    lineage: dict[str, Any] | None = None,
    master: Mapping[str, Any] | None = None,
    daw: dict[str, Any] | None = None,
    warnings: list[str] | None = None,
    lyrics: ClipLyrics | None = None,
) -> dict[str, Any]:
    """Measure ``clip``, write its stems, mix, MIDI (and the mastered mix when ``master`` has settings)
    into ``staging`` and its manifest last; returns the manifest.

    ``lyrics`` (a clip with vocals) are written beside the stems (:func:`write_lyric_files`) and
    recorded in the manifest's ``lyrics``; without them ``lyrics`` is ``null``.

    ``analysis`` is what was asked for (the ``requested`` block); ``request`` is what re-renders the
    clip; ``lineage`` where it came from (``{"parent": None}`` for a clip made from a prompt).
    """
    mix = audio_io.mix(clip.stems)
    progress("measure", 0.0)
    measured = measure_mix(mix, time_signature=analysis.time_signature)
    off = tempo_warning(analysis.bpm, measured["bpm"])
    measured["tempo_off"] = off is not None
    progress("measure", 1.0)

    stem_files = {}
    for i, (name, stem) in enumerate(clip.stems.items()):
        progress("write", i / (len(clip.stems) + 1))
        audio_io.save(stem, staging / f"{name}.wav")
        stem_files[name] = f"{name}.wav"
    audio_io.save(mix, staging / "mix.wav")
    master_record = None
    if master is not None:
        master_record = write_master(mix, staging, master, progress=progress)
    midi = None
    if clip.score is not None:
        from mage_bridge.generate.midifile import write_score_midi

        midi = write_score_midi(clip.score, staging)
    lyrics_record = write_lyric_files(staging, lyrics) if lyrics is not None else None
    data = {
        "schema": manifest.SCHEMA,
        "job_id": job_id,
        "kind": kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "mage_bridge_version": __version__,
        "request": request,
        "analysis": analysis.to_dict(),
        "backend": {"name": backend, "seed": seed, **clip.details},
        "requested": {
            "bpm": analysis.bpm, "key": analysis.key, "mode": analysis.mode,
            "time_signature": list(analysis.time_signature),
        },
        "measured": measured,
        "warnings": [*(warnings or []), *([off] if off else [])],
        "sample_rate": mix.sample_rate,
        "channels": mix.channels,
        "frames": mix.frames,
        "duration_s": round(mix.duration_s, 6),
        "stems": stem_files,
        "bars": bars,
        "structure": clip.structure,
        "mix": "mix.wav",
        "master": master_record,
        "midi": midi,
        "daw": daw,
        "lyrics": lyrics_record,
        "lineage": lineage if lineage is not None else {"parent": None},
        "elapsed_s": round(time.perf_counter() - started, 3),
    }
    write_json_atomic(staging / manifest.FILENAME, data)
    return data
