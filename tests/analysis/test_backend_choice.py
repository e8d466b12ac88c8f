"""The config's ``backends.analysis`` (file or MAGE_ANALYSIS_BACKEND) chooses the analyser when a caller names none."""

from __future__ import annotations

import pytest

from mage_bridge.analysis import REGISTRY, analyze, create_analyzer
from mage_bridge.config import BackendChoice, Config, load_config
from mage_bridge.errors import BackendUnavailableError

# A prompt naming no genre: the rules fall back to a default, a model-backed analyser guesses one.
PROMPT = "music for a rainy night drive"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for var in ("MAGE_CONFIG", "MAGE_ANALYSIS_BACKEND", "MAGE_DATA_DIR", "MAGE_MODELS_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def test_backends_analysis_rules_is_what_analyze_uses(tmp_path) -> None:
    config = Config(data_dir=tmp_path, models_dir=tmp_path / "models", backends=BackendChoice(analysis="rules"))
    assert analyze(PROMPT, config=config).backend == "rules"
    assert create_analyzer(None, config).name == "rules"


def test_the_env_var_chooses_through_load_config(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MAGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MAGE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("MAGE_ANALYSIS_BACKEND", "rules")
    assert analyze(PROMPT, config=load_config()).backend == "rules"


def test_a_toml_choice_is_used_and_a_caller_may_override_it(tmp_path) -> None:
    f = tmp_path / "c.toml"
    f.write_text(f'data_dir = "{tmp_path}"\nmodels_dir = "{tmp_path / "models"}"\n[backends]\nanalysis = "rules"\n')
    assert analyze(PROMPT, config=load_config(f)).backend == "rules"
    # The config names a backend that cannot run here (no model folder); the caller's name wins.
    f.write_text(f'data_dir = "{tmp_path}"\nmodels_dir = "{tmp_path / "models"}"\n'
                 '[backends]\nanalysis = "transformers"\n')
    assert REGISTRY.why_unavailable("transformers", load_config(f)) is not None
    assert analyze(PROMPT, config=load_config(f), backend="rules").backend == "rules"


def test_a_configured_backend_that_cannot_run_is_an_error_not_a_fallback(tmp_path) -> None:
    config = Config(data_dir=tmp_path, models_dir=tmp_path / "models", backends=BackendChoice(analysis="transformers"))
    with pytest.raises(BackendUnavailableError, match="transformers"):
        analyze(PROMPT, config=config)
