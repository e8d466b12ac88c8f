"""Speed of tempo + key measurement on a 32 s stereo 48 kHz clip.

Run: ``.venv/bin/python benchmarks/measure.py``. Prints the median time of
several runs of each measurer and of both together, as a ratio to real time
(0.01 = a hundredth of the clip's duration) and against the 3.2 s generate budget.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mage_bridge.audio import Audio  # noqa: E402
from mage_bridge.measure import measure_key, measure_tempo  # noqa: E402
from tests.measure.cases import SIXTEENTHS  # noqa: E402
from tests.measure.synth import chord_clip, drum_clip  # noqa: E402

DURATION_S = 32.0
RUNS = 7
GENERATE_BUDGET_S = 3.2


def _clip() -> Audio:
    rng = np.random.default_rng(0)
    drums = drum_clip(96.0, {**SIXTEENTHS}, steps_per_quarter=4, rng=rng, duration_s=DURATION_S)
    harmony = chord_clip(9, "minor", rng=rng, bpm=96.0, cycles=2, drums=False)
    n = drums.frames
    music = np.zeros_like(drums.samples)
    music[:, : min(n, harmony.frames)] = harmony.samples[:, :n]
    return Audio(0.5 * drums.samples + 0.5 * music, drums.sample_rate)


def _median_time(fn, clip: Audio) -> float:
    """Median wall time of ``fn(audio)``; each run gets a fresh Audio so no cached decimation is reused."""
    times = []
    for _ in range(RUNS):
        fresh = Audio(clip.samples, clip.sample_rate)
        start = time.perf_counter()
        fn(fresh)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    clip = _clip()
    measure_tempo(clip)  # warm imports (scipy.signal, scipy.ndimage)
    measure_key(clip)
    tempo_s = _median_time(measure_tempo, clip)
    key_s = _median_time(measure_key, clip)
    both_s = _median_time(lambda a: (measure_tempo(a), measure_key(a)), clip)
    print(f"clip: {clip.duration_s:.1f} s, {clip.channels} ch, {clip.sample_rate} Hz; median of {RUNS} runs")
    for name, seconds in (("tempo", tempo_s), ("key", key_s), ("tempo+key", both_s)):
        print(
            f"{name:>10}: {1000 * seconds:7.1f} ms  "
            f"ratio to real time {seconds / clip.duration_s:.4f}  "
            f"share of the {GENERATE_BUDGET_S} s generate budget {seconds / GENERATE_BUDGET_S:.1%}"
        )
    print(f"measured: {measure_tempo(clip)}")
    print(f"measured: {measure_key(clip)}")


if __name__ == "__main__":
    main()
