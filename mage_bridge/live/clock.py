"""Clock sources: who sets the live tempo and where the beat is.

* ``internal`` — the player's own tempo (``/mage/live/tempo``, the MIDI map's nudge); the player is
  the master and may send MIDI clock out.
* ``daw`` — the tempo and metre a DAW reports with ``/mage/daw/context``.
* ``midi`` — incoming MIDI clock, 24 ticks per quarter note, with start, stop, continue and song
  position (:mod:`mage_bridge.live.midiclock`); :class:`TickTempo` turns ticks into tempo and beat.
* ``link`` — an Ableton Link session (:mod:`mage_bridge.live.link`, with the ``aalink`` package).

A source tells the player through a :class:`ClockSink`; times are ``time.perf_counter()`` seconds.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from mage_bridge.live.grid import MAX_BPM, MIN_BPM

CLOCKS = ("internal", "daw", "midi", "link")
#: MIDI clock ticks per quarter note.
PPQN = 24


class ClockSink(Protocol):
    """What a clock source drives (the player)."""

    def clock_sync(self, beat: float, when: float, bpm: float) -> None:
        """Beat ``beat`` is heard at time ``when``; the tempo is ``bpm``."""
        ...

    def clock_hold(self, hold: bool, beat: float | None = None) -> None:
        """The outside transport stopped (``True``: nothing plays, launches wait) or started from ``beat``."""
        ...


class TickTempo:
    """MIDI clock ticks in, tempo and beat out.

    The tempo is a least-squares line through the arrival times of the last ``window`` ticks
    (48: two beats), so the jitter of single ticks averages out and a new tempo is taken within
    two beats. Beats count from the last start (tick 0 after a Start is beat 0) or song position.
    """

    def __init__(self, *, window: int = 2 * PPQN, bpm: float = 120.0) -> None:
        self.window = window
        self.bpm = bpm
        self.running = False
        self._ticks: deque[tuple[int, float]] = deque(maxlen=window)
        self._next = 0  # the count of the next tick: its beat is _next / PPQN

    def start(self) -> None:
        """MIDI Start: the next tick is beat 0."""
        self.running = True
        self._next = 0
        self._ticks.clear()

    @property
    def position(self) -> float:
        """The beat of the next tick."""
        return self._next / PPQN

    def proceed(self) -> None:
        """MIDI Continue: go on from the count reached (or the song position set)."""
        self.running = True
        self._ticks.clear()

    def stop(self) -> None:
        self.running = False

    def song_position(self, sixteenths: int) -> None:
        """MIDI Song Position Pointer: the next tick is at ``sixteenths`` sixteenth notes."""
        self._next = sixteenths * (PPQN // 4)
        self._ticks.clear()

    def tick(self, when: float) -> tuple[float, float, float]:
        """A tick arrived at ``when``: ``(beat, time, bpm)``, the tick's beat, its time on the fitted
        line (smoother than the arrival) and the tempo."""
        count = self._next
        self._next += 1
        self._ticks.append((count, when))
        if len(self._ticks) < 3:
            return count / PPQN, when, self.bpm
        n = len(self._ticks)
        mean_k = sum(k for k, _ in self._ticks) / n
        mean_t = sum(t for _, t in self._ticks) / n
        var = sum((k - mean_k) ** 2 for k, _ in self._ticks)
        cov = sum((k - mean_k) * (t - mean_t) for k, t in self._ticks)
        seconds_per_tick = cov / var if var > 0 else 0.0
        if seconds_per_tick > 0:
            bpm = 60.0 / (PPQN * seconds_per_tick)
            if MIN_BPM <= bpm <= MAX_BPM:
                self.bpm = bpm
        fitted = mean_t + (count - mean_k) * seconds_per_tick if seconds_per_tick > 0 else when
        return count / PPQN, fitted, self.bpm


#: MIDI real-time and system common status bytes the clock follows.
TICK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2


class ClockFollower:
    """MIDI clock messages to a :class:`ClockSink`: ticks to tempo and beat, start/stop/continue to the transport."""

    def __init__(self, sink: ClockSink, *, bpm: float) -> None:
        self.sink = sink
        self.tempo = TickTempo(bpm=bpm)
        self.ticks = 0

    def message(self, msg: list[int], when: float) -> None:
        """Act on one MIDI message that arrived at ``when``."""
        if not msg:
            return
        status = msg[0]
        if status == TICK:
            self.ticks += 1
            if self.tempo.running:
                beat, at, bpm = self.tempo.tick(when)
                self.sink.clock_sync(beat, at, bpm)
        elif status == START:
            self.tempo.start()
            self.sink.clock_hold(False, 0.0)
        elif status == CONTINUE:
            self.tempo.proceed()
            self.sink.clock_hold(False, self.tempo.position)
        elif status == STOP:
            self.tempo.stop()
            self.sink.clock_hold(True)
        elif status == SONG_POSITION and len(msg) >= 3:
            self.tempo.song_position(msg[1] | (msg[2] << 7))
