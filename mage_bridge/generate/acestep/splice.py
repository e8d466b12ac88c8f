"""Put a regenerated window back into its source so that everything outside it stays bit-identical.

ACE-Step's repaint regenerates the whole clip and only conditions on the source outside the window,
so nothing outside comes back unchanged. :func:`splice` keeps the source outside
``[start - crossfade, end + crossfade)``, takes the edit inside ``[start, end)``, and crossfades over
``crossfade`` frames on each side. The two signals are the same music at the seam (strongly
correlated), so the fade is equal-gain: w_in(t) = sin²(π/2·(t + ½)/C), w_out = 1 − w_in, which sum to
one and keep the level steady where an equal-power fade would bulge by up to 3 dB.
"""

from __future__ import annotations

import numpy as np

from mage_bridge.audio import Audio
from mage_bridge.errors import InvalidAudioError, InvalidInputError


def fade_in(frames: int) -> np.ndarray:
    """The rising equal-gain ramp of ``frames`` samples, strictly between 0 and 1."""
    if frames <= 0:
        return np.zeros(0, dtype=np.float64)
    return np.sin(0.5 * np.pi * (np.arange(frames) + 0.5) / frames) ** 2


def splice(source: np.ndarray, edited: np.ndarray, start: int, end: int, crossfade: int) -> np.ndarray:
    """``source`` with ``[start, end)`` taken from ``edited``, crossfaded over ``crossfade`` frames each side.

    Both are ``(channels, frames)`` of one length. The result equals ``source`` bit for bit outside
    ``[start - crossfade, end + crossfade)`` (clamped to the clip) and ``edited`` inside
    ``[start, end)``. Returns a new float32 array.
    """
    source = np.asarray(source, dtype=np.float32)
    edited = np.asarray(edited, dtype=np.float32)
    if source.shape != edited.shape or source.ndim != 2:
        raise InvalidAudioError(f"splice needs two (channels, frames) arrays of one shape, got "
                                f"{source.shape!r} and {edited.shape!r}")
    frames = source.shape[1]
    if crossfade < 0 or not 0 <= start < end <= frames:
        raise InvalidInputError(f"splice window [{start}, {end}) with crossfade {crossfade} does not fit "
                                f"{frames} frames")
    out = source.copy()
    out[:, start:end] = edited[:, start:end]
    lead = min(crossfade, start)
    if lead:
        ramp = fade_in(lead)
        a, b = start - lead, start
        out[:, a:b] = (source[:, a:b] * (1.0 - ramp) + edited[:, a:b] * ramp).astype(np.float32)
    tail = min(crossfade, frames - end)
    if tail:
        ramp = fade_in(tail)[::-1]
        a, b = end, end + tail
        out[:, a:b] = (source[:, a:b] * (1.0 - ramp) + edited[:, a:b] * ramp).astype(np.float32)
    return out


def splice_stems(source: dict[str, Audio], edited: dict[str, Audio], start: int, end: int,
                 crossfade: int) -> dict[str, Audio]:
    """:func:`splice` per stem: every stem of ``source``, with its window from the same stem of ``edited``."""
    missing = sorted(set(source) - set(edited))
    if missing:
        raise InvalidAudioError(f"the edit has no stem(s) {', '.join(missing)}")
    out = {}
    for name, stem in source.items():
        other = edited[name]
        if other.sample_rate != stem.sample_rate:
            raise InvalidAudioError(f"stem {name!r}: {other.sample_rate} Hz edit for a {stem.sample_rate} Hz source")
        out[name] = Audio(splice(stem.to_stereo().samples, other.to_stereo().samples, start, end, crossfade),
                          stem.sample_rate)
    return out
