"""Emulation of ``acestep.handler.AceStepHandler`` (f30aee4 ``handler.py``; see the package docstring).

``initialize_service`` resolves ``device`` and ``dtype`` as the real one does (:377-431), finds the checkpoints
as the newer releases do (``ACESTEP_CHECKPOINTS_DIR``, else ``<project_root>/checkpoints``), asks
``model_downloader`` for whatever is missing (:446-462) and returns ``(message, ok)``. ``INIT_CALLS`` records
every call's arguments.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import torch

from acestep import model_downloader

INIT_CALLS: list[dict[str, Any]] = []


class AceStepHandler:
    def __init__(self) -> None:
        self.model: Any = None
        self.config: Any = None
        self.device = "cpu"
        self.dtype = torch.float32
        self.sample_rate = 48000
        self.batch_size = 2
        self.offload_to_cpu = False
        self.offload_dit_to_cpu = False
        self.lora_loaded = False
        self.use_lora = False
        self.lora_scale = 1.0
        self.checkpoint_dir: Path | None = None

    def initialize_service(
        self,
        project_root: str,
        config_path: str,
        device: str = "auto",
        use_flash_attention: bool = False,
        compile_model: bool = False,
        offload_to_cpu: bool = False,
        offload_dit_to_cpu: bool = False,
        quantization: str | None = None,
        prefer_source: str | None = None,
    ) -> tuple[str, bool]:
        INIT_CALLS.append(dict(project_root=project_root, config_path=config_path, device=device,
                               offload_to_cpu=offload_to_cpu, offload_dit_to_cpu=offload_dit_to_cpu))
        try:
            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            elif device == "cuda" and not torch.cuda.is_available():
                device = "cpu"
            self.device = device
            self.dtype = {"cuda": torch.bfloat16, "xpu": torch.bfloat16, "mps": torch.float16}.get(device,
                                                                                              torch.float32)
            self.offload_to_cpu, self.offload_dit_to_cpu = offload_to_cpu, offload_dit_to_cpu
            env = os.environ.get("ACESTEP_CHECKPOINTS_DIR")
            checkpoint_dir = Path(env) if env else Path(project_root) / "checkpoints"
            if not model_downloader.check_main_model_exists(checkpoint_dir):
                ok, msg = model_downloader.ensure_main_model(checkpoint_dir, prefer_source=prefer_source)
                if not ok:
                    return f"❌ Failed to download main model: {msg}", False
            if not model_downloader.check_model_exists(config_path, checkpoint_dir):
                ok, msg = model_downloader.ensure_dit_model(config_path, checkpoint_dir, prefer_source=prefer_source)
                if not ok:
                    return f"❌ Failed to download DiT model '{config_path}': {msg}", False
            model_path = checkpoint_dir / config_path
            if not (model_path / "model.safetensors").is_file():
                raise FileNotFoundError(f"no model.safetensors in {model_path}")
            self.checkpoint_dir = checkpoint_dir
            self.model = config_path
            return f"✅ Model initialized successfully on {device}", True
        except Exception as exc:
            self.model = None
            return f"❌ Error initializing model: {exc}", False

    def prepare_seeds(self, actual_batch_size: int, seed: Any, use_random_seed: bool) -> tuple[list[int], str]:
        """As the real one (:1134): random seeds, or the given ones padded with random seeds."""
        if use_random_seed:
            seeds = [random.randint(0, 2 ** 32 - 1) for _ in range(actual_batch_size)]
            return seeds, ", ".join(str(s) for s in seeds)
        given: list[int] = []
        if isinstance(seed, str):
            given = [int(float(s)) if s.strip() not in ("", "-1") else -1 for s in seed.split(",")]
        elif isinstance(seed, int) and seed >= 0:
            given = [seed]
        seeds = [s if s >= 0 else random.randint(0, 2 ** 32 - 1) for s in given[:actual_batch_size]]
        seeds += [random.randint(0, 2 ** 32 - 1) for _ in range(actual_batch_size - len(seeds))]
        return seeds, ", ".join(str(s) for s in seeds)
