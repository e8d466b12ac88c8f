"""Finding ACE-Step's weights: real folders on disk, one message naming what is missing and how to get it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mage_bridge.config import AceStepConfig, Config, load_config
from mage_bridge.errors import BackendUnavailableError, ConfigError, NotSupportedError
from mage_bridge.generate.acestep.models import (
    INSTALL_HINT,
    ModelFolder,
    check_task,
    find_model,
    unavailable_reason,
)

from .layouts import make_diffusers, make_native

FAKE_PACKAGE = Path(__file__).parent / "fake_acestep" / "acestep"
ROOT = Path(__file__).resolve().parents[3]


def config_for(tmp_path: Path, **acestep: Any) -> Config:
    return Config(data_dir=tmp_path / "data", models_dir=tmp_path / "models", acestep=AceStepConfig(**acestep))


@pytest.fixture
def native_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The emulated ``acestep`` package installed in a fresh folder; yields that project root."""
    root = tmp_path / "ACE-Step-1.5"
    shutil.copytree(FAKE_PACKAGE, root / "acestep")
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in [m for m in sys.modules if m == "acestep" or m.startswith("acestep.")]:
        del sys.modules[name]


def test_complete_diffusers_folder_is_found_with_its_variant(tmp_path: Path) -> None:
    root = make_diffusers(tmp_path / "models" / "acestep")
    folder = find_model(config_for(tmp_path))
    assert folder == ModelFolder(route="diffusers", path=root, variant="turbo", is_turbo=True, dit=None)


@pytest.mark.parametrize(("is_turbo", "version", "variant"), [
    (False, "base", "base"), (False, "sft", "sft"), (True, None, "turbo"), (False, None, "base"),
    (False, "turbo", "turbo"),
], ids=["base", "sft", "turbo-flag-only", "no-version", "version-says-turbo"])
def test_variant_is_read_from_the_transformer_config(tmp_path: Path, is_turbo: bool, version: str | None,
                                                     variant: str) -> None:
    make_diffusers(tmp_path / "models" / "acestep", is_turbo=is_turbo, model_version=version)
    folder = find_model(config_for(tmp_path))
    assert folder.variant == variant
    assert folder.is_turbo == (variant == "turbo")


def test_model_dir_setting_and_env_name_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_diffusers(tmp_path / "elsewhere", is_turbo=False, model_version="base")
    monkeypatch.setenv("MAGE_ACESTEP_DIR", str(root))
    config = load_config(models_dir=str(tmp_path / "models"))
    assert find_model(config).path == root


@pytest.mark.parametrize(("remove", "named"), [
    ("transformer", "transformer/ (the whole subfolder: transformer/config.json and its weights)"),
    ("vae", "vae/ (the whole subfolder: vae/config.json and its weights)"),
    ("model_index.json", "model_index.json"),
    ("scheduler/scheduler_config.json", "scheduler/scheduler_config.json (write {\"_class_name\": "
                                        "\"FlowMatchEulerDiscreteScheduler\", \"num_train_timesteps\": 1, "
                                        "\"shift\": 1.0} into scheduler/scheduler_config.json)"),
    ("text_encoder/model.safetensors", "text_encoder/ weights"),
    ("tokenizer/tokenizer.json", "tokenizer/tokenizer.json"),
    ("condition_encoder/config.json", "condition_encoder/config.json"),
])
def test_an_incomplete_diffusers_folder_names_what_is_missing(tmp_path: Path, remove: str, named: str) -> None:
    root = make_diffusers(tmp_path / "models" / "acestep")
    target = root / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(BackendUnavailableError) as caught:
        find_model(config_for(tmp_path))
    message = str(caught.value)
    assert named in message
    assert str(root) in message
    assert "ACE-Step/acestep-v15-xl-turbo-diffusers" in message and "acestep.model_dir" in message
    assert "config.json found in directory" not in message
    assert message.count("missing:") == 1


def test_a_converted_folder_without_a_scheduler_says_what_to_add(tmp_path: Path) -> None:
    """diffusers' converter writes neither scheduler/ nor its model_index.json entry; 0.42.1 needs both."""
    root = make_diffusers(tmp_path / "models" / "acestep")
    shutil.rmtree(root / "scheduler")
    index = json.loads((root / "model_index.json").read_text(encoding="utf-8"))
    del index["scheduler"]
    (root / "model_index.json").write_text(json.dumps(index), encoding="utf-8")
    with pytest.raises(BackendUnavailableError) as caught:
        find_model(config_for(tmp_path))
    assert ("the 'scheduler' entry of model_index.json (add \"scheduler\": [\"diffusers\", "
            "\"FlowMatchEulerDiscreteScheduler\"])") in str(caught.value)
    assert "scheduler/ (the whole subfolder: scheduler/scheduler_config.json) (write {" in str(caught.value)


def test_a_missing_folder_says_where_to_put_the_weights(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="does not exist") as caught:
        find_model(config_for(tmp_path))
    assert str(tmp_path / "models" / "acestep") in str(caught.value)
    assert "hf download ACE-Step/acestep-v15-xl-turbo-diffusers" in str(caught.value)


def test_native_route_without_the_package_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError) as caught:
        find_model(config_for(tmp_path, route="native"))
    message = str(caught.value)
    assert "github.com/ace-step/ACE-Step-1.5" in message and "acestep-download" in message
    assert "PyPI's ace-step 0.1.0 is broken" in message


def test_a_stray_acestep_folder_is_not_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stray" / "acestep").mkdir(parents=True)
    make_native(tmp_path / "stray" / "checkpoints")
    monkeypatch.syspath_prepend(str(tmp_path / "stray"))
    with pytest.raises(BackendUnavailableError, match="`acestep` is not installed"):
        find_model(config_for(tmp_path, route="native"))


def test_native_checkpoints_without_the_package_cannot_run(tmp_path: Path) -> None:
    checkpoints = make_native(tmp_path / "checkpoints")
    with pytest.raises(BackendUnavailableError, match="`acestep` is not installed"):
        find_model(config_for(tmp_path, route="native", checkpoints_dir=checkpoints))


def test_unavailable_reason_for_the_native_route_names_the_missing_checkpoint(tmp_path: Path,
                                                                             native_package: Path) -> None:
    config = config_for(tmp_path, route="native")
    checkpoints = make_native(native_package / "checkpoints")
    assert unavailable_reason(config) is None
    (checkpoints / "acestep-v15-turbo" / "silence_latent.pt").unlink()
    assert "missing: acestep-v15-turbo/silence_latent.pt" in str(unavailable_reason(config))


def test_auto_takes_native_checkpoints_beside_the_package(tmp_path: Path, native_package: Path) -> None:
    checkpoints = make_native(native_package / "checkpoints")
    folder = find_model(config_for(tmp_path))
    assert folder == ModelFolder(route="native", path=checkpoints, variant="turbo", is_turbo=True,
                                 dit="acestep-v15-turbo")


def test_auto_prefers_a_complete_diffusers_folder(tmp_path: Path, native_package: Path) -> None:
    make_native(native_package / "checkpoints")
    make_diffusers(tmp_path / "models" / "acestep")
    assert find_model(config_for(tmp_path)).route == "diffusers"


def test_auto_names_both_routes_when_neither_is_complete(tmp_path: Path, native_package: Path) -> None:
    checkpoints = make_native(native_package / "checkpoints")
    shutil.rmtree(checkpoints / "Qwen3-Embedding-0.6B")
    with pytest.raises(BackendUnavailableError) as caught:
        find_model(config_for(tmp_path))
    message = str(caught.value)
    assert "diffusers folder" in message and "Qwen3-Embedding-0.6B/ (the whole subfolder)" in message
    assert "acestep-download --dir <checkpoints>" in message


def test_a_checkpoints_folder_without_the_language_model_would_download_so_it_is_refused(
        tmp_path: Path, native_package: Path) -> None:
    make_native(native_package / "checkpoints", lm=False)
    with pytest.raises(BackendUnavailableError, match="acestep-5Hz-lm-1.7B/ .the package downloads"):
        find_model(config_for(tmp_path, route="native"))


def test_checkpoints_dir_may_name_one_dit(tmp_path: Path, native_package: Path) -> None:
    checkpoints = make_native(tmp_path / "ckpt" / "checkpoints", dits=("acestep-v15-turbo", "acestep-v15-base"))
    folder = find_model(config_for(tmp_path, route="native", checkpoints_dir=checkpoints / "acestep-v15-base"))
    assert (folder.path, folder.dit, folder.variant, folder.is_turbo) == (checkpoints, "acestep-v15-base", "base",
                                                                          False)


def test_a_missing_dit_names_its_download(tmp_path: Path, native_package: Path) -> None:
    checkpoints = make_native(tmp_path / "checkpoints")
    with pytest.raises(BackendUnavailableError) as caught:
        find_model(config_for(tmp_path, route="native", checkpoints_dir=checkpoints / "acestep-v15-sft"))
    assert "acestep-v15-sft/ (the whole subfolder)" in str(caught.value)
    assert "acestep-download --model acestep-v15-sft" in str(caught.value)


def test_forced_diffusers_route_ignores_native_checkpoints(tmp_path: Path, native_package: Path) -> None:
    make_native(native_package / "checkpoints")
    with pytest.raises(BackendUnavailableError, match="diffusers folder"):
        find_model(config_for(tmp_path, route="diffusers"))


def test_an_unknown_route_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="acestep.route"):
        find_model(config_for(tmp_path, route="onnx"))


def test_unavailable_reason_is_none_for_a_complete_folder_and_the_problem_otherwise(tmp_path: Path) -> None:
    pytest.importorskip("diffusers")
    assert unavailable_reason(config_for(tmp_path)) is not None
    make_diffusers(tmp_path / "models" / "acestep")
    assert unavailable_reason(config_for(tmp_path)) is None
    (tmp_path / "models" / "acestep" / "model_index.json").unlink()
    assert "missing: model_index.json" in str(unavailable_reason(config_for(tmp_path)))


def _run_python(code: str, tmp_path: Path) -> list[object]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    result: list[object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_unavailable_reason_does_not_import_torch(tmp_path: Path) -> None:
    make_diffusers(tmp_path / "models" / "acestep")
    code = ("import json, sys\nfrom pathlib import Path\nfrom mage_bridge.config import Config\n"
            "from mage_bridge.generate.acestep.models import unavailable_reason\n"
            "t = Path(sys.argv[1])\nbefore = 'torch' in sys.modules\n"
            "reason = unavailable_reason(Config(data_dir=t / 'data', models_dir=t / 'models'))\n"
            "print(json.dumps([before, 'torch' in sys.modules, 'diffusers' in sys.modules, reason]))")
    before, after, diffusers_loaded, _reason = _run_python(code, tmp_path)
    assert (before, after, diffusers_loaded) == (False, False, False)


def test_missing_packages_come_first_with_the_pip_line(tmp_path: Path) -> None:
    # diffusers hidden from find_spec, as on a machine without the [acestep] extra
    code = ("import importlib.util, json, sys\nfrom pathlib import Path\n_real = importlib.util.find_spec\n"
            "importlib.util.find_spec = lambda n, p=None: None if n == 'diffusers' else _real(n, p)\n"
            "from mage_bridge.config import Config\n"
            "from mage_bridge.generate.acestep.models import unavailable_reason\n"
            "t = Path(sys.argv[1])\n"
            "print(json.dumps([unavailable_reason(Config(data_dir=t / 'data', models_dir=t / 'models'))]))")
    (reason,) = _run_python(code, tmp_path)
    assert isinstance(reason, str)
    assert reason.startswith("Python package(s) diffusers not installed")
    assert INSTALL_HINT in reason and "does not exist" not in reason


@pytest.mark.parametrize("task", ["lego", "extract", "complete"])
def test_turbo_refuses_the_base_only_tasks_naming_the_variant(tmp_path: Path, task: str) -> None:
    diffusers = ModelFolder(route="diffusers", path=tmp_path / "acestep", variant="turbo", is_turbo=True)
    with pytest.raises(NotSupportedError) as caught:
        check_task(diffusers, task)
    assert "base or SFT" in str(caught.value) and "ACE-Step/acestep-v15-xl-base-diffusers" in str(caught.value)
    native = ModelFolder(route="native", path=tmp_path / "checkpoints", variant="turbo", is_turbo=True,
                         dit="acestep-v15-turbo")
    with pytest.raises(NotSupportedError, match="acestep-download --model acestep-v15-base"):
        check_task(native, task)


@pytest.mark.parametrize("task", ["text2music", "repaint", "cover", "extend"])
def test_turbo_does_its_own_tasks(tmp_path: Path, task: str) -> None:
    check_task(ModelFolder(route="diffusers", path=tmp_path, variant="turbo", is_turbo=True), task)


def test_base_does_every_task(tmp_path: Path) -> None:
    base = ModelFolder(route="diffusers", path=tmp_path, variant="base", is_turbo=False)
    for task in ("text2music", "repaint", "cover", "extend", "lego", "extract", "complete"):
        check_task(base, task)
    with pytest.raises(NotSupportedError, match="no task 'remix'"):
        check_task(base, "remix")
