"""The daemon's one source of job events: accepted, progress per stage, done, failed.

Every event the daemon tells about a job goes through :meth:`JobEvents.emit` once. The OSC door
listens (and sends it to the job's client, its DAW and the subscribers); so does the web panel
(and pushes it to its pages). They hear the same event at the same moment, so no door can miss
one the other tells, nor tell one the other does not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mage_bridge.server.jobs import Job
from mage_bridge.server.osc import Addr

log = logging.getLogger("mage_bridge.server")


@dataclass(frozen=True)
class JobEvent:
    """One event about ``job``: its OSC address and arguments, as the OSC contract states them.

    ``extra`` is one more OSC address to tell (the sender of a cancel); ``placement`` where a DAW
    job's result goes (its ``done`` event carries it).
    """

    job: Job
    address: str
    args: tuple[str | int | float, ...]
    extra: Addr | None = None
    placement: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        """``accepted``, ``progress``, ``done`` or ``failed``: the last part of the address."""
        return self.address.rsplit("/", 1)[1]


Listener = Callable[[JobEvent], None]


class JobEvents:
    """Listeners of job events, called in the order they started listening, on the daemon's loop."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every event from now on; returns the function that stops it."""
        self._listeners.append(listener)

        def stop() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return stop

    def emit(self, event: JobEvent) -> None:
        """Tell every listener; one that fails is logged and the others still hear the event."""
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a door's bug must not keep the others (or the daemon) from the event
                log.exception("a listener of job events failed on %s of job %s", event.address, event.job.id)
