"""The per-stem processing and the gain curves of the mix stage (:mod:`mage_bridge.generate.mix`).

- :func:`process_stem`: one stem through its :class:`~mage_bridge.generate.mixpresets.StemChain`
  (drive, EQ, compressor, trim), pedalboard's built-ins;
- :func:`reverb_return`: a stem's send through the shared reverb. The reverb has
  fixed parameters and starts from rest for every stem, so it is linear: the sum
  of the stems' returns equals one bus reverb fed the sum of the sends;
- :func:`kick_frames` and :func:`duck_curve`: the kicks found in the drums stem's
  low band and the sidechain gain curve they drive;
- :func:`glue_curve`: a bus compressor's gain computer run on the sum, returned
  as a gain curve to apply to every stem alike.

Audio is float32 ``(2, frames)`` with the sample rate beside it; gain curves
are linear gains per frame, shape ``(frames,)``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import ndimage, signal

from mage_bridge.generate.mixpresets import Drive, GlueSettings, ReverbSettings, StemChain

#: RMS (dBFS) a stem is brought to before the drive, so a drive in dB means the same on every render.
DRIVE_INPUT_RMS_DB = -18.0
#: Corner (Hz) of the first-order high-pass after the drive and the compressor that keeps their DC out.
DC_BLOCK_HZ = 20.0
#: Low band of the drums stem the kicks are found in (Hz).
KICK_BAND_HZ = 150.0
#: Hop of the kick envelope and of the glue's level detector (s).
_HOP_S = 0.002
#: Two kicks are at least this far apart (s).
_MIN_KICK_SPACING_S = 0.09
#: A kick's envelope peak reaches this share of the loud kicks' level (the 95th percentile of the peaks).
_KICK_SHARE = 0.4
_DUCK_ATTACK_S = 0.004
_DUCK_HOLD_S = 0.01


def _gain_db(x: np.ndarray, gain_db: float) -> np.ndarray:
    return x if gain_db == 0.0 else x * np.float32(10.0 ** (gain_db / 20.0))


def _rms_db(x: np.ndarray) -> float:
    ms = float(np.mean(np.square(x, dtype=np.float64))) if x.size else 0.0
    return 10.0 * math.log10(ms) if ms > 0.0 else float("-inf")


def gated_rms_db(x: np.ndarray, *, sample_rate: int) -> float:
    """RMS level (dB) of a ``(channels, frames)`` signal over its 400 ms blocks, gated as BS.1770-4 gates.

    Blocks under −70 dB, then blocks more than 10 dB under the mean of the rest,
    are left out, so silence and lead-in/lead-out do not pull the level down. No
    K-weighting (a tenth of the time of :func:`~mage_bridge.effects.loudness.integrated_loudness`): it
    sets thresholds, it is no loudness reading. ``-inf`` for silence.
    """
    block = max(1, round(0.4 * sample_rate))
    n = x.shape[1] // block
    if n == 0:
        return _rms_db(x)
    power = np.mean(np.square(x[:, : n * block], dtype=np.float64), axis=0).reshape(n, block).mean(axis=1)
    kept = power[power > 1e-7]
    if kept.size == 0:
        return float("-inf")
    kept = kept[kept > 0.1 * kept.mean()]
    return 10.0 * math.log10(float(kept.mean()))


def _drive(x: np.ndarray, drive: Drive, sample_rate: int) -> np.ndarray:
    """Amp-like saturation at a fixed input level, returned at the stem's own RMS, without DC."""
    import pedalboard

    level = _rms_db(x)
    if not math.isfinite(level):
        return x
    pre = DRIVE_INPUT_RMS_DB - level
    board = pedalboard.Pedalboard([
        pedalboard.HighpassFilter(cutoff_frequency_hz=drive.highpass_hz),
        pedalboard.Distortion(drive_db=drive.drive_db),
        pedalboard.LowpassFilter(cutoff_frequency_hz=drive.cab_lowpass_hz),
        # tanh of an asymmetric wave has a mean: block it.
        pedalboard.HighpassFilter(cutoff_frequency_hz=DC_BLOCK_HZ),
    ])
    wet = board(_gain_db(x, pre), sample_rate)
    wet = _gain_db(wet, level - _rms_db(wet))
    if drive.wet >= 1.0:
        return np.asarray(wet, dtype=np.float32)
    return (np.float32(drive.wet) * wet + np.float32(1.0 - drive.wet) * x).astype(np.float32)


def process_stem(x: np.ndarray, chain: StemChain, *, sample_rate: int) -> tuple[np.ndarray, dict[str, Any]]:
    """``x`` through ``chain``'s drive, EQ, compressor and trim; returns float32 audio and what was done.

    The compressor's threshold is ``compressor_threshold_rms_db`` above the stem's
    gated RMS level after the EQ (:func:`gated_rms_db`), so it works on every render level.
    """
    import pedalboard

    done: dict[str, Any] = {}
    if chain.drive is not None:
        x = _drive(x, chain.drive, sample_rate)
    plugins: list[Any] = []
    if chain.low_shelf_db:
        plugins.append(pedalboard.LowShelfFilter(cutoff_frequency_hz=chain.low_shelf_hz, gain_db=chain.low_shelf_db))
    for hz, db, q in chain.peaks:
        plugins.append(pedalboard.PeakFilter(cutoff_frequency_hz=hz, gain_db=db, q=q))
    if chain.high_shelf_db:
        plugins.append(pedalboard.HighShelfFilter(cutoff_frequency_hz=chain.high_shelf_hz,
                                                  gain_db=chain.high_shelf_db))
    if plugins:
        x = pedalboard.Pedalboard(plugins)(x, sample_rate)
    if chain.compressor_threshold_rms_db is not None:
        level = gated_rms_db(x, sample_rate=sample_rate)
        if math.isfinite(level):
            threshold = level + chain.compressor_threshold_rms_db
            compressor = pedalboard.Compressor(threshold_db=threshold, ratio=chain.compressor_ratio,
                                               attack_ms=chain.compressor_attack_ms,
                                               release_ms=chain.compressor_release_ms)
            # Gain that follows an asymmetric wave's peaks leaves a mean: block it as after the drive.
            x = pedalboard.Pedalboard([compressor, pedalboard.HighpassFilter(cutoff_frequency_hz=DC_BLOCK_HZ)])(
                x, sample_rate)
            done["compressor_threshold_db"] = round(threshold, 2)
    x = _gain_db(np.asarray(x, dtype=np.float32), chain.compressor_makeup_db + chain.trim_db)
    return np.asarray(x, dtype=np.float32), done


def reverb_return(send: np.ndarray, reverb: ReverbSettings, *, sample_rate: int) -> np.ndarray:
    """The shared reverb's fully wet return of one stem's ``send`` (already at its send level)."""
    import pedalboard

    board = pedalboard.Pedalboard([
        pedalboard.Reverb(room_size=reverb.room_size, damping=reverb.damping, wet_level=1.0, dry_level=0.0,
                          width=reverb.width, freeze_mode=0.0),
        pedalboard.HighpassFilter(cutoff_frequency_hz=reverb.return_highpass_hz),
    ])
    return np.asarray(board(send, sample_rate), dtype=np.float32)


@lru_cache(maxsize=4)
def _kick_lowpass_sos(sample_rate: int) -> np.ndarray:
    return np.asarray(signal.butter(4, KICK_BAND_HZ, btype="lowpass", fs=sample_rate, output="sos"))


def kick_frames(drums: np.ndarray, *, sample_rate: int) -> np.ndarray:
    """Frames where kicks start in a ``(2, frames)`` drums stem, found in its low band.

    The band below :data:`KICK_BAND_HZ` is rectified and peak-held over 2 ms
    hops, then followed with a 60 ms release (so a kick's decaying cycles make
    one hump, not several); the follower's rise over 6 ms is the onset strength.
    Its peaks at least :data:`_MIN_KICK_SPACING_S` apart that reach
    :data:`_KICK_SHARE` of the loud onsets' strength are kicks, each placed at the
    first hop of its rise.
    """
    hop = max(1, round(_HOP_S * sample_rate))
    low = signal.sosfilt(_kick_lowpass_sos(sample_rate), drums.mean(axis=0))
    n = low.size // hop
    if n < 4:
        return np.zeros(0, dtype=np.int64)
    env = np.abs(low[: n * hop]).reshape(n, hop).max(axis=1)
    decay = math.exp(-_HOP_S / 0.06)
    follower = np.empty(n)
    f = 0.0
    for i, e in enumerate(env.tolist()):
        f = max(e, f * decay)
        follower[i] = f
    rise = np.zeros(n)
    rise[3:] = np.maximum(follower[3:] - follower[:-3], 0.0)
    peaks, props = signal.find_peaks(rise, distance=max(1, round(_MIN_KICK_SPACING_S / _HOP_S)),
                                     height=float(rise.max()) * 0.05 if rise.max() > 0 else 1.0)
    if peaks.size == 0:
        return np.zeros(0, dtype=np.int64)
    loud = float(np.percentile(props["peak_heights"], 95))
    peaks = peaks[props["peak_heights"] >= _KICK_SHARE * loud]
    starts = []
    for p in peaks:
        k = int(p)
        while k > 0 and p - k < 10 and follower[k - 1] < follower[k]:
            k -= 1
        starts.append(k)
    return np.asarray(starts, dtype=np.int64) * hop


def duck_release_s(kicks: np.ndarray, *, sample_rate: int, share: float) -> float:
    """The duck's release: ``share`` of the median kick spacing, within 60–300 ms (a beat-linked release)."""
    if kicks.size < 2:
        return 0.15
    return float(np.clip(share * float(np.median(np.diff(kicks))) / sample_rate, 0.06, 0.3))


def duck_curve(kicks: np.ndarray, frames: int, *, depth_db: float, release_s: float,
               sample_rate: int) -> np.ndarray:
    """Sidechain gain per frame: −``depth_db`` at each kick (4 ms attack, 10 ms hold), a cosine release back to 0 dB.

    Overlapping ducks keep the deeper of the two.
    """
    attack = max(1, round(_DUCK_ATTACK_S * sample_rate))
    hold = round(_DUCK_HOLD_S * sample_rate)
    release = max(1, round(release_s * sample_rate))
    shape = np.concatenate([
        0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, attack, endpoint=False)),
        np.ones(hold),
        0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, release)),
    ])
    depth = np.zeros(frames)
    for k in kicks:
        k = int(k) - attack  # fully down as the kick lands
        lo, hi = max(k, 0), min(k + shape.size, frames)
        if hi > lo:
            np.maximum(depth[lo:hi], shape[lo - k: hi - k], out=depth[lo:hi])
    return np.asarray(10.0 ** (-depth_db * depth / 20.0))


def glue_curve(total: np.ndarray, glue: GlueSettings, *, sample_rate: int) -> tuple[np.ndarray, float]:
    """A bus compressor's gain per frame for the ``(2, frames)`` sum, and its deepest reduction (dB).

    Level: RMS over 2 ms hops of both channels (a 10 ms window); threshold
    ``threshold_rms_db`` above the sum's :func:`gated_rms_db`; reduction (level − threshold)·(1 − 1/ratio)
    above it, smoothed with separate attack and release time constants (one-pole
    per hop) and interpolated to frames.
    """
    frames = total.shape[1]
    hop = max(1, round(_HOP_S * sample_rate))
    n = frames // hop
    loudness = gated_rms_db(total, sample_rate=sample_rate)
    if n < 2 or not math.isfinite(loudness):
        return np.ones(frames), 0.0
    power = np.mean(np.square(total[:, : n * hop]), axis=0).reshape(n, hop).mean(axis=1)
    power = ndimage.uniform_filter1d(power, size=5, mode="nearest")  # a 10 ms RMS window
    # The running mean of exact silence can round a hair below zero: floor it (−200 dB) before the log.
    level = 10.0 * np.log10(np.maximum(power, 1e-20))
    wanted = np.maximum(level - (loudness + glue.threshold_rms_db), 0.0) * (1.0 - 1.0 / glue.ratio)
    attack = math.exp(-_HOP_S / (glue.attack_ms / 1000.0))
    release = math.exp(-_HOP_S / (glue.release_ms / 1000.0))
    reduction = np.empty(n)
    r = 0.0
    for i, w in enumerate(wanted.tolist()):
        r = (attack if w > r else release) * (r - w) + w
        reduction[i] = r
    centres = np.arange(n) * hop + hop / 2.0
    per_frame = np.interp(np.arange(frames), centres, reduction)
    return np.asarray(10.0 ** (-per_frame / 20.0)), float(reduction.max())
