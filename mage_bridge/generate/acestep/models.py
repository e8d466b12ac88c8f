"""Find ACE-Step's weights on disk and say precisely what is missing.

Two layouts run ACE-Step 1.5:

* the **diffusers** folder (``acestep.model_dir``, default ``<models_dir>/acestep``): ``model_index.json`` and the
  component folders ``AceStepPipeline.from_pretrained`` reads. diffusers' own errors name the wrong file
  (a missing ``transformer/`` reads "no file named config.json found in directory <root>"), so MAGE checks the
  layout itself and names the subfolder and file;
* the **native** ``checkpoints/`` folder of the ``acestep`` package (``acestep.checkpoints_dir``, default the one
  beside the installed package). The package downloads whatever is missing there when it loads, so the check here
  decides, before anything loads, that nothing would be downloaded.

Everything here reads files only: no torch, diffusers or acestep import, so ``mage-bridge backends`` stays fast.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError, ConfigError, NotSupportedError

INSTALL_HINT = "pip install 'mage-bridge[acestep]'"

#: Diffusers-format conversions of ACE-Step 1.5 published by the ACE-Step team on Hugging Face.
DIFFUSERS_REPOS = ("ACE-Step/acestep-v15-xl-turbo-diffusers", "ACE-Step/acestep-v15-xl-base-diffusers")

#: How to fetch a diffusers folder, for every message about one.
DIFFUSERS_HOWTO = (
    f"download a diffusers conversion with `hf download {DIFFUSERS_REPOS[0]} --local-dir <folder>` "
    f"(or {DIFFUSERS_REPOS[1]} for the base variant), or convert the native checkpoints of "
    "github.com/ace-step/ACE-Step-1.5 with diffusers' scripts/convert_ace_step_to_diffusers.py; see docs/acestep.md"
)

#: What each component folder of the diffusers layout holds: its config file, and whether it has weights.
DIFFUSERS_COMPONENTS: dict[str, tuple[str, bool]] = {
    "condition_encoder": ("config.json", True),
    "scheduler": ("scheduler_config.json", False),
    "text_encoder": ("config.json", True),
    "tokenizer": ("tokenizer_config.json", False),
    "transformer": ("config.json", True),
    "vae": ("config.json", True),
}

#: What ``model_index.json`` lists for each component (as ``save_pretrained`` writes it with transformers 5).
MODEL_INDEX_ENTRIES: dict[str, tuple[str, str]] = {
    "condition_encoder": ("ace_step", "AceStepConditionEncoder"),
    "scheduler": ("diffusers", "FlowMatchEulerDiscreteScheduler"),
    "text_encoder": ("transformers", "Qwen3Model"),
    "tokenizer": ("transformers", "TokenizersBackend"),
    "transformer": ("diffusers", "AceStepTransformer1DModel"),
    "vae": ("diffusers", "AutoencoderOobleck"),
}

#: The scheduler config diffusers' converter does not write and ``AceStepPipeline`` requires.
SCHEDULER_CONFIG = '{"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1, "shift": 1.0}'

#: The native DiT folders, turbo first (the one ``acestep-download`` fetches with the main model).
NATIVE_DITS = ("acestep-v15-turbo", "acestep-v15-turbo-shift1", "acestep-v15-turbo-shift3",
               "acestep-v15-turbo-continuous", "acestep-v15-base", "acestep-v15-sft")
NATIVE_DEFAULT_DIT = NATIVE_DITS[0]

#: Folders of ``checkpoints/`` the native package loads, and the files MAGE expects in each.
NATIVE_SHARED: dict[str, tuple[str, ...]] = {
    "vae": ("config.json", "diffusion_pytorch_model.safetensors"),
    "Qwen3-Embedding-0.6B": ("config.json", "model.safetensors"),
}
NATIVE_DIT_FILES = ("config.json", "model.safetensors", "silence_latent.pt")

#: The native package's "main model" check (``model_downloader.MAIN_MODEL_COMPONENTS``): when any of these folders
#: is absent, loading downloads the whole main model (several GB), even the language model MAGE does not use.
NATIVE_MAIN_COMPONENTS = ("acestep-v15-turbo", "vae", "Qwen3-Embedding-0.6B", "acestep-5Hz-lm-1.7B")

#: Tasks the guidance-distilled turbo DiT was trained for (``extend`` is a repaint of a padded source); the base
#: and SFT variants do every task (native ``acestep/constants.py`` TASK_TYPES_TURBO / TASK_TYPES_BASE).
TURBO_TASKS = frozenset({"text2music", "repaint", "cover", "extend"})
ALL_TASKS = frozenset({"text2music", "repaint", "cover", "extend", "extract", "lego", "complete"})

ROUTES = ("auto", "diffusers", "native")


@dataclass(frozen=True)
class ModelFolder:
    """The weights one route runs.

    ``path`` is the diffusers folder (``model_index.json`` inside) or the native ``checkpoints/`` folder;
    ``dit`` names the native DiT subfolder (``"acestep-v15-turbo"``), ``None`` for diffusers.
    ``variant`` is the transformer's ``model_version`` (``"turbo"``, ``"base"``, ``"sft"``...).
    """

    route: str
    path: Path
    variant: str
    is_turbo: bool
    dit: str | None = None


def diffusers_dir(config: Config) -> Path:
    """``acestep.model_dir`` (env ``MAGE_ACESTEP_DIR``), else ``<models_dir>/acestep``."""
    if config.acestep.model_dir is not None:
        return Path(config.acestep.model_dir).expanduser()
    return Path(config.models_dir).expanduser() / "acestep"


def native_package_dir() -> Path | None:
    """The installed ``acestep`` package's folder, found without importing it; ``None`` if not installed."""
    try:
        spec = importlib.util.find_spec("acestep")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith("__init__.py"):
        return None  # not a regular package (a stray acestep/ folder on the path is a namespace package)
    return Path(spec.origin).parent


def native_dirs(config: Config) -> tuple[Path, str] | None:
    """The native ``checkpoints/`` folder and the DiT to run, or ``None`` when neither is set nor installed.

    ``acestep.checkpoints_dir`` may name the ``checkpoints/`` folder (the turbo DiT runs) or one DiT folder
    inside it, such as ``checkpoints/acestep-v15-base`` (that DiT runs). Unset, it is the ``checkpoints/``
    folder beside the installed ``acestep`` package, where the package itself looks.
    """
    configured = config.acestep.checkpoints_dir
    if configured is not None:
        path = Path(configured).expanduser()
        if path.name in NATIVE_DITS or (path / "model.safetensors").exists():
            return path.parent, path.name
        return path, NATIVE_DEFAULT_DIT
    package = native_package_dir()
    if package is None:
        return None
    return package.parent / "checkpoints", NATIVE_DEFAULT_DIT


def missing_packages() -> list[str]:
    """The Python packages the diffusers route needs that are not installed (found without importing)."""
    return [name for name in ("torch", "diffusers", "transformers") if importlib.util.find_spec(name) is None]


def _has_weights(folder: Path) -> bool:
    return any(folder.glob("*.safetensors")) or any(folder.glob("*.safetensors.index.json")) \
        or any(folder.glob("*.bin"))


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; an unreadable or non-object file is a BackendUnavailableError naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BackendUnavailableError(f"ACE-Step: cannot read {str(path)!r}: {e}") from e
    if not isinstance(data, dict):
        raise BackendUnavailableError(f"ACE-Step: {str(path)!r} does not hold a JSON object")
    return data


def diffusers_problems(root: Path) -> list[str]:
    """What the diffusers folder ``root`` lacks, one line per missing piece; empty when complete."""
    if not root.is_dir():
        return [f"the folder {str(root)!r} does not exist"]
    problems = []
    index = root / "model_index.json"
    if not index.is_file():
        problems.append("model_index.json")
    else:
        listed = _read_json(index)
        for name in DIFFUSERS_COMPONENTS:
            if not isinstance(listed.get(name), list):
                entry = f'"{name}": {json.dumps(list(MODEL_INDEX_ENTRIES[name]))}'
                problems.append(f"the {name!r} entry of model_index.json (add {entry})")
    for name, (config_file, weighted) in DIFFUSERS_COMPONENTS.items():
        folder = root / name
        hint = f" (write {SCHEDULER_CONFIG} into {name}/{config_file})" if name == "scheduler" else ""
        if not folder.is_dir():
            weights = " and its weights" if weighted else ""
            problems.append(f"{name}/ (the whole subfolder: {name}/{config_file}{weights}){hint}")
            continue
        if not (folder / config_file).is_file():
            problems.append(f"{name}/{config_file}{hint}")
        if name == "tokenizer" and not (folder / "tokenizer.json").is_file():
            problems.append("tokenizer/tokenizer.json")
        if weighted and not _has_weights(folder):
            problems.append(f"{name}/ weights (*.safetensors)")
    return problems


def native_problems(checkpoints: Path, dit: str) -> list[str]:
    """What the native ``checkpoints`` folder lacks to run ``dit`` without downloading; empty when complete."""
    if not checkpoints.is_dir():
        return [f"the folder {str(checkpoints)!r} does not exist"]
    problems = []
    for name in dict.fromkeys((dit, *NATIVE_SHARED)):
        files = NATIVE_DIT_FILES if name == dit else NATIVE_SHARED[name]
        if not (checkpoints / name).is_dir():
            problems.append(f"{name}/ (the whole subfolder)")
            continue
        problems += [f"{name}/{f}" for f in files if not (checkpoints / name / f).is_file()]
    for name in NATIVE_MAIN_COMPONENTS:
        if name not in (dit, *NATIVE_SHARED) and not (checkpoints / name).is_dir():
            problems.append(f"{name}/ (the package downloads the whole main model when it is absent)")
    return problems


def variant_of(config_json: Path, *, fallback_name: str = "") -> tuple[str, bool]:
    """``(variant, is_turbo)`` from a transformer's ``config.json`` (``model_version``, ``is_turbo``).

    A config without either field is named by ``fallback_name`` (the native DiT folder's name).
    """
    data = _read_json(config_json)
    version = data.get("model_version")
    is_turbo = bool(data.get("is_turbo")) or version == "turbo"
    if not isinstance(version, str) or not version:
        if "is_turbo" in data:
            version = "turbo" if is_turbo else "base"
        else:
            is_turbo = "turbo" in fallback_name
            version = "sft" if "sft" in fallback_name else "turbo" if is_turbo else "base"
    return version, is_turbo


def _diffusers_folder(root: Path) -> ModelFolder:
    problems = diffusers_problems(root)
    if problems:
        raise BackendUnavailableError(diffusers_message(root, problems))
    variant, is_turbo = variant_of(root / "transformer" / "config.json")
    return ModelFolder(route="diffusers", path=root, variant=variant, is_turbo=is_turbo)


def _native_folder(config: Config) -> ModelFolder:
    dirs = native_dirs(config)
    if dirs is None or native_package_dir() is None:
        raise BackendUnavailableError(native_missing_package_message())
    checkpoints, dit = dirs
    problems = native_problems(checkpoints, dit)
    if problems:
        raise BackendUnavailableError(native_message(checkpoints, dit, problems))
    variant, is_turbo = variant_of(checkpoints / dit / "config.json", fallback_name=dit)
    return ModelFolder(route="native", path=checkpoints, variant=variant, is_turbo=is_turbo, dit=dit)


def diffusers_message(root: Path, problems: list[str]) -> str:
    """One message for an incomplete diffusers folder: what is missing, where it goes, how to get it."""
    return (f"ACE-Step's diffusers folder {str(root)!r} is incomplete; missing: {'; '.join(problems)}. "
            f"Put the whole diffusers-format model there (set acestep.model_dir or MAGE_ACESTEP_DIR to use "
            f"another folder): {DIFFUSERS_HOWTO}")


def native_missing_package_message() -> str:
    return ("the native ACE-Step package `acestep` is not installed: install ACE-Step 1.5 from its source "
            "release (git clone https://github.com/ace-step/ACE-Step-1.5, then `pip install -e .` in its own "
            "environment; PyPI's ace-step 0.1.0 is broken) and fetch its checkpoints with `acestep-download`, "
            "or set acestep.checkpoints_dir; see docs/acestep.md")


def native_message(checkpoints: Path, dit: str, problems: list[str]) -> str:
    """One message for an incomplete native ``checkpoints/`` folder (MAGE never lets the package download)."""
    get = ("`acestep-download --dir <checkpoints>` fetches the main model (turbo DiT, vae, "
           "Qwen3-Embedding-0.6B, the 1.7B language model)")
    if dit != NATIVE_DEFAULT_DIT:
        get += f", and `acestep-download --model {dit} --dir <checkpoints>` the {dit} DiT"
    return (f"ACE-Step's native checkpoints folder {str(checkpoints)!r} is incomplete for {dit}; missing: "
            f"{'; '.join(problems)}. MAGE does not let the acestep package download them while it loads: "
            f"{get}; see docs/acestep.md")


def find_model(config: Config) -> ModelFolder:
    """The weights ``config.acestep.route`` runs, checked on disk.

    ``"auto"`` takes the diffusers folder when it is complete, else the native ``checkpoints/`` when the
    ``acestep`` package is installed and its checkpoints are complete; ``"diffusers"`` and ``"native"`` force one.
    Raises :class:`BackendUnavailableError` with one message naming every missing subfolder or file, where it
    goes and how to get it; :class:`ConfigError` for an unknown route.
    """
    route = config.acestep.route
    if route not in ROUTES:
        raise ConfigError(f"acestep.route must be one of {', '.join(ROUTES)}, got {route!r}")
    root = diffusers_dir(config)
    if route == "diffusers":
        return _diffusers_folder(root)
    if route == "native":
        return _native_folder(config)
    try:
        return _diffusers_folder(root)
    except BackendUnavailableError as diffusers_error:
        if native_package_dir() is None:
            raise
        try:
            return _native_folder(config)
        except BackendUnavailableError as native_error:
            raise BackendUnavailableError(
                f"{diffusers_error} Nor can the native route run: {native_error}") from native_error


def unavailable_reason(config: Config) -> str | None:
    """Why ACE-Step cannot run here (missing packages first, with the pip line, then the weights), or ``None``.

    Cheap: it looks at files and package specs and imports neither torch nor diffusers.
    """
    route = config.acestep.route
    if route not in ROUTES:
        return f"acestep.route must be one of {', '.join(ROUTES)}, got {route!r}"
    if route != "native":
        packages = missing_packages()
        native_ready = route == "auto" and native_package_dir() is not None
        if packages and not native_ready:
            return f"Python package(s) {', '.join(packages)} not installed ({INSTALL_HINT})"
        if packages:
            try:
                _native_folder(config)
                return None
            except BackendUnavailableError as e:
                return f"Python package(s) {', '.join(packages)} not installed ({INSTALL_HINT}); {e}"
    try:
        find_model(config)
    except (BackendUnavailableError, ConfigError) as e:
        return str(e)
    return None


def check_task(folder: ModelFolder, task: str) -> None:
    """Refuse a task the folder's variant was not trained for.

    The turbo DiT does text2music, repaint, extend and cover; lego, extract and complete need the base or SFT
    variant. (diffusers' pipeline runs them on turbo without complaint; turbo was not trained for them.)
    """
    if task not in ALL_TASKS:
        raise NotSupportedError(f"ACE-Step has no task {task!r}; it does {', '.join(sorted(ALL_TASKS))}")
    if not folder.is_turbo or task in TURBO_TASKS:
        return
    if folder.route == "native":
        where = (f"download it with `acestep-download --model acestep-v15-base --dir {str(folder.path)!r}` "
                 f"(or acestep-v15-sft) and set acestep.checkpoints_dir to "
                 f"{str(folder.path / 'acestep-v15-base')!r}")
    else:
        where = (f"put a base-variant diffusers folder ({DIFFUSERS_REPOS[1]}) in place of {str(folder.path)!r} "
                 f"or point acestep.model_dir at it")
    raise NotSupportedError(
        f"ACE-Step task {task!r} needs the base or SFT variant; the model in {str(folder.path)!r} is "
        f"{folder.variant!r} (turbo does {', '.join(sorted(TURBO_TASKS))}): {where}")
