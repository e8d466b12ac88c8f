"""The meters against ITU-R BS.1770-4's coefficients and EBU Tech 3341's test cases.

The EBU signals are generated here at 48 kHz (no stored files): cases 1-5 are
1 kHz stereo sines whose *peak* level is the stated dBFS; cases 15-19 are the
true-peak sines (frequency, amplitude, phase as in Tech 3341 v4, 3 s, with a
10 ms fade so the meter is not reading the ringing of a hard-cut edge).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mage_bridge.audio import Audio
from mage_bridge.effects.loudness import (
    integrated_loudness,
    k_weighting_sos,
    sample_peak_dbfs,
    short_term_loudness,
    true_peak_dbtp,
)
from tests.signals import RATE, fade


def _tone(level_dbfs: float, duration_s: float, freq_hz: float = 1000.0) -> np.ndarray:
    t = np.arange(int(round(duration_s * RATE))) / RATE
    return 10.0 ** (level_dbfs / 20.0) * np.sin(2.0 * np.pi * freq_hz * t)


def _stereo(x: np.ndarray) -> Audio:
    return Audio(np.tile(x, (2, 1)), RATE)


def _sequence(*segments: tuple[float, float]) -> Audio:
    return _stereo(np.concatenate([_tone(level, seconds) for level, seconds in segments]))


EBU_3341_LOUDNESS = [
    pytest.param([(-23.0, 20.0)], -23.0, id="case1-23dBFS-20s"),
    pytest.param([(-33.0, 20.0)], -33.0, id="case2-33dBFS-20s"),
    pytest.param([(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)], -23.0, id="case3-relative-gate"),
    pytest.param([(-72.0, 10.0), (-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0), (-72.0, 10.0)], -23.0,
                 id="case4-absolute-and-relative-gate"),
    pytest.param([(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)], -23.0, id="case5-26-20-26"),
]


@pytest.mark.parametrize(("segments", "expected_lufs"), EBU_3341_LOUDNESS)
def test_ebu_3341_integrated_loudness(segments, expected_lufs):
    assert integrated_loudness(_sequence(*segments)) == pytest.approx(expected_lufs, abs=0.1)


def test_ebu_3341_case9_short_term_loudness_is_constant():
    """Tech 3341 case 9: 1.34 s at -20 dBFS then 1.66 s at -30 dBFS, five times: every 3 s window
    holds one of each, so S reads -23.0 ±0.1 LUFS from the first full window to the last."""
    audio = _sequence(*[(-20.0, 1.34), (-30.0, 1.66)] * 5)
    s = short_term_loudness(audio, hop_s=0.1)
    assert len(s) == 121  # windows starting 0.0, 0.1 ... 12.0 s in 15 s
    assert np.all(np.abs(s - -23.0) <= 0.1), (s.min(), s.max())
    louder = short_term_loudness(_sequence((-20.0, 3.0), (-30.0, 3.0)), hop_s=3.0)
    assert louder == pytest.approx([-20.0, -30.0], abs=0.1)
    assert short_term_loudness(_sequence((-20.0, 2.9))).size == 0
    assert np.all(np.isneginf(short_term_loudness(Audio.silence(4 * RATE, RATE))))


EBU_3341_TRUE_PEAK = [
    pytest.param(4, 0.50, 0.0, -6.0, id="case15-fs/4-0deg"),
    pytest.param(4, 0.50, 45.0, -6.0, id="case16-fs/4-45deg"),
    pytest.param(6, 0.50, 60.0, -6.0, id="case17-fs/6-60deg"),
    pytest.param(8, 0.50, 67.5, -6.0, id="case18-fs/8-67.5deg"),
    pytest.param(4, 1.41, 45.0, 3.0, id="case19-fs/4-+3dBTP"),
]


@pytest.mark.parametrize(("divisor", "amplitude", "phase_deg", "expected_dbtp"), EBU_3341_TRUE_PEAK)
def test_ebu_3341_true_peak(divisor, amplitude, phase_deg, expected_dbtp):
    n = np.arange(3 * RATE)
    x = amplitude * np.sin(2.0 * np.pi * n / divisor + math.radians(phase_deg))
    measured = true_peak_dbtp(_stereo(fade(x, RATE)))
    assert expected_dbtp - 0.4 <= measured <= expected_dbtp + 0.2


def test_true_peak_reads_above_sample_peak_between_samples():
    n = np.arange(RATE)
    audio = _stereo(fade(0.5 * np.sin(2.0 * np.pi * n / 4 + math.pi / 4), RATE))
    assert sample_peak_dbfs(audio) == pytest.approx(-9.03, abs=0.01)
    assert true_peak_dbtp(audio) == pytest.approx(-6.02, abs=0.05)


def test_true_peak_is_exact_across_chunk_boundaries():
    x = np.zeros((2, (1 << 18) + 100))
    x[1, 1 << 18] = -0.25  # on the first sample of the second chunk
    assert true_peak_dbtp(Audio(x, RATE)) == pytest.approx(20 * math.log10(0.25), abs=0.005)


def test_k_weighting_matches_bs1770_tables_at_48k():
    sos = k_weighting_sos(48_000)
    shelf = [1.53512485958697, -2.69169618940638, 1.19839281085285, 1.0, -1.69065929318241, 0.73248077421585]
    highpass = [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621]
    np.testing.assert_allclose(sos, [shelf, highpass], atol=1e-8)


@pytest.mark.parametrize("rate", [32_000, 44_100, 88_200, 96_000])
def test_loudness_is_rate_independent(rate):
    t = np.arange(10 * rate) / rate
    x = 10 ** (-20 / 20) * np.sin(2 * np.pi * 1000 * t)
    assert integrated_loudness(Audio(np.tile(x, (2, 1)), rate)) == pytest.approx(-20.0, abs=0.05)


def test_silence_is_minus_infinity_and_nothing_is_undefined():
    silent = Audio.silence(RATE, RATE)
    assert integrated_loudness(silent) == float("-inf")
    assert true_peak_dbtp(silent) == float("-inf")
    assert sample_peak_dbfs(silent) == float("-inf")
    empty = Audio.silence(0, RATE)
    assert math.isnan(integrated_loudness(empty))  # no gating block at all
    assert true_peak_dbtp(empty) == float("-inf")


def test_below_absolute_gate_is_minus_infinity():
    assert integrated_loudness(_sequence((-80.0, 2.0))) == float("-inf")


def test_clip_shorter_than_one_block_has_no_loudness():
    # BS.1770 gates whole 400 ms blocks: under one block the figure is undefined, not made up.
    assert math.isnan(integrated_loudness(_sequence((-20.0, 0.2))))
    assert math.isnan(integrated_loudness(Audio(np.full((2, 1), 0.5, dtype=np.float32), RATE)))
    assert integrated_loudness(_sequence((-20.0, 0.4))) == pytest.approx(-20.0, abs=0.1)  # one block: defined


def test_mono_is_one_channel_not_dual_mono():
    mono = Audio(_tone(-20.0, 5.0)[None, :], RATE)
    assert integrated_loudness(mono) == pytest.approx(integrated_loudness(mono.to_stereo()) - 3.01, abs=0.02)
