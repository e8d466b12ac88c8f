"""The Route protocol: one way of running ACE-Step (diffusers' pipeline or the native package).

A route turns an :class:`~mage_bridge.generate.acestep.call.AceStepCall` into audio. The generator
above it knows nothing of torch or of either package; a route knows nothing of stems, manifests or
edits. :func:`open_route` picks the route a :class:`ModelFolder` was found for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError

if TYPE_CHECKING:
    from mage_bridge.generate.acestep.call import AceStepCall
    from mage_bridge.generate.acestep.models import ModelFolder

#: ``on_step(done, total)``: called after each diffusion step with the steps done so far (1..total).
StepFn = Callable[[int, int], None]


class Route(Protocol):
    """One way of running ACE-Step on one model folder.

    :meth:`run` returns float32 ``(2, call.frames)`` at 48 kHz: exactly the requested length, the
    latent rounding trimmed. ``on_step`` is called after every diffusion step and may raise
    :class:`~mage_bridge.errors.CancelledError`; the route lets it propagate at once, so a cancelled
    job skips the decode. :meth:`details` says what ran, for the manifest: ``route``, ``folder``,
    ``variant``, ``device``, ``dtype``, ``load_s`` (0 when the model was already loaded) and ``warm``.
    """

    name: str
    folder: ModelFolder

    def run(self, call: AceStepCall, *, on_step: StepFn) -> np.ndarray: ...

    def details(self) -> dict[str, Any]: ...


def open_route(config: Config, folder: ModelFolder) -> Route:
    """The route for ``folder`` (``folder.route``: ``"diffusers"`` or ``"native"``); nothing is loaded yet."""
    if folder.route == "diffusers":
        from mage_bridge.generate.acestep.diffusers_route import DiffusersRoute

        return DiffusersRoute(folder, config.acestep)
    if folder.route == "native":
        import importlib

        native = importlib.import_module("mage_bridge.generate.acestep.native")
        route: Route = native.NativeRoute(folder, config.acestep)
        return route
    raise BackendUnavailableError(f"unknown ACE-Step route {folder.route!r} for {str(folder.path)!r}")
