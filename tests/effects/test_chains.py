from __future__ import annotations

import json

import numpy as np
import pytest

from mage_bridge.audio import Audio
from mage_bridge.config import Config
from mage_bridge.effects.chains import (
    DEFAULT,
    STEM_NAMES,
    UserPlugin,
    chain_for,
    de_ess,
    enhance_stem,
    load_user_plugins,
    load_vst3,
    preset_for,
    widen,
)
from mage_bridge.effects.voice import REGISTRY as VOICE
from mage_bridge.errors import BackendUnavailableError, InvalidInputError
from tests.effects.synth import stems as make_stems
from tests.signals import RATE, noise, sine


@pytest.mark.parametrize(("genre", "expected"), [
    ("house", "house"), ("deep house", "house"), ("Ambient", "ambient"), ("polka", "default"), (None, "default"),
])
def test_presets_follow_genre_names_and_fall_back(genre, expected):
    assert preset_for(genre).name == expected


def test_chains_are_readable_lists_per_stem():
    names = [type(p).__name__ for p in chain_for("vocals")]
    assert names[0] == "HighpassFilter" and "Compressor" in names and "Reverb" in names
    with pytest.raises(InvalidInputError, match="stem"):
        chain_for("guitar")


@pytest.mark.parametrize("stem", STEM_NAMES)
def test_enhance_keeps_shape_rate_and_finiteness(stem, rng):
    audio = make_stems(3.0, rng)[stem]
    out = enhance_stem(audio, stem, genre="ambient")
    assert out.samples.shape == audio.samples.shape and out.sample_rate == RATE
    assert np.isfinite(out.samples).all() and np.abs(out.samples).max() > 0


def _band_power(x: np.ndarray, lo_hz: float, hi_hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(x.mean(axis=0))) ** 2
    freqs = np.fft.rfftfreq(x.shape[1], 1 / RATE)
    return float(spectrum[(freqs >= lo_hz) & (freqs < hi_hz)].sum())


def test_de_esser_turns_down_sibilance_only(rng):
    voice = sine(300.0, 2.0, amplitude=0.3).samples.astype(np.float64)
    hiss = noise(2.0, rng, amplitude=0.2).samples.astype(np.float64)
    from scipy import signal

    hiss = signal.sosfilt(signal.butter(4, 6000, "highpass", fs=RATE, output="sos"), hiss, axis=1)
    mixed = Audio((voice + hiss).astype(np.float32), RATE)
    out = de_ess(mixed, threshold_db=-40.0, ratio=6.0).samples
    assert _band_power(out, 6000, 20000) < 0.3 * _band_power(mixed.samples, 6000, 20000)
    assert _band_power(out, 200, 400) == pytest.approx(_band_power(mixed.samples, 200, 400), rel=0.02)
    quiet = Audio((voice * 0.01).astype(np.float32), RATE)
    np.testing.assert_allclose(de_ess(quiet, threshold_db=-30.0).samples, quiet.samples, atol=1e-6)


def test_widen_scales_side_above_the_low_cut_and_keeps_mid(rng):
    x = rng.standard_normal((2, RATE)).astype(np.float32) * 0.1
    audio = Audio(x, RATE)
    wide = widen(audio, width=1.5).samples.astype(np.float64)
    np.testing.assert_allclose(wide.sum(axis=0), x.astype(np.float64).sum(axis=0), atol=1e-5)
    side_in = _band_power((x[:1] - x[1:]) / 2, 1000, 20000)
    side_out = _band_power((wide[:1] - wide[1:]) / 2, 1000, 20000)
    assert side_out == pytest.approx(2.25 * side_in, rel=0.05)
    mono = Audio(x[:1], RATE)
    assert widen(mono, width=2.0) is mono
    with pytest.raises(InvalidInputError, match="width"):
        widen(audio, width=5.0)


def test_vocals_are_never_widened():
    assert DEFAULT.stems["vocals"].width == 1.0


def test_plugin_preset_file_and_vst3_errors(tmp_path):
    preset = tmp_path / "plugins.json"
    preset.write_text(json.dumps({"vocals": [{"path": "fx/Missing.vst3", "parameters": {"mix": 0.5}}]}))
    plugins = load_user_plugins(preset)
    assert plugins["vocals"][0].path == (tmp_path / "fx" / "Missing.vst3").resolve()
    with pytest.raises(InvalidInputError, match="not found"):
        load_vst3(plugins["vocals"][0])
    fake = tmp_path / "Fake.vst3"
    fake.write_bytes(b"not a plugin")
    with pytest.raises((BackendUnavailableError, InvalidInputError), match="Fake.vst3"):
        load_vst3(UserPlugin(fake))
    with pytest.raises(InvalidInputError, match="stem name"):
        preset.write_text(json.dumps({"guitar": []}))
        load_user_plugins(preset)
    with pytest.raises(InvalidInputError, match="path"):
        preset.write_text(json.dumps({"all": [{"parameters": {}}]}))
        load_user_plugins(preset)
    with pytest.raises(InvalidInputError, match="not found"):
        load_user_plugins(tmp_path / "nope.json")


def test_voice_model_slots_say_not_installed(tmp_path):
    config = Config(models_dir=tmp_path)
    for status in VOICE.status(config):
        assert not status.available and "not installed" in status.reason
    with pytest.raises(BackendUnavailableError, match="not installed"):
        VOICE.create("clearervoice", config)
