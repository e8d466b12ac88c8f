"""Ableton Link: the live tempo and beat from a Link session, through the ``aalink`` package.

``aalink`` is optional (``pip install aalink``); without it, ``clock = "link"`` fails when the
player opens, with that line. A thread reads the session's beat and tempo every few milliseconds
and hands them to the player as an outside clock; a tempo set on the player is set on the session,
so every peer follows it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import warnings
from typing import Any

from mage_bridge.errors import BackendUnavailableError
from mage_bridge.live.clock import ClockSink

log = logging.getLogger("mage_bridge.live")

#: How often the session's beat is read.
POLL_S = 0.01


class LinkClock:
    """A Link peer whose beat and tempo drive ``sink``; ``quantum`` is the bar in beats."""

    def __init__(self, sink: ClockSink, *, bpm: float, quantum: float) -> None:
        try:
            from aalink import Link
        except ImportError as e:
            raise BackendUnavailableError(f"clock = 'link' needs Ableton Link for Python (pip install aalink): {e}") \
                from e
        self.sink = sink
        # aalink wants an event loop (only its sync() futures use it, which the player does not); without one
        # it looks for a running loop, which this thread has not, and 0.2.3 calls passing one deprecated
        self._loop = asyncio.new_event_loop()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self._link: Any = Link(bpm, self._loop)
        self._link.quantum = quantum
        self._link.enabled = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mage-live-link", daemon=True)
        self._thread.start()
        self.description = f"Ableton Link at {bpm:g} BPM"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                when = time.perf_counter()
                beat, tempo = float(self._link.beat), float(self._link.tempo)
                self.sink.clock_sync(beat, when, tempo)
            except Exception:
                log.exception("reading the Link session failed")
            self._stop.wait(POLL_S)

    @property
    def peers(self) -> int:
        return int(self._link.num_peers)

    def set_tempo(self, bpm: float) -> None:
        self._link.tempo = bpm

    def set_quantum(self, beats: float) -> None:
        self._link.quantum = beats

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        self._link.enabled = False
        self._loop.close()
