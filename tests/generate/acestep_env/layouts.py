"""Build ACE-Step weight folders on disk for the tests: the real layouts, with empty weight files.

The layout checks look at names only, so an empty ``*.safetensors`` stands for the weights; the configs the
code reads (``transformer/config.json``, a DiT's ``config.json``) hold real JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from mage_bridge.generate.acestep.models import DIFFUSERS_COMPONENTS, MODEL_INDEX_ENTRIES, NATIVE_DEFAULT_DIT

WEIGHTS = {"text_encoder": "model.safetensors"}


def make_diffusers(root: Path, *, is_turbo: bool = True, model_version: str | None = "turbo") -> Path:
    """A complete diffusers-layout folder at ``root`` (as ``save_pretrained`` writes it)."""
    root.mkdir(parents=True, exist_ok=True)
    index = {"_class_name": "AceStepPipeline", **{k: list(v) for k, v in MODEL_INDEX_ENTRIES.items()}}
    (root / "model_index.json").write_text(json.dumps(index), encoding="utf-8")
    for name, (config_file, weighted) in DIFFUSERS_COMPONENTS.items():
        folder = root / name
        folder.mkdir(exist_ok=True)
        (folder / config_file).write_text("{}", encoding="utf-8")
        if weighted:
            (folder / WEIGHTS.get(name, "diffusion_pytorch_model.safetensors")).touch()
    (root / "tokenizer" / "tokenizer.json").write_text("{}", encoding="utf-8")
    transformer: dict[str, object] = {"_class_name": "AceStepTransformer1DModel", "is_turbo": is_turbo}
    if model_version is not None:
        transformer["model_version"] = model_version
    (root / "transformer" / "config.json").write_text(json.dumps(transformer), encoding="utf-8")
    return root


def make_native(checkpoints: Path, *, dits: tuple[str, ...] = (NATIVE_DEFAULT_DIT,), lm: bool = True) -> Path:
    """A native ``checkpoints/`` folder as ``acestep-download`` leaves it (the LM folder only as a folder)."""
    for dit in dits:
        folder = checkpoints / dit
        folder.mkdir(parents=True, exist_ok=True)
        turbo = "turbo" in dit
        config = {"model_type": "acestep", "is_turbo": turbo,
                  "model_version": "turbo" if turbo else dit.rsplit("-", 1)[-1]}
        (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
        (folder / "model.safetensors").touch()
        (folder / "silence_latent.pt").touch()
    (checkpoints / "vae").mkdir(parents=True, exist_ok=True)
    (checkpoints / "vae" / "config.json").write_text("{}", encoding="utf-8")
    (checkpoints / "vae" / "diffusion_pytorch_model.safetensors").touch()
    (checkpoints / "Qwen3-Embedding-0.6B").mkdir(exist_ok=True)
    (checkpoints / "Qwen3-Embedding-0.6B" / "config.json").write_text("{}", encoding="utf-8")
    (checkpoints / "Qwen3-Embedding-0.6B" / "model.safetensors").touch()
    if lm:
        (checkpoints / "acestep-5Hz-lm-1.7B").mkdir(exist_ok=True)
    return checkpoints
