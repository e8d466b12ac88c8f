"""What a sung vocal adds to a 32 s clip of the procedural generator, beside the instrumental render.

For each prompt (low and high voices, generated lyrics), in one process: the lyrics written and timed on the
clip's grid (:func:`mage_bridge.api.clips.clip_lyrics`), then the same request rendered twice by the
generator - once as an instrumental (the baseline: composition, stems, mix) and once with the timed lyrics
(the vocal's melody, espeak-ng, PSOLA and the vocal in the mix stage). A first untimed clip warms the fonts
and espeak-ng's data. Goal: lyrics + vocal add under 2 s per clip on 2 cores.
Run: ``.venv/bin/python benchmarks/vocals.py``.
"""

from __future__ import annotations

import os
import statistics
import time

from mage_bridge.analysis import analyze
from mage_bridge.api.clips import clip_grid, clip_lyrics
from mage_bridge.generate.base import GenerateRequest
from mage_bridge.generate.procedural import ProceduralGenerator

GOAL_ADDED_S = 2.0
DURATION_S = 32.0
PROMPTS = (
    "pop song about summer love, female vocals",
    "slow soul ballad about the city at night with a baritone singer",
    "upbeat rock song about freedom, male vocals",
    "dreamy folk song in 6/8 about autumn, soprano",
)


def main() -> None:
    generator = ProceduralGenerator()
    print(f"{os.cpu_count()} cores; 32 s clips, seed 1\n")
    print(f"{'prompt':66s} {'syll':>4s} {'lyrics s':>8s} {'instr s':>7s} {'vocal s':>7s} {'added s':>7s} "
          f"{'ratio':>5s}")
    added: list[float] = []
    for i, prompt in enumerate((PROMPTS[0], *PROMPTS)):
        analysis = analyze(prompt, backend="rules")
        grid = clip_grid(analysis, duration_s=DURATION_S, lead_in_bars=1)
        started = time.perf_counter()
        sung = clip_lyrics(analysis, grid, mode="generate", user_lyrics=None, seed=1)
        written = time.perf_counter() - started
        plain = GenerateRequest(analysis=analysis, seed=1, duration_s=DURATION_S)
        started = time.perf_counter()
        generator.generate(plain)
        instrumental = time.perf_counter() - started
        started = time.perf_counter()
        clip = generator.generate(GenerateRequest(analysis=analysis, seed=1, duration_s=DURATION_S,
                                                  lyrics=sung.text, sung=tuple(sung.times)))
        with_vocal = time.perf_counter() - started
        if i == 0:
            continue  # the warm-up
        extra = written + with_vocal - instrumental
        added.append(extra)
        stage = clip.details["timing_s"]["vocal"]
        print(f"{prompt[:66]:66s} {len(sung.times):4d} {written:8.3f} {instrumental:7.2f} {with_vocal:7.2f} "
              f"{extra:7.2f} {with_vocal / instrumental:5.2f}   (vocal stage {stage:.2f} s)")
    worst = max(added)
    print(f"\nlyrics + vocal add {statistics.median(added):.2f} s per clip (median), {worst:.2f} s at most; "
          f"goal under {GOAL_ADDED_S:.1f} s: {'met' if worst < GOAL_ADDED_S else 'NOT met'}")


if __name__ == "__main__":
    main()
