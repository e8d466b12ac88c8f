from __future__ import annotations

from pathlib import Path

import pytest

from mage_bridge.config import DEFAULT_OSC_PORT, load_config
from mage_bridge.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for var in ("MAGE_CONFIG", "MAGE_DATA_DIR", "MAGE_PORT", "MAGE_MODELS_DIR", "MAGE_ALLOWED_ROOTS", "MAGE_LOG_DIR",
                "MAGE_LYRICS_BACKEND", "MAGE_LYRICS_MODEL_DIR", "MAGE_SEPARATE_BACKEND", "MAGE_STATE_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def test_defaults_without_a_file() -> None:
    c = load_config()
    assert c.server.host == "127.0.0.1" and c.server.port == DEFAULT_OSC_PORT
    assert c.backends.generate == "auto"


def test_file_then_env_then_overrides(tmp_path, monkeypatch) -> None:
    f = tmp_path / "c.toml"
    f.write_text('data_dir = "/tmp/a"\nallowed_roots = ["/tmp/x", "/tmp/y"]\n[server]\nport = 9200\n')
    c = load_config(f)
    assert c.data_dir == Path("/tmp/a") and c.server.port == 9200
    assert c.allowed_roots == (Path("/tmp/x"), Path("/tmp/y"))
    monkeypatch.setenv("MAGE_PORT", "9300")
    assert load_config(f).server.port == 9300
    assert load_config(f, **{"server.port": 9400}).server.port == 9400
    assert load_config(f, data_dir=None).data_dir == Path("/tmp/a")  # None = not given


@pytest.mark.parametrize("text,match", [
    ("data_dir = ", "cannot parse"),
    ("colour = 1", "unknown key"),
    ("[server]\nport = 'abc'", "server.port"),
    ("[server]\nport = true", "server.port"),
    ("server = 3", "must be a table"),
], ids=["syntax", "unknown-key", "bad-int", "bool-int", "not-a-table"])
def test_bad_config_names_the_problem(tmp_path, text: str, match: str) -> None:
    f = tmp_path / "c.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_config(f)


def test_explicit_missing_file_is_an_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")


def test_the_lyric_writer_and_its_model_folder(tmp_path, monkeypatch) -> None:
    c = load_config(models_dir=str(tmp_path / "m"))
    assert c.backends.lyrics == "auto" and c.lyrics.resolved_model_dir(c.models_dir) == tmp_path / "m" / "lyrics"
    f = tmp_path / "c.toml"
    f.write_text('[backends]\nlyrics = "embedded"\n[lyrics]\nmodel_dir = "/opt/lyrics"\ntries = 8\n')
    c = load_config(f)
    assert (c.backends.lyrics, c.lyrics.model_dir, c.lyrics.tries) == ("embedded", Path("/opt/lyrics"), 8)
    monkeypatch.setenv("MAGE_LYRICS_BACKEND", "transformers")
    monkeypatch.setenv("MAGE_LYRICS_MODEL_DIR", str(tmp_path / "mine"))
    c = load_config(f)
    assert c.backends.lyrics == "transformers" and c.lyrics.resolved_model_dir(c.models_dir) == tmp_path / "mine"
    f.write_text('[lyrics]\ntries = "many"\n')
    with pytest.raises(ConfigError, match="lyrics.tries"):
        load_config(f)


def test_stage_choices_come_from_the_file_and_the_env(tmp_path, monkeypatch) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[backends]\nseparate = "demucs"\nanalysis = "rules"\n')
    c = load_config(f)
    assert (c.backends.separate, c.backends.analysis, c.backends.generate) == ("demucs", "rules", "auto")
    monkeypatch.setenv("MAGE_SEPARATE_BACKEND", "dsp")
    assert load_config(f).backends.separate == "dsp"


def test_the_log_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    c = load_config(data_dir=str(tmp_path / "d"))
    assert c.resolved_log_dir == tmp_path / "d" / "state"  # on Linux the log stays beside the state
    assert load_config(state_dir=str(tmp_path / "s")).resolved_log_dir == tmp_path / "s"
    f = tmp_path / "c.toml"
    f.write_text(f'log_dir = "{tmp_path / "logs"}"\n')
    assert load_config(f).resolved_log_dir == tmp_path / "logs"
    monkeypatch.setenv("MAGE_LOG_DIR", str(tmp_path / "envlogs"))
    assert load_config(f).resolved_log_dir == tmp_path / "envlogs"


def test_the_live_table_and_its_env(tmp_path, monkeypatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[live]\ndevice = "Scarlett"\nbuffer_frames = 128\ncrossfade_beats = 2\nclock = "midi"\n'
                   'clips_dirs = ["~/clips", "/srv/clips"]\n')
    c = load_config(cfg)
    assert (c.live.device, c.live.buffer_frames, c.live.crossfade_beats, c.live.clock) == ("Scarlett", 128, 2.0, "midi")
    assert c.live.clips_dirs == (Path("~/clips").expanduser(), Path("/srv/clips"))
    monkeypatch.setenv("MAGE_LIVE_DEVICE", "JACK")
    assert load_config(cfg).live.device == "JACK"
    cfg.write_text('[live]\nbuffer_frames = "lots"\n')
    with pytest.raises(ConfigError, match="live.buffer_frames"):
        load_config(cfg)
