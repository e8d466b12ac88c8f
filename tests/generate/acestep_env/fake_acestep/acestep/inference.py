"""Emulation of ``acestep/inference.py`` (14c9d01; the dataclasses field for field, defaults included).

``generate_music`` keeps the real one's contract (:298-833): seeds through ``dit_handler.prepare_seeds``,
``src_audio`` read from a path and ignored on text2music, a random 10-120 s length without ``duration``,
progress as ``progress(value, desc=...)`` with its exceptions swallowed, every exception turned into
``success=False``. ``CALLS`` records each call's ``(params, config, save_dir)``. A caption containing
``[emulate-oom]`` raises ``torch.OutOfMemoryError`` inside, as a GPU that is too small would.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import soundfile as sf
import torch

CALLS: list[tuple[Any, Any, Any]] = []


@dataclass
class GenerationParams:
    task_type: str = "text2music"
    instruction: str = "Fill the audio semantic mask based on the given conditions:"
    reference_audio: str | None = None
    src_audio: str | None = None
    audio_codes: str = ""
    caption: str = ""
    lyrics: str = ""
    instrumental: bool = False
    vocal_language: str = "unknown"
    bpm: int | None = None
    keyscale: str = ""
    timesignature: str = ""
    duration: float = -1.0
    enable_normalization: bool = True
    normalization_db: float = -1.0
    latent_shift: float = 0.0
    latent_rescale: float = 1.0
    inference_steps: int = 8
    seed: int = -1
    guidance_scale: float = 7.0
    use_adg: bool = False
    cfg_interval_start: float = 0.0
    cfg_interval_end: float = 1.0
    shift: float = 1.0
    infer_method: str = "ode"
    timesteps: list[float] | None = None
    repainting_start: float = 0.0
    repainting_end: float = -1
    audio_cover_strength: float = 1.0
    cover_noise_strength: float = 0.0
    thinking: bool = True
    lm_temperature: float = 0.85
    lm_cfg_scale: float = 2.0
    lm_top_k: int = 0
    lm_top_p: float = 0.9
    lm_negative_prompt: str = "NO USER INPUT"
    use_cot_metas: bool = True
    use_cot_caption: bool = True
    use_cot_lyrics: bool = False
    use_cot_language: bool = True
    use_constrained_decoding: bool = True
    cot_bpm: int | None = None
    cot_keyscale: str = ""
    cot_timesignature: str = ""
    cot_duration: float | None = None
    cot_vocal_language: str = "unknown"
    cot_caption: str = ""
    cot_lyrics: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GenerationConfig:
    batch_size: int = 2
    allow_lm_batch: bool = False
    use_random_seed: bool = True
    seeds: list[int] | None = None
    lm_batch_chunk_size: int = 8
    constrained_decoding_debug: bool = False
    audio_format: str = "flac"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GenerationResult:
    audios: list[dict[str, Any]] = field(default_factory=list)
    status_message: str = ""
    extra_outputs: dict[str, Any] = field(default_factory=dict)
    success: bool = True
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _emit(progress: Any, value: float, desc: str) -> None:
    if progress is None:
        return
    try:
        progress(value, desc=desc)
    except Exception:  # the real relay logs and ignores a failing progress callback
        pass


def _read_source(path: str) -> torch.Tensor:
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    if rate != 48000:
        raise ValueError(f"emulation reads 48 kHz sources only, got {rate}")
    return torch.from_numpy(np.ascontiguousarray(data.T))


def generate_music(dit_handler: Any, llm_handler: Any, params: GenerationParams, config: GenerationConfig,
                   save_dir: str | None = None, progress: Any = None) -> GenerationResult:
    CALLS.append((params, config, save_dir))
    try:
        if dit_handler is None or dit_handler.model is None:
            raise RuntimeError("Model not initialized. Please initialize the service first.")
        batch = config.batch_size if config.batch_size is not None else 1
        seed_text = ""
        if isinstance(config.seeds, list) and config.seeds:
            seed_text = ",".join(str(s) for s in config.seeds)
        elif isinstance(config.seeds, int):
            seed_text = str(config.seeds)
        seeds, _ = dit_handler.prepare_seeds(batch, seed_text, config.use_random_seed)
        _emit(progress, 0.51, "Preparing inputs...")
        src = None if params.task_type == "text2music" or not params.src_audio else _read_source(params.src_audio)
        if src is not None:
            seconds = src.shape[1] / 48000
            if params.task_type in ("repaint", "lego"):
                left = max(0.0, -params.repainting_start)
                seconds = max(seconds, params.repainting_end) + left
        elif params.duration is None or params.duration <= 0:
            seconds = random.uniform(10.0, 120.0)
        else:
            seconds = params.duration
        samples = math.ceil(seconds * 25) * 1920
        if "[emulate-oom]" in params.caption:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 8.00 GiB total)")
        steps = params.inference_steps
        for i in range(steps):
            _emit(progress, 0.52 + 0.27 * (i + 1) / steps, "DiT diffusion...")  # RuntimeProgressRelay(0.52, 0.79)
        _emit(progress, 0.8, "Decoding audio...")
        audios = []
        for seed in seeds:
            generator = torch.Generator().manual_seed(int(seed))
            t = torch.arange(samples, dtype=torch.float64) / 48000
            tone = 0.5 * torch.sin(2 * math.pi * (110 + int(seed) % 880) * t).float()
            noise = 0.01 * torch.randn((2, samples), generator=generator)
            audio = tone.expand(2, samples) + noise
            if params.enable_normalization:
                audio = audio / audio.abs().max() * 10 ** (params.normalization_db / 20)
            audio_params = params.to_dict()
            audio_params["seed"] = seed
            audios.append({"path": "", "tensor": audio.contiguous(), "key": str(uuid.uuid4()),
                           "sample_rate": 48000, "params": audio_params})
        _emit(progress, 0.99, "Preparing audio data...")
        return GenerationResult(audios=audios, status_message="✅ Generation completed",
                                extra_outputs={"seed_value": ", ".join(str(s) for s in seeds)}, success=True)
    except Exception as e:
        return GenerationResult(audios=[], status_message=f"❌ Error: {e}", extra_outputs={}, success=False,
                                error=str(e))
