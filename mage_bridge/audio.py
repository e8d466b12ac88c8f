"""The :class:`Audio` value type and audio file I/O.

This is the only module that touches audio files. Everything inside the
pipeline is an :class:`Audio`: float32 samples shaped ``(channels, frames)``
with the sample rate carried beside them. Time inside the code is integer
frames; :func:`seconds_to_frames` and :func:`frames_to_seconds` are the edges.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from mage_bridge.errors import AudioFileError, InvalidAudioError, OutputExistsError
from mage_bridge.files import create_temp_beside

#: The rate every MAGE Bridge output is rendered and exported at.
SAMPLE_RATE = 48_000

_WAV_SUBTYPES = {"pcm16": "PCM_16", "pcm24": "PCM_24", "float": "FLOAT"}


@dataclass(frozen=True)
class Audio:
    """Float32 samples shaped ``(channels, frames)`` at ``sample_rate`` Hz.

    Validated once on construction: 2-D, 1 or 2 channels, finite, rate > 0.
    The array is made read-only so an ``Audio`` can be shared safely.
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples)
        if samples.ndim != 2:
            raise InvalidAudioError(
                f"samples must be 2-D (channels, frames), got shape {samples.shape!r}"
            )
        if samples.shape[0] not in (1, 2):
            raise InvalidAudioError(
                f"samples must have 1 or 2 channels on axis 0, got shape {samples.shape!r}"
            )
        if not isinstance(self.sample_rate, (int, np.integer)) or self.sample_rate <= 0:
            raise InvalidAudioError(f"sample_rate must be a positive int, got {self.sample_rate!r}")
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if not np.isfinite(samples).all():
            raise InvalidAudioError("samples contain NaN or infinity")
        samples.flags.writeable = False
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        return frames_to_seconds(self.frames, self.sample_rate)

    def to_stereo(self) -> Audio:
        """Return stereo audio; mono is duplicated explicitly, stereo returned as is."""
        if self.channels == 2:
            return self
        return Audio(np.repeat(self.samples, 2, axis=0), self.sample_rate)

    def peak_dbfs(self) -> float:
        """Sample peak in dBFS; ``-inf`` for silence."""
        peak = float(np.max(np.abs(self.samples))) if self.frames else 0.0
        return 20.0 * np.log10(peak) if peak > 0 else float("-inf")

    @classmethod
    def silence(cls, frames: int, sample_rate: int, channels: int = 2) -> Audio:
        return cls(np.zeros((channels, frames), dtype=np.float32), sample_rate)


def seconds_to_frames(seconds: float, sample_rate: int) -> int:
    """Nearest whole frame for a time in seconds."""
    return int(round(seconds * sample_rate))


def frames_to_seconds(frames: int, sample_rate: int) -> float:
    return frames / float(sample_rate)


def mix(stems: dict[str, Audio]) -> Audio:
    """Sum stems sample by sample. Rates and lengths must agree: no silent resampling."""
    if not stems:
        raise InvalidAudioError("cannot mix an empty set of stems")
    items = list(stems.items())
    rate = items[0][1].sample_rate
    frames = items[0][1].frames
    total = np.zeros((2, frames), dtype=np.float64)
    for name, stem in items:
        if stem.sample_rate != rate:
            raise InvalidAudioError(
                f"stem {name!r} is at {stem.sample_rate} Hz, expected {rate} Hz"
            )
        if stem.frames != frames:
            raise InvalidAudioError(f"stem {name!r} has {stem.frames} frames, expected {frames}")
        total += stem.to_stereo().samples
    return Audio(total.astype(np.float32), rate)


def _existing_nonempty(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"audio file not found: {str(path)!r}")
    if path.stat().st_size == 0:
        raise InvalidAudioError(f"audio file is empty: {str(path)!r}")
    return path


def load(path: str | os.PathLike[str]) -> Audio:
    """Read an audio file into an :class:`Audio`.

    libsndfile reads WAV, FLAC, OGG and MP3; anything else is decoded by ffmpeg
    when it is installed. Multichannel files beyond stereo are refused rather
    than guessed at.
    """
    path = _existing_nonempty(path)
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except sf.LibsndfileError as e:
        data, rate = _decode_with_ffmpeg(path, e)
    if data.shape[0] == 0:
        raise InvalidAudioError(f"audio file holds no samples: {str(path)!r}")
    if data.shape[1] > 2:
        raise InvalidAudioError(
            f"{str(path)!r} has {data.shape[1]} channels; only mono and stereo are supported"
        )
    return Audio(data.T, int(rate))


def _decode_with_ffmpeg(path: Path, first_error: Exception) -> tuple[np.ndarray, int]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise InvalidAudioError(
            f"cannot decode {str(path)!r}: libsndfile said {first_error}; "
            "ffmpeg is not installed to try further (apt-get install ffmpeg)"
        ) from first_error
    probe = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "2", "-"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0 or not probe.stdout:
        message = probe.stderr.decode(errors="replace").strip().splitlines()
        detail = message[-1] if message else "no audio stream"
        raise InvalidAudioError(
            f"cannot decode {str(path)!r}: libsndfile said {first_error}; ffmpeg said {detail}"
        ) from first_error
    rate = _ffprobe_rate(path)
    data = np.frombuffer(probe.stdout, dtype=np.float32).reshape(-1, 2)
    return data, rate


def _ffprobe_rate(path: Path) -> int:
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise InvalidAudioError(f"cannot read the sample rate of {str(path)!r}: no ffprobe")
    out = subprocess.run(
        [ffprobe, "-v", "error", "-select_streams", "a:0", "-show_entries",
         "stream=sample_rate", "-of", "default=nw=1:nk=1", str(path)],
        capture_output=True, text=True, check=False,
    )
    try:
        return int(out.stdout.strip().splitlines()[0])
    except (ValueError, IndexError) as e:
        raise InvalidAudioError(f"cannot read the sample rate of {str(path)!r}") from e


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
    import soundfile as sf

    path = Path(path)
    fmt = {".wav": "WAV", ".flac": "FLAC"}.get(path.suffix.lower())
    if fmt is None:
        raise AudioFileError(f"save() writes .wav or .flac, got {path.suffix!r} in {str(path)!r}")
    if subtype not in _WAV_SUBTYPES:
        raise AudioFileError(f"subtype must be one of {sorted(_WAV_SUBTYPES)}, got {subtype!r}")
    if fmt == "FLAC" and subtype == "float":
        raise AudioFileError("FLAC cannot store float samples; use pcm16 or pcm24")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{str(path)!r} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp_beside(path)
    os.close(fd)
    try:
        sf.write(tmp, audio.samples.T, audio.sample_rate, subtype=_WAV_SUBTYPES[subtype], format=fmt)
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, sf.LibsndfileError):
            raise_write_error(path, e)
        raise
    return path


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


# --- Export helpers: MP3, resampling, probing without decoding. ---

#: MP3 encodings :func:`save_mp3` offers: LAME CBR 320 kbit/s or VBR V0 (via libsndfile).
MP3_QUALITIES = {"cbr320": ("CONSTANT", 0.0), "v0": ("VARIABLE", 0.0)}


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, read from its header without decoding the samples."""

    frames: int
    sample_rate: int
    channels: int
    format: str

    @property
    def duration_s(self) -> float:
        return frames_to_seconds(self.frames, self.sample_rate)


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Frames, rate, channels and container of an audio file, without decoding it.

    libsndfile answers for WAV/FLAC/OGG/MP3; other containers ask ffprobe. A
    file neither can read raises :class:`InvalidAudioError` naming both answers.
    """
    path = _existing_nonempty(path)
    import soundfile as sf

    try:
        info = sf.info(str(path))
        return AudioInfo(int(info.frames), int(info.samplerate), int(info.channels), str(info.format))
    except (sf.LibsndfileError, RuntimeError) as e:
        return _ffprobe_info(path, e)


def _ffprobe_info(path: Path, first_error: Exception) -> AudioInfo:
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise InvalidAudioError(
            f"cannot read {str(path)!r}: libsndfile said {first_error}; "
            "ffmpeg is not installed to try further (apt-get install ffmpeg)"
        ) from first_error
    out = subprocess.run(
        [ffprobe, "-v", "error", "-select_streams", "a:0", "-show_entries",
         "stream=sample_rate,channels,duration:format=format_name,duration",
         "-of", "default=nw=1", str(path)],
        capture_output=True, text=True, check=False,
    )
    fields: dict[str, str] = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition("=")
        fields.setdefault(key, value)
    try:
        rate = int(fields["sample_rate"])
        channels = int(fields["channels"])
        duration = fields.get("duration", "N/A")
        seconds = float(duration) if duration not in ("", "N/A") else 0.0
    except (KeyError, ValueError) as e:
        detail = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "no audio stream"
        raise InvalidAudioError(
            f"cannot read {str(path)!r}: libsndfile said {first_error}; ffprobe said {detail}"
        ) from e
    return AudioInfo(seconds_to_frames(seconds, rate), rate, channels, fields.get("format_name", "?"))


def resample(audio: Audio, sample_rate: int) -> Audio:
    """Explicit sample-rate conversion with a polyphase windowed-sinc filter.

    Uses :func:`scipy.signal.resample_poly` with the reduced ratio
    ``sample_rate / audio.sample_rate`` (44.1 kHz → 48 kHz is 160/147). The
    length becomes ``ceil(frames · ratio)``. Same rate: returned unchanged.
    """
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise InvalidAudioError(f"sample_rate must be a positive int, got {sample_rate!r}")
    if sample_rate == audio.sample_rate:
        return audio
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(sample_rate), audio.sample_rate)
    up, down = int(sample_rate) // g, audio.sample_rate // g
    if audio.frames == 0:
        return Audio(np.zeros((audio.channels, 0), dtype=np.float32), int(sample_rate))
    out = resample_poly(audio.samples.astype(np.float64), up, down, axis=1)
    return Audio(out.astype(np.float32), int(sample_rate))


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
    An existing file is only replaced with ``overwrite=True``.
    """
    import soundfile as sf

    path = Path(path)
    if path.suffix.lower() != ".mp3":
        raise AudioFileError(f"save_mp3() writes .mp3, got {path.suffix!r} in {str(path)!r}")
    if quality not in MP3_QUALITIES:
        raise AudioFileError(f"quality must be one of {sorted(MP3_QUALITIES)}, got {quality!r}")
    if audio.sample_rate not in (32_000, 44_100, 48_000):
        raise AudioFileError(f"MP3 needs 32, 44.1 or 48 kHz audio, got {audio.sample_rate} Hz")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{str(path)!r} exists; pass overwrite=True to replace it")
    mode, level = MP3_QUALITIES[quality]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp_beside(path, suffix=".mp3")
    os.close(fd)
    try:
        sf.write(tmp, np.clip(audio.samples.T, -1.0, 1.0), audio.sample_rate, format="MP3",
                 subtype="MPEG_LAYER_III", bitrate_mode=mode, compression_level=level)
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, sf.LibsndfileError):
            raise_write_error(path, e)
        raise
    return path


# --- Block I/O: long files are read, processed and written in blocks, never whole. ---

#: Default block for streaming stages: 10 s at 48 kHz (a multiple of 16 and of 4800, see limiter/loudness).
BLOCK_FRAMES = 480_000


def read_blocks(path: str | os.PathLike[str], *, block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """Yield a file's samples as float32 ``(channels, frames)`` blocks of ``block_frames`` (the last shorter).

    Reads through :class:`soundfile.SoundFile`, so at most one block is in
    memory; use :func:`decode_to_wav` first for what libsndfile cannot read.
    """
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        while True:
            data = f.read(block_frames, dtype="float32", always_2d=True)
            if data.shape[0] == 0:
                return
            yield np.ascontiguousarray(data.T)


def decode_to_wav(path: Path, work_dir: Path) -> Path:
    """``path`` itself if libsndfile reads it, else an ffmpeg decode of it to a float WAV in ``work_dir``.

    ffmpeg writes the WAV as it decodes (native rate and channels kept, no
    resampling: that is :func:`blocks_48k_stereo`'s job), so nothing is held whole.
    """
    import soundfile as sf

    try:
        sf.info(str(path))
        return path
    except (sf.LibsndfileError, RuntimeError) as first_error:
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            raise InvalidAudioError(
                f"cannot decode {str(path)!r}: libsndfile said {first_error}; "
                "ffmpeg is not installed to try further (apt-get install ffmpeg)"
            ) from first_error
        out = Path(work_dir) / "decoded.wav"
        run = subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(path), "-vn", "-c:a", "pcm_f32le",
                              "-f", "wav", str(out)], capture_output=True, check=False)
        if run.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
            message = run.stderr.decode(errors="replace").strip().splitlines()
            detail = message[-1] if message else "no audio stream"
            raise InvalidAudioError(
                f"cannot decode {str(path)!r}: libsndfile said {first_error}; ffmpeg said {detail}"
            ) from first_error
        return out


def blocks_48k_stereo(path: str | os.PathLike[str], *, block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """A libsndfile-readable file as 48 kHz stereo float32 blocks: mono duplicated, other rates resampled.

    The resampling is :func:`resample`'s polyphase filter applied block-wise
    (see :func:`resample_blocks`), equal to resampling the whole file.
    """
    import soundfile as sf

    rate = int(sf.info(str(path)).samplerate)
    blocks = (np.repeat(b, 2, axis=0) if b.shape[0] == 1 else b
              for b in read_blocks(path, block_frames=block_frames))
    if rate == SAMPLE_RATE:
        return blocks
    return resample_blocks(blocks, rate, SAMPLE_RATE, block_frames=block_frames)


def resample_blocks(blocks: Iterable[np.ndarray], from_rate: int, to_rate: int, *,
                    block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """:func:`resample` on a stream of ``(channels, frames)`` blocks, equal to resampling the whole signal.

    With the reduced ratio up/down, an input segment starting at a multiple of
    ``down`` maps to output frames starting at ``start·up/down``; each segment
    is filtered with enough real input before and after it (more than the
    filter's half length, 10·max(up, down)/up input frames) that the seam is
    invisible, and zeros only where the signal really ends, as in the whole-file call.
    """
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(to_rate), int(from_rate))
    up, down = int(to_rate) // g, int(from_rate) // g
    pad = down * -(-(10 * max(up, down) // up + 16) // down)
    step = down * max(1, block_frames // down)
    buffer: np.ndarray | None = None
    buffer_start = emitted = 0  # global input frames: buffer[0] and the next unemitted frame

    def emit(stop: int, *, final: bool) -> np.ndarray:
        lo = max(emitted - pad, buffer_start)
        x = buffer[:, lo - buffer_start: stop + pad - buffer_start]
        y = resample_poly(x.astype(np.float64), up, down, axis=1)
        first = (emitted - lo) * up // down
        count = (-(-stop * up // down) if final else stop * up // down) - emitted * up // down
        return y[:, first: first + count].astype(np.float32)

    for block in blocks:
        buffer = block if buffer is None else np.concatenate([buffer, block], axis=1)
        while buffer_start + buffer.shape[1] >= emitted + step + pad:
            yield emit(emitted + step, final=False)
            emitted += step
            keep_from = emitted - pad
            buffer, buffer_start = buffer[:, keep_from - buffer_start:], keep_from
    if buffer is not None:
        total = buffer_start + buffer.shape[1]
        if total > emitted or emitted == 0:
            yield emit(total, final=True)


def map_blocks(blocks: Iterable[np.ndarray], fn: Callable[[np.ndarray], np.ndarray], *,
               context_frames: int) -> Iterator[np.ndarray]:
    """Apply a non-causal, length-keeping ``fn`` (filters on the last axis) block by block.

    Each call sees ``context_frames`` of the real neighbouring signal on both
    sides (none past the true ends), and only the middle is kept. For an ``fn``
    whose output at frame n depends on input within ±``context_frames`` (a
    max/mean filter, an oversampling FIR), the result equals ``fn`` of the
    whole signal; for a decaying IIR (zero-phase filters) it does up to the
    tail truncated at ``context_frames``. Output blocks may be re-cut.
    """
    tail: np.ndarray | None = None  # up to context_frames already emitted, before `pending`
    pending: np.ndarray | None = None
    for block in blocks:
        pending = block if pending is None else np.concatenate([pending, block], axis=-1)
        ready = pending.shape[-1] - context_frames
        if ready <= 0:
            continue
        extended = pending if tail is None else np.concatenate([tail, pending], axis=-1)
        before = 0 if tail is None else tail.shape[-1]
        yield fn(extended)[..., before: before + ready]
        tail = extended[..., : before + ready][..., -context_frames:] if context_frames else None
        pending = pending[..., ready:]
    if pending is not None and pending.shape[-1]:
        extended = pending if tail is None else np.concatenate([tail, pending], axis=-1)
        before = 0 if tail is None else tail.shape[-1]
        yield fn(extended)[..., before:]


class BlockStore:
    """Blocks kept in memory, re-readable: the in-memory twin of :class:`FileBlockStore`."""

    def __init__(self) -> None:
        self._blocks: list[np.ndarray] = []

    def write(self, block: np.ndarray) -> None:
        self._blocks.append(np.asarray(block, dtype=np.float32))

    def blocks(self) -> Iterator[np.ndarray]:
        return iter(self._blocks)


class FileBlockStore:
    """Float32 WAV scratch file for an intermediate signal: written block by block, re-read block by block."""

    def __init__(self, path: Path, *, sample_rate: int, channels: int, block_frames: int = BLOCK_FRAMES) -> None:
        import soundfile as sf

        self.path = Path(path)
        self.block_frames = block_frames
        try:
            self._file = sf.SoundFile(str(self.path), "w", samplerate=sample_rate, channels=channels,
                                      subtype="FLOAT", format="WAV")
        except sf.LibsndfileError as e:
            raise_write_error(self.path, e)

    def write(self, block: np.ndarray) -> None:
        import soundfile as sf

        try:
            self._file.write(np.ascontiguousarray(np.asarray(block, dtype=np.float32).T))
        except sf.LibsndfileError as e:
            raise_write_error(self.path, e)

    def blocks(self) -> Iterator[np.ndarray]:
        if not self._file.closed:
            self._file.close()
        return read_blocks(self.path, block_frames=self.block_frames)


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
            if mp3_quality not in MP3_QUALITIES:
                raise AudioFileError(f"quality must be one of {sorted(MP3_QUALITIES)}, got {mp3_quality!r}")
            if sample_rate not in (32_000, 44_100, 48_000):
                raise AudioFileError(f"MP3 needs 32, 44.1 or 48 kHz audio, got {sample_rate} Hz")
            mode, level = MP3_QUALITIES[mp3_quality]
            kwargs: dict[str, Any] = dict(format="MP3", subtype="MPEG_LAYER_III", bitrate_mode=mode,
                                          compression_level=level)
        elif fmt in ("wav", "flac"):
            if subtype not in _WAV_SUBTYPES:
                raise AudioFileError(f"subtype must be one of {sorted(_WAV_SUBTYPES)}, got {subtype!r}")
            if fmt == "flac" and subtype == "float":
                raise AudioFileError("FLAC cannot store float samples; use pcm16 or pcm24")
            kwargs = dict(format=fmt.upper(), subtype=_WAV_SUBTYPES[subtype])
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
