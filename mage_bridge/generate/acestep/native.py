"""The native route: ACE-Step 1.5's own ``acestep`` package, for users who run its checkpoints as released.

The package lives in an environment of its own (it pins ``transformers<4.58`` and a CUDA torch, while the
diffusers route needs transformers 5), installed from its source release. This route calls its documented API
(``acestep/inference.py``)::

    handler = acestep.handler.AceStepHandler()
    msg, ok = handler.initialize_service(project_root, config_path, device=..., offload_to_cpu=...)
    result = acestep.inference.generate_music(handler, None, GenerationParams(...), GenerationConfig(...))

Facts of that API this route works around:

- ``initialize_service`` downloads every missing checkpoint (several GB) and returns ``(message, False)`` instead
  of raising. The ``checkpoints/`` folder is checked here first (:func:`~.models.native_problems`), and
  ``initialize_service`` is never called while anything is missing.
- ``GenerationConfig`` defaults to two clips with random seeds: this route asks for ``batch_size=1``,
  ``use_random_seed=False`` and ``seeds=[seed]``. ``duration`` is always passed (without it the package picks
  10-120 s at random).
- ``src_audio`` is a file path: the source is written to a temporary 48 kHz float WAV for the call.
- ``generate_music`` catches every exception and returns ``success=False`` with the error's text; an
  out-of-memory text becomes :class:`~mage_bridge.errors.OutOfMemoryError`, anything else a :class:`MageError`.
- Progress comes as a gradio-style ``progress(fraction, desc=...)`` over the whole call, sometimes from a timer
  thread, and exceptions raised from it are swallowed. The diffusion steps fill :data:`DIFFUSION_SPAN` of it
  (``RuntimeProgressRelay(start=0.52, end=0.79)``; older releases estimate the same span with a timer), which is
  relayed as ``on_step(done, total)``; a
  :class:`~mage_bridge.errors.CancelledError` raised by ``on_step`` is kept and raised when the call returns
  (the package has no cancel, so the clip finishes first and is thrown away).
- The language model (the package's "thinking" step) is not used: MAGE writes the caption and metadata itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mage_bridge.config import AceStepConfig, Config
from mage_bridge.errors import BackendUnavailableError, MageError
from mage_bridge.generate.acestep.call import fit_frames
from mage_bridge.generate.acestep.device import as_mage_error, pick_device
from mage_bridge.generate.acestep.models import (
    ModelFolder,
    native_message,
    native_missing_package_message,
    native_package_dir,
    native_problems,
)

if TYPE_CHECKING:
    from mage_bridge.generate.acestep.call import AceStepCall

log = logging.getLogger(__name__)

SAMPLE_RATE = 48_000

#: The part of the package's progress fraction its diffusion steps fill; below is preparation, above decoding.
DIFFUSION_SPAN = (0.52, 0.79)

#: The instruction each task gives the DiT: the native ``acestep/constants.py`` TASK_INSTRUCTIONS (the native
#: API takes the instruction text itself; ``{track}`` is the upper-cased track name, as diffusers writes it).
INSTRUCTIONS = {
    "text2music": "Fill the audio semantic mask based on the given conditions:",
    "repaint": "Repaint the mask area based on the given conditions:",
    "cover": "Generate audio semantic tokens based on the given conditions:",
    "extract": "Extract the {track} track from the audio:",
    "lego": "Generate the {track} track based on the audio context:",
    "complete": "Complete the input track:",
}
TRACKLESS = {"extract": "Extract the track from the audio:", "lego": "Generate the track based on the audio context:"}

#: Loading the package and its models and running them is serialised: one handler per process.
_LOCK = threading.RLock()


def instruction_for(task: str, track: str | None) -> str:
    """The DiT instruction for ``task`` (and the ``track`` lego and extract name)."""
    if task in TRACKLESS and not track:
        return TRACKLESS[task]
    return INSTRUCTIONS[task].format(track=(track or "").upper())


def check_checkpoints_honoured(checkpoints: Path) -> None:
    """Refuse a ``checkpoints/`` folder the installed release would not read (it would download into its own).

    Releases up to early 2026 (f30aee4) ignore ``project_root`` and read only the ``checkpoints/`` beside the
    package; later ones read ``ACESTEP_CHECKPOINTS_DIR``. Which one is installed is read from its source text,
    without importing it.
    """
    package = native_package_dir()
    if package is None or checkpoints.resolve() == (package.parent / "checkpoints").resolve():
        return
    for source in package.rglob("*.py"):
        try:
            if "ACESTEP_CHECKPOINTS_DIR" in source.read_text(encoding="utf-8", errors="replace"):
                return
        except OSError:
            continue
    raise BackendUnavailableError(
        f"the installed acestep release in {str(package)!r} reads its checkpoints only from "
        f"{str(package.parent / 'checkpoints')!r} and would download there, not use {str(checkpoints)!r}: move "
        "or link the checkpoints there and leave acestep.checkpoints_dir unset, or install a newer release")


@contextlib.contextmanager
def _checkpoints_env(checkpoints: Path) -> Iterator[None]:
    """``ACESTEP_CHECKPOINTS_DIR`` set to ``checkpoints`` while the package loads (it wins over
    ``project_root`` in releases that read it), then restored."""
    old = os.environ.get("ACESTEP_CHECKPOINTS_DIR")
    os.environ["ACESTEP_CHECKPOINTS_DIR"] = str(checkpoints)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("ACESTEP_CHECKPOINTS_DIR", None)
        else:
            os.environ["ACESTEP_CHECKPOINTS_DIR"] = old


class _Warm:
    """The one loaded handler of this process, by (checkpoints, DiT, device, offload); released when idle."""

    def __init__(self) -> None:
        self.key: tuple[str, str, str, bool] | None = None
        self.handler: Any = None
        self.load_s = 0.0
        self.timer: threading.Timer | None = None
        self.uses = 0  # counts acquires, so a timer that fired while a call ran drops nothing

    def acquire(self, key: tuple[str, str, str, bool], load: Callable[[], Any]) -> tuple[Any, bool, float]:
        """The handler for ``key`` (loading it, and dropping any other, if needed), whether it was warm, load_s."""
        self.uses += 1
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.key == key and self.handler is not None:
            return self.handler, True, 0.0
        self.drop()
        start = time.perf_counter()
        handler = load()
        self.key, self.handler, self.load_s = key, handler, time.perf_counter() - start
        return handler, False, self.load_s

    def release(self, idle_release_s: int) -> None:
        """Start the idle timer: the handler goes after ``idle_release_s`` without a call (0: it stays)."""
        if idle_release_s > 0 and self.handler is not None:
            self.timer = threading.Timer(idle_release_s, self._expire, args=(self.uses,))
            self.timer.daemon = True
            self.timer.start()

    def _expire(self, uses: int) -> None:
        with _LOCK:
            if uses == self.uses:
                self.drop()

    def drop(self) -> None:
        """Forget the handler so its models can be freed (and the GPU cache emptied)."""
        if self.handler is None:
            return
        self.key, self.handler = None, None
        import gc
        import sys

        gc.collect()
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()


WARM = _Warm()


class NativeRoute:
    """:class:`~mage_bridge.generate.acestep.routes.Route` over the native ``acestep`` package.

    ``folder`` is a native :class:`ModelFolder` (``path`` the ``checkpoints/`` folder, ``dit`` the DiT
    subfolder); ``settings`` the ``[acestep]`` section (or the whole :class:`Config`).
    """

    name = "native"

    def __init__(self, folder: ModelFolder, settings: AceStepConfig | Config) -> None:
        if folder.route != "native" or not folder.dit:
            raise BackendUnavailableError(f"the native ACE-Step route needs a checkpoints/ folder and a DiT, "
                                          f"got {folder!r}")
        self.folder = folder
        self.settings = settings.acestep if isinstance(settings, Config) else settings
        self.choice = pick_device(self.settings.device, self.settings.dtype)
        self._load_s = 0.0
        self._warm = False
        self._dtype: str | None = None

    @property
    def warning(self) -> str | None:
        """What the user should know about the device (the CPU is slow), or ``None``."""
        return self.choice.warning

    def details(self) -> dict[str, Any]:
        dtype = self._dtype or str(self.choice.dtype).removeprefix("torch.")
        return {"route": self.name, "folder": str(self.folder.path), "dit": self.folder.dit,
                "variant": self.folder.variant, "device": self.choice.device, "dtype": dtype,
                "load_s": round(self._load_s, 4), "warm": self._warm}

    def _key(self) -> tuple[str, str, str, bool]:
        return (str(self.folder.path), str(self.folder.dit), self.choice.device, self.settings.cpu_offload)

    def load(self) -> Any:
        """A fresh ``AceStepHandler`` with the DiT loaded; the checkpoints are checked before anything loads."""
        checkpoints, dit = self.folder.path, str(self.folder.dit)
        problems = native_problems(checkpoints, dit)
        if problems:
            raise BackendUnavailableError(native_message(checkpoints, dit, problems))
        check_checkpoints_honoured(checkpoints)
        try:
            from acestep.handler import AceStepHandler
        except ImportError as e:
            raise BackendUnavailableError(f"{native_missing_package_message()} ({e})") from e
        handler = AceStepHandler()
        offload = self.settings.cpu_offload
        with _checkpoints_env(checkpoints):
            try:
                message, ok = handler.initialize_service(
                    project_root=str(checkpoints.parent), config_path=dit, device=self.choice.device,
                    offload_to_cpu=offload, offload_dit_to_cpu=offload)
            except Exception as e:
                raise self._load_error(e, dit) from e
        if not ok:  # the package catches its own exceptions into the message
            raise self._load_error(RuntimeError(str(message).strip()), dit)
        return handler

    def _load_error(self, exc: BaseException, dit: str) -> MageError:
        oom = as_mage_error(exc, duration_s=None, steps=None, cpu_offload=self.settings.cpu_offload,
                            device=self.choice.device)
        if oom is not None:
            return oom
        return BackendUnavailableError(f"ACE-Step (native) could not load {dit} from "
                                       f"{str(self.folder.path)!r}: {exc}")

    def run(self, call: AceStepCall, *, on_step: Callable[[int, int], None]) -> np.ndarray:
        """Float32 ``(2, frames)`` at 48 kHz, exactly ``call.duration_s`` long."""
        with _LOCK:
            handler, self._warm, self._load_s = WARM.acquire(self._key(), self.load)
            dtype = getattr(handler, "dtype", None)
            self._dtype = str(dtype).removeprefix("torch.") if dtype is not None else None
            try:
                return self._run(handler, call, on_step)
            finally:
                WARM.release(self.settings.idle_release_s)

    def _run(self, handler: Any, call: AceStepCall, on_step: Callable[[int, int], None]) -> np.ndarray:
        from acestep.inference import GenerationConfig, generate_music

        relay = StepRelay(on_step, call.steps)
        with tempfile.TemporaryDirectory(prefix="mage-acestep-") as tmp:
            src = None
            if call.src_audio is not None:
                src = write_source(np.asarray(call.src_audio, dtype=np.float32), Path(tmp) / "source.wav")
            params = generation_params(call, src_path=src)
            config = GenerationConfig(batch_size=1, use_random_seed=False, seeds=[int(call.seed)],
                                      audio_format="wav")
            try:
                result = generate_music(handler, None, params, config, save_dir=None, progress=relay)
            except Exception as e:
                relay.raise_if_cancelled()
                raise self._error(e, call) from e
        relay.raise_if_cancelled()
        if not getattr(result, "success", False):
            error = str(getattr(result, "error", None) or getattr(result, "status_message", "") or "unknown error")
            raise self._error(RuntimeError(error), call)
        audios = getattr(result, "audios", None) or []
        if not audios or audios[0].get("tensor") is None:
            raise MageError("ACE-Step (native) returned no audio")
        rate = int(audios[0].get("sample_rate", SAMPLE_RATE))
        audio = _to_numpy(audios[0]["tensor"])
        if rate != SAMPLE_RATE:
            from mage_bridge.audio import Audio, resample

            audio = resample(Audio(audio, rate), SAMPLE_RATE).samples
        relay.finish()
        return fit_frames(audio, int(round(call.duration_s * SAMPLE_RATE)))

    def _error(self, exc: BaseException, call: AceStepCall) -> MageError:
        oom = as_mage_error(exc, duration_s=call.duration_s, steps=call.steps,
                            cpu_offload=self.settings.cpu_offload, device=self.choice.device)
        if oom is not None:
            return oom
        return MageError(f"ACE-Step (native) failed on {call.task_type}: {exc}")


def generation_params(call: AceStepCall, *, src_path: Path | None) -> Any:
    """``acestep.inference.GenerationParams`` for ``call``: every field MAGE decides, the LM switched off."""
    from acestep.inference import GenerationParams

    lyrics = call.lyrics or ""
    fields: dict[str, Any] = dict(
        task_type=call.task_type, instruction=instruction_for(call.task_type, call.track_name),
        caption=call.caption, lyrics=lyrics, instrumental=lyrics.strip() in ("", "[Instrumental]"),
        vocal_language=getattr(call, "vocal_language", None) or "unknown",
        bpm=int(call.bpm) if call.bpm is not None else None, keyscale=call.keyscale or "",
        timesignature=call.timesignature or "", duration=float(call.duration_s),
        inference_steps=int(call.steps), seed=int(call.seed), guidance_scale=float(call.guidance),
        shift=float(call.shift), audio_cover_strength=float(call.audio_cover_strength),
        thinking=False, use_cot_metas=False, use_cot_caption=False, use_cot_language=False,
    )
    if src_path is not None:
        fields["src_audio"] = str(src_path)
    if call.task_type in ("repaint", "lego"):
        fields["repainting_start"] = float(call.repainting_start or 0.0)
        fields["repainting_end"] = float(call.repainting_end) if call.repainting_end is not None else -1.0
    return GenerationParams(**fields)


def write_source(samples: np.ndarray, path: Path) -> Path:
    """The source audio as a 48 kHz float WAV at ``path`` (the native API takes a file path)."""
    from mage_bridge.audio import Audio
    from mage_bridge.audio.writing import save

    return save(Audio(samples, SAMPLE_RATE), path, subtype="float", overwrite=True)


class StepRelay:
    """A gradio-style ``progress(fraction, desc=None)`` that calls ``on_step(done, total)`` as steps pass.

    ``done`` is where the fraction lies in :data:`DIFFUSION_SPAN`, in steps rounded down, reported once per
    value and never backwards; it may be called from the package's timer thread. An exception ``on_step``
    raises (a cancel) is kept, later fractions are ignored, and :meth:`raise_if_cancelled` raises it when the
    package returns.
    """

    def __init__(self, on_step: Callable[[int, int], None], total: int) -> None:
        self.on_step = on_step
        self.total = max(1, int(total))
        self.done = 0
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def __call__(self, value: float, desc: str | None = None, *args: Any, **kwargs: Any) -> None:
        start, end = DIFFUSION_SPAN
        try:
            done = int((float(value) - start) / (end - start) * self.total + 1e-6)
        except (TypeError, ValueError):
            return
        done = max(0, min(self.total, done))
        self._report(done)

    def _report(self, done: int) -> None:
        with self._lock:
            if self.error is not None or done <= self.done:
                return
            self.done = done
            try:
                self.on_step(done, self.total)
            except BaseException as e:  # a cancel: kept, raised after the package returns
                self.error = e

    def finish(self) -> None:
        """Report the last step when the package's estimate stopped short of it."""
        self._report(self.total)
        self.raise_if_cancelled()

    def raise_if_cancelled(self) -> None:
        """Raise what ``on_step`` raised (a cancel: :class:`~mage_bridge.errors.CancelledError`), if anything."""
        if self.error is not None:
            raise self.error


def _to_numpy(tensor: Any) -> np.ndarray:
    if hasattr(tensor, "detach"):
        tensor = tensor.detach().to("cpu").float().numpy()
    audio = np.asarray(tensor, dtype=np.float32)
    if audio.ndim == 3:
        audio = audio[0]
    if audio.ndim == 1:
        audio = audio[None, :]
    return audio

