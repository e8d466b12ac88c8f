"""``_Framework.ControlSurface.ControlSurface``: the base class of Live's Python remote scripts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import Live


class ControlSurface:
    def __init__(self, c_instance: Any) -> None:
        self._c_instance = c_instance
        self._scheduled: list[tuple[int, Callable[..., Any], Any]] = []
        self.disconnected = False

    def song(self) -> Any:
        return self._c_instance.song()

    def application(self) -> Any:
        return Live.Application.get_application()

    def show_message(self, message: str) -> None:
        self._c_instance.show_message(message)

    def log_message(self, *message: Any) -> None:
        self._c_instance.log_message(" ".join(str(m) for m in message))

    def schedule_message(self, delay_in_ticks: int, callback: Callable[..., Any], parameter: Any = None) -> None:
        self._scheduled.append((delay_in_ticks, callback, parameter))

    def update_display(self) -> None:
        tick = getattr(self.song(), "_tick", None)  # the fake set's own tick (see Live.Song)
        if tick is not None:
            tick()
        due, self._scheduled = self._scheduled, []
        for delay, callback, parameter in due:
            if delay > 1:
                self._scheduled.append((delay - 1, callback, parameter))
            else:
                callback() if parameter is None else callback(parameter)

    @contextmanager
    def component_guard(self) -> Iterator[None]:
        yield

    def disconnect(self) -> None:
        self.disconnected = True
