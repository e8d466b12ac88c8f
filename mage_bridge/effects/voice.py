"""Named slots for vocal enhancement and voice conversion models, which this version cannot run.

``REGISTRY = Registry("voice")`` lists ``clearervoice`` (speech/vocal
enhancement, ClearerVoice-Studio) and ``svc`` (singing voice conversion,
so-vits-svc-fork). Both report "not installed" until their package and an
adapter exist; :func:`create_voice_backend` raises
:class:`~mage_bridge.errors.BackendUnavailableError` with the reason.
"""

from __future__ import annotations

from typing import Any

from mage_bridge.backends import Registry
from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError

REGISTRY = Registry("voice")
REGISTRY.register("clearervoice", "mage_bridge.effects.voice:NotYetAvailable", requires=("clearvoice",),
                  summary="ClearerVoice-Studio vocal enhancement (slot: no adapter in this version)")
REGISTRY.register("svc", "mage_bridge.effects.voice:NotYetAvailable", requires=("so_vits_svc_fork",),
                  summary="singing voice conversion (slot: no adapter in this version)")


class NotYetAvailable:
    """A voice backend whose package is present but which this version has no adapter for."""

    @classmethod
    def unavailable_reason(cls, config: Config) -> str | None:
        return "installed, but this version of MAGE Bridge has no adapter for it"

    @classmethod
    def from_config(cls, config: Config, **options: Any) -> NotYetAvailable:
        raise BackendUnavailableError(cls.unavailable_reason(config) or "unavailable")


def create_voice_backend(name: str | None, config: Config, **options: Any) -> Any:
    """The voice backend ``name`` (``None`` or ``"auto"``: the first that can run; the config names none)."""
    return REGISTRY.create(name, config, **options)
