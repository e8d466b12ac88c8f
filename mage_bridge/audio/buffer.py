"""The :class:`Audio` value type, the time base and the mix of stems.

Everything inside the pipeline is an :class:`Audio`: float32 samples shaped
``(channels, frames)`` with the sample rate carried beside them. Time inside the
code is integer frames; :func:`seconds_to_frames` and :func:`frames_to_seconds`
are the edges. Kept apart from file reading and writing so that a stage which
only computes on buffers imports no file or codec code at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mage_bridge.errors import InvalidAudioError

#: The rate every MAGE Bridge output is rendered and exported at.
SAMPLE_RATE = 48_000

#: Default block for streaming stages: 10 s at 48 kHz (a multiple of 16 and of 4800, see limiter/loudness).
BLOCK_FRAMES = 480_000


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
