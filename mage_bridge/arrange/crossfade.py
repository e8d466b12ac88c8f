"""Crossfades: the gain curves of a junction and the sum of clips placed on one timeline.

Over a fade of ``F`` frames, frame ``k`` sits at ``t = (k + 0.5) / F``, so both curves are
symmetric about the middle of the fade and never reach exactly 0 or 1 inside it:

* ``equal-power`` (unrelated material): out ``cos(πt/2)``, in ``sin(πt/2)``. The gains' squares
  sum to 1, so two uncorrelated signals of equal loudness keep their summed power, hence their
  loudness, through the fade.
* ``constant-gain`` (beat-matched material): out ``1 - t``, in ``t``. The gains sum to 1, so
  material that is the same on both sides (the same beat, in phase) keeps its level, where an
  equal-power fade would swell it by up to 3 dB in the middle.

Clips are laid on the song from their start frame; the song is as long as the last clip's end,
so two clips of ``a`` and ``b`` frames crossfaded over ``f`` frames give exactly ``a + b - f``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mage_bridge.arrange.document import FADE_KINDS
from mage_bridge.audio import Audio
from mage_bridge.errors import InvalidAudioError, InvalidInputError


def fade_curves(frames: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``(fade_out, fade_in)`` gains of a junction of ``frames`` frames, float64."""
    if kind not in FADE_KINDS:
        raise InvalidInputError(f"fade kind must be one of {', '.join(FADE_KINDS)}, got {kind!r}")
    t = (np.arange(frames, dtype=np.float64) + 0.5) / max(frames, 1)
    if kind == "equal-power":
        return np.cos(0.5 * np.pi * t), np.sin(0.5 * np.pi * t)
    return 1.0 - t, t


@dataclass(frozen=True)
class Placed:
    """One clip on the song's timeline: from ``start`` (frames), faded in over ``fade_in`` frames with
    the curve of ``fade_in_kind`` and out over its last ``fade_out`` frames, times ``gain``."""

    audio: Audio
    start: int
    fade_in: int = 0
    fade_in_kind: str = "equal-power"
    fade_out: int = 0
    fade_out_kind: str = "equal-power"
    gain: float = 1.0


def assemble(clips: Sequence[Placed]) -> Audio:
    """The sum of the placed clips, as long as the latest end; all at one rate, stereo out."""
    if not clips:
        raise InvalidInputError("a song needs at least one clip")
    rate = clips[0].audio.sample_rate
    total = max(c.start + c.audio.frames for c in clips)
    out = np.zeros((2, total), dtype=np.float32)  # an hour of song is 0.7 GB here; gains are float64
    for i, c in enumerate(clips):
        if c.audio.sample_rate != rate:
            raise InvalidAudioError(f"clip {i + 1} is at {c.audio.sample_rate} Hz, the song at {rate} Hz")
        n = c.audio.frames
        if c.start < 0 or c.fade_in < 0 or c.fade_out < 0 or c.fade_in + c.fade_out > n:
            raise InvalidInputError(f"clip {i + 1}: fades of {c.fade_in} + {c.fade_out} frames do not fit its "
                                    f"{n} frames (start {c.start})")
        gains = np.full(n, c.gain, dtype=np.float64)
        if c.fade_in:
            gains[:c.fade_in] *= fade_curves(c.fade_in, c.fade_in_kind)[1]
        if c.fade_out:
            gains[n - c.fade_out:] *= fade_curves(c.fade_out, c.fade_out_kind)[0]
        out[:, c.start:c.start + n] += (c.audio.to_stereo().samples * gains).astype(np.float32)
    return Audio(out, rate)


def crossfade(a: Audio, b: Audio, *, fade_frames: int, kind: str) -> Audio:
    """``b`` entering over the last ``fade_frames`` of ``a``: ``a.frames + b.frames - fade_frames`` frames."""
    if not 0 <= fade_frames <= min(a.frames, b.frames):
        raise InvalidInputError(f"fade_frames must be from 0 to the shorter clip's {min(a.frames, b.frames)} "
                                f"frames, got {fade_frames}")
    return assemble([Placed(a, 0, fade_out=fade_frames, fade_out_kind=kind),
                     Placed(b, a.frames - fade_frames, fade_in=fade_frames, fade_in_kind=kind)])
