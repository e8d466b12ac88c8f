"""The config chooses the separator when a caller names none; unknown options are errors; no torch for a status."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mage_bridge.config import BackendChoice, Config, load_config
from mage_bridge.errors import BackendUnavailableError, InvalidInputError
from mage_bridge.separate import create_separator

ROOT = Path(__file__).resolve().parents[2]
needs_demucs = pytest.mark.skipif(importlib.util.find_spec("demucs") is None or importlib.util.find_spec("torch")
                                  is None, reason="demucs and torch are not installed")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for var in ("MAGE_CONFIG", "MAGE_SEPARATE_BACKEND", "MAGE_MODELS_DIR", "MAGE_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """A models folder whose Demucs default model (``htdemucs``) is the tiny random one."""
    if importlib.util.find_spec("demucs") is None:
        pytest.skip("demucs is not installed")
    from tests.separate.tiny_demucs import make_tiny_demucs_repo

    folder = tmp_path_factory.mktemp("models")
    make_tiny_demucs_repo(folder / "demucs", name="htdemucs", segment_s=1.0)
    return folder


@needs_demucs
def test_env_var_demucs_is_what_the_factory_builds(models, monkeypatch) -> None:
    monkeypatch.setenv("MAGE_MODELS_DIR", str(models))
    monkeypatch.setenv("MAGE_SEPARATE_BACKEND", "demucs")
    separator = create_separator(None, load_config())
    assert separator.name == "demucs" and separator.details()["model"] == "htdemucs"


@needs_demucs
def test_toml_demucs_is_what_the_factory_builds(models, tmp_path) -> None:
    f = tmp_path / "c.toml"
    f.write_text(f'models_dir = "{models}"\n[backends]\nseparate = "demucs"\n')
    assert create_separator(None, load_config(f)).name == "demucs"
    # A caller's name overrides the config.
    assert create_separator("dsp", load_config(f)).name == "dsp"


def test_configured_demucs_without_weights_says_why_instead_of_running_dsp(tmp_path) -> None:
    config = Config(models_dir=tmp_path / "models", backends=BackendChoice(separate="demucs"))
    with pytest.raises((BackendUnavailableError, ImportError), match="demucs"):
        create_separator(None, config)


def test_configured_dsp_wins_over_present_weights(tmp_path) -> None:
    config = Config(models_dir=tmp_path, backends=BackendChoice(separate="dsp"))
    assert create_separator(None, config).name == "dsp"


def test_an_option_auto_s_choice_does_not_take_is_an_error_naming_its_options(tmp_path) -> None:
    config = Config(models_dir=tmp_path / "empty")  # no weights: auto is dsp
    with pytest.raises(InvalidInputError, match=r"'dsp' takes no option\(s\) shifts; its options: n_fft, hop"):
        create_separator("auto", config, shifts=2)
    with pytest.raises(InvalidInputError, match="colour"):
        create_separator("dsp", config, colour="blue", n_fft=2048)
    assert create_separator("auto", config, n_fft=2048).details()["n_fft"] == 2048


@needs_demucs
def test_an_unknown_demucs_option_names_demucs_options(models) -> None:
    with pytest.raises(InvalidInputError, match="'demucs' takes no option.*n_fft; its options: model, shifts"):
        create_separator("demucs", Config(models_dir=models), n_fft=2048)


def _run(code: str, env: dict[str, str]) -> str:
    full = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=full,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


@needs_demucs
@pytest.mark.parametrize("weights_in", ["models_dir", "hub"])
def test_the_demucs_status_check_imports_neither_torch_nor_demucs(tmp_path, weights_in) -> None:
    models, torch_home = tmp_path / "models", tmp_path / "torch"
    if weights_in == "models_dir":
        folder = models / "demucs"
        folder.mkdir(parents=True)
        (folder / "0tiny0ht-abcdef12.th").write_bytes(b"")
        (folder / "htdemucs.yaml").write_text("models: ['0tiny0ht']\n")
    else:  # what a previous `demucs` run left in the torch hub cache (the bag's yaml ships with demucs)
        folder = torch_home / "hub" / "checkpoints"
        folder.mkdir(parents=True)
        (folder / "955717e8-8726e21a.th").write_bytes(b"")
    out = _run(f"""
        import sys
        from mage_bridge.config import Config
        from mage_bridge.separate import REGISTRY
        status = {{s.name: s for s in REGISTRY.status(Config(models_dir={str(models)!r}))}}
        print(status["demucs"].available, status["demucs"].reason)
        print(REGISTRY.resolve("auto", Config(models_dir={str(models)!r})))
        print(sorted(m for m in ("torch", "demucs") if m in sys.modules))
    """, {"TORCH_HOME": str(torch_home)})
    assert out.splitlines() == ["True None", "demucs", "[]"]


@needs_demucs
def test_missing_weights_are_reported_without_torch_too(tmp_path) -> None:
    out = _run(f"""
        import sys
        from mage_bridge.config import Config
        from mage_bridge.separate import REGISTRY
        print(REGISTRY.why_unavailable("demucs", Config(models_dir={str(tmp_path / "models")!r})))
        print(sorted(m for m in ("torch", "demucs") if m in sys.modules))
    """, {"TORCH_HOME": str(tmp_path / "torch")})
    reason, imported = out.splitlines()
    assert "955717e8-8726e21a.th" in reason and str(tmp_path / "models" / "demucs") in reason
    assert imported == "[]"


@needs_demucs
@pytest.mark.parametrize("env", [
    {"TORCH_HOME": "{tmp}/th"},
    {"XDG_CACHE_HOME": "{tmp}/xdg-cache"},
    {"HOME": "{tmp}/home"},
], ids=["TORCH_HOME", "XDG_CACHE_HOME", "HOME"])
def test_the_hub_folder_is_the_one_torch_uses(tmp_path, env) -> None:
    values = {k: v.format(tmp=tmp_path) for k, v in env.items()}
    full = {"TORCH_HOME": "", "XDG_CACHE_HOME": "", **values}
    code = """
        import os, sys
        for k in ("TORCH_HOME", "XDG_CACHE_HOME"):
            if not os.environ[k]:
                del os.environ[k]
        from mage_bridge.separate.demucs import _hub_checkpoints
        ours = _hub_checkpoints()
        assert "torch" not in sys.modules
        import torch.hub
        print(ours == __import__("pathlib").Path(torch.hub.get_dir()) / "checkpoints", ours)
    """
    out = _run(code, full)
    assert out.startswith("True "), out
    assert out.split(" ", 1)[1].strip().startswith(str(tmp_path))
