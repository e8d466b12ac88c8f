"""A true-peak look-ahead limiter in numpy/scipy (offline, whole-buffer).

pedalboard's ``Limiter`` watches samples, not the signal between them, so a
file it limits to −1 dBFS can still read −0.3 dBTP. This one detects on the 4×
oversampled envelope (:func:`~mage_bridge.effects.loudness.oversampled_peak_envelope`)
and builds its gain curve without a per-sample Python loop:

1. r_req[n] = max(0, 20·log10(env[n]) − ceiling_db): the reduction each frame needs (dB).
2. Hold: r1 = max over [n − L, n + L] (L = look-ahead frames).
3. Release: r2[n] = max(r1[n], r2[n−1]·a), a = exp(−1/(release frames)), an
   exponential decay of the reduction in dB, computed in closed form as
   log r2[n] = n·log a + cummax(log r1[k] − k·log a).
4. Attack: r3 = moving average of r2 over [n − L, n + L].

Every r2[k] inside the averaging window around n is ≥ r_req[n] (step 2 spread
r_req[n] to all of them), so r3[n] ≥ r_req[n]: the envelope is under the
ceiling at every frame, and the gain ramps smoothly over 2L + 1 frames before a
peak instead of clipping it. Gain modulation can still leave a few hundredths of
a dB of new inter-sample overshoot; :func:`limit_true_peak` measures the result
and tightens its internal ceiling until the measured true peak holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from mage_bridge.audio import Audio, seconds_to_frames
from mage_bridge.effects.loudness import oversampled_peak_envelope, true_peak_dbtp
from mage_bridge.errors import InvalidInputError

#: Headroom below the ceiling the gain curve aims at, absorbing gain-modulation overshoot.
_MARGIN_DB = 0.02
_MAX_PASSES = 6
#: Control-rate block for the release stage (frames).
_RELEASE_BLOCK = 16


@dataclass(frozen=True)
class LimiterResult:
    """The limited audio, its measured true peak (dBTP) and the deepest reduction applied (dB)."""

    audio: Audio
    true_peak_dbtp: float
    max_reduction_db: float
    passes: int


def envelope_db(samples: np.ndarray) -> np.ndarray:
    """20·log10 of the true-peak envelope, shape ``(frames,)`` (−inf where silent).

    The envelope scales with gain, so callers that try several gains compute it
    once and add ``gain_db``.
    """
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(oversampled_peak_envelope(samples))


def gain_reduction_db(level_db: np.ndarray, *, ceiling_db: float, lookahead_frames: int,
                      release_frames: int) -> np.ndarray:
    """Steps 1–4 of the module docstring: reduction in dB (≥ 0) per frame, shape ``(frames,)``.

    ``level_db`` is :func:`envelope_db` of the signal the gain will be applied to.
    """
    required = np.maximum(level_db - ceiling_db, 0.0)
    if not required.any():
        return required
    width = 2 * lookahead_frames + 1
    held = ndimage.maximum_filter1d(required, size=width, mode="nearest")
    # Release (step 3) on blocks of _RELEASE_BLOCK frames, each carrying its largest held value:
    # never below `held`, 16x less work, and a 0.3 ms step is far below any release time.
    frames = held.size
    blocks = -(-frames // _RELEASE_BLOCK)
    padded = np.zeros(blocks * _RELEASE_BLOCK)
    padded[:frames] = held
    block_max = padded.reshape(blocks, _RELEASE_BLOCK).max(axis=1)
    log_a = -_RELEASE_BLOCK / max(release_frames, 1)
    k = np.arange(blocks, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_held = np.log(block_max)  # log(0) = -inf is harmless under cummax
    released = np.exp(k * log_a + np.maximum.accumulate(log_held - k * log_a))
    released = np.maximum(np.repeat(released, _RELEASE_BLOCK)[:frames], held)
    return ndimage.uniform_filter1d(released, size=width, mode="nearest")


def limit_true_peak(
    audio: Audio,
    *,
    ceiling_dbtp: float = -1.0,
    lookahead_ms: float = 1.5,
    release_ms: float = 80.0,
    level_db: np.ndarray | None = None,
) -> LimiterResult:
    """Limit ``audio`` so its true peak (4× oversampled) is at most ``ceiling_dbtp``.

    ``audio`` keeps its shape and rate; frames are not delayed (offline look-ahead).
    Runs up to six passes, each measuring the result and lowering the internal
    ceiling by any excess, so the returned ``true_peak_dbtp`` is ≤ the ceiling.
    ``level_db`` may pass a precomputed :func:`envelope_db` of ``audio``.
    """
    if not -60.0 <= ceiling_dbtp <= 0.0:
        raise InvalidInputError(f"ceiling_dbtp must be from -60 to 0 dBTP, got {ceiling_dbtp!r}")
    if not 0.1 <= lookahead_ms <= 20.0:
        raise InvalidInputError(f"lookahead_ms must be from 0.1 to 20, got {lookahead_ms!r}")
    if not 1.0 <= release_ms <= 2000.0:
        raise InvalidInputError(f"release_ms must be from 1 to 2000, got {release_ms!r}")
    source = audio.samples.astype(np.float64)
    if level_db is None:
        level_db = envelope_db(source)
    if level_db.size == 0 or float(np.max(level_db)) <= ceiling_dbtp - _MARGIN_DB:
        return LimiterResult(audio, true_peak_dbtp(audio), 0.0, 0)
    lookahead = max(1, seconds_to_frames(lookahead_ms / 1000.0, audio.sample_rate))
    release = max(1, seconds_to_frames(release_ms / 1000.0, audio.sample_rate))
    aim_db = ceiling_dbtp - _MARGIN_DB
    for passes in range(1, _MAX_PASSES + 1):
        reduction = gain_reduction_db(level_db, ceiling_db=aim_db, lookahead_frames=lookahead,
                                      release_frames=release)
        limited = Audio((source * 10.0 ** (-reduction / 20.0)).astype(np.float32), audio.sample_rate)
        measured = true_peak_dbtp(limited)
        if measured <= ceiling_dbtp:
            break
        aim_db -= (measured - ceiling_dbtp) + _MARGIN_DB
    if measured > ceiling_dbtp:
        # Last resort, never reached on the signals we tested: scale the rest away.
        limited = Audio(limited.samples * np.float32(10.0 ** ((ceiling_dbtp - measured - 0.01) / 20.0)),
                        audio.sample_rate)
        measured = true_peak_dbtp(limited)
    return LimiterResult(limited, measured, float(reduction.max()), passes)


def db_to_gain(gain_db: float) -> float:
    """Linear amplitude factor for a gain in dB."""
    return math.pow(10.0, gain_db / 20.0)
