"""Splicing a regenerated window into its source: bit-identical outside, the edit inside, equal-gain fades."""

from __future__ import annotations

import numpy as np
import pytest

from mage_bridge.audio import Audio
from mage_bridge.errors import InvalidAudioError, InvalidInputError
from mage_bridge.generate.acestep.splice import fade_in, splice, splice_stems


def test_outside_is_the_source_bit_for_bit_and_inside_the_edit(rng: np.random.Generator) -> None:
    source = rng.standard_normal((2, 1000)).astype(np.float32)
    edited = rng.standard_normal((2, 1000)).astype(np.float32)
    out = splice(source, edited, 300, 600, 50)
    assert out.dtype == np.float32 and out.shape == source.shape
    assert np.array_equal(out[:, :250], source[:, :250]) and np.array_equal(out[:, 650:], source[:, 650:])
    assert np.array_equal(out[:, 300:600], edited[:, 300:600])
    fade = out[:, 250:300]
    assert not np.array_equal(fade, source[:, 250:300]) and not np.array_equal(fade, edited[:, 250:300])


def test_the_fades_are_equal_gain_and_move_monotonically() -> None:
    ramp = fade_in(64)
    assert np.all(np.diff(ramp) > 0) and 0 < ramp[0] < 0.01 and 0.99 < ramp[-1] < 1
    np.testing.assert_allclose(ramp + ramp[::-1], 1.0, atol=1e-12)  # in and out sum to one
    ones = np.ones((2, 400), np.float32)
    out = splice(ones, np.zeros((2, 400), np.float32), 100, 300, 64)
    assert np.all(np.diff(out[0, 36:100]) < 0) and np.all(np.diff(out[0, 300:364]) > 0)
    # the same material on both sides stays at its level through the fades (no equal-power bulge)
    same = splice(ones, ones.copy(), 100, 300, 64)
    np.testing.assert_allclose(same, 1.0, atol=1e-6)


def test_fades_are_clamped_at_the_clip_edges(rng: np.random.Generator) -> None:
    source = rng.standard_normal((2, 500)).astype(np.float32)
    edited = rng.standard_normal((2, 500)).astype(np.float32)
    out = splice(source, edited, 10, 500, 100)
    assert np.array_equal(out[:, 10:], edited[:, 10:])
    assert not np.array_equal(out[:, :10], source[:, :10])
    assert np.array_equal(splice(source, edited, 0, 500, 100), edited)


def test_bad_windows_and_shapes_are_refused(rng: np.random.Generator) -> None:
    a = rng.standard_normal((2, 100)).astype(np.float32)
    with pytest.raises(InvalidInputError):
        splice(a, a, 50, 50, 0)
    with pytest.raises(InvalidInputError):
        splice(a, a, 10, 101, 0)
    with pytest.raises(InvalidAudioError):
        splice(a, a[:, :99], 10, 20, 0)


def test_stems_are_spliced_one_by_one(rng: np.random.Generator) -> None:
    src = {n: Audio(rng.standard_normal((2, 800)).astype(np.float32) * 0.1, 48_000) for n in ("drums", "bass")}
    new = {n: Audio(rng.standard_normal((2, 800)).astype(np.float32) * 0.1, 48_000) for n in ("drums", "bass")}
    out = splice_stems(src, new, 200, 400, 20)
    for name in src:
        assert np.array_equal(out[name].samples[:, :180], src[name].samples[:, :180])
        assert np.array_equal(out[name].samples[:, 420:], src[name].samples[:, 420:])
        assert np.array_equal(out[name].samples[:, 200:400], new[name].samples[:, 200:400])
    with pytest.raises(InvalidAudioError, match="bass"):
        splice_stems(src, {"drums": new["drums"]}, 200, 400, 20)
