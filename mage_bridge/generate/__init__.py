"""Generator backends: ``acestep`` (heavy, when installed) and ``procedural`` (the embedded default).

``create_generator()`` builds the config's choice (``backends.generate``, env
``MAGE_GENERATE_BACKEND``); ``"auto"`` takes the first backend that can run here,
heavy first; a named backend that cannot run raises
:class:`~mage_bridge.errors.BackendUnavailableError` saying what is missing.
"""

from __future__ import annotations

from mage_bridge.backends import Registry
from mage_bridge.config import Config, load_config
from mage_bridge.generate.base import GeneratedClip, GenerateRequest, Generator, ProgressFn

REGISTRY = Registry("generate")
REGISTRY.register("acestep", "mage_bridge.generate.acestep:AceStepGenerator", extra="acestep",
                  summary="ACE-Step diffusion model (weights in models_dir/ace-step)")
REGISTRY.register("procedural", "mage_bridge.generate.procedural:ProceduralGenerator",
                  summary="procedural composer rendered with FluidSynth and a GM SoundFont")


def create_generator(backend: str | None = None, config: Config | None = None) -> Generator:
    """The generator ``backend`` names (``None``: the config's ``backends.generate``), built from ``config``."""
    return REGISTRY.create(backend, config if config is not None else load_config())


__all__ = ["REGISTRY", "GeneratedClip", "GenerateRequest", "Generator", "ProgressFn", "create_generator"]
