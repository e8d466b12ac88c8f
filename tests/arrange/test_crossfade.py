"""Crossfades on arrays: exact lengths, the curves' sums, and loudness through an equal-power fade."""

from __future__ import annotations

import numpy as np
import pytest

from mage_bridge.arrange.crossfade import Placed, assemble, crossfade, fade_curves
from mage_bridge.audio import Audio
from mage_bridge.effects.loudness import integrated_loudness, short_term_loudness
from mage_bridge.errors import InvalidInputError
from tests.signals import RATE, noise, sine


@pytest.mark.parametrize(("a_s", "b_s", "fade_frames"), [(8.0, 8.0, 96_000), (5.3, 2.01, 1), (3.0, 4.0, 144_000),
                                                         (2.0, 2.0, 0)], ids=["2s", "one-frame", "whole-a", "cut"])
@pytest.mark.parametrize("kind", ["equal-power", "constant-gain"])
def test_length_is_a_plus_b_minus_fade_exactly(a_s: float, b_s: float, fade_frames: int, kind: str) -> None:
    a, b = sine(220.0, a_s), sine(330.0, b_s)
    out = crossfade(a, b, fade_frames=fade_frames, kind=kind)
    assert out.frames == a.frames + b.frames - fade_frames
    np.testing.assert_array_equal(out.samples[:, : a.frames - fade_frames], a.samples[:, : a.frames - fade_frames])
    np.testing.assert_array_equal(out.samples[:, a.frames:], b.samples[:, fade_frames:])


def test_equal_power_keeps_power_and_constant_gain_keeps_amplitude() -> None:
    out_p, in_p = fade_curves(4800, "equal-power")
    out_g, in_g = fade_curves(4800, "constant-gain")
    np.testing.assert_allclose(out_p ** 2 + in_p ** 2, 1.0, atol=1e-12)
    np.testing.assert_allclose(out_g + in_g, 1.0, atol=1e-12)
    np.testing.assert_allclose(out_p, in_p[::-1], atol=1e-12)  # symmetric about the middle
    assert 0.0 < in_p[0] < 0.001 and 0.999 < in_p[-1] < 1.0


def test_a_beat_matched_fade_of_the_same_material_keeps_its_level_exactly() -> None:
    tone = sine(440.0, 6.0)
    out = crossfade(tone, tone, fade_frames=tone.frames, kind="constant-gain")
    np.testing.assert_allclose(out.samples, tone.samples, atol=2e-7)
    swelled = crossfade(tone, tone, fade_frames=tone.frames, kind="equal-power")
    assert np.max(np.abs(swelled.samples)) / np.max(np.abs(tone.samples)) == pytest.approx(np.sqrt(2), abs=0.01)


@pytest.mark.parametrize("fade_s", [2.0, 4.0])
def test_short_term_loudness_through_an_equal_power_fade_of_unrelated_noise_stays_within_1_lu(
        fade_s: float, rng: np.random.Generator) -> None:
    a, b = noise(10.0, rng, amplitude=0.1), noise(10.0, rng, amplitude=0.1)
    level = integrated_loudness(a)
    assert integrated_loudness(b) == pytest.approx(level, abs=0.1)
    fade = int(fade_s * RATE)
    power = crossfade(a, b, fade_frames=fade, kind="equal-power")
    s = short_term_loudness(Audio(power.samples[:, RATE:-RATE], RATE))  # past the noises' 10 ms edge fades
    assert np.all(np.abs(s - level) <= 1.0), (s.min() - level, s.max() - level)
    assert np.max(np.abs(s - level)) < 0.3
    # The meter sees a dip where there is one: a linear fade of uncorrelated noise loses 3 dB in its middle.
    gain = crossfade(a, b, fade_frames=fade, kind="constant-gain")
    dip = short_term_loudness(Audio(gain.samples[:, RATE:-RATE], RATE)).min() - level
    assert dip < (-1.0 if fade_s == 4.0 else -0.8)


def test_assemble_refuses_what_does_not_fit() -> None:
    tone = sine(440.0, 1.0)
    with pytest.raises(InvalidInputError, match="fades of 30000 \\+ 30000 frames do not fit its 48000 frames"):
        assemble([Placed(tone, 0, fade_in=30_000, fade_out=30_000)])
    with pytest.raises(InvalidInputError, match="fade_frames must be from 0 to the shorter clip's 48000"):
        crossfade(tone, sine(440.0, 2.0), fade_frames=48_001, kind="equal-power")
    with pytest.raises(InvalidInputError, match="fade kind must be one of equal-power, constant-gain"):
        fade_curves(10, "linear")
