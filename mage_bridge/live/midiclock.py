"""MIDI clock through python-rtmidi: following it in, sending it out when the player is the master.

:class:`MidiClockIn` listens on a port (a virtual one called ``MAGE Bridge Clock`` by default,
which ALSA and JACK can create) for timing clock (0xF8), start (0xFA), continue (0xFB), stop
(0xFC) and song position (0xF2), and drives a :class:`~mage_bridge.live.clock.ClockSink`.
:class:`MidiClockOut` sends 24 ticks per beat on the player's own grid, a start when the player
starts and a stop when it stops, from a thread that sleeps until each tick is due (the tick
leaves when its beat is heard, output latency included).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from mage_bridge.errors import BackendUnavailableError
from mage_bridge.live.clock import PPQN, START, STOP, TICK, ClockFollower, ClockSink

log = logging.getLogger("mage_bridge.live")

CLOCK_IN_NAME = "MAGE Bridge Clock"
CLOCK_OUT_NAME = "MAGE Bridge Clock Out"


def open_port(kind: str, *, api: str, wanted: str, virtual_name: str) -> tuple[Any, str]:
    """Open a rtmidi ``"in"`` or ``"out"`` port: ``wanted`` ``"virtual"`` (or ``""``) makes one called
    ``virtual_name``, anything else names (part of) an existing port. Every API tried is named on failure."""
    try:
        import rtmidi
    except ImportError as e:
        raise BackendUnavailableError(f"MIDI clock needs python-rtmidi (pip install python-rtmidi): {e}") from e
    names = {"alsa": rtmidi.API_LINUX_ALSA, "jack": rtmidi.API_UNIX_JACK}
    compiled = rtmidi.get_compiled_api()
    apis = [names[api]] if api in names else [a for a in compiled if a != rtmidi.API_RTMIDI_DUMMY]
    tried = []
    for a in apis:
        label = rtmidi.get_api_display_name(a)
        port = None
        try:
            port = (rtmidi.MidiIn if kind == "in" else rtmidi.MidiOut)(rtapi=a, name=virtual_name)
            if wanted in ("", "virtual"):
                port.open_virtual_port(virtual_name)
                return port, f"{label}: {virtual_name!r} (virtual)"
            ports = port.get_ports()
            match = next((p for p in ports if wanted == p or wanted in p), None)
            if match is None:
                raise OSError(f"no port matches {wanted!r}; ports: {', '.join(ports) or 'none'}")
            port.open_port(ports.index(match))
            return port, f"{label}: {match!r}"
        except Exception as e:  # rtmidi's own errors, SystemError
            tried.append(f"{label}: {e}")
            if port is not None:
                port.delete()
    raise BackendUnavailableError(f"cannot open the MIDI clock {kind}put: " + "; ".join(tried or ["no MIDI API"]))


class MidiClockIn:
    """Incoming MIDI clock on a port, followed by a :class:`~mage_bridge.live.clock.ClockFollower`."""

    def __init__(self, sink: ClockSink, *, api: str, port: str, bpm: float,
                 now: Callable[[], float] = time.perf_counter) -> None:
        self.follower = ClockFollower(sink, bpm=bpm)
        self._now = now
        self._last: float | None = None
        self._port, self.description = open_port("in", api=api, wanted=port, virtual_name=CLOCK_IN_NAME)
        self._port.ignore_types(sysex=True, timing=False, active_sense=True)
        self._port.set_callback(self._callback)

    def _callback(self, event: tuple[list[int], float], data: object = None) -> None:
        # rtmidi's delta times are taken where the API receives the message (JACK: its process cycle), on
        # the monotonic clock perf_counter reads too: summed, they time each message without this
        # thread's own wake-up delay. The sum is checked against the clock so it cannot run ahead.
        now = self._now()
        when = now if self._last is None else min(now, self._last + max(0.0, float(event[1])))
        self._last = when
        try:
            self.follower.message(event[0], when)
        except Exception:  # never into rtmidi's thread
            log.exception("MIDI clock message %s could not be handled", event[0])

    def close(self) -> None:
        try:
            self._port.cancel_callback()
            self._port.close_port()
        finally:
            self._port.delete()


class MidiClockOut:
    """MIDI clock out on the player's grid. ``heard_at(beat)`` is when the player plays ``beat``
    (``None`` while nothing plays)."""

    def __init__(self, heard_at: Callable[[float], float | None], beat_now: Callable[[], float | None], *,
                 api: str, port: str) -> None:
        self._heard_at = heard_at
        self._beat_now = beat_now
        self._port, self.description = open_port("out", api=api, wanted=port, virtual_name=CLOCK_OUT_NAME)
        self._stop = threading.Event()
        self.ticks = 0
        self._thread = threading.Thread(target=self._run, name="mage-live-clock-out", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        running = False
        next_tick: int | None = None
        while not self._stop.is_set():
            beat = self._beat_now()
            if beat is None:
                if running:
                    self._send([STOP])
                    running = False
                next_tick = None
                self._stop.wait(0.005)
                continue
            if next_tick is None:
                next_tick = max(0, math.ceil(beat * PPQN - 1e-6))
            due = self._heard_at(next_tick / PPQN)
            if due is None:
                continue
            wait = due - time.perf_counter()
            if wait < -0.05:  # the grid jumped ahead (a tempo change, a restart): no burst of late ticks
                next_tick = None
                continue
            if wait > 0.002:
                self._stop.wait(min(wait - 0.001, 0.01))
                continue
            while wait > 0:
                wait = due - time.perf_counter()
            if not running:
                self._send([START])
                running = True
            self._send([TICK])
            self.ticks += 1
            next_tick += 1

    def _send(self, msg: list[int]) -> None:
        try:
            self._port.send_message(msg)
        except Exception as e:
            log.warning("MIDI clock out: %s", e)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        try:
            self._port.close_port()
        finally:
            self._port.delete()
