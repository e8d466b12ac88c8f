"""How a job reads its input and leaves its result.

Inputs are read as 48 kHz stereo blocks (:class:`Source48k`), never whole,
with notes for what was converted; intermediates live in a hidden scratch
folder beside the output (:func:`work_dir`); outputs are measured block by
block; a file result is written under a temporary name and renamed into place
before its ``.json`` manifest is written (:func:`commit_file`), so a target is
complete or absent. Every manifest starts with :func:`base_manifest`.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mage_bridge import __version__, manifest
from mage_bridge import audio as audio_io
from mage_bridge.api.checks import sidecar
from mage_bridge.audio import SAMPLE_RATE, Audio
from mage_bridge.config import Config
from mage_bridge.files import create_temp_beside, write_json_atomic
from mage_bridge.progress import ProgressFn

log = logging.getLogger("mage_bridge.api")


def jsonable(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options as a manifest records them: tuples as lists, paths as strings."""
    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        return value

    return {k: plain(v) for k, v in options.items()}


def load_48k_stereo(path: Path, notes: list[str]) -> tuple[Audio, dict[str, Any]]:
    """The whole file as 48 kHz stereo, and what it was (for the manifest's ``input``)."""
    audio = audio_io.load(path)
    source = {"path": str(path), "sample_rate": audio.sample_rate, "channels": audio.channels,
              "frames": audio.frames}
    if audio.channels == 1:
        audio = audio.to_stereo()
        notes.append("mono input duplicated to stereo")
    if audio.sample_rate != SAMPLE_RATE:
        notes.append(f"resampled from {audio.sample_rate} Hz to {SAMPLE_RATE} Hz (polyphase windowed sinc)")
        audio = audio_io.resample(audio, SAMPLE_RATE)
    return audio, source


class Source48k:
    """An input file read as 48 kHz stereo blocks, as often as needed, never whole (see audio.blocks_48k_stereo)."""

    def __init__(self, path: Path, work_dir: Path, notes: list[str]) -> None:
        import soundfile as sf

        self.path = audio_io.decode_to_wav(path, work_dir)
        info = sf.info(str(self.path))
        rate, channels, frames = int(info.samplerate), int(info.channels), int(info.frames)
        self.input = {"path": str(path), "sample_rate": rate, "channels": channels, "frames": frames}
        if channels == 1:
            notes.append("mono input duplicated to stereo")
        if rate != SAMPLE_RATE:
            notes.append(f"resampled from {rate} Hz to {SAMPLE_RATE} Hz (polyphase windowed sinc)")
        self.frames = -(-frames * SAMPLE_RATE // rate)
        self.sample_rate = SAMPLE_RATE
        self.channels = 2
        self.duration_s = audio_io.frames_to_seconds(self.frames, SAMPLE_RATE)

    def blocks(self) -> Iterator[np.ndarray]:
        return audio_io.blocks_48k_stereo(self.path)


def counted(blocks: Iterable[np.ndarray], frames: int, report: ProgressFn, stage: str, *,
            start: float = 0.0, stop: float = 1.0) -> Iterator[np.ndarray]:
    """Pass ``blocks`` through, reporting ``stage`` from ``start`` to ``stop`` as their frames add up to ``frames``.

    For loops that run inside a stage which reports nothing of its own while it reads a long input.
    """
    done = 0
    report(stage, start)
    for block in blocks:
        yield block
        done += int(np.shape(block)[-1])
        report(stage, start + (stop - start) * min(1.0, done / max(frames, 1)))


def work_dir(beside: Path) -> tempfile.TemporaryDirectory[str]:
    """A hidden scratch folder beside an output (same file system; removed when the job ends, however it ends)."""
    beside.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=beside.parent, prefix=f".{beside.name}.work-")


def measure_blocks(blocks: Iterable[np.ndarray]) -> tuple[dict[str, Any], audio_io.AudioInfo]:
    """Loudness, true peak and sample peak of a stream of blocks, block by block; and its shape."""
    from mage_bridge.effects.loudness import LoudnessMeter, TruePeakMeter

    loudness = peaks = None
    frames, channels = 0, 2
    for block in blocks:
        if loudness is None or peaks is None:
            channels = block.shape[0]
            loudness, peaks = LoudnessMeter(SAMPLE_RATE, channels), TruePeakMeter(channels)
        loudness.add(block)
        peaks.add(block)
        frames += block.shape[1]
    if loudness is None or peaks is None:
        nothing = {"loudness_lufs": None, "true_peak_dbtp": None, "peak_dbfs": None}
        return nothing, audio_io.AudioInfo(0, SAMPLE_RATE, channels, "?")
    return ({"loudness_lufs": manifest.finite_or_none(loudness.integrated_lufs()),
             "true_peak_dbtp": manifest.finite_or_none(peaks.dbtp()),
             "peak_dbfs": manifest.finite_or_none(peaks.sample_peak_dbfs())},
            audio_io.AudioInfo(frames, SAMPLE_RATE, channels, "?"))


def measure_file(path: Path) -> tuple[dict[str, Any], audio_io.AudioInfo]:
    """:func:`measure_blocks` of a written file, read block by block, with its real sample rate."""
    import soundfile as sf

    measured, info = measure_blocks(audio_io.read_blocks(path))
    return measured, audio_io.AudioInfo(info.frames, int(sf.info(str(path)).samplerate), info.channels, info.format)


def measure(audio: Audio) -> dict[str, Any]:
    """Loudness, true peak and sample peak of audio held whole."""
    from mage_bridge.effects.loudness import integrated_loudness, sample_peak_dbfs, true_peak_dbtp

    return {
        "loudness_lufs": manifest.finite_or_none(integrated_loudness(audio)),
        "true_peak_dbtp": manifest.finite_or_none(true_peak_dbtp(audio)),
        "peak_dbfs": manifest.finite_or_none(sample_peak_dbfs(audio)),
    }


def base_manifest(kind: str, job_id: str, request: dict[str, Any], audio: Any) -> dict[str, Any]:
    """The manifest's common fields; ``audio`` is anything with sample_rate, channels, frames, duration_s."""
    return {
        "schema": manifest.SCHEMA, "job_id": job_id, "kind": kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "mage_bridge_version": __version__,
        "request": request, "sample_rate": audio.sample_rate, "channels": audio.channels,
        "frames": audio.frames, "duration_s": round(audio.duration_s, 6),
    }


def write_audio(audio: Audio, path: Path, fmt: str, *, subtype: str, mp3_quality: str) -> None:
    """Write to ``path`` (a fresh temp name: overwrite is fine here)."""
    if fmt == "mp3":
        audio_io.save_mp3(audio, path, quality=mp3_quality, overwrite=True)
    else:
        audio_io.save(audio, path, subtype=subtype, overwrite=True)


def temp_beside(out: Path) -> Path:
    """A fresh hidden file name beside ``out`` (same folder, so the final rename is atomic)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp_beside(out)
    os.close(fd)
    return Path(tmp)


def commit_file(tmp_audio: Path, out: Path, data: dict[str, Any]) -> Path:
    """Rename the audio into place, then write its manifest atomically; return the manifest path."""
    os.replace(tmp_audio, out)
    return write_json_atomic(sidecar(out), data)


def register_result(manifest_path: Path, config: Config) -> Path:
    """Record the finished result at ``manifest_path`` in the clip library (``config.library``); returns the path.

    Every job function calls this as its last step, so a clip is recorded whichever door ran it (the
    CLI, the daemon's workers, a Python caller). The result is already complete and in place: a
    library that cannot be written (locked past its timeout, a full disk, a newer schema) costs a
    warning in the log, never the job; ``mage-bridge library check`` records such results later.
    """
    if not config.library.register:
        return manifest_path
    try:
        from mage_bridge.library import Library

        with Library.open(config) as library:
            library.register(manifest_path)
    except Exception as e:  # the result stands; only its library row is missing
        log.warning("could not record %s in the clip library (%s): %s; `mage-bridge library check` records it",
                    manifest_path, type(e).__name__, e)
    return manifest_path
