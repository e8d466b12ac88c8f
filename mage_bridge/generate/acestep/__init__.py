"""ACE-Step (diffusion) generator: the heavy backend, preferred by ``"auto"`` when it can run.

This version does not run ACE-Step: the class tells precisely what is missing
(packages, then the weights in ``models_dir/ace-step``) so ``"auto"`` takes the
procedural backend, and refuses to generate rather than pretending to.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError
from mage_bridge.generate.base import GeneratedClip, GenerateRequest, Generator, ProgressFn

#: What the weights folder must hold (the Hugging Face layout of ACE-Step v1 3.5B).
EXPECTED_FILES = (
    "ace_step_transformer/config.json",
    "ace_step_transformer/diffusion_pytorch_model.safetensors",
    "music_dcae_f8c8/config.json",
    "music_dcae_f8c8/diffusion_pytorch_model.safetensors",
    "music_vocoder/config.json",
    "music_vocoder/diffusion_pytorch_model.safetensors",
    "umt5-base/config.json",
    "umt5-base/model.safetensors",
)
INSTALL_HINT = "pip install 'mage-bridge[acestep]'"


def weights_dir(config: Config) -> Path:
    return Path(config.models_dir) / "ace-step"


class AceStepGenerator(Generator):
    """ACE-Step text-to-music: a named slot this version cannot run (see the module docstring)."""

    name = "acestep"

    def __init__(self, *, weights: Path) -> None:
        self.weights = weights

    @classmethod
    def unavailable_reason(cls, config: Config) -> str | None:
        missing_pkgs = [m for m in ("diffusers", "torch") if importlib.util.find_spec(m) is None]
        if missing_pkgs:
            return f"Python package(s) {', '.join(missing_pkgs)} not installed ({INSTALL_HINT})"
        folder = weights_dir(config)
        missing = [f for f in EXPECTED_FILES if not (folder / f).is_file()]
        if missing:
            return (f"ACE-Step weights are missing from {str(folder)!r}: put the ACE-Step v1 3.5B "
                    f"checkpoint there (missing: {', '.join(missing)})")
        return "this version of MAGE Bridge cannot run ACE-Step (its weights are present, its pipeline is not)"

    @classmethod
    def from_config(cls, config: Config, **options: Any) -> AceStepGenerator:
        reason = cls.unavailable_reason(config)
        if reason is not None:
            raise BackendUnavailableError(f"generate backend 'acestep' is unavailable: {reason}")
        return cls(weights=weights_dir(config), **options)

    def generate(self, request: GenerateRequest, *, progress: ProgressFn | None = None) -> GeneratedClip:
        raise BackendUnavailableError(
            "the ACE-Step backend is not implemented in this version; use backend='procedural'"
        )
