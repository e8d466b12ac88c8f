"""The diffusers route: ``diffusers.AceStepPipeline`` loaded from a local folder and kept warm.

Loading takes seconds to minutes (about 4 GB for the real model), so one pipeline per folder,
device and dtype lives in this process (:class:`WarmPipelines`) and every job reuses it; a timer
releases it after ``acestep.idle_release_s`` without a job. Loading is offline: ``HF_HUB_OFFLINE=1``
and ``local_files_only=True``, so a missing file is an error, never a download.

Facts of diffusers 0.42.1 this route works around (see the project's ACE-Step research notes):

- ``audio_duration`` defaults to 60 s and is written into the text condition even when a source
  sets the length, so it is always passed; the output is ceil-ed to 40 ms latent frames, so it is
  trimmed to the requested length.
- The VAE's posterior sample for ``src_audio`` draws from the global torch RNG, not from
  ``generator``: calls with a source seed it under a lock so that a seed reproduces the audio.
- Turbo coerces a guidance above 1 to 1 with a warning on every call: the call's guidance is 1.0 there.
- The pipeline's interrupt flag still decodes the partial latents; raising from
  ``callback_on_step_end`` stops at once and skips the decode, so a cancel costs at most one step.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mage_bridge.config import AceStepConfig
from mage_bridge.errors import BackendUnavailableError, InvalidInputError
from mage_bridge.generate.acestep.call import LATENT_FRAMES, SAMPLE_RATE, AceStepCall, fit_frames
from mage_bridge.generate.acestep.models import ModelFolder
from mage_bridge.generate.acestep.routes import StepFn

log = logging.getLogger(__name__)


@dataclass
class Loaded:
    """One loaded pipeline: how long it took, how many jobs use it now, its idle timer."""

    key: tuple[str, str, str, bool]
    pipe: Any
    load_s: float
    busy: int = 0
    timer: threading.Timer | None = field(default=None, repr=False)


class WarmPipelines:
    """The pipelines loaded in this process, by (folder, device, dtype, offload); idle ones are released.

    :meth:`acquire` returns a loaded pipeline (loading it if needed, and dropping any other idle
    one first so only one model occupies memory) and marks it busy; :meth:`release` marks it idle
    and starts its timer. The timer is a daemon thread, so it never keeps the process alive.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        #: Whole runs are serialised: a pipeline's state (``_interrupt``) and the global RNG a source seeds are shared.
        self.run_lock = threading.Lock()
        self._loaded: dict[tuple[str, str, str, bool], Loaded] = {}

    def acquire(self, folder: Path, device: str, dtype: Any, cpu_offload: bool) -> tuple[Loaded, bool]:
        """``(entry, warm)``: the pipeline for this key, busy until :meth:`release`; ``warm`` if it was loaded."""
        key = (str(Path(folder).resolve()), device, str(dtype), cpu_offload)
        with self._lock:
            entry = self._loaded.get(key)
            if entry is not None:
                self._stop_timer(entry)
                entry.busy += 1
                return entry, True
            for other in [e for e in self._loaded.values() if e.busy == 0]:
                self._drop(other)
            started = time.perf_counter()
            pipe = load_pipeline(Path(folder), device=device, dtype=dtype, cpu_offload=cpu_offload)
            entry = Loaded(key=key, pipe=pipe, load_s=time.perf_counter() - started, busy=1)
            self._loaded[key] = entry
            return entry, False

    def release(self, entry: Loaded, idle_release_s: float) -> None:
        """The job using ``entry`` is done; release it after ``idle_release_s`` more without a job (0: never)."""
        with self._lock:
            entry.busy = max(0, entry.busy - 1)
            if entry.busy == 0 and idle_release_s > 0 and self._loaded.get(entry.key) is entry:
                self._stop_timer(entry)
                timer = threading.Timer(idle_release_s, self._expire, args=(entry,))
                timer.daemon = True
                timer.name = "acestep-idle-release"
                entry.timer = timer
                timer.start()

    def loaded(self) -> list[tuple[str, str, str, bool]]:
        """The keys of the pipelines held now."""
        with self._lock:
            return list(self._loaded)

    def clear(self) -> None:
        """Release every idle pipeline now (tests; a daemon shutting down)."""
        with self._lock:
            for entry in [e for e in self._loaded.values() if e.busy == 0]:
                self._drop(entry)

    def _expire(self, entry: Loaded) -> None:
        with self._lock:
            if entry.busy == 0 and self._loaded.get(entry.key) is entry:
                log.info("ACE-Step model in %s released: no job for the idle time", entry.key[0])
                self._drop(entry)

    def _drop(self, entry: Loaded) -> None:
        self._stop_timer(entry)
        self._loaded.pop(entry.key, None)
        device = entry.key[1]
        entry.pipe = None
        gc.collect()
        if device == "cuda":
            import torch

            torch.cuda.empty_cache()

    @staticmethod
    def _stop_timer(entry: Loaded) -> None:
        if entry.timer is not None:
            entry.timer.cancel()
            entry.timer = None


#: The process's warm pipelines (one daemon worker keeps its model between jobs).
WARM = WarmPipelines()


def load_pipeline(folder: Path, *, device: str, dtype: Any, cpu_offload: bool = False) -> Any:
    """``AceStepPipeline.from_pretrained(folder)``, offline, on ``device`` in ``dtype``, progress bar off."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        from diffusers import AceStepPipeline
    except ImportError as e:
        raise BackendUnavailableError(f"diffusers with AceStepPipeline (0.42 or later) is needed for ACE-Step's "
                                      f"diffusers route: pip install 'mage-bridge[acestep]' ({e})") from e
    try:
        with _quiet_loading():
            pipe = AceStepPipeline.from_pretrained(str(folder), local_files_only=True, dtype=dtype)
    except (OSError, ValueError) as e:
        raise BackendUnavailableError(f"cannot load the ACE-Step model in {str(folder)!r}: {e}") from e
    if cpu_offload and device != "cpu":
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """No tqdm bars nor deprecation noise from diffusers and transformers while loading (a daemon logs)."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    were = [(m, m.is_progress_bar_enabled()) for m in (diffusers_logging, transformers_logging)]
    for module, _ in were:
        module.disable_progress_bar()
    try:
        with warnings.catch_warnings():  # diffusers' Oobleck VAE still uses the deprecated torch weight_norm
            warnings.filterwarnings("ignore", message=".*weight_norm.*", category=FutureWarning)
            yield
    finally:
        for module, enabled in were:
            if enabled:
                module.enable_progress_bar()


class DiffusersRoute:
    """:class:`~mage_bridge.generate.acestep.routes.Route` over diffusers' ``AceStepPipeline``."""

    name = "diffusers"

    def __init__(self, folder: ModelFolder, settings: AceStepConfig) -> None:
        from mage_bridge.generate.acestep.device import pick_device

        self.folder = folder
        self.settings = settings
        self.choice = pick_device(settings.device, settings.dtype)
        self._load_s = 0.0
        self._warm = False

    @property
    def warning(self) -> str | None:
        """What the user should know about the device (the CPU is slow), or ``None``."""
        return self.choice.warning

    def details(self) -> dict[str, Any]:
        return {"route": self.name, "folder": str(self.folder.path), "variant": self.folder.variant,
                "device": self.choice.device, "dtype": str(self.choice.dtype).removeprefix("torch."),
                "load_s": round(self._load_s, 4), "warm": self._warm}

    def run(self, call: AceStepCall, *, on_step: StepFn) -> np.ndarray:
        from mage_bridge.generate.acestep.device import as_mage_error

        try:
            entry, warm = WARM.acquire(self.folder.path, self.choice.device, self.choice.dtype,
                                       self.settings.cpu_offload)
        except Exception as e:  # out of memory while loading: say what helps
            err = as_mage_error(e, duration_s=None, steps=None, cpu_offload=self.settings.cpu_offload,
                                device=self.choice.device)
            if err is not None:
                raise err from e
            raise
        self._warm, self._load_s = warm, 0.0 if warm else entry.load_s
        try:
            return self._run(entry.pipe, call, on_step)
        except Exception as e:
            err = as_mage_error(e, duration_s=call.duration_s, steps=call.steps,
                                cpu_offload=self.settings.cpu_offload, device=self.choice.device)
            if err is not None:
                raise err from e
            raise
        finally:
            WARM.release(entry, self.settings.idle_release_s)

    def _run(self, pipe: Any, call: AceStepCall, on_step: StepFn) -> np.ndarray:
        import torch

        if call.task_type == "cover" and (getattr(pipe, "audio_tokenizer", None) is None
                                          or getattr(pipe, "audio_token_detokenizer", None) is None):
            from mage_bridge.errors import NotSupportedError

            raise NotSupportedError(f"ACE-Step cover needs the audio_tokenizer and audio_token_detokenizer "
                                    f"components, which the model in {str(self.folder.path)!r} lacks: convert "
                                    f"the checkpoint again with them")
        total = call.steps

        def step_end(_pipe: Any, index: int, _timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            on_step(index + 1, total)
            return kwargs

        kwargs: dict[str, Any] = dict(
            prompt=call.caption, lyrics=call.lyrics, audio_duration=call.duration_s,
            vocal_language=call.vocal_language, num_inference_steps=total,
            guidance_scale=1.0 if self.folder.is_turbo else call.guidance, shift=call.shift, bpm=call.bpm,
            keyscale=call.keyscale, timesignature=call.timesignature, task_type=call.task_type,
            track_name=call.track_name, audio_cover_strength=call.audio_cover_strength,
            callback_on_step_end=step_end, output_type="pt",
        )
        if call.src_audio is not None:
            rate = int(getattr(pipe, "sample_rate", SAMPLE_RATE))
            src = call.src_audio if rate == SAMPLE_RATE else _resample(call.src_audio, SAMPLE_RATE, rate)
            short = -src.shape[1] % LATENT_FRAMES  # whole latent frames, so the VAE keeps the source's end
            if short and rate == SAMPLE_RATE:
                src = np.concatenate([src, np.zeros((src.shape[0], short), np.float32)], axis=1)
            kwargs["src_audio"] = torch.from_numpy(np.array(src, dtype=np.float32))  # a writable copy
            if call.task_type in ("repaint", "lego"):
                kwargs["repainting_start"] = call.repainting_start
                kwargs["repainting_end"] = call.repainting_end
        with WARM.run_lock:
            if call.src_audio is not None:
                torch.manual_seed(call.seed)  # the VAE's posterior sample draws from the global RNG
            generator = torch.Generator(device="cpu").manual_seed(call.seed)
            try:
                with torch.inference_mode():
                    out = pipe(generator=generator, **kwargs)
            except ValueError as e:
                raise InvalidInputError(f"ACE-Step refused the {call.task_type} call: {e}") from e
        audio = out.audios[0].detach().to(device="cpu", dtype=torch.float32).numpy()
        rate = int(getattr(pipe, "sample_rate", SAMPLE_RATE))
        if rate != SAMPLE_RATE:
            audio = _resample(audio, rate, SAMPLE_RATE)
        return fit_frames(audio, call.frames)


def _resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    from mage_bridge.audio import Audio, resample

    return resample(Audio(audio, rate), target).samples
