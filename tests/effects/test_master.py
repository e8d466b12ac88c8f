from __future__ import annotations

import math

import numpy as np
import pytest

from mage_bridge.audio import Audio
from mage_bridge.effects.limiter import limit_true_peak
from mage_bridge.effects.loudness import integrated_loudness, true_peak_dbtp
from mage_bridge.effects.master import PRESETS, master
from mage_bridge.errors import InvalidInputError
from tests.effects.synth import song
from tests.signals import RATE, sine


@pytest.fixture(scope="module")
def music() -> Audio:
    return song(8.0, np.random.default_rng(7))


@pytest.mark.parametrize("preset", list(PRESETS), ids=list(PRESETS))
def test_presets_hit_loudness_and_true_peak(music, preset):
    spec = PRESETS[preset]
    result = master(music, preset=preset)
    assert integrated_loudness(result.audio) == pytest.approx(spec.target_lufs, abs=0.1)
    assert true_peak_dbtp(result.audio) <= spec.true_peak_dbtp
    assert result.output_lufs == pytest.approx(integrated_loudness(result.audio))


def test_custom_target_and_ceiling(music):
    result = master(music, target_lufs=-11.0, true_peak_dbtp=-2.0)
    assert result.output_lufs == pytest.approx(-11.0, abs=0.1)
    assert result.output_true_peak_dbtp <= -2.0
    assert result.max_limiter_reduction_db > 0.0


def test_silence_stays_silent():
    silent = Audio.silence(RATE * 2, RATE)
    result = master(silent)
    assert not result.audio.samples.any()
    assert result.output_lufs == float("-inf")
    assert "silent" in result.notes[0]


@pytest.mark.parametrize("frames", [1, 12_000], ids=["1-sample", "250ms"])
def test_clips_under_one_gating_block_are_left_unchanged_with_undefined_loudness(frames):
    clip = song(1.0, np.random.default_rng(3))
    clip = Audio(clip.samples[:, :frames].copy(), clip.sample_rate)
    result = master(clip)
    assert math.isnan(result.input_lufs) and math.isnan(result.output_lufs)  # not the -14 LUFS target
    assert "undefined" in result.notes[0]
    np.testing.assert_array_equal(result.audio.samples, clip.samples)


@pytest.mark.parametrize("duration_s", [0.4, 1.0, 2.5], ids=["400ms", "1s", "2.5s"])
def test_short_clips(duration_s):
    clip = song(duration_s, np.random.default_rng(3))
    result = master(clip)
    assert result.output_lufs == pytest.approx(-14.0, abs=0.1)
    assert result.output_true_peak_dbtp <= -1.0
    assert result.audio.frames == clip.frames


def test_mono_is_duplicated_and_rate_kept():
    tone = Audio(sine(440.0, 3.0, amplitude=0.05, rate=44_100).samples[:1], 44_100)
    result = master(tone, tonal_balance=False, glue=False)
    assert result.audio.channels == 2 and result.audio.sample_rate == 44_100
    assert result.output_lufs == pytest.approx(-14.0, abs=0.1)
    assert "mono" in result.notes[0]


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"target_lufs": -80.0}, "target_lufs"),
    ({"true_peak_dbtp": 3.0}, "true_peak_dbtp"),
    ({"preset": "spotify"}, "preset"),
], ids=["lufs", "ceiling", "preset"])
def test_bad_arguments_name_themselves(music, kwargs, name):
    with pytest.raises(InvalidInputError, match=name):
        master(music, **kwargs)


def test_limiter_holds_ceiling_and_leaves_quiet_audio_alone(rng):
    hot = Audio((rng.standard_normal((2, RATE * 2)) * 0.5).astype(np.float32), RATE)
    limited = limit_true_peak(hot, ceiling_dbtp=-1.0)
    assert -1.3 <= limited.true_peak_dbtp <= -1.0
    assert true_peak_dbtp(limited.audio) <= -1.0
    quiet = Audio(hot.samples * np.float32(0.01), RATE)
    untouched = limit_true_peak(quiet, ceiling_dbtp=-1.0)
    assert untouched.audio is quiet and untouched.passes == 0
