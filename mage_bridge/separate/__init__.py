"""Source separation behind one facade: audio in, ``dict[str, Audio]`` out.

Every separator returns the four stems ``vocals``, ``drums``, ``bass``,
``other`` at 48 kHz stereo, the frame count of the input resampled to 48 kHz.

Backends, in ``"auto"`` preference order:

* ``demucs`` – Meta's Demucs (``pip install 'mage-bridge[demucs]'``), weights
  only from ``<models_dir>/demucs`` or an already filled torch hub cache;
  never downloaded.
* ``dsp`` – embedded: STFT soft masks (HPSS, a low band, REPET-SIM plus a
  centre-panning cue) that sum to one, so the stems sum to the input.

>>> from mage_bridge.separate import create_separator
>>> stems = create_separator("auto", config).separate(audio)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mage_bridge.audio import Audio
from mage_bridge.backends import Registry
from mage_bridge.config import Config

#: Stem names every separator returns, in this order.
STEM_NAMES: tuple[str, ...] = ("vocals", "drums", "bass", "other")

ProgressFn = Callable[[str, float], None]

REGISTRY = Registry("separate")
REGISTRY.register(
    "demucs", "mage_bridge.separate.demucs:DemucsSeparator", requires=("demucs", "torch"), extra="demucs",
    summary="Demucs (htdemucs by default); weights from <models_dir>/demucs or the torch hub cache",
)
REGISTRY.register(
    "dsp", "mage_bridge.separate.dsp:DspSeparator",
    summary="embedded STFT masking (HPSS, low band, REPET-SIM + centre cue); stems sum to the input",
)


class Separator:
    """Base class of separator backends.

    Subclasses set ``name`` and implement :meth:`separate`; the registry
    calls :meth:`unavailable_reason` and :meth:`from_config`.
    """

    name: str = "?"

    @classmethod
    def unavailable_reason(cls, config: Config) -> str | None:
        return None

    @classmethod
    def from_config(cls, config: Config, **options: Any) -> Separator:
        return cls(**options)

    def separate(self, audio: Audio, *, progress: ProgressFn | None = None) -> dict[str, Audio]:
        """Split ``audio`` (``(channels, frames)``, any rate) into :data:`STEM_NAMES` at 48 kHz stereo."""
        raise NotImplementedError

    def details(self) -> dict[str, Any]:
        """What ran, for the manifest (model name, version, parameters)."""
        return {"name": self.name}


def create_separator(name: str, config: Config, **options: Any) -> Separator:
    """Build the separator ``name`` (or the ``"auto"`` choice) with backend ``options``.

    ``"auto"`` takes Demucs when it and its default model's weights are
    present, else ``dsp``; options the chosen backend does not take are
    dropped for ``"auto"`` (a named backend refuses them instead). A named
    Demucs with ``model=...`` checks that model's weights, not the default's.
    """
    import inspect

    from mage_bridge.errors import BackendUnavailableError, InvalidInputError

    if name == "auto":
        name = REGISTRY.resolve("auto", config)
        cls = REGISTRY.spec(name).load_class()
        accepted = set(inspect.signature(cls.__init__).parameters) | {"model"}
        options = {k: v for k, v in options.items() if k in accepted}
    spec = REGISTRY.spec(name)
    missing = spec.missing_modules()
    if missing:
        raise BackendUnavailableError(
            f"separate backend {name!r} is unavailable: Python package(s) {', '.join(missing)} not installed "
            f"(pip install 'mage-bridge[{spec.extra}]')"
        )
    cls = spec.load_class()
    if "model" not in options:
        reason = cls.unavailable_reason(config)
        if reason is not None:
            raise BackendUnavailableError(f"separate backend {name!r} is unavailable: {reason}")
    try:
        return cls.from_config(config, **options)
    except TypeError as e:
        raise InvalidInputError(f"bad option for separate backend {name!r}: {e}") from e
