"""Where ACE-Step runs (device and dtype) and what to tell the user when it runs out of memory.

torch is imported only inside :func:`pick_device`, which runs when a model loads; :func:`as_mage_error`
classifies an exception with torch's classes only when torch is already loaded (it always is once a model ran).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mage_bridge.errors import BackendUnavailableError, ConfigError, OutOfMemoryError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cuda", "mps", "cpu")
DTYPES = ("auto", "float32", "float16", "bfloat16")

#: The dtype each device runs by default: what ACE-Step's own handler picks (bf16 on CUDA, fp16 on Apple MPS,
#: fp32 on the CPU, where half precision is slow or unsupported).
DEFAULT_DTYPES = {"cuda": "bfloat16", "mps": "float16", "cpu": "float32"}

CPU_WARNING = ("ACE-Step runs on the CPU: a 30 s clip takes minutes (a CUDA GPU or Apple MPS does it in seconds); "
               "set acestep.device = \"cpu\" to silence this warning")

CUDA_INSTALL = ("install a CUDA build of torch, e.g. `pip install torch --index-url "
                "https://download.pytorch.org/whl/cu128` (pick the CUDA version of your driver on pytorch.org)")


@dataclass(frozen=True)
class DeviceChoice:
    """The device (``"cuda"``, ``"mps"``, ``"cpu"``) and dtype a model loads on, and a warning for the user."""

    device: str
    dtype: torch.dtype
    warning: str | None = None


def check_names(requested: str, dtype: str) -> None:
    """Refuse an unknown ``acestep.device`` or ``acestep.dtype`` with a :class:`ConfigError` naming the key."""
    if requested not in DEVICES:
        raise ConfigError(f"acestep.device must be one of {', '.join(DEVICES)}, got {requested!r}")
    if dtype not in DTYPES:
        raise ConfigError(f"acestep.dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")


def dtype_name_for(device: str, dtype: str) -> str:
    """The dtype's name for ``device``: ``dtype`` itself, or the device's default for ``"auto"``."""
    return DEFAULT_DTYPES[device] if dtype == "auto" else dtype


def _mps_available(torch_module: object) -> bool:
    backends = getattr(torch_module, "backends", None)
    mps = getattr(backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def pick_device(requested: str, dtype: str) -> DeviceChoice:
    """The device and dtype for ``acestep.device`` / ``acestep.dtype``.

    ``"auto"`` takes CUDA, then Apple MPS, else the CPU with :data:`CPU_WARNING`. A device asked for by name
    and absent is a :class:`BackendUnavailableError` that says what to install; an unknown name is a
    :class:`ConfigError` naming the key.
    """
    check_names(requested, dtype)
    try:
        import torch
    except ImportError as e:
        raise BackendUnavailableError("ACE-Step needs torch: pip install 'mage-bridge[acestep]'") from e
    cuda = torch.cuda.is_available()
    mps = _mps_available(torch)
    warning = None
    if requested == "auto":
        device = "cuda" if cuda else "mps" if mps else "cpu"
        warning = CPU_WARNING if device == "cpu" else None
    elif requested == "cuda" and not cuda:
        build = torch.__version__
        why = (f"torch {build} is a CPU-only build" if torch.version.cuda is None
               else f"torch {build} (CUDA {torch.version.cuda}) finds no usable GPU: check the NVIDIA driver "
                    "and CUDA_VISIBLE_DEVICES")
        raise BackendUnavailableError(
            f"acestep.device is \"cuda\" but {why}; {CUDA_INSTALL}, or set acestep.device = \"auto\"")
    elif requested == "mps" and not mps:
        raise BackendUnavailableError(
            f"acestep.device is \"mps\" but torch {torch.__version__} finds no Apple MPS device (it needs macOS "
            "12.3 or later on Apple silicon and the standard macOS torch wheel); set acestep.device = \"auto\"")
    else:
        device = requested
    name = dtype_name_for(device, dtype)
    if device == "cpu" and name != "float32" and warning is None:
        warning = f"acestep.dtype {name} on the CPU is slow or unsupported by some layers; float32 is the default"
    return DeviceChoice(device=device, dtype=getattr(torch, name), warning=warning)


#: Text of out-of-memory errors that torch raises as a plain RuntimeError (CPU allocator, MPS, cuBLAS).
_OOM_TEXT = ("out of memory", "can't allocate memory", "cublas_status_alloc_failed", "failed to allocate")


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) is torch running out of device or host memory."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OutOfMemoryError | MemoryError):
            return True
        torch_module = sys.modules.get("torch")
        torch_oom = getattr(torch_module, "OutOfMemoryError", None) if torch_module is not None else None
        if isinstance(torch_oom, type) and isinstance(e, torch_oom):
            return True
        if isinstance(e, RuntimeError) and any(t in str(e).lower() for t in _OOM_TEXT):
            return True
        e = e.__cause__ or e.__context__
    return False


def out_of_memory_message(*, duration_s: float | None, steps: int | None, cpu_offload: bool,
                          device: str | None = None) -> str:
    """What to change when a clip of ``duration_s`` with ``steps`` steps (``None``: loading) did not fit."""
    where = f" on {device}" if device else ""
    offload = ("acestep.cpu_offload is already true" if cpu_offload
               else "set acestep.cpu_offload = true (each part moves to the GPU only while it runs)")
    if duration_s is None or steps is None:
        return (f"ACE-Step ran out of memory{where} while loading the model: {offload}, close other programs that "
                "hold GPU memory, or set acestep.device = \"cpu\"; see docs/acestep.md")
    return (f"ACE-Step ran out of memory{where} for a {duration_s:g} s clip at {steps} steps: ask for a shorter "
            f"clip (memory grows with the duration), {offload}, use fewer acestep.steps, or close other programs "
            "that hold GPU memory; see docs/acestep.md")


def as_mage_error(exc: BaseException, *, duration_s: float | None, steps: int | None, cpu_offload: bool,
                  device: str | None = None) -> OutOfMemoryError | None:
    """An :class:`OutOfMemoryError` (code ``out_of_memory``) for torch's out-of-memory errors, else ``None``.

    Recognises ``torch.OutOfMemoryError`` (``torch.cuda.OutOfMemoryError``), a ``RuntimeError`` saying "out of
    memory" (CUDA, Apple MPS) or "can't allocate memory" (the CPU allocator), and ``MemoryError``. Use as
    ``err = as_mage_error(e, ...); if err: raise err from e``; ``duration_s=None`` while loading the model.
    """
    if isinstance(exc, OutOfMemoryError):
        return exc
    if not is_out_of_memory(exc):
        return None
    return OutOfMemoryError(out_of_memory_message(duration_s=duration_s, steps=steps, cpu_offload=cpu_offload,
                                                  device=device))
