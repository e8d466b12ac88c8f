"""Generator backends: ``acestep`` (heavy, when installed) and ``procedural`` (the embedded default).

``create_generator()`` builds the config's choice (``backends.generate``, env
``MAGE_GENERATE_BACKEND``); ``"auto"`` takes the first backend that can run here,
heavy first; a named backend that cannot run raises
:class:`~mage_bridge.errors.BackendUnavailableError` saying what is missing.
"""

from __future__ import annotations

from mage_bridge.backends import Registry
from mage_bridge.config import Config, load_config
from mage_bridge.generate.base import EDIT_TASKS, EditRequest, GeneratedClip, GenerateRequest, Generator, ProgressFn

REGISTRY = Registry("generate")
REGISTRY.register("acestep", "mage_bridge.generate.acestep:AceStepGenerator", extra="acestep",
                  summary="ACE-Step 1.5 with vocals (diffusers or native ACE-Step; weights in models_dir/acestep)")
REGISTRY.register("procedural", "mage_bridge.generate.procedural:ProceduralGenerator",
                  summary="procedural composer rendered with FluidSynth and a GM SoundFont")


def create_generator(backend: str | None = None, config: Config | None = None) -> Generator:
    """The generator ``backend`` names (``None``: the config's ``backends.generate``), built from ``config``."""
    return REGISTRY.create(backend, config if config is not None else load_config())


def backends_for_task(task: str) -> list[str]:
    """The registered generators whose class offers ``task`` (installed or not), in registry order."""
    names = []
    for name in REGISTRY.names():
        try:
            cls = REGISTRY.spec(name).load_class()
        except ImportError:
            continue
        if task in getattr(cls, "tasks", ()):
            names.append(name)
    return names


__all__ = ["EDIT_TASKS", "REGISTRY", "EditRequest", "GeneratedClip", "GenerateRequest", "Generator", "ProgressFn",
           "backends_for_task", "create_generator"]
