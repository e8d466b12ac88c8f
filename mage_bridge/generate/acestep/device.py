"""Which device and dtype run ACE-Step: CUDA, then Apple MPS, else the CPU with a warning."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mage_bridge.errors import BackendUnavailableError, InvalidInputError

CPU_WARNING = "ACE-Step runs on the CPU here: expect minutes per clip (a CUDA GPU or Apple MPS takes seconds)"
DTYPES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class DeviceChoice:
    """The device (``"cuda"``, ``"mps"``, ``"cpu"``), its dtype (a ``torch.dtype``), and a warning for the user."""

    device: str
    dtype: Any
    warning: str | None = None


def pick_device(requested: str, dtype: str) -> DeviceChoice:
    """Resolve ``requested`` (``auto|cuda|mps|cpu``) and ``dtype`` (``auto|float32|float16|bfloat16``)."""
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if requested == "auto":
        device = "cuda" if cuda else "mps" if mps else "cpu"
    elif requested in ("cuda", "mps", "cpu"):
        if (requested == "cuda" and not cuda) or (requested == "mps" and not mps):
            raise BackendUnavailableError(
                f"acestep.device is {requested!r} but torch sees no {requested.upper()} device: install a torch "
                f"build with {requested.upper()} support, or set acestep.device = \"auto\"")
        device = requested
    else:
        raise InvalidInputError(f"acestep.device must be auto, cuda, mps or cpu, got {requested!r}")
    if dtype == "auto":
        name = {"cuda": "bfloat16", "mps": "float16"}.get(device, "float32")
    elif dtype in DTYPES:
        name = dtype
    else:
        raise InvalidInputError(f"acestep.dtype must be auto, {', '.join(DTYPES)}, got {dtype!r}")
    return DeviceChoice(device=device, dtype=getattr(torch, name),
                        warning=CPU_WARNING if device == "cpu" else None)
