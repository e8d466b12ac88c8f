"""The audio engine on its own: buffers rendered by calling it as the output stream would."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from mage_bridge.live import engine as eng
from mage_bridge.live.engine import Engine
from mage_bridge.live.grid import Grid
from mage_bridge.live.ring import CommandRing
from tests.live.synth import RATE, beat_frames, impulses, noise, prepared

BUFFER = 256
BPM = 120.0
BEAT = beat_frames(BPM)
BAR = 4 * BEAT


class Run:
    """An engine and everything it has played, buffer by buffer."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.out = np.zeros((BUFFER, 2), dtype=np.float32)
        self.played: list[np.ndarray] = []

    def buffers(self, n: int) -> None:
        for _ in range(n):
            self.engine.render(self.out, BUFFER)
            self.played.append(self.out.copy())

    def until(self, frame: int) -> None:
        self.buffers(max(0, -(-(frame - self.engine.frame) // BUFFER)))

    @property
    def left(self) -> np.ndarray:
        return np.concatenate(self.played)[:, 0]

    def launch(self, clip: object, *, quantum: float = -1.0, at: float = math.nan, fade: float = 0.0) -> None:
        assert self.engine.commands.push(eng.LAUNCH, quantum, at, fade, obj=clip)


@pytest.fixture
def run() -> Run:
    return Run(Engine(sample_rate=RATE, max_frames=BUFFER, bpm=BPM))


def test_the_first_launch_starts_at_once_and_is_bar_one(run: Run) -> None:
    clip = prepared("a", {"drums": impulses(BAR, BAR)}, bpm=BPM, beats=4)
    run.buffers(7)
    run.launch(clip)
    run.until(7 * BUFFER + 3 * BAR + 1)
    assert list(np.nonzero(run.left)[0]) == [7 * BUFFER + k * BAR for k in range(4)]
    assert run.engine.grid.beat_at(7 * BUFFER) == 0.0


@pytest.mark.parametrize("quantum,beats", [(-1.0, 4), (1.0, 1)], ids=["bar", "beat"])
def test_a_launch_lands_on_the_next_boundary_to_the_frame(run: Run, quantum: float, beats: int) -> None:
    silent = prepared("silent", {"other": np.zeros((2, BAR), np.float32)}, bpm=BPM, beats=4)
    click = prepared("click", {"drums": impulses(BAR, BAR)}, bpm=BPM, beats=4)
    run.launch(silent)
    run.until(BAR + 1000)  # inside bar 2 (beat 4 + a bit)
    run.launch(click, quantum=quantum)
    run.until(3 * BAR)
    first = int(np.nonzero(run.left)[0][0])
    step = beats * BEAT
    assert first % step == 0 and BAR + 1000 <= first < BAR + 1000 + step + BUFFER


def test_a_clip_loops_on_the_grid_until_the_next_launch(run: Run) -> None:
    a = prepared("a", {"drums": impulses(2 * BAR, 2 * BAR, amplitude=0.25)}, bpm=BPM, beats=8)
    b = prepared("b", {"drums": impulses(BAR, BAR, amplitude=0.5)}, bpm=BPM, beats=4)
    run.launch(a)
    run.until(5 * BAR - 300)  # a has started again at bars 3 and 5
    run.launch(b)
    run.until(8 * BAR + 1)
    hits = {int(i): float(run.left[i]) for i in np.nonzero(run.left)[0]}
    assert hits == {0: 0.25, 2 * BAR: 0.25, 4 * BAR: 0.25, 5 * BAR: 0.5, 6 * BAR: 0.5, 7 * BAR: 0.5, 8 * BAR: 0.5}


def test_a_crossfade_is_equal_power(run: Run, rng: np.random.Generator) -> None:
    a = prepared("a", {"other": noise(BAR, rng)}, bpm=BPM, beats=4)
    b = prepared("b", {"other": noise(BAR, rng)}, bpm=BPM, beats=4)
    run.launch(a)
    run.until(BAR // 2)
    run.launch(b, fade=4.0)
    run.until(3 * BAR)
    y = np.concatenate(run.played)
    window = BEAT // 4
    powers = [float(np.mean(y[s:s + window] ** 2)) for s in range(BAR, 2 * BAR, window)]
    db = 10 * np.log10(np.array(powers) / 0.01)
    assert np.all(np.abs(db) < 0.5), db  # each clip alone is 0.01 (0.1 RMS): so is the sum all through the fade
    # and it really was a fade: half way through, each clip is at -3 dB (a started at frame 0, so its frames line up)
    mid = slice(BAR + 2 * BEAT - 500, BAR + 2 * BEAT + 500)
    ref = a.stems[0][2 * BEAT - 500:2 * BEAT + 500, 0]
    assert float(np.dot(y[mid, 0], ref) / np.dot(ref, ref)) == pytest.approx(math.cos(math.pi / 4), abs=0.02)


def test_a_muted_stem_glides_out_and_stays_out(run: Run) -> None:
    ones = np.full((2, BAR), 0.5, np.float32)
    clip = prepared("a", {"drums": ones, "bass": ones * 0.5}, bpm=BPM, beats=4)
    run.launch(clip)
    run.buffers(4)
    clip.stem_gains[0] = 0.0  # the player mutes drums
    run.buffers(1)
    glide = run.played[-1][:, 0]
    assert glide[0] > 0.25 + 0.4 and glide[-1] == pytest.approx(0.25)
    assert np.all(np.diff(glide) <= 0)
    run.buffers(3)
    assert np.allclose(run.played[-1][:, 0], 0.25)


def test_a_stop_lands_on_the_bar_with_a_short_fade(run: Run) -> None:
    clip = prepared("a", {"other": np.full((2, BAR), 0.5, np.float32)}, bpm=BPM, beats=4)
    run.launch(clip)
    run.until(BAR + 100)
    assert run.engine.commands.push(eng.STOP, -1.0, math.nan)
    run.until(3 * BAR)
    y = run.left
    declick = int(eng.DECLICK_S * RATE)
    assert np.all(y[BAR:2 * BAR - declick] == pytest.approx(0.5))  # it fades out over 5 ms and is gone on the bar
    assert 0 < y[2 * BAR - declick // 2] < 0.5 and np.all(y[2 * BAR:] == 0.0)
    assert run.engine.stops == 1 and not run.engine._playing()


def test_a_tempo_change_keeps_the_beat_and_moves_the_loop_point(run: Run) -> None:
    clip = prepared("a", {"drums": impulses(BAR, BAR)}, bpm=BPM, beats=4)
    run.launch(clip)
    run.until(2 * BEAT)
    at = run.engine.frame
    beat = run.engine.grid.beat_at(at)
    assert run.engine.commands.push(eng.TEMPO, 60.0)
    run.buffers(1)
    assert run.engine.grid.beat_at(at) == pytest.approx(beat, abs=1e-12) and run.engine.grid.bpm == 60.0
    loop_point = at + round((4.0 - beat) * RATE)  # the beats left to the loop point, now a second each
    run.until(loop_point + 1)
    assert list(np.nonzero(run.left)[0]) == [0, loop_point]


def test_the_callback_makes_no_audio_buffer(run: Run, rng: np.random.Generator) -> None:
    """NumPy registers its array memory with tracemalloc: a temporary of one buffer would show up."""
    a = prepared("a", {"drums": noise(BAR, rng), "bass": noise(BAR, rng)}, bpm=BPM, beats=4)
    b = prepared("b", {"other": noise(BAR, rng)}, bpm=BPM, beats=4)
    run.launch(a)
    run.buffers(4)
    out = np.zeros((BUFFER, 2), np.float32)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for i in range(2000):
            if i == 100:
                run.engine.commands.push(eng.LAUNCH, 1.0, math.nan, 2.0, obj=b)  # a crossfade
            if i == 300:
                b.stem_gains[0] = 0.0  # a mute glide
            if i == 600:
                run.engine.commands.push(eng.LAUNCH, 0.0, math.nan, 0.5, obj=a)
            run.engine.render(out, BUFFER)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert run.engine.launches == 3
    assert peak < BUFFER * 2 * 4, f"{peak} bytes made while rendering: a buffer-sized temporary"


def test_the_command_ring_refuses_when_full_and_keeps_order() -> None:
    ring = CommandRing(capacity=4)
    assert all(ring.push(eng.TEMPO, float(100 + i)) for i in range(4))
    assert not ring.push(eng.TEMPO, 200.0)
    seen = []
    while (i := ring.peek()) >= 0:
        seen.append(float(ring.args[i][0]))
        ring.pop()
    assert seen == [100.0, 101.0, 102.0, 103.0] and ring.push(eng.TEMPO, 200.0)


def test_grid_boundaries() -> None:
    grid = Grid(RATE, bpm=120.0)
    assert grid.next_boundary(0, 4.0) == 0.0
    assert grid.next_boundary(1, 4.0) == 4.0
    assert grid.next_boundary(BAR, 4.0) == 4.0
    assert grid.next_boundary(BAR + 1, 1.0) == 5.0
    grid.set_tempo(60.0, BAR)  # beat 4 at BAR, now 48000 frames a beat
    assert grid.frame_at(5.0) == BAR + 48000
    assert grid.bar_of(3.99) == 1 and grid.bar_of(4.0) == 2
