"""The mix stage of the procedural generator: clean, shape, centre and level the rendered stems.

A General MIDI file rendered as it is sounds unmixed: the GM synth-pad patches
carry a DC offset and subsonic drift (up to +0.10 FS mean, ~45 % of their
energy below 20 Hz), their chorus and stereo spread can put the stem in
anti-phase (L/R correlation down to −0.6, several dB lost when folded to mono),
the low end wanders between the channels, and nothing is compressed, driven or
placed in a room. :func:`mix_stems` works on the float ``(2, frames)`` stems at
their rate with the genre's :class:`~mage_bridge.generate.mixpresets.MixPreset`,
in this order:

1. **High-pass** each stem (2nd-order Butterworth, causal): :data:`HIGHPASS_HZ`
   per stem name, 25 Hz for bass and drums, higher for the rest. It removes the
   DC and the subsonic drift.
2. **Stem chain** (:func:`~mage_bridge.generate.mixchain.process_stem`): amp-like
   drive (metal and rock guitars, 808s), EQ shelves and peaks, a compressor whose
   threshold follows the stem's loudness, a level trim.
3. **Low end mono**: the side signal S = (L − R)/2 loses everything below
   :data:`MONO_BELOW_HZ` (S − LP(S), LP a zero-phase 4th-order Butterworth run
   forwards and backwards, so the split is exactly complementary and never
   boosts), so the sub sits in the centre.
4. **No anti-phase**: where a stem's L/R correlation is under
   :data:`MIN_CORRELATION`, its side is scaled by the largest width in [0, 1]
   that brings the correlation up to it (closed form in the M/S energies).
5. **Sidechain** (presets with ``duck_db``, the four-on-the-floor family): the
   kicks found in the drums stem's low band dip the ducked stems by a gain curve
   whose release follows the kick spacing.
6. **Reverb send**: each stem sends to one reverb of fixed settings and gets its
   own return back; the reverb is linear, so the returns sum to a bus reverb of
   the summed sends.
7. **Bus glue**: a compressor's gain computer on the sum
   (:func:`~mage_bridge.generate.mixchain.glue_curve`), applied to every stem.
8. **Bus level**: one gain brings the sum to :data:`TARGET_LUFS` integrated
   (BS.1770-4, :func:`~mage_bridge.effects.loudness.integrated_loudness`); where
   its true peak would pass the lower of :data:`CEILING_DBTP` and target +
   the preset's ``max_plr_db`` (a peak-to-loudness ratio of real records, not a
   raw render's 14–15 dB), the true-peak look-ahead limiter's gain curve
   (:mod:`mage_bridge.effects.limiter`), computed on the sum, is applied to every
   stem alike, then a safety fade of the last :data:`SAFETY_FADE_S`.

Steps 1–6 work on one stem each; 7 and 8 are gain curves shared by all stems, so
the returned stems still sum to the mix they define. The per-stem levels are
the composer's (its MIDI volumes are the balance) with the preset's trims.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import signal

from mage_bridge.audio import Audio
from mage_bridge.effects.limiter import envelope_db, gain_reduction_db
from mage_bridge.effects.loudness import integrated_loudness, true_peak_dbtp
from mage_bridge.generate.mixchain import (
    duck_curve,
    duck_release_s,
    glue_curve,
    kick_frames,
    process_stem,
    reverb_return,
)
from mage_bridge.generate.mixpresets import DEFAULT, MixPreset, StemChain, preset_for

#: Integrated loudness the mix is levelled to (LUFS); streaming services' range, headroom left for mastering.
TARGET_LUFS = -16.0
#: True-peak ceiling of the mix (dBTP).
CEILING_DBTP = -1.0
#: High-pass corner per stem name (Hz); stems not named here get :data:`DEFAULT_HIGHPASS_HZ`.
HIGHPASS_HZ = {"bass": 25.0, "drums": 25.0, "other": 40.0}
DEFAULT_HIGHPASS_HZ = 40.0
#: Below this frequency (Hz) each stem's side signal is removed.
MONO_BELOW_HZ = 120.0
#: Smallest L/R correlation a stem keeps; wider anti-phase images are narrowed to it.
MIN_CORRELATION = 0.35
#: A safety fade at the very end; the music itself has rung out before it.
SAFETY_FADE_S = 0.02
#: The reverb returns fade to silence over this stretch, ending :data:`REVERB_QUIET_S` before the clip's end:
#: the lead-out rings out clean however long the room (the render damps its own notes the same way).
REVERB_FADE_S = 0.65
REVERB_QUIET_S = 0.1
_LOOKAHEAD_MS = 1.5
_RELEASE_MS = 80.0
#: Headroom the limiter aims under the ceiling, absorbing gain-modulation overshoot (dB).
_MARGIN_DB = 0.05
_MAX_PASSES = 6
#: A limiter aim this close under the ceiling (dB) is checked by oversampling the limited sum; a lower one (the
#: PLR aim) by its envelope, the gap absorbing the estimate's error.
_EXACT_WITHIN_DB = 0.5
#: What the sample-peak envelope is raised by where it stands in for the true-peak one (dB).
_INTER_SAMPLE_ALLOWANCE_DB = 0.5
#: Gain-then-limit rounds that bring a limited mix back up to the target.
_LEVEL_ROUNDS = 3
_LOUDNESS_TOLERANCE_LU = 0.2


@dataclass
class MixReport:
    """What :func:`mix_stems` did, for the clip's details."""

    target_lufs: float
    ceiling_dbtp: float
    lufs: float = float("nan")
    true_peak_dbtp: float = float("nan")
    gain_db: float = 0.0
    limiter_max_reduction_db: float = 0.0
    tail_peak_dbfs_before_fade: float = float("-inf")
    stems: dict[str, dict[str, Any]] = field(default_factory=dict)
    preset: MixPreset = DEFAULT
    glue_max_reduction_db: float = 0.0
    limiter_ceiling_dbtp: float = float("nan")
    kicks: int | None = None
    duck_release_ms: float | None = None

    def details(self) -> dict[str, Any]:
        """JSON-ready summary (rounded; non-finite readings as ``None``)."""
        def num(x: float, digits: int = 2) -> float | None:
            return round(float(x), digits) if math.isfinite(x) else None

        return {
            "target_lufs": self.target_lufs,
            "ceiling_dbtp": self.ceiling_dbtp,
            "lufs": num(self.lufs),
            "true_peak_dbtp": num(self.true_peak_dbtp),
            "gain_db": num(self.gain_db, 3),
            "plr_db": num(self.true_peak_dbtp - self.lufs),
            "limiter_max_reduction_db": num(self.limiter_max_reduction_db),
            "limiter_ceiling_dbtp": num(self.limiter_ceiling_dbtp),
            "glue_max_reduction_db": num(self.glue_max_reduction_db),
            "sidechain": {"kicks": self.kicks, "release_ms": self.duck_release_ms},
            **self.preset.to_dict(),
            "mono_below_hz": MONO_BELOW_HZ,
            "safety_fade_s": SAFETY_FADE_S,
            "stems": self.stems,
        }


@lru_cache(maxsize=16)
def _highpass_sos(corner_hz: float, sample_rate: int) -> np.ndarray:
    return np.asarray(signal.butter(2, corner_hz, btype="highpass", fs=sample_rate, output="sos"))


@lru_cache(maxsize=4)
def _side_lowpass_sos(sample_rate: int) -> np.ndarray:
    return np.asarray(signal.butter(4, MONO_BELOW_HZ, btype="lowpass", fs=sample_rate, output="sos"))


def correlation(left: np.ndarray, right: np.ndarray) -> float:
    """L/R correlation Σ(L·R)/√(ΣL²·ΣR²) in [−1, 1]; 1.0 for silence or a silent channel."""
    ll = float(np.dot(left, left))
    rr = float(np.dot(right, right))
    if ll <= 0.0 or rr <= 0.0:
        return 1.0
    return float(np.dot(left, right)) / math.sqrt(ll * rr)


def width_for_correlation(mid: np.ndarray, side: np.ndarray, minimum: float) -> float:
    """Largest side scale w in [0, 1] for which L = M + wS, R = M − wS correlate at least ``minimum``.

    With E_m = ΣM², E_s = ΣS², C = ΣMS the correlation is
    (E_m − w²E_s) / √((E_m + w²E_s)² − 4w²C²), which falls as w grows;
    bisection on it finds the width.
    """
    em = float(np.dot(mid, mid))
    es = float(np.dot(side, side))
    c = float(np.dot(mid, side))

    def corr(w: float) -> float:
        den = (em + w * w * es) ** 2 - 4.0 * w * w * c * c
        return 1.0 if den <= 0.0 else (em - w * w * es) / math.sqrt(den)

    if es <= 0.0 or corr(1.0) >= minimum:
        return 1.0
    if em <= 0.0:
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(30):
        w = 0.5 * (lo + hi)
        if corr(w) >= minimum:
            lo = w
        else:
            hi = w
    return lo


def clean_stem(x: np.ndarray, *, name: str, sample_rate: int,
               chain: StemChain | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Steps 1–3 on one float32 ``(2, frames)`` stem: high-pass, ``chain``, low end mono, anti-phase narrowed.

    ``chain`` (drive, EQ, compressor, trim: :func:`~mage_bridge.generate.mixchain.process_stem`)
    runs after the high-pass and before the centring, so whatever its drive or
    its per-channel compressor put into the low side is centred too. The
    filters run in float32 (4× faster than float64 here; their error is far
    under the 24-bit floor). The side's low-pass runs forwards then backwards
    from rest (zero phase, no edge padding: the stems start and end in near silence).
    """
    x = np.asarray(x, dtype=np.float32)
    dc = float(np.max(np.abs(x.mean(axis=1, dtype=np.float64)))) if x.shape[1] else 0.0
    corner = HIGHPASS_HZ.get(name, DEFAULT_HIGHPASS_HZ)
    y = signal.sosfilt(_highpass_sos(corner, sample_rate), x, axis=1).astype(np.float32, copy=False)
    report: dict[str, Any] = {"highpass_hz": corner, "dc_before": round(dc, 5)}
    if chain is not None:
        y, done = process_stem(y, chain, sample_rate=sample_rate)
        report.update(done)
    mid = 0.5 * (y[0] + y[1])
    side = 0.5 * (y[0] - y[1])
    lp = _side_lowpass_sos(sample_rate)
    side -= signal.sosfilt(lp, signal.sosfilt(lp, side)[::-1])[::-1].astype(np.float32)
    before = correlation(y[0], y[1])
    width = width_for_correlation(mid, side, MIN_CORRELATION)
    if width < 1.0:
        side *= np.float32(width)
    out = np.stack([mid + side, mid - side])
    report.update({
        "correlation_before": round(before, 3),
        "width": round(width, 3),
        "correlation": round(correlation(out[0], out[1]), 3),
    })
    return out, report


def _return_fade(frames: int, sample_rate: int) -> np.ndarray:
    """The gain every reverb return shares: 1, then a half-cosine to 0 that ends :data:`REVERB_QUIET_S` early."""
    curve = np.ones(frames, dtype=np.float32)
    end = max(0, frames - int(REVERB_QUIET_S * sample_rate))
    start = max(0, end - int(REVERB_FADE_S * sample_rate))
    curve[start:end] = 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, end - start, dtype=np.float32))
    curve[end:] = 0.0
    return curve


def mix_stems(raw: dict[str, np.ndarray], *, sample_rate: int, target_lufs: float = TARGET_LUFS,
              ceiling_dbtp: float = CEILING_DBTP, genre: str | None = None, style: str = "",
              preset: MixPreset | None = None) -> tuple[dict[str, Audio], MixReport]:
    """Mix the stems as ``genre``'s preset says; returns float32 stems that sum to the mix, and a report.

    ``genre`` (the analysis's) and ``style`` (the score's drum style) choose the
    :class:`~mage_bridge.generate.mixpresets.MixPreset`
    (:func:`~mage_bridge.generate.mixpresets.preset_for`) unless ``preset`` is
    given. The report's loudness
    and true peak are those of the levelled sum before the safety fade (which
    only lowers the last 20 ms).
    """
    preset = preset or preset_for(genre, style)
    report = MixReport(target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp, preset=preset)
    frames = next(iter(raw.values())).shape[1]
    ducks = _duck_curves(raw, preset, report, sample_rate=sample_rate)
    return_fade = _return_fade(frames, sample_rate)

    def one_stem(name: str) -> tuple[np.ndarray, dict[str, Any]]:
        chain = preset.chain(name)
        x, done = clean_stem(raw[name], name=name, sample_rate=sample_rate, chain=chain)
        if name in ducks:
            x = x * ducks[name]
        if chain.reverb_send_db is not None:
            x = x + return_fade * reverb_return(x * np.float32(10.0 ** (chain.reverb_send_db / 20.0)),
                                                preset.reverb, sample_rate=sample_rate)
        return x, done

    # Steps 1-6 are independent per stem, and pedalboard and scipy's filters release the GIL.
    with ThreadPoolExecutor(max_workers=max(1, min(len(raw), os.cpu_count() or 1, 4))) as pool:
        stems: dict[str, np.ndarray] = {}
        for name, (x, done) in zip(raw, pool.map(one_stem, raw)):
            stems[name], report.stems[name] = x, done
    total = np.zeros((2, frames), dtype=np.float64)
    for x in stems.values():
        total += x
    glue, report.glue_max_reduction_db = glue_curve(total, preset.glue, sample_rate=sample_rate)
    total *= glue
    curve = _level(total, report, sample_rate=sample_rate,
                   peak_aim_dbtp=min(ceiling_dbtp, target_lufs + preset.max_plr_db))
    tail = min(int(0.1 * sample_rate), frames)
    tail_peak = float(np.max(np.abs(total[:, frames - tail:] * curve[frames - tail:]))) if tail else 0.0
    curve *= glue
    report.tail_peak_dbfs_before_fade = 20.0 * math.log10(tail_peak) if tail_peak > 0 else float("-inf")
    n = min(int(SAFETY_FADE_S * sample_rate), frames)
    if n:
        curve[frames - n:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, n))
    out = {name: Audio((x * curve).astype(np.float32), sample_rate) for name, x in stems.items()}
    return out, report


def _duck_curves(raw: dict[str, np.ndarray], preset: MixPreset, report: MixReport, *,
                 sample_rate: int) -> dict[str, np.ndarray]:
    """Step 5's sidechain gain per ducked stem (those whose chain has a ``duck_db``), from the drums' kicks.

    The kicks are found in the rendered drums stem (its low band; the mix
    stage's filters and compressor do not move them). Empty when nothing is
    ducked, there are no drums, or no kick was found.
    """
    ducked = [name for name in raw if preset.chain(name).duck_db > 0.0]
    if not ducked or "drums" not in raw:
        return {}
    kicks = kick_frames(np.asarray(raw["drums"], dtype=np.float32), sample_rate=sample_rate)
    report.kicks = int(kicks.size)
    if kicks.size == 0:
        return {}
    release_s = duck_release_s(kicks, sample_rate=sample_rate, share=preset.duck_release_share)
    report.duck_release_ms = round(1000.0 * release_s, 1)
    frames = raw["drums"].shape[1]
    return {name: duck_curve(kicks, frames, depth_db=preset.chain(name).duck_db, release_s=release_s,
                             sample_rate=sample_rate).astype(np.float32) for name in ducked}


def _level(total: np.ndarray, report: MixReport, *, sample_rate: int, peak_aim_dbtp: float) -> np.ndarray:
    """Step 8: the gain curve that brings ``total`` to the target loudness with its true peak under ``peak_aim_dbtp``.

    One gain when the peak allows it; otherwise gain-then-limit rounds with the
    true-peak limiter's gain curve, raising the gain by the loudness the
    limiting took away. An aim :data:`_EXACT_WITHIN_DB` or more under the
    ceiling (the preset's PLR aim) is held on the sample-peak envelope instead
    of the 4× oversampled one, raised by :data:`_INTER_SAMPLE_ALLOWANCE_DB`
    (inter-sample overs of the renders reach about 0.8 dB, far inside that gap;
    the oversampling was most of this step's time). The report's true peak is
    then that estimate.
    """
    frames = total.shape[1]
    target_lufs = report.target_lufs
    exact = peak_aim_dbtp > report.ceiling_dbtp - _EXACT_WITHIN_DB
    total32 = Audio(total.astype(np.float32), sample_rate)
    loudness = integrated_loudness(total32)
    gain_db = target_lufs - loudness if math.isfinite(loudness) else 0.0
    curve = np.full(frames, 10.0 ** (gain_db / 20.0))
    report.lufs = loudness + gain_db
    # A sample peak over the aim needs the limiter for sure: skip the (4× oversampling) true-peak reading.
    sample_peak = float(np.max(np.abs(total32.samples))) if frames else 0.0
    over = sample_peak > 0 and 20.0 * math.log10(sample_peak) + gain_db > peak_aim_dbtp - _MARGIN_DB
    if not over:
        report.true_peak_dbtp = gain_db + (true_peak_dbtp(total32) if exact
                                           else _db(sample_peak) + _INTER_SAMPLE_ALLOWANCE_DB)
        over = report.true_peak_dbtp > peak_aim_dbtp - _MARGIN_DB
    if over:
        if exact:
            level = envelope_db(total)
        else:
            with np.errstate(divide="ignore"):
                level = 20.0 * np.log10(np.max(np.abs(total), axis=0)) + _INTER_SAMPLE_ALLOWANCE_DB
        for _ in range(_LEVEL_ROUNDS):
            curve = np.full(frames, 10.0 ** (gain_db / 20.0))
            reduction, report.true_peak_dbtp = _limiter_reduction(
                level + gain_db, total * curve, sample_rate=sample_rate, ceiling_dbtp=peak_aim_dbtp, exact=exact)
            curve *= 10.0 ** (-reduction / 20.0)
            report.limiter_max_reduction_db = float(reduction.max())
            report.lufs = integrated_loudness(Audio((total * curve).astype(np.float32), sample_rate))
            # Limiting took some loudness away: raise the gain by the shortfall and limit again.
            shortfall = target_lufs - report.lufs
            if not shortfall > _LOUDNESS_TOLERANCE_LU:
                break
            gain_db += shortfall
    report.gain_db = gain_db
    report.limiter_ceiling_dbtp = peak_aim_dbtp
    return curve


def _db(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 0.0 else float("-inf")


def _limiter_reduction(level_db: np.ndarray, total: np.ndarray, *, sample_rate: int,
                       ceiling_dbtp: float, exact: bool = True) -> tuple[np.ndarray, float]:
    """The limiter's gain reduction (dB per frame) holding ``total`` under the ceiling, and the true peak it leaves.

    ``level_db`` is :func:`~mage_bridge.effects.limiter.envelope_db` of ``total``.
    The loop of :func:`~mage_bridge.effects.limiter.limit_true_peak`, keeping the
    gain curve instead of the limited audio so it can be applied to every stem.
    Without ``exact`` (a ceiling well under the mix's hard one: the PLR aim) the
    peak left is read from the envelope less the reduction instead of
    oversampling the limited sum again.
    """
    lookahead = max(1, round(_LOOKAHEAD_MS / 1000.0 * sample_rate))
    release = max(1, round(_RELEASE_MS / 1000.0 * sample_rate))
    aim = ceiling_dbtp - _MARGIN_DB
    reduction = np.zeros(level_db.shape)
    measured = float("nan")
    for _ in range(_MAX_PASSES):
        reduction = gain_reduction_db(level_db, ceiling_db=aim, lookahead_frames=lookahead, release_frames=release)
        if not exact:
            return reduction, float(np.max(level_db - reduction))
        measured = true_peak_dbtp(Audio((total * 10.0 ** (-reduction / 20.0)).astype(np.float32), sample_rate))
        if measured <= ceiling_dbtp - 0.01:
            break
        aim -= (measured - ceiling_dbtp) + _MARGIN_DB
    return reduction, measured
