"""The live player: launch clips on the bar, crossfade, loop, follow an order, follow a clock.

:class:`Player` is what the daemon's doors talk to. Its methods return at once: a clip is read
from its manifest, prepared (loaded, stretched to the live tempo) in a worker thread, then handed to
the :class:`~mage_bridge.live.engine.Engine`, which starts it on the next bar (or beat) in the audio
callback. A watcher thread reads what the engine publishes and reports it through ``on_event``:
``("queued", {...})``, ``("playing", {...})``, ``("stopped", {...})``, ``("error", {...})``; it
also follows the arrangement order, re-stretches playing clips after a tempo change, and drops the
clips the callback let go of.

The output opens on the first launch (:meth:`Player.open`), not when the daemon starts: a daemon on
a machine without sound still answers everything else, and a launch there is answered with an
:class:`~mage_bridge.errors.AudioDeviceUnavailableError` that says what PortAudio sees.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from mage_bridge.config import LiveConfig
from mage_bridge.errors import InvalidInputError, MageError, failure_code, failure_message
from mage_bridge.live import engine as eng
from mage_bridge.live.clips import ClipInfo, ClipSource, check_clip_id, read_clip
from mage_bridge.live.clock import CLOCKS
from mage_bridge.live.device import Output, OutputInfo
from mage_bridge.live.engine import Engine
from mage_bridge.live.grid import MAX_BPM, MIN_BPM, QUANTA, bar_beats
from mage_bridge.live.prepare import PreparedClip, Preparer

log = logging.getLogger("mage_bridge.live")

#: Longest crossfade, in beats.
MAX_CROSSFADE_BEATS = 64.0
#: How often the watcher looks at the engine.
WATCH_S = 0.01
#: A clip prepared at a tempo further than this from the grid's is stretched again.
RESTRETCH_BPM = 0.05
#: An outside clock's correction smaller than this (seconds) and tempo change smaller than this (BPM) is let be.
SYNC_SLACK_S = 0.0005
SYNC_SLACK_BPM = 0.005

EventFn = Callable[[str, dict[str, Any]], None]


def quantum_beats(quantum: str) -> float:
    """``"bar"`` -> -1 (the engine's bar, whatever the metre), ``"beat"`` -> 1, ``"now"`` -> 0."""
    if quantum not in QUANTA:
        raise InvalidInputError(f"quantum must be one of {', '.join(QUANTA)}, got {quantum!r}")
    return {"bar": -1.0, "beat": 1.0, "now": 0.0}[quantum]


def check_config(config: LiveConfig) -> None:
    """Refuse settings the player cannot use, each named with the value received."""
    if config.clock not in CLOCKS:
        raise InvalidInputError(f"live.clock must be one of {', '.join(CLOCKS)}, got {config.clock!r}")
    quantum_beats(config.quantum)
    if not MIN_BPM <= config.bpm <= MAX_BPM:
        raise InvalidInputError(f"live.bpm must be from {MIN_BPM:g} to {MAX_BPM:g}, got {config.bpm!r}")
    if not 0 <= config.crossfade_beats <= MAX_CROSSFADE_BEATS:
        raise InvalidInputError(f"live.crossfade_beats must be from 0 to {MAX_CROSSFADE_BEATS:g}, "
                                f"got {config.crossfade_beats!r}")
    if config.midi_api not in ("auto", "alsa", "jack"):
        raise InvalidInputError(f"live.midi_api must be 'auto', 'alsa' or 'jack', got {config.midi_api!r}")
    if config.prepare_threads < 1:
        raise InvalidInputError(f"live.prepare_threads must be at least 1, got {config.prepare_threads!r}")


class Player:
    """The live player; see the module docstring. Thread-safe: any thread may call any method."""

    def __init__(self, config: LiveConfig, source: ClipSource, *, on_event: EventFn | None = None) -> None:
        check_config(config)
        self.config = config
        self.source = source
        self.on_event: EventFn = on_event or (lambda kind, fields: None)
        self.quantum = config.quantum
        self.crossfade_beats = float(config.crossfade_beats)
        self.bpm = float(config.bpm)
        self.beats_per_bar = 4.0
        self.order: list[str] = []
        #: The order's clip playing (-1: none, or one not in the order).
        self.index = -1
        #: Where next/previous step from: the order's clip launched last (queued or playing), kept after a stop.
        self.cursor = -1
        self.follow = False
        self.mutes: dict[str, set[str]] = {}
        self.engine: Engine | None = None
        self.output: Output | None = None
        self.preparer: Preparer | None = None
        self._lock = threading.RLock()  # the control side's own state; the audio callback never takes it
        self._launch_seq = 0
        self._launch_index: dict[int, int] = {}
        self._restretching: dict[str, float] = {}
        self._clocks: list[Any] = []
        self._link: Any = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._seen_launches = 0
        self._seen_stops = 0
        self._queued_index = -1

    # -- the output ----------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.output is not None

    @property
    def device(self) -> OutputInfo | None:
        return self.output.info if self.output is not None else None

    def open(self) -> None:
        """Open the output and the clock; :class:`AudioDeviceUnavailableError` when there is no output."""
        with self._lock:
            if self.output is not None:
                return
            c = self.config
            self.output = Output.open(device=c.device, sample_rate=c.sample_rate, buffer_frames=c.buffer_frames,
                                      callback_for=self._new_engine)
            assert self.engine is not None
            try:
                self._open_clocks()
            except MageError:
                self.output.close()
                self.output = self.engine = None
                raise
            self.preparer = Preparer(sample_rate=self.engine.sample_rate, threads=c.prepare_threads,
                                     muted=lambda clip_id: set(self.mutes.get(clip_id, set())))
            self._stop.clear()
            self._seen_launches = self._seen_stops = 0  # the new engine counts from 0
            self._watcher = threading.Thread(target=self._watch, name="mage-live-watch", daemon=True)
            self._watcher.start()
            for clip_id in self.order:
                self._prepare_quietly(clip_id)

    def _new_engine(self, sample_rate: int) -> Callable[..., None]:
        self.engine = Engine(sample_rate=sample_rate, max_frames=self.config.buffer_frames, bpm=self.bpm,
                             beats_per_bar=self.beats_per_bar, free_start=self.config.clock in ("internal", "daw"))
        # MIDI clock: nothing plays until the outside transport starts
        self.engine.held = self.config.clock == "midi"
        return self.engine.callback

    def _open_clocks(self) -> None:
        c = self.config
        if c.clock == "midi":
            from mage_bridge.live.midiclock import MidiClockIn

            clock_in = MidiClockIn(self, api=c.midi_api, port=c.midi_clock_input, bpm=self.bpm)
            log.info("live clock: MIDI clock in on %s", clock_in.description)
            self._clocks.append(clock_in)
        elif c.clock == "link":
            from mage_bridge.live.link import LinkClock

            self._link = LinkClock(self, bpm=self.bpm, quantum=self.beats_per_bar)
            self._clocks.append(self._link)
        if c.midi_clock_output and c.clock != "midi":
            from mage_bridge.live.midiclock import MidiClockOut

            clock_out = MidiClockOut(self.heard_at, self.beat_now, api=c.midi_api, port=c.midi_clock_output)
            log.info("live clock: MIDI clock out on %s", clock_out.description)
            self._clocks.append(clock_out)

    def close(self) -> None:
        """Stop at once and give the output back; the next launch opens it again."""
        self._stop.set()
        watcher = self._watcher
        if watcher is not None:
            watcher.join(timeout=2.0)  # outside the lock, which the watcher may be waiting for
        with self._lock:
            self._watcher = None
            for clock in self._clocks:
                try:
                    clock.close()
                except Exception as e:
                    log.warning("closing a live clock: %s", e)
            self._clocks.clear()
            self._link = None
            if self.output is not None:
                self.output.close()
                self.output = None
            if self.preparer is not None:
                self.preparer.close()
                self.preparer = None
            if self.engine is not None:
                self.engine.graveyard.drop()
            self.engine = None

    def _push(self, op: int, *args: float, obj: Any = None, obj2: Any = None) -> None:
        engine = self._engine()
        if not engine.commands.push(op, *args, obj=obj, obj2=obj2):
            raise MageError("the audio callback is not taking commands (is the output stalled?)")

    def _engine(self) -> Engine:
        engine = self.engine
        if engine is None:
            self.open()
            engine = self.engine
        assert engine is not None
        return engine

    # -- clips -------------------------------------------------------------------------------------------
    def clip_info(self, clip_id: str) -> ClipInfo:
        check_clip_id(clip_id)
        return read_clip(clip_id, self.source.manifest_path(clip_id))

    def _target_bpm(self) -> float:
        engine = self.engine
        return round(engine.grid.bpm, 2) if engine is not None else self.bpm

    def _prepare(self, info: ClipInfo) -> Future[PreparedClip]:
        if self.preparer is None:
            self.open()
        assert self.preparer is not None
        self.preparer.pin(set(self.order) | self._in_use())
        return self.preparer.get(info, self._target_bpm())

    def _prepare_quietly(self, clip_id: str) -> None:
        try:
            self._prepare(self.clip_info(clip_id))
        except MageError as e:
            log.warning("clip %s of the order cannot be prepared: %s", clip_id, e)

    def _in_use(self) -> set[str]:
        engine = self.engine
        if engine is None:
            return set()
        ids = {v.clip.clip_id for v in engine.voices if v.clip is not None}
        pending = engine.pending_clip
        return ids | ({pending.clip_id} if pending is not None else set())

    # -- launching ---------------------------------------------------------------------------------------
    def launch(self, clip_id: str, *, quantum: str | None = None, crossfade_beats: float | None = None,
               at_beat: float | None = None, req_id: str = "", index: int | None = None) -> ClipInfo:
        """Queue ``clip_id`` for the next bar (``quantum``), crossfading over ``crossfade_beats``.

        Returns once the manifest is read; the clip starts when it is prepared and its bar comes.
        A later launch or stop overrides one still being prepared.
        """
        q = quantum_beats(quantum or self.quantum)
        fade = self.crossfade_beats if crossfade_beats is None else self._check_fade(crossfade_beats)
        info = self.clip_info(clip_id)
        with self._lock:
            self._launch_seq += 1
            seq = self._launch_seq
            if index is None and clip_id in self.order:
                index = self.order.index(clip_id)
            self._launch_index[seq] = -1 if index is None else index
            if index is not None:
                self.cursor = index
            future = self._prepare(info)
        at = math.nan if at_beat is None else float(at_beat)
        future.add_done_callback(lambda f: self._prepared(f, seq, q, at, fade, req_id))
        self.on_event("queued", {"clip_id": clip_id, "slot": (index + 1) if index is not None else 0,
                                 "req_id": req_id})
        return info

    def _prepared(self, future: Future[PreparedClip], seq: int, quantum: float, at: float, fade: float,
                  req_id: str) -> None:
        error = future.exception()
        if error is not None:
            self.on_event("error", {"req_id": req_id, "code": failure_code(error),
                                    "message": failure_message(error, name_file=False)})
            return
        with self._lock:
            if seq != self._launch_seq or self.engine is None:
                return  # overridden by a later launch or stop
            self._queued_index = self._launch_index.pop(seq, -1)
            self._launch_index.clear()
            self._push(eng.LAUNCH, quantum, at, fade, obj=future.result())

    def launch_slot(self, slot: int, **kw: Any) -> ClipInfo:
        """Launch the ``slot``-th clip of the order (1 = the first)."""
        if not self.order:
            raise InvalidInputError(f"no slot {slot}: no order is set (/mage/live/order)")
        if not 1 <= slot <= len(self.order):
            raise InvalidInputError(f"slot must be from 1 to {len(self.order)} (the order's clips), got {slot}")
        return self.launch(self.order[slot - 1], index=slot - 1, **kw)

    def step(self, by: int, **kw: Any) -> ClipInfo:
        """Launch the next (``by=1``) or previous (``by=-1``) clip of the order."""
        if not self.order:
            raise InvalidInputError("no order is set: send /mage/live/order with the clip ids first")
        target = self.cursor + by if self.cursor >= 0 else (0 if by > 0 else len(self.order) - 1)
        if not 0 <= target < len(self.order):
            where = "last" if by > 0 else "first"
            raise InvalidInputError(f"no {'next' if by > 0 else 'previous'} clip: the {where} of the order's "
                                    f"{len(self.order)} was launched last")
        return self.launch_slot(target + 1, **kw)

    def stop(self, *, quantum: str | None = None, at_beat: float | None = None) -> None:
        """Stop on the next bar (``quantum``), with a short fade; launches still being prepared are dropped."""
        q = quantum_beats(quantum or self.quantum)
        with self._lock:
            self._launch_seq += 1
            if self.engine is not None:  # nothing plays on an output that is not open: no need to open it
                self._push(eng.STOP, q, math.nan if at_beat is None else float(at_beat))

    # -- settings ----------------------------------------------------------------------------------------
    def set_order(self, clip_ids: list[str]) -> None:
        """The arrangement's order (Intro, ..., Outro): slots, next/previous and follow go by it."""
        for clip_id in clip_ids:
            self.source.manifest_path(check_clip_id(clip_id))  # an unknown id is refused now, not mid-set
        with self._lock:
            playing = self.order[self.index] if 0 <= self.index < len(self.order) else None
            self.order = list(clip_ids)
            self.index = self.cursor = self.order.index(playing) if playing in self.order else -1
            if self.preparer is not None:
                for clip_id in self.order:
                    self._prepare_quietly(clip_id)

    def set_follow(self, on: bool) -> None:
        """Follow the order: each clip plays its body once, then the next starts on its bar; the last stops."""
        with self._lock:
            self.follow = on
            if on:
                self._follow_from_playing()

    def mute(self, clip_id: str, stem: str, muted: bool) -> None:
        """Mute or open one stem of a clip, now (a short glide) and whenever it plays again."""
        stems = self.clip_info(clip_id).stems
        if stem not in stems:
            raise InvalidInputError(f"clip {clip_id!r} has stems {', '.join(stems)}; got {stem!r}")
        with self._lock:
            current = self.mutes.setdefault(clip_id, set())
            current.add(stem) if muted else current.discard(stem)
            for clip in self._clips_of(clip_id):
                clip.set_muted(current)

    def _clips_of(self, clip_id: str) -> list[PreparedClip]:
        found: list[PreparedClip] = []
        if self.preparer is not None:
            ready = self.preparer.ready_clip(clip_id)
            if ready is not None:
                found.append(ready)
        engine = self.engine
        if engine is not None:
            found += [v.clip for v in engine.voices if v.clip is not None and v.clip.clip_id == clip_id]
            pending = engine.pending_clip
            if pending is not None and pending.clip_id == clip_id:
                found.append(pending)
        return found

    def _check_fade(self, beats: float) -> float:
        if not 0 <= beats <= MAX_CROSSFADE_BEATS or beats != beats:
            raise InvalidInputError(f"crossfade must be from 0 to {MAX_CROSSFADE_BEATS:g} beats, got {beats!r}")
        return float(beats)

    def set_crossfade(self, beats: float) -> None:
        self.crossfade_beats = self._check_fade(beats)

    def set_quantum(self, quantum: str) -> None:
        quantum_beats(quantum)
        self.quantum = quantum

    def set_tempo(self, bpm: float) -> None:
        """The live tempo (internal and DAW clocks; on Link it is set for the whole session)."""
        if not MIN_BPM <= bpm <= MAX_BPM:
            raise InvalidInputError(f"bpm must be from {MIN_BPM:g} to {MAX_BPM:g}, got {bpm!r}")
        if self.config.clock == "midi":
            raise InvalidInputError("the tempo follows incoming MIDI clock (live.clock = 'midi'): set it at the "
                                    "clock's source")
        with self._lock:
            self.bpm = float(bpm)
            if self._link is not None:
                self._link.set_tempo(bpm)
            elif self.engine is not None:
                self._push(eng.TEMPO, bpm)

    def nudge(self, delta_bpm: float) -> None:
        self.set_tempo(min(MAX_BPM, max(MIN_BPM, self.current_bpm() + delta_bpm)))

    def current_bpm(self) -> float:
        """The grid's tempo (the clock's, once the output is open), else the tempo it will start at."""
        engine = self.engine
        if engine is None:
            return self.bpm
        return float(engine.sample_rate * 60.0 / engine.snapshot()[eng.FRAMES_PER_BEAT])

    def daw_context(self, bpm: float, numerator: int, denominator: int) -> None:
        """A DAW's tempo and metre: followed when ``live.clock`` is ``"daw"``."""
        if self.config.clock != "daw":
            return
        with self._lock:
            self.bpm = float(bpm)
            per_bar = bar_beats(numerator, denominator)
            if self.engine is not None:
                if abs(self.engine.grid.bpm - bpm) > 1e-6:
                    self._push(eng.TEMPO, bpm)
                if per_bar != self.beats_per_bar:
                    self._push(eng.METRE, per_bar)
            self.beats_per_bar = per_bar

    # -- outside clocks (ClockSink) ---------------------------------------------------------------------
    def frame_heard_at(self, when: float) -> float | None:
        """The stream frame heard at ``time.perf_counter()`` time ``when`` (``None`` before the first buffer)."""
        engine = self.engine
        if engine is None:
            return None
        s = engine.snapshot()
        if s[eng.CALLBACKS] < 1:
            return None
        return float(s[eng.FRAME] + (when - s[eng.TIME] - s[eng.LATENCY]) * engine.sample_rate)

    def heard_at(self, beat: float) -> float | None:
        """When ``beat`` of the grid is heard, or ``None`` while nothing plays."""
        engine = self.engine
        if engine is None:
            return None
        s = engine.snapshot()
        if s[eng.CALLBACKS] < 1 or not s[eng.PLAYING] or s[eng.HELD]:
            return None
        frame = s[eng.ORIGIN_FRAME] + (beat - s[eng.ORIGIN_BEAT]) * s[eng.FRAMES_PER_BEAT]
        return float(s[eng.TIME] + s[eng.LATENCY] + (frame - s[eng.FRAME]) / engine.sample_rate)

    def beat_now(self) -> float | None:
        """The beat heard now, or ``None`` while nothing plays."""
        engine = self.engine
        frame = self.frame_heard_at(time.perf_counter())
        if engine is None or frame is None:
            return None
        s = engine.snapshot()
        if not s[eng.PLAYING] or s[eng.HELD]:
            return None
        return float(s[eng.ORIGIN_BEAT] + (frame - s[eng.ORIGIN_FRAME]) / s[eng.FRAMES_PER_BEAT])

    def clock_sync(self, beat: float, when: float, bpm: float) -> None:
        engine = self.engine
        frame = self.frame_heard_at(when)
        if engine is None or frame is None:
            return
        s = engine.snapshot()
        predicted = s[eng.ORIGIN_FRAME] + (beat - s[eng.ORIGIN_BEAT]) * s[eng.FRAMES_PER_BEAT]
        grid_bpm = engine.sample_rate * 60.0 / s[eng.FRAMES_PER_BEAT]
        if abs(predicted - frame) < SYNC_SLACK_S * engine.sample_rate and abs(grid_bpm - bpm) < SYNC_SLACK_BPM:
            return
        engine.commands.push(eng.SYNC, beat, frame, bpm)

    def clock_hold(self, hold: bool, beat: float | None = None) -> None:
        if self.engine is not None:
            self.engine.commands.push(eng.HOLD, 1.0 if hold else 0.0, math.nan if beat is None else beat)

    # -- the watcher ---------------------------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._stop.wait(WATCH_S):
            try:
                self._watch_once()
            except Exception:
                log.exception("the live player's watcher failed; it goes on")

    def _watch_once(self) -> None:
        engine = self.engine
        if engine is None:
            return
        engine.graveyard.drop()
        s = engine.snapshot()
        if int(s[eng.LAUNCHES]) != self._seen_launches:
            self._seen_launches = int(s[eng.LAUNCHES])
            self._started(engine)
        if int(s[eng.STOPS]) != self._seen_stops:
            self._seen_stops = int(s[eng.STOPS])
            with self._lock:
                self.index = -1
            self.on_event("stopped", {})
        self._restretch(engine, float(engine.sample_rate * 60.0 / s[eng.FRAMES_PER_BEAT]))

    def _newest(self, engine: Engine) -> eng.Voice | None:
        voices = [v for v in engine.voices if v.clip is not None and v.fade_kind != eng.FADE_OUT]
        return max(voices, key=lambda v: v.order) if voices else None

    def _started(self, engine: Engine) -> None:
        voice = self._newest(engine)
        clip = voice.clip if voice is not None else None
        if voice is None or clip is None:
            return
        with self._lock:
            index = self._queued_index
            if not (0 <= index < len(self.order) and self.order[index] == clip.clip_id):
                index = self.order.index(clip.clip_id) if clip.clip_id in self.order else -1
            self.index = index
            if index >= 0:
                self.cursor = index
            self.on_event("playing", {"clip_id": clip.clip_id, "slot": index + 1,
                                      "bar": engine.grid.bar_of(voice.start_beat)})
            if self.follow:
                self._follow_from_playing()

    def _follow_from_playing(self) -> None:
        """Queue what follows the clip playing: the order's next clip at the end of its body, or a stop."""
        engine = self.engine
        voice = self._newest(engine) if engine is not None else None
        clip = voice.clip if voice is not None else None
        if voice is None or clip is None or self.index < 0:
            return
        at = voice.start_beat + clip.beats
        try:
            if self.index + 1 < len(self.order):
                self.launch(self.order[self.index + 1], at_beat=at, index=self.index + 1)
            else:
                self.stop(at_beat=at)
        except MageError as e:
            self.on_event("error", {"req_id": "follow", "code": e.code, "message": str(e)})

    def _restretch(self, engine: Engine, bpm: float) -> None:
        """Clips playing at a tempo the grid has left are stretched again and swapped in at the same beat."""
        preparer = self.preparer
        if preparer is None:
            return
        clips = [v.clip for v in engine.voices if v.clip is not None]
        if engine.pending_clip is not None:
            clips.append(engine.pending_clip)
        for clip in clips:
            if abs(clip.bpm - bpm) <= RESTRETCH_BPM or clip.clip_id in self._restretching:
                continue
            self._restretching[clip.clip_id] = bpm
            future = preparer.get(clip.info, round(bpm, 2))
            future.add_done_callback(self._when_restretched(clip))

    def _when_restretched(self, old: PreparedClip) -> Callable[[Future[PreparedClip]], None]:
        return lambda f: self._restretched(f, old)

    def _restretched(self, future: Future[PreparedClip], old: PreparedClip) -> None:
        self._restretching.pop(old.clip_id, None)
        error = future.exception()
        engine = self.engine
        if error is not None or engine is None:
            if error is not None:
                log.warning("clip %s could not be stretched to the new tempo: %s", old.clip_id, error)
            return
        new = future.result()
        if new is not old:
            engine.commands.push(eng.REPLACE, obj=old, obj2=new)

    def status(self) -> dict[str, Any]:
        """What ``/mage/live/status`` reports (see :func:`mage_bridge.live.status.status_of`)."""
        from mage_bridge.live.status import status_of

        return status_of(self)
