"""Separation of long inputs in crossfaded segments: stems still sum to the input, short inputs are unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from mage_bridge.audio import Audio
from mage_bridge.progress import STEM_NAMES
from mage_bridge.separate import separate_blocks
from mage_bridge.separate.dsp import DspSeparator
from tests.effects.synth import song
from tests.signals import RATE


def _joined(pieces):
    pieces = list(pieces)
    return {name: np.concatenate([p[name] for p in pieces], axis=1) for name in STEM_NAMES}


@pytest.fixture(scope="module")
def mixture() -> np.ndarray:
    return song(10.0, np.random.default_rng(17)).samples


@pytest.mark.parametrize(("segment_frames", "crossfade_frames"), [
    (3 * RATE + 5, RATE // 2), (RATE * 4, 0), (2 * RATE, 3 * RATE // 2 + 3),
], ids=["3s+5_fade0.5s", "4s_nofade", "fade_most_of_segment"])
def test_segmented_dsp_stems_sum_to_the_input(mixture, segment_frames, crossfade_frames):
    frames = mixture.shape[1]
    blocks = [mixture[:, a:b] for a, b in ((0, 7), (7, 33_333), (33_333, 250_001), (250_001, frames))]
    stems = _joined(separate_blocks(DspSeparator(), blocks, frames=frames, segment_frames=segment_frames,
                                    crossfade_frames=crossfade_frames))
    assert all(s.shape == mixture.shape and s.dtype == np.float32 for s in stems.values())
    total = sum(s.astype(np.float64) for s in stems.values())
    np.testing.assert_allclose(total, mixture, atol=1e-5)


def test_input_within_one_segment_is_one_call(mixture):
    whole = DspSeparator().separate(Audio(mixture, RATE))
    stems = _joined(separate_blocks(DspSeparator(), [mixture[:, :100_000], mixture[:, 100_000:]],
                                    frames=mixture.shape[1]))
    for name in STEM_NAMES:
        np.testing.assert_array_equal(stems[name], whole[name].samples)


def test_segments_join_without_a_click(mixture):
    """At a segment seam the stems move no more from sample to sample than elsewhere in them."""
    frames = mixture.shape[1]
    segment, fade = 3 * RATE, RATE // 4
    stems = _joined(separate_blocks(DspSeparator(), [mixture], frames=frames, segment_frames=segment,
                                    crossfade_frames=fade))
    for name in STEM_NAMES:
        step = np.abs(np.diff(stems[name], axis=1)).max(axis=0)
        seam = segment - fade
        assert step[seam - fade: seam + fade].max() <= step.max() + 1e-6
        assert step[seam - fade: seam + fade].max() <= 4 * np.percentile(step, 99.9)


def test_bad_crossfade_is_refused(mixture):
    with pytest.raises(ValueError, match="crossfade_frames"):
        list(separate_blocks(DspSeparator(), [mixture], frames=mixture.shape[1], segment_frames=RATE,
                             crossfade_frames=RATE))
