"""VST3 hosting with a real plugin: MageTestGain, built from ``vst3_gain/`` by the ``gain_vst3`` fixture.

The plugin multiplies by 10^(gain_db / 20) without smoothing, so every check is an exact level change: on a sine
through :func:`load_vst3`, through the enhance API on a stem folder, and through the ``mage-bridge enhance`` command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mage_bridge import api, manifest
from mage_bridge import audio as audio_io
from mage_bridge.config import Config
from mage_bridge.effects.chains import UserPlugin, load_user_plugins, load_vst3
from mage_bridge.errors import InvalidInputError
from tests.signals import RATE, chirp, clicks, sine

_SCRIPT = Path(sys.executable).with_name("mage-bridge")
CLI = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "mage_bridge.cli"]


def level_change_db(after: np.ndarray, before: np.ndarray) -> float:
    return float(20.0 * np.log10(np.sqrt(np.mean(after.astype(np.float64) ** 2))
                                 / np.sqrt(np.mean(before.astype(np.float64) ** 2))))


def write_preset(path: Path, plugin: Path, *, stem: str = "vocals", **parameters: object) -> Path:
    path.write_text(json.dumps({stem: [{"path": str(plugin), "parameters": parameters}]}))
    return path


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "data", models_dir=tmp_path / "models")


def run_cli(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp / "xdg"), MAGE_DATA_DIR=str(tmp / "data"))
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("gain_db", [-6.0, -24.0, 0.0, 12.0], ids=["minus6", "min", "unity", "max"])
def test_loaded_plugin_changes_a_sine_by_its_gain(gain_vst3, gain_db):
    plugin = load_vst3(UserPlugin(gain_vst3, {"gain_db": gain_db}))
    assert list(plugin.parameters) == ["gain_db"]
    # pedalboard snaps a value to the nearest of 1001 it read from the plugin's text (0.0 lands on +0.012 dB).
    assert plugin.gain_db == pytest.approx(gain_db, abs=0.02)
    tone = sine(1000.0, 1.0, amplitude=0.25)
    out = plugin(tone.samples, tone.sample_rate)
    assert out.shape == tone.samples.shape
    assert level_change_db(out, tone.samples) == pytest.approx(gain_db, abs=0.05)
    np.testing.assert_allclose(out, tone.samples * 10.0 ** (plugin.gain_db / 20.0), atol=1e-5)


def test_default_parameters_leave_the_signal_unchanged(gain_vst3):
    tone = sine(440.0, 0.5, amplitude=0.5)
    out = load_vst3(UserPlugin(gain_vst3))(tone.samples, tone.sample_rate)
    np.testing.assert_allclose(out, tone.samples, atol=1e-6)


@pytest.mark.parametrize(("key", "vocals_db", "drums_db"), [("vocals", -6.0, 0.0), ("all", -6.0, -6.0)],
                         ids=["one-stem", "all-stems"])
def test_enhance_stem_folder_applies_the_plugin_where_the_preset_says(gain_vst3, tmp_path, config, key,
                                                                     vocals_db, drums_db):
    stems = tmp_path / "stems"
    stems.mkdir()
    audio_io.save(chirp(200.0, 4000.0, 2.0, amplitude=0.3), stems / "vocals.wav", subtype="float")
    audio_io.save(clicks(120.0, 2.0, amplitude=0.5), stems / "drums.wav", subtype="float")
    preset = write_preset(tmp_path / "plugins.json", gain_vst3, stem=key, gain_db=-6.0)

    plain = api.enhance(stems, tmp_path / "plain", config=config).parent
    with_plugin = api.enhance(stems, tmp_path / "with", options={"plugins": str(preset)}, config=config)

    # The plugin runs after the stem's own chain, and width is linear: the difference is the plugin alone.
    for name, expected_db in (("vocals", vocals_db), ("drums", drums_db)):
        before = audio_io.load(plain / f"{name}.wav").samples
        after = audio_io.load(with_plugin.parent / f"{name}.wav").samples
        assert level_change_db(after, before) == pytest.approx(expected_db, abs=0.05), name
        np.testing.assert_allclose(after, before * 10.0 ** (expected_db / 20.0), atol=1e-4)
    assert manifest.read(with_plugin)["request"]["options"]["plugins"] == str(preset)


def test_cli_enhance_with_plugins(gain_vst3, tmp_path):
    stem = tmp_path / "bass.wav"
    audio_io.save(sine(110.0, 2.0, amplitude=0.4), stem, subtype="float")
    preset = write_preset(tmp_path / "plugins.json", gain_vst3, stem="bass", gain_db=-9.0)

    plain = run_cli("enhance", str(stem), "--out", str(tmp_path / "plain.wav"), "--quiet", tmp=tmp_path)
    assert plain.returncode == 0, plain.stderr
    p = run_cli("enhance", str(stem), "--out", str(tmp_path / "with.wav"), "--plugins", str(preset), "--quiet",
                tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    assert Path(p.stdout.strip()) == tmp_path / "with.wav.json"
    before = audio_io.load(tmp_path / "plain.wav")
    after = audio_io.load(tmp_path / "with.wav")
    assert after.sample_rate == RATE and after.channels == 2
    assert level_change_db(after.samples, before.samples) == pytest.approx(-9.0, abs=0.05)


@pytest.mark.parametrize(("parameters", "message"), [
    ({"volume_db": -6.0}, r"no parameter 'volume_db'; it has: gain_db"),
    ({"gain_db": 20.0}, r"cannot set gain_db=20\.0: .*out of range \[-24\.0dB, 12\.0dB\]"),
    ({"gain_db": "loud"}, r"cannot set gain_db='loud'"),
], ids=["unknown-name", "out-of-range", "not-a-number"])
def test_bad_parameters_are_refused_by_name(gain_vst3, tmp_path, parameters, message):
    with pytest.raises(InvalidInputError, match=message):
        load_vst3(UserPlugin(gain_vst3, parameters))
    preset = write_preset(tmp_path / "plugins.json", gain_vst3, **parameters)
    with pytest.raises(InvalidInputError, match=message):
        load_vst3(load_user_plugins(preset)["vocals"][0])


def test_cli_bad_parameter_is_one_error_line_and_no_output(gain_vst3, tmp_path):
    stem = tmp_path / "vocals.wav"
    audio_io.save(sine(440.0, 0.5), stem, subtype="float")
    preset = write_preset(tmp_path / "plugins.json", gain_vst3, volume_db=-6.0)
    p = run_cli("enhance", str(stem), "--out", str(tmp_path / "out.wav"), "--plugins", str(preset), tmp=tmp_path)
    assert p.returncode != 0
    assert "Traceback" not in p.stderr, p.stderr
    errors = [line for line in p.stderr.splitlines() if line.startswith("mage-bridge: error:")]
    assert len(errors) == 1, p.stderr
    assert "volume_db" in errors[0] and "gain_db" in errors[0]
    assert not (tmp_path / "out.wav").exists() and not (tmp_path / "out.wav.json").exists()


def test_plugins_are_checked_before_any_audio_is_read(gain_vst3, tmp_path, config):
    # the input does not exist: the plugin's bad parameter is what the user hears of first
    preset = write_preset(tmp_path / "plugins.json", gain_vst3, volume_db=-6.0)
    with pytest.raises(InvalidInputError, match="volume_db"):
        api.enhance(tmp_path / "missing.wav", tmp_path / "out.wav", options={"plugins": str(preset)},
                            config=config)
    assert not (tmp_path / "out.wav").exists()
