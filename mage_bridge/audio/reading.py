"""Reading audio files: whole into an :class:`Audio`, header only, or block by block.

libsndfile reads WAV, FLAC, OGG and MP3; anything else (AAC, M4A, Opus in
MKV, ...) goes through ffmpeg/ffprobe when they are installed, and an error
names what each of them said. Reading is its own module because it is the only
place that runs external decoders: writing never needs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mage_bridge.audio.buffer import BLOCK_FRAMES, SAMPLE_RATE, Audio, frames_to_seconds, seconds_to_frames
from mage_bridge.audio.resampling import resample_blocks
from mage_bridge.errors import AudioFileError, InvalidAudioError


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


def _existing_nonempty(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"audio file not found: {str(path)!r}")
    if path.stat().st_size == 0:
        raise InvalidAudioError(f"audio file is empty: {str(path)!r}")
    return path


def _fallback_tool(name: str, path: Path, first_error: Exception, *, verb: str) -> str:
    """The path of ffmpeg's ``name`` tool, or the error saying libsndfile failed and nothing else can try."""
    tool = shutil.which(name)
    if tool is None:
        raise InvalidAudioError(
            f"cannot {verb} {str(path)!r}: libsndfile said {first_error}; "
            "ffmpeg is not installed to try further (apt-get install ffmpeg)"
        ) from first_error
    return tool


def _last_line(stderr: bytes | str) -> str:
    """The last line an ffmpeg tool wrote to stderr: the one that says why it failed."""
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    lines = text.strip().splitlines()
    return lines[-1] if lines else "no audio stream"


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
    ffmpeg = _fallback_tool("ffmpeg", path, first_error, verb="decode")
    probe = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "2", "-"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0 or not probe.stdout:
        raise InvalidAudioError(
            f"cannot decode {str(path)!r}: libsndfile said {first_error}; ffmpeg said {_last_line(probe.stderr)}"
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
    ffprobe = _fallback_tool("ffprobe", path, first_error, verb="read")
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
        raise InvalidAudioError(
            f"cannot read {str(path)!r}: libsndfile said {first_error}; ffprobe said {_last_line(out.stderr)}"
        ) from e
    return AudioInfo(seconds_to_frames(seconds, rate), rate, channels, fields.get("format_name", "?"))


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
        ffmpeg = _fallback_tool("ffmpeg", path, first_error, verb="decode")
        out = Path(work_dir) / "decoded.wav"
        run = subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(path), "-vn", "-c:a", "pcm_f32le",
                              "-f", "wav", str(out)], capture_output=True, check=False)
        if run.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
            raise InvalidAudioError(
                f"cannot decode {str(path)!r}: libsndfile said {first_error}; ffmpeg said {_last_line(run.stderr)}"
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
