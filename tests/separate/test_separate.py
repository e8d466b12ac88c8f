from __future__ import annotations

import warnings

import numpy as np
import pytest

from mage_bridge.audio import Audio, mix
from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError, InvalidInputError
from mage_bridge.progress import STEM_NAMES
from mage_bridge.separate import REGISTRY, create_separator
from mage_bridge.separate.dsp import DspSeparator
from tests.effects.synth import stems as make_stems
from tests.signals import RATE, sine


def global_sdr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """10·log10(Σs² / Σ(s − ŝ)²)."""
    reference = reference.astype(np.float64)
    return float(10 * np.log10(np.sum(reference**2) / np.sum((reference - estimate.astype(np.float64)) ** 2)))


@pytest.fixture(scope="module")
def known() -> tuple[dict[str, Audio], Audio]:
    stems = make_stems(12.0, np.random.default_rng(11))
    return stems, mix(stems)


@pytest.fixture(scope="module")
def dsp_estimates(known):
    return DspSeparator().separate(known[1])


def test_dsp_stems_sum_to_the_input(known, dsp_estimates):
    total = sum(s.samples.astype(np.float64) for s in dsp_estimates.values())
    np.testing.assert_allclose(total, known[1].samples, atol=1e-6)
    assert list(dsp_estimates) == list(STEM_NAMES)
    assert all(s.sample_rate == RATE and s.frames == known[1].frames and s.channels == 2
               for s in dsp_estimates.values())


@pytest.mark.parametrize("name", STEM_NAMES)
def test_dsp_beats_the_mixture_as_estimate(known, dsp_estimates, name):
    stems, mixture = known
    baseline = global_sdr_db(stems[name].samples, mixture.samples)
    assert global_sdr_db(stems[name].samples, dsp_estimates[name].samples) > baseline + 3.0


def test_dsp_converts_mono_44k_to_48k_stereo():
    tone = Audio(sine(220.0, 2.0, rate=44_100).samples[:1], 44_100)
    stems = DspSeparator().separate(tone)
    expected_frames = 96_000
    assert all(s.sample_rate == RATE and s.channels == 2 and s.frames == expected_frames for s in stems.values())
    total = sum(s.samples.astype(np.float64) for s in stems.values())
    from mage_bridge.audio import resample

    np.testing.assert_allclose(total, resample(tone.to_stereo(), RATE).samples, atol=1e-6)


def test_dsp_silence_and_tiny_input():
    for frames in (0, 10, RATE // 10):
        stems = DspSeparator().separate(Audio.silence(frames, RATE))
        assert all(s.frames == frames and not s.samples.any() for s in stems.values())
    clicks = np.zeros((2, 300), dtype=np.float32)
    clicks[:, 100] = 0.5
    stems = DspSeparator().separate(Audio(clicks, RATE))
    np.testing.assert_allclose(sum(s.samples for s in stems.values()), clicks, atol=1e-6)


def test_dsp_rejects_bad_options():
    with pytest.raises(InvalidInputError, match="n_fft"):
        DspSeparator(n_fft=1000)


def test_auto_without_weights_is_dsp_and_demucs_names_the_files(tmp_path):
    config = Config(models_dir=tmp_path / "models")
    assert type(create_separator("auto", config)).__name__ == "DspSeparator"
    reason = REGISTRY.why_unavailable("demucs", config)
    assert "955717e8-8726e21a.th" in reason and "htdemucs.yaml" in reason and str(tmp_path) in reason
    with pytest.raises(BackendUnavailableError, match="955717e8"):
        create_separator("demucs", config)


@pytest.fixture(scope="module")
def tiny_repo(tmp_path_factory):
    pytest.importorskip("demucs")
    from tests.separate.tiny_demucs import make_tiny_demucs_repo

    models = tmp_path_factory.mktemp("models")
    make_tiny_demucs_repo(models / "demucs", segment_s=1.0)
    return models


def test_demucs_adapter_runs_a_random_htdemucs_from_a_local_repo(tiny_repo):
    config = Config(models_dir=tiny_repo)
    separator = create_separator("demucs", config, model="tiny_htdemucs")
    audio = Audio(sine(330.0, 2.6, rate=44_100).samples[:1], 44_100)  # mono, 44.1 kHz, > 2 segments
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stems = separator.separate(audio)
    assert list(stems) == list(STEM_NAMES)
    frames = int(np.ceil(audio.frames * RATE / 44_100))
    for stem in stems.values():
        assert stem.sample_rate == RATE and stem.channels == 2 and stem.frames == frames
        assert np.isfinite(stem.samples).all()
    assert separator.details()["model"] == "tiny_htdemucs"


def test_auto_picks_demucs_when_its_default_weights_are_present(tmp_path):
    pytest.importorskip("demucs")
    from tests.separate.tiny_demucs import make_tiny_demucs_repo

    make_tiny_demucs_repo(tmp_path / "demucs", name="htdemucs")
    separator = create_separator("auto", Config(models_dir=tmp_path))
    assert separator.name == "demucs"
