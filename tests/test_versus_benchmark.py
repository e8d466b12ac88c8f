"""The judging helpers of benchmarks/versus.py: what counts as right, and the independent true-peak reading."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.versus import RATE, independent_true_peak, key_class, tempo_class


@pytest.mark.parametrize(("measured", "truth", "compound", "label"), [
    (120.0, 120.0, False, "right"),
    (122.3, 120.0, False, "right"),  # 1.9 %: inside 2 %
    (117.5, 120.0, False, "wrong"),  # 2.1 %: librosa's frame-grid reading of 120 BPM
    (60.0, 120.0, False, "octave"),
    (240.0, 120.0, False, "octave"),
    (180.0, 120.0, False, "metre"),
    (80.0, 120.0, False, "metre"),
    (80.0, 120.0, True, "right"),  # the dotted-quarter beat of 6/8 at 120 quarter-note BPM
    (0.0, 120.0, False, "wrong"),
], ids=str)
def test_tempo_class(measured: float, truth: float, compound: bool, label: str) -> None:
    assert tempo_class(measured, truth, compound=compound) == label


@pytest.mark.parametrize(("measured", "truth", "label"), [
    ((0, "major"), (0, "major"), "exact"),
    ((9, "minor"), (0, "major"), "relative"),  # A minor for C major
    ((0, "major"), (9, "minor"), "relative"),
    ((7, "major"), (0, "major"), "fifth"),
    ((5, "minor"), (0, "minor"), "fifth"),
    ((0, "minor"), (0, "major"), "parallel"),
    ((2, "major"), (0, "major"), "other"),
], ids=str)
def test_key_class(measured: tuple[int, str], truth: tuple[int, str], label: str) -> None:
    assert key_class(measured, truth) == label


def test_independent_true_peak_finds_the_peak_between_samples() -> None:
    # EBU Tech 3341 case 16: fs/4 at 45 degrees, every sample at 0.354 while the waveform peaks at 0.5.
    n = np.arange(RATE)
    x = 0.5 * np.sin(2 * np.pi * n / 4 + math.pi / 4)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, 480))
    x[:480] *= ramp
    x[-480:] *= ramp[::-1]
    up = independent_true_peak(np.stack([x, -x]))
    assert up.shape == (2, 4 * RATE)
    assert np.abs(x).max() == pytest.approx(0.3536, abs=1e-3)
    assert up.max() == pytest.approx(0.5, abs=1e-3)
