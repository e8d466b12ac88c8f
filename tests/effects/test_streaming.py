"""Block-wise processing equals whole-signal processing: meters, resampler, limiter, master, enhance, file API.

Blocks are cut in awkward places (not multiples of a 100 ms hop, a 16-frame
limiter control block or a filter length; a block shorter than the filters'
context), on real music from ``tests/effects/synth.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mage_bridge import api
from mage_bridge import audio as audio_io
from mage_bridge.audio import Audio, map_blocks, resample, resample_blocks
from mage_bridge.config import Config
from mage_bridge.effects.chains import enhance_stem
from mage_bridge.effects.limiter import envelope_db, envelope_db_blocks, gain_reduction_blocks, gain_reduction_db
from mage_bridge.effects.loudness import LoudnessMeter, TruePeakMeter, integrated_loudness, true_peak_dbtp
from mage_bridge.effects.master import master
from tests.effects.synth import song
from tests.signals import RATE

#: Cut points as fractions of the signal, plus a few frames either side of them and a tiny block.
_AWKWARD = (0.0, 0.137, 0.137, 0.5, 0.73, 1.0)


def cut(samples: np.ndarray, offsets=(0, 7, 4799, 4801, 100_003, 100_010, 257_777)) -> list[np.ndarray]:
    """Blocks of ``samples`` split at ``offsets`` (clipped to its length) and then every 77 777 frames."""
    frames = samples.shape[-1]
    points = sorted({min(o, frames) for o in offsets} | set(range(257_777, frames, 77_777)) | {frames})
    return [samples[..., a:b] for a, b in zip(points, points[1:])]


@pytest.fixture(scope="module")
def music() -> Audio:
    return song(9.0, np.random.default_rng(21))


@pytest.fixture(scope="module")
def hot(music) -> Audio:
    return Audio(music.samples * np.float32(2.5), RATE)


@pytest.mark.parametrize("rate", [48_000, 44_100, 32_000, 22_050], ids=["48k", "44k1", "32k", "22k05"])
def test_blockwise_loudness_equals_whole_file(music, rate):
    audio = resample(music, rate)
    meter = LoudnessMeter(rate, 2)
    for block in cut(audio.samples):
        meter.add(block)
    assert meter.integrated_lufs() == pytest.approx(integrated_loudness(audio), abs=1e-6)  # goal: 0.01 LU


def test_blockwise_true_peak_equals_whole_file(hot):
    meter = TruePeakMeter(2)
    for block in cut(hot.samples):
        meter.add(block)
    assert meter.dbtp() == pytest.approx(true_peak_dbtp(hot), abs=1e-9)
    assert meter.sample_peak_dbfs() == pytest.approx(hot.peak_dbfs(), abs=1e-9)


@pytest.mark.parametrize("seconds", [0.3, 0.45], ids=["under-one-block", "one-block-and-a-bit"])
def test_short_clip_meters_in_blocks(seconds):
    clip = song(seconds, np.random.default_rng(2))
    meter = LoudnessMeter(RATE, 2)
    for block in cut(clip.samples, offsets=(0, 5, 999, 7000)):
        meter.add(block)
    if seconds < 0.4:  # no gating block: undefined, fed whole or in pieces
        assert math.isnan(meter.integrated_lufs()) and math.isnan(integrated_loudness(clip))
    else:
        assert meter.integrated_lufs() == pytest.approx(integrated_loudness(clip), abs=1e-9)


@pytest.mark.parametrize("rate", [44_100, 96_000, 8_000], ids=["44k1", "96k", "8k"])
def test_blockwise_resampling_equals_whole_file(music, rate):
    audio = resample(music, rate)
    whole = resample(audio, RATE).samples
    blocks = np.concatenate(list(resample_blocks(cut(audio.samples), rate, RATE, block_frames=20_000)), axis=1)
    assert blocks.shape == whole.shape
    np.testing.assert_allclose(blocks, whole, atol=1e-6)


def test_map_blocks_with_context_equals_the_whole_filter(rng):
    from scipy import ndimage

    x = rng.standard_normal(50_000)
    def fn(a):
        return ndimage.uniform_filter1d(a, size=41, mode="nearest")
    pieces = list(map_blocks(cut(x, offsets=(0, 3, 10, 11, 30_000)), fn, context_frames=20))
    np.testing.assert_allclose(np.concatenate(pieces), fn(x), atol=1e-12)


def test_blockwise_limiter_gain_has_no_seam(hot):
    level = envelope_db(hot.samples) + 6.0
    level_blocks = [b + 6.0 for b in envelope_db_blocks(cut(hot.samples))]
    np.testing.assert_array_equal(np.concatenate(level_blocks), level)
    whole = gain_reduction_db(level, ceiling_db=-1.0, lookahead_frames=72, release_frames=3840)
    blocks = np.concatenate(list(gain_reduction_blocks(cut(level), ceiling_db=-1.0, lookahead_frames=72,
                                                       release_frames=3840)))
    assert whole.max() > 3.0  # the limiter works hard here
    np.testing.assert_allclose(blocks, whole, atol=1e-9)
    # No click at a boundary: the gain curve's largest step is the same as without blocks.
    assert np.abs(np.diff(blocks)).max() == pytest.approx(np.abs(np.diff(whole)).max(), abs=1e-9)


@pytest.mark.parametrize("block_frames", [48_000 * 2 + 7, 123_457], ids=["2s+7", "123457"])
def test_blockwise_master_equals_whole_file(music, block_frames):
    whole = master(music)
    blocks = master(music, block_frames=block_frames)
    assert blocks.rounds == whole.rounds
    assert blocks.output_lufs == pytest.approx(whole.output_lufs, abs=1e-6)
    assert integrated_loudness(blocks.audio) == pytest.approx(-14.0, abs=0.1)
    assert true_peak_dbtp(blocks.audio) <= -1.0
    np.testing.assert_allclose(blocks.audio.samples, whole.audio.samples, atol=1e-6)


@pytest.mark.parametrize("stem", ["vocals", "drums", "other"])
def test_blockwise_enhance_equals_whole_file(music, stem):
    from mage_bridge.effects.chains import enhance_blocks

    whole = enhance_stem(music, stem).samples
    blocks = np.concatenate(list(enhance_blocks(cut(music.samples), stem, sample_rate=RATE)), axis=1)
    assert blocks.shape == whole.shape
    np.testing.assert_allclose(blocks, whole, atol=1e-5)


def test_file_api_master_streams_a_long_input(tmp_path):
    """A 70 s file read, mastered and written in 10 s blocks: targets met, no scratch left behind."""
    mix = song(70.0, np.random.default_rng(4))
    src = audio_io.save(Audio(mix.samples * np.float32(2.0), RATE), tmp_path / "long.wav", subtype="float")
    out = tmp_path / "long.master.wav"
    api.master(src, out, config=Config(models_dir=tmp_path / "m"))
    decoded = audio_io.load(out)
    assert decoded.frames == mix.frames
    assert integrated_loudness(decoded) == pytest.approx(-14.0, abs=0.1)
    assert true_peak_dbtp(decoded) <= -1.0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["long.wav", out.name, out.name + ".json"])
