"""Where the ACE-Step weights are and which variant they are (the diffusers layout only).

A folder in the diffusers layout holds ``model_index.json`` and the component folders
:data:`COMPONENTS`, each with its config; the variant is read from ``transformer/config.json``
(``is_turbo`` / ``model_version``). Turbo models are distilled for :data:`TURBO_TASKS`; lego and
extract need the base or SFT model. Nothing here imports torch, so ``backends`` stays cheap.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError, NotSupportedError

#: The component folders ``AceStepPipeline.from_pretrained`` needs, with the config each one holds.
COMPONENTS: dict[str, str] = {
    "condition_encoder": "config.json", "scheduler": "scheduler_config.json", "text_encoder": "config.json",
    "tokenizer": "tokenizer_config.json", "transformer": "config.json", "vae": "config.json",
}
#: What a turbo (distilled) model can do; ``extend`` is a repaint of a padded source.
TURBO_TASKS: frozenset[str] = frozenset({"text2music", "repaint", "cover", "extend"})
INSTALL_HINT = "pip install 'mage-bridge[acestep]'"
DOWNLOAD_HINT = ("convert an ACE-Step 1.5 checkpoint (ace-step/ACE-Step-1.5) to the diffusers layout there, or name "
                 "another folder with the config key acestep.model_dir / MAGE_ACESTEP_DIR")


@dataclass(frozen=True)
class ModelFolder:
    """A checked weights folder: which route loads it, where it is, which variant it holds."""

    route: str
    path: Path
    variant: str
    is_turbo: bool
    dit: str | None = None


def model_dir(config: Config) -> Path:
    """The diffusers-layout folder: ``acestep.model_dir``, else ``<models_dir>/acestep``."""
    return Path(config.acestep.model_dir) if config.acestep.model_dir else Path(config.models_dir) / "acestep"


def _layout_problem(folder: Path) -> str | None:
    if not folder.is_dir():
        return f"the ACE-Step model folder {str(folder)!r} does not exist: {DOWNLOAD_HINT}"
    missing = [name for name in ("model_index.json",) if not (folder / name).is_file()]
    missing += [f"{sub}/{cfg}" for sub, cfg in COMPONENTS.items() if not (folder / sub / cfg).is_file()]
    if missing:
        return (f"the ACE-Step model folder {str(folder)!r} is not in the diffusers layout (missing: "
                f"{', '.join(missing)}): {DOWNLOAD_HINT}")
    return None


def unavailable_reason(config: Config) -> str | None:
    """``None`` when the diffusers route can run, else why not (no torch import)."""
    missing = [m for m in ("diffusers", "torch", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        return f"Python package(s) {', '.join(missing)} not installed ({INSTALL_HINT})"
    return _layout_problem(model_dir(config))


def find_model(config: Config) -> ModelFolder:
    """The checked diffusers-layout folder; :class:`BackendUnavailableError` naming what is missing."""
    reason = unavailable_reason(config)
    if reason is not None:
        raise BackendUnavailableError(f"generate backend 'acestep' is unavailable: {reason}")
    folder = model_dir(config)
    try:
        transformer = json.loads((folder / "transformer" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BackendUnavailableError(f"cannot read {str(folder / 'transformer' / 'config.json')!r}: {e}") from e
    version = str(transformer.get("model_version") or "")
    is_turbo = bool(transformer.get("is_turbo")) or version == "turbo"
    return ModelFolder(route="diffusers", path=folder, variant=version or ("turbo" if is_turbo else "base"),
                       is_turbo=is_turbo)


def check_task(folder: ModelFolder, task: str) -> None:
    """Refuse ``task`` on a turbo model that cannot do it, naming the variant that can."""
    if folder.is_turbo and task not in TURBO_TASKS:
        raise NotSupportedError(
            f"ACE-Step {task} needs the base or SFT model (acestep-v15-base / acestep-v15-sft); the model in "
            f"{str(folder.path)!r} is the {folder.variant} variant: put a base/SFT model in the diffusers layout "
            f"there (or point acestep.model_dir at one)")
