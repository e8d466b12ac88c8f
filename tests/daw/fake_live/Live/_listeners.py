"""Listenable properties and Live's rule that a notification must not change the set.

Live's Python API gives every observable property ``p`` three methods: ``add_p_listener(callable)``,
``remove_p_listener(callable)`` and ``p_has_listener(callable)``; a listener is called with no arguments as soon
as the property has changed. Connecting the same listener twice and removing one that is not connected raise
``RuntimeError``. While listeners run, any change to the set raises ``RuntimeError("Changes cannot be triggered by
notifications. You will need to defer your response.")`` — Live's own message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NOTIFICATION_ERROR = "Changes cannot be triggered by notifications. You will need to defer your response."


class Notifications:
    """One per Live set: how deep inside listener calls we are."""

    def __init__(self) -> None:
        self.depth = 0

    def check_change(self) -> None:
        """Call before any change to the set."""
        if self.depth:
            raise RuntimeError(NOTIFICATION_ERROR)


def listenable(*names: str) -> Callable[[type], type]:
    """Class decorator: ``add_<name>_listener``, ``remove_<name>_listener`` and ``<name>_has_listener``.

    The class provides ``_notifications`` (a :class:`Notifications`) and calls ``self._notify(name)``.
    """

    def decorate(cls: type) -> type:
        for name in names:
            def add(self: Any, listener: Callable[[], None], _n: str = name) -> None:
                connected = self._listeners.setdefault(_n, [])
                if listener in connected:
                    raise RuntimeError(f"Listener already connected to property {_n!r}")
                connected.append(listener)

            def remove(self: Any, listener: Callable[[], None], _n: str = name) -> None:
                connected = self._listeners.setdefault(_n, [])
                if listener not in connected:
                    raise RuntimeError(f"Listener not connected to property {_n!r}")
                connected.remove(listener)

            def has(self: Any, listener: Callable[[], None], _n: str = name) -> bool:
                return listener in self._listeners.get(_n, [])

            setattr(cls, f"add_{name}_listener", add)
            setattr(cls, f"remove_{name}_listener", remove)
            setattr(cls, f"{name}_has_listener", has)

        def notify(self: Any, name: str) -> None:
            self._notifications.depth += 1
            try:
                for listener in list(self._listeners.get(name, [])):
                    listener()
            finally:
                self._notifications.depth -= 1

        cls._notify = notify  # type: ignore[attr-defined]
        return cls

    return decorate
