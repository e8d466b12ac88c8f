"""The audio engine: what runs inside the output stream's callback.

:meth:`Engine.callback` is handed to ``sounddevice.OutputStream``. It reads commands from a
:class:`~mage_bridge.live.ring.CommandRing`, advances the :class:`~mage_bridge.live.grid.Grid`,
starts queued clips on their frame (anywhere inside a buffer: launches are sample-exact), loops
each clip on the grid, crossfades equal-power, glides stem gains to the player's mutes, and
publishes its state in a preallocated array. It takes no lock, opens no file and makes no buffer:
every NumPy operation writes into arrays made when the engine was built (``out=``). What
CPython itself makes per call (the views of a slice, a float) comes from its small-object pools.
Clips it lets go of are parked in a :class:`~mage_bridge.live.ring.Graveyard`, so their arrays
are freed on the player's thread.

Loops are locked to the grid: a clip launched at beat ``b`` restarts at ``b + k * beats`` as the
grid places those beats now, so a tempo change or an outside clock's correction moves the next
loop point, and the clip never drifts from the bar.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from mage_bridge.live.grid import Grid
from mage_bridge.live.prepare import MAX_STEMS, PreparedClip
from mage_bridge.live.ring import CommandRing, Graveyard

# -- commands --------------------------------------------------------------------------------------
#: obj=clip; args: quantum in beats (-1: the bar), absolute beat (NaN: by quantum), fade in beats.
LAUNCH = 1
#: args: quantum in beats (-1: the bar), absolute beat (NaN: by quantum).
STOP = 2
#: args: bpm. The beat at the current frame stays where it is.
TEMPO = 3
#: args: beat, frame, bpm: an outside clock says where the beat is.
SYNC = 4
#: args: beats per bar. Bars are counted again from the bar now playing.
METRE = 5
#: obj=old clip, obj2=the same clip prepared again (another tempo): swapped at the same beat.
REPLACE = 6
#: args: 1 hold (an outside clock stopped: nothing plays, launches wait), 0 run; the beat the
#: transport starts from (NaN: the grid's own), heard from this frame.
HOLD = 7

# -- the published state (one float64 array, read with a sequence count) -----------------------------
SEQ, FRAME, TIME, LATENCY, ORIGIN_FRAME, ORIGIN_BEAT, FRAMES_PER_BEAT, BEATS_PER_BAR, XRUNS, LATE, \
    CALLBACKS, LAUNCHES, LAST_LAUNCH_FRAME, PENDING_BEAT, STOP_BEAT, PLAYING, HELD, STOPS = range(18)
STATUS_SIZE = 18

#: Callback durations kept for the figures (about 87 s at 256 frames and 48 kHz).
TIMES_KEPT = 1 << 14
#: The fade of a stop or of a cut (no crossfade): 5 ms at 48 kHz, long enough not to click.
DECLICK_S = 0.005
#: Voices: the clip playing, the one fading out, and room for quick launches during a fade.
VOICES = 4

_HALF_PI = math.pi / 2
STEADY, FADE_IN, FADE_OUT = 0, 1, 2


class Voice:
    """One clip playing: where its current loop began, its fade and its stem gains."""

    __slots__ = ("clip", "start_frame", "start_beat", "fade_kind", "fade_start", "fade_frames", "gains", "order")

    def __init__(self) -> None:
        self.clip: PreparedClip | None = None
        self.start_frame = 0
        self.start_beat = 0.0
        self.fade_kind = STEADY
        self.fade_start = 0
        self.fade_frames = 1
        self.gains = np.ones(MAX_STEMS, dtype=np.float32)
        self.order = 0  # which launch started it: the newest voice not fading out is "playing"


class Engine:
    """The callback's state; everything is allocated here, before the stream starts."""

    def __init__(self, *, sample_rate: int, max_frames: int, bpm: float, beats_per_bar: float = 4.0,
                 channels: int = 2, free_start: bool = True) -> None:
        self.sample_rate = sample_rate
        self.max_frames = max_frames
        self.channels = channels
        self.grid = Grid(sample_rate, bpm=bpm, beats_per_bar=beats_per_bar)
        #: Nothing playing and the clock our own: a launch starts at once and is bar 1 (as a DAW's transport).
        self.free_start = free_start
        self.commands = CommandRing()
        self.graveyard = Graveyard()
        self.voices = [Voice() for _ in range(VOICES)]
        self.status = np.zeros(STATUS_SIZE, dtype=np.float64)
        self.times = np.zeros(TIMES_KEPT, dtype=np.float64)
        self.frame = 0
        #: The first frame of the buffer rendered last: the frame heard at the published time plus latency.
        self.buffer_start = 0
        self.xruns = 0
        self.late = 0
        self.callbacks = 0
        self.launches = 0
        self.stops = 0
        self.last_launch_frame = -1
        self.held = False
        self.pending_clip: PreparedClip | None = None
        self.pending_quantum = -1.0
        self.pending_at = math.nan
        self.pending_fade = 0.0
        self.pending_beat = math.nan
        self.stop_beat = math.nan
        self._order = 0
        #: The declick fade before a cut or stop has begun (it ends on the launch point).
        self._cut_begun = False
        self._declick = max(1, int(DECLICK_S * sample_rate))
        self._scratch = np.zeros((max_frames, channels), dtype=np.float32)
        # gains are kept per channel too: a (frames, 1) column broadcast over the channels would make
        # NumPy's iterator allocate buffers of its own on every call
        self._gain = np.zeros((max_frames, channels), dtype=np.float32)
        self._env = np.zeros((max_frames, channels), dtype=np.float32)
        self._ramp = np.arange(max_frames, dtype=np.float64)
        self._tmp = np.zeros(max_frames, dtype=np.float64)
        self._tmp2 = np.zeros(max_frames, dtype=np.float64)
        self._publish(0.0, 0.0)

    # -- the callback ------------------------------------------------------------------------------
    def callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """``sounddevice`` calls this for every buffer: fill ``outdata`` ``(frames, channels)``."""
        started = time.perf_counter()
        if status.output_underflow:
            self.xruns += 1
        self.render(outdata, frames)
        self._finish(started, time_info.outputBufferDacTime - time_info.currentTime, frames)

    def _finish(self, started: float, latency: float, frames: int) -> None:
        self._publish(started, latency)
        spent = time.perf_counter() - started
        self.times[self.callbacks % TIMES_KEPT] = spent
        self.callbacks += 1
        if spent * self.sample_rate > frames:
            self.late += 1

    def render(self, out: np.ndarray, frames: int) -> None:
        """Fill ``out[:frames]`` with the next ``frames`` frames and advance the stream."""
        out.fill(0.0)
        start = self.buffer_start = self.frame
        self._drain(start)
        pos = 0
        while pos < frames:
            end = frames
            if not self.held and (self.pending_clip is not None or self.stop_beat == self.stop_beat):
                due = self._due_frame()
                if due <= start + pos:
                    self._start_pending(start + pos)
                    continue
                if due < start + frames:
                    end = due - start
                if not self._cut_begun and (self.pending_clip is None or self.pending_fade <= 0):
                    # a cut or a stop: what plays fades out over the declick and is gone on the launch point
                    cut = due - self._declick
                    if cut <= start + pos:
                        self._cut_begun = True
                        for v in self.voices:
                            if v.clip is not None and v.fade_kind != FADE_OUT:
                                self._fade_out(v, start + pos, due - (start + pos))
                    elif cut < start + end:
                        end = cut - start
            for voice in self.voices:
                if voice.clip is not None:
                    self._render_voice(voice, out, start, pos, end)
            pos = end
        self.frame = start + frames

    # -- commands ----------------------------------------------------------------------------------
    def _drain(self, frame: int) -> None:
        ring = self.commands
        i = ring.peek()
        while i >= 0:
            op = int(ring.op[i])
            a = ring.args[i]
            if op == LAUNCH:
                self._queue_launch(ring.obj[i], float(a[0]), float(a[1]), float(a[2]), frame)
            elif op == STOP:
                self._queue_stop(float(a[0]), float(a[1]), frame)
            elif op == TEMPO:
                self.grid.set_tempo(float(a[0]), frame)
            elif op == SYNC:
                self.grid.anchor(float(a[0]), float(a[1]), float(a[2]))
            elif op == METRE:
                self._set_metre(float(a[0]), frame)
            elif op == REPLACE:
                self._replace(ring.obj[i], ring.obj2[i], frame)
            elif op == HOLD:
                self._hold(float(a[0]) > 0.5, float(a[1]), frame)
            ring.pop()
            i = ring.peek()

    def _quantum(self, quantum: float) -> float:
        return self.grid.beats_per_bar if quantum < 0 else quantum

    def _playing(self) -> bool:
        return any(v.clip is not None and v.fade_kind != FADE_OUT for v in self.voices)

    def _queue_launch(self, clip: PreparedClip | None, quantum: float, at_beat: float, fade: float,
                      frame: int) -> None:
        if clip is None:
            return
        self.graveyard.park(self.pending_clip)
        self.pending_clip = clip
        self.pending_quantum = quantum
        self.pending_at = at_beat
        self.pending_fade = fade
        self._cut_begun = False
        self.stop_beat = math.nan  # a launch after a stop cancels the stop
        self.pending_beat = self._launch_beat(frame)

    def _launch_beat(self, frame: int) -> float:
        if self.pending_at == self.pending_at:
            return self.pending_at
        if self.free_start and not self._playing():
            # the transport starts with this clip: this frame is bar 1, beat 1
            self.grid.anchor(0.0, frame, self.grid.bpm)
            return 0.0
        return self.grid.next_boundary(frame, self._quantum(self.pending_quantum))

    def _queue_stop(self, quantum: float, at_beat: float, frame: int) -> None:
        self.graveyard.park(self.pending_clip)
        self.pending_clip = None
        self._cut_begun = False
        if at_beat == at_beat:
            self.stop_beat = at_beat
        elif self._playing():
            self.stop_beat = self.grid.next_boundary(frame, self._quantum(quantum))
        else:
            self.stop_beat = self.grid.beat_at(frame)

    def _due_frame(self) -> int:
        beat = self.pending_beat if self.pending_clip is not None else self.stop_beat
        return int(math.ceil(self.grid.frame_at(beat) - 1e-6))

    def _start_pending(self, frame: int) -> None:
        clip = self.pending_clip
        if clip is None:  # a stop
            self.stop_beat = math.nan
            self.stops += 1
            for v in self.voices:
                if v.clip is not None and v.fade_kind != FADE_OUT:
                    self._fade_out(v, frame, self._declick)
            return
        # a crossfade needs something to fade from: alone, a clip starts at full level on its bar
        fade = int(round(self.pending_fade * self.grid.frames_per_beat)) if self._playing() else 0
        for v in self.voices:
            if v.clip is not None and v.fade_kind != FADE_OUT:
                self._fade_out(v, frame, max(fade, self._declick))
        v = self._free_voice()
        v.clip = clip
        v.start_frame = frame
        v.start_beat = self.pending_beat
        v.fade_kind = FADE_IN if fade > 0 else STEADY
        v.fade_start = frame
        v.fade_frames = max(fade, 1)
        np.copyto(v.gains, clip.stem_gains)
        self._order += 1
        v.order = self._order
        self.pending_clip = None
        self.pending_beat = math.nan
        self.launches += 1
        self.last_launch_frame = frame

    def _fade_out(self, v: Voice, frame: int, frames: int) -> None:
        if v.fade_kind == FADE_IN:  # mid fade-in: fade out from the gain it has reached
            done = min(1.0, max(0.0, (frame - v.fade_start) / v.fade_frames))
            # cos(x) at the same gain sin(done * pi/2): start the fade-out that far along
            frames = max(frames, 1)
            v.fade_start = frame - int(round((1.0 - done) * frames))
        else:
            v.fade_start = frame
        v.fade_kind = FADE_OUT
        v.fade_frames = max(frames, 1)

    def _free_voice(self) -> Voice:
        oldest = self.voices[0]
        for v in self.voices:
            if v.clip is None:
                return v
            if v.order < oldest.order:
                oldest = v
        self.graveyard.park(oldest.clip)
        oldest.clip = None
        return oldest

    def _set_metre(self, beats_per_bar: float, frame: int) -> None:
        """Bars of ``beats_per_bar`` from the start of the bar now playing."""
        grid = self.grid
        shift = math.floor(grid.beat_at(frame) / grid.beats_per_bar + 1e-9) * grid.beats_per_bar
        grid.origin_beat -= shift
        for v in self.voices:
            v.start_beat -= shift
        self.pending_beat -= shift
        self.stop_beat -= shift
        grid.beats_per_bar = beats_per_bar

    def _replace(self, old: PreparedClip | None, new: PreparedClip | None, frame: int) -> None:
        if old is None or new is None:
            return
        for v in self.voices:
            if v.clip is old:
                into = min(max(0.0, self.grid.beat_at(frame) - v.start_beat), new.beats)
                v.start_frame = frame - int(round(into * new.frames / new.beats))
                v.clip = new
                self.graveyard.park(old)
        if self.pending_clip is old:
            self.pending_clip = new
            self.graveyard.park(old)

    def _hold(self, hold: bool, beat: float, frame: int) -> None:
        if hold and not self.held:
            for v in self.voices:
                if v.clip is not None:
                    self._fade_out(v, frame, self._declick)
        elif not hold:
            if beat == beat:  # a start (beat 0) or continue: the outside transport runs from here
                self.grid.anchor(beat, frame, self.grid.bpm)
            if self.held and self.pending_clip is not None:
                self.held = False
                self.pending_beat = self._launch_beat(frame)
        self.held = hold

    # -- rendering -------------------------------------------------------------------------------------
    def _render_voice(self, v: Voice, out: np.ndarray, start: int, a: int, b: int) -> None:
        clip = v.clip
        assert clip is not None
        grid = self.grid
        if v.fade_kind == FADE_OUT:  # nothing of it is heard after its fade
            b = max(a, min(b, v.fade_start + v.fade_frames - start))
        pos = a
        while pos < b:
            frame = start + pos
            loop_end = int(math.ceil(grid.frame_at(v.start_beat + clip.beats) - 1e-6))
            if loop_end <= frame:  # the grid reached the clip's end: it starts again, on the grid
                v.start_beat += clip.beats
                v.start_frame = loop_end
                continue
            seg = min(b, pos + loop_end - frame)
            src = frame - v.start_frame
            if src < clip.frames:
                self._mix(v, clip, out, pos, src, min(seg - pos, clip.frames - src), frame)
            pos = seg
        if v.fade_kind != STEADY and start + b >= v.fade_start + v.fade_frames:
            if v.fade_kind == FADE_OUT:
                self.graveyard.park(v.clip)
                v.clip = None
            v.fade_kind = STEADY

    def _envelope(self, v: Voice, frame: int, n: int) -> np.ndarray:
        """Equal-power gains for ``n`` frames from ``frame``: sin of the fade's quarter turn in, cos out."""
        t = self._tmp[:n]
        np.add(self._ramp[:n], frame - v.fade_start, out=t)
        np.multiply(t, _HALF_PI / v.fade_frames, out=t)
        np.maximum(t, 0.0, out=t)  # (np.clip would allocate)
        np.minimum(t, _HALF_PI, out=t)
        if v.fade_kind == FADE_IN:
            np.sin(t, out=t)
        else:
            np.cos(t, out=t)
        env = self._env[:n]
        self._columns(env, t)
        return env

    def _columns(self, dst: np.ndarray, values: np.ndarray) -> None:
        """Copy ``values`` into every channel column of ``dst``."""
        for c in range(self.channels):
            np.copyto(dst[:, c], values, casting="same_kind")

    def _mix(self, v: Voice, clip: PreparedClip, out: np.ndarray, pos: int, src: int, n: int, frame: int) -> None:
        dst = out[pos:pos + n]
        env = self._envelope(v, frame, n) if v.fade_kind != STEADY else None
        scratch = self._scratch[:n]
        gain = self._gain[:n]
        for i in range(len(clip.stems)):
            target = float(clip.stem_gains[i])
            current = float(v.gains[i])
            if current == 0.0 and target == 0.0:
                continue
            stem = clip.stems[i][src:src + n]
            if current == target and env is None:
                if current == 1.0:
                    np.add(dst, stem, out=dst)
                    continue
                np.multiply(stem, current, out=scratch)
            elif current == target and env is not None:
                np.multiply(env, current, out=gain)
                np.multiply(stem, gain, out=scratch)
            else:  # a mute or unmute: a straight glide over this stretch
                t = self._tmp2[:n]
                np.add(self._ramp[:n], 1.0, out=t)
                np.multiply(t, (target - current) / n, out=t)
                np.add(t, current, out=t)
                self._columns(gain, t)
                if env is not None:
                    np.multiply(gain, env, out=gain)
                v.gains[i] = target
                np.multiply(stem, gain, out=scratch)
            np.add(dst, scratch, out=dst)

    # -- published state -------------------------------------------------------------------------------
    def _publish(self, started: float, latency: float) -> None:
        s = self.status
        s[SEQ] += 1.0  # odd: being written
        s[FRAME] = self.buffer_start
        s[TIME] = started
        s[LATENCY] = latency
        s[ORIGIN_FRAME] = self.grid.origin_frame
        s[ORIGIN_BEAT] = self.grid.origin_beat
        s[FRAMES_PER_BEAT] = self.grid.frames_per_beat
        s[BEATS_PER_BAR] = self.grid.beats_per_bar
        s[XRUNS] = self.xruns
        s[LATE] = self.late
        s[CALLBACKS] = self.callbacks
        s[LAUNCHES] = self.launches
        s[LAST_LAUNCH_FRAME] = self.last_launch_frame
        s[PENDING_BEAT] = self.pending_beat if self.pending_clip is not None else math.nan
        s[STOP_BEAT] = self.stop_beat
        s[PLAYING] = 1.0 if self._playing() else 0.0
        s[HELD] = 1.0 if self.held else 0.0
        s[STOPS] = self.stops
        s[SEQ] += 1.0  # even: complete

    def snapshot(self) -> np.ndarray:
        """A consistent copy of the published state (any thread but the callback's)."""
        for _ in range(1000):
            before = self.status[SEQ]
            copy = self.status.copy()
            if before % 2 == 0 and copy[SEQ] == before and self.status[SEQ] == before:
                return copy
            time.sleep(0)
        return self.status.copy()
