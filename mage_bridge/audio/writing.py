"""Writing audio files: WAV, FLAC and MP3, whole and atomically or block by block.

One place checks what each format can hold (subtypes, MP3 rates and
qualities) for both ways of writing, and one place turns libsndfile's opaque
"System error." into the OS error behind it, so a full disk is told as a full
disk. Kept apart from reading, which needs external decoders that writing never does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from mage_bridge.audio.buffer import Audio
from mage_bridge.errors import AudioFileError, OutputExistsError
from mage_bridge.files import create_temp_beside

_WAV_SUBTYPES = {"pcm16": "PCM_16", "pcm24": "PCM_24", "float": "FLOAT"}

#: MP3 encodings :func:`save_mp3` offers: LAME CBR 320 kbit/s or VBR V0 (via libsndfile).
MP3_QUALITIES = {"cbr320": ("CONSTANT", 0.0), "v0": ("VARIABLE", 0.0)}


def _pcm_format(fmt: str, subtype: str) -> dict[str, Any]:
    """libsndfile's ``format``/``subtype`` for ``"wav"`` or ``"flac"`` at ``subtype``; checks they fit."""
    if subtype not in _WAV_SUBTYPES:
        raise AudioFileError(f"subtype must be one of {sorted(_WAV_SUBTYPES)}, got {subtype!r}")
    if fmt == "flac" and subtype == "float":
        raise AudioFileError("FLAC cannot store float samples; use pcm16 or pcm24")
    return dict(format=fmt.upper(), subtype=_WAV_SUBTYPES[subtype])


def _mp3_format(quality: str, sample_rate: int) -> dict[str, Any]:
    """libsndfile's MP3 arguments for ``quality``; checks the rate is one MP3 carries here."""
    if quality not in MP3_QUALITIES:
        raise AudioFileError(f"quality must be one of {sorted(MP3_QUALITIES)}, got {quality!r}")
    if sample_rate not in (32_000, 44_100, 48_000):
        raise AudioFileError(f"MP3 needs 32, 44.1 or 48 kHz audio, got {sample_rate} Hz")
    mode, level = MP3_QUALITIES[quality]
    return dict(format="MP3", subtype="MPEG_LAYER_III", bitrate_mode=mode, compression_level=level)


def _write_atomic(path: Path, frames_first: np.ndarray, sample_rate: int, sf_args: dict[str, Any], *,
                  overwrite: bool, suffix: str = "") -> Path:
    """Write ``(frames, channels)`` samples to a temp file beside ``path``, then rename it into place."""
    import soundfile as sf

    if path.exists() and not overwrite:
        raise OutputExistsError(f"{str(path)!r} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp_beside(path, suffix=suffix)
    os.close(fd)
    try:
        sf.write(tmp, frames_first, sample_rate, **sf_args)
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, sf.LibsndfileError):
            raise_write_error(path, e)
        raise
    return path


def save(
    audio: Audio,
    path: str | os.PathLike[str],
    *,
    subtype: str = "pcm24",
    overwrite: bool = False,
) -> Path:
    """Write ``audio`` as WAV or FLAC atomically (temp file + rename).

    ``subtype`` is ``"pcm16"``, ``"pcm24"`` or ``"float"`` (float is WAV only).
    An existing file is only replaced with ``overwrite=True``.
    """
    path = Path(path)
    fmt = {".wav": "wav", ".flac": "flac"}.get(path.suffix.lower())
    if fmt is None:
        raise AudioFileError(f"save() writes .wav or .flac, got {path.suffix!r} in {str(path)!r}")
    sf_args = _pcm_format(fmt, subtype)
    return _write_atomic(path, audio.samples.T, audio.sample_rate, sf_args, overwrite=overwrite)


def save_mp3(
    audio: Audio,
    path: str | os.PathLike[str],
    *,
    quality: str = "cbr320",
    overwrite: bool = False,
) -> Path:
    """Write ``audio`` as MP3 (LAME through libsndfile), atomically.

    ``quality`` is ``"cbr320"`` (constant 320 kbit/s) or ``"v0"`` (LAME's best
    VBR). MP3 supports 32, 44.1 and 48 kHz here; the file carries a LAME
    header so decoders trim the encoder delay (gapless, same frame count).
    Samples are clipped to ±1. An existing file is only replaced with ``overwrite=True``.
    """
    path = Path(path)
    if path.suffix.lower() != ".mp3":
        raise AudioFileError(f"save_mp3() writes .mp3, got {path.suffix!r} in {str(path)!r}")
    sf_args = _mp3_format(quality, audio.sample_rate)
    return _write_atomic(path, np.clip(audio.samples.T, -1.0, 1.0), audio.sample_rate, sf_args,
                         overwrite=overwrite, suffix=".mp3")


def raise_write_error(path: str | os.PathLike[str], error: Exception) -> NoReturn:
    """Raise an :class:`AudioFileError` for a failed libsndfile write, caused by the OS error behind it.

    libsndfile reports every failed ``write()`` as "System error." (its code 2); the C ``errno`` it
    left says which (no space, file too large, access refused). That becomes the error's cause, so
    a full disk is told as ``disk_full`` rather than as a riddle.
    """
    import soundfile as sf

    code = sf._ffi.errno if getattr(error, "code", None) == 2 else 0  # noqa: SLF001 - cffi's errno is the only way
    if not code:
        raise AudioFileError(f"cannot write {str(path)!r}: {error}") from error
    cause = OSError(code, os.strerror(code), str(path))
    cause.__cause__ = error
    raise AudioFileError(f"cannot write {str(path)!r}: {os.strerror(code)}") from cause


class BlockWriter:
    """Write ``(channels, frames)`` blocks to a WAV, FLAC or MP3 file as they come (``path`` is overwritten).

    The streaming twin of :func:`save` / :func:`save_mp3`: same formats and
    checks, no atomic rename (callers write to a temp name and rename).
    MP3 samples are clipped to ±1, as :func:`save_mp3` does. Use as a context manager.
    """

    def __init__(self, path: str | os.PathLike[str], *, sample_rate: int, channels: int = 2, fmt: str = "wav",
                 subtype: str = "pcm24", mp3_quality: str = "cbr320") -> None:
        import soundfile as sf

        self.path = Path(path)
        self.fmt = fmt
        self.frames = 0
        if fmt == "mp3":
            kwargs = _mp3_format(mp3_quality, sample_rate)
        elif fmt in ("wav", "flac"):
            kwargs = _pcm_format(fmt, subtype)
        else:
            raise AudioFileError(f"format must be wav, flac or mp3, got {fmt!r}")
        try:
            self._file = sf.SoundFile(str(self.path), "w", samplerate=sample_rate, channels=channels, **kwargs)
        except sf.LibsndfileError as e:
            raise_write_error(self.path, e)

    def write(self, block: np.ndarray) -> None:
        import soundfile as sf

        data = np.clip(block, -1.0, 1.0) if self.fmt == "mp3" else block
        try:
            self._file.write(np.ascontiguousarray(np.asarray(data, dtype=np.float32).T))
        except sf.LibsndfileError as e:
            raise_write_error(self.path, e)
        self.frames += block.shape[1]

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> BlockWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_blocks(path: str | os.PathLike[str], blocks: Iterable[np.ndarray], *, sample_rate: int, channels: int = 2,
                 fmt: str = "wav", subtype: str = "pcm24", mp3_quality: str = "cbr320") -> int:
    """Write an iterable of ``(channels, frames)`` blocks with a :class:`BlockWriter`; return the frames."""
    with BlockWriter(path, sample_rate=sample_rate, channels=channels, fmt=fmt, subtype=subtype,
                     mp3_quality=mp3_quality) as writer:
        for block in blocks:
            writer.write(block)
    return writer.frames
