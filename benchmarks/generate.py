"""Wall time per 32 s clip of the procedural generator, and its real-time factor.

Times composition + render + tempo/key measurement for a few prompts, and a
baseline measured in the same run: the same stems rendered one after another
on one thread. Then the whole job as users run it, from prompt text: analysis,
composition, render, measurement (tempo, key, loudness, true peak) and writing
the WAVs and the manifest, through :func:`mage_bridge.api.generate`, in this
process and once as a cold ``mage-bridge generate`` subprocess (imports included).
First, what the sources cost: opening each installed SoundFont (MuseScore
General's SF3, FluidR3, the AVL kits) and a clip's first render (instruments
decoded) against its second; last, the same prompts with FluidR3 as the GM font.
Run: ``.venv/bin/python benchmarks/generate.py``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mage_bridge import api
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.audio import mix
from mage_bridge.generate.base import GenerateRequest
from mage_bridge.generate.procedural import ProceduralGenerator
from mage_bridge.measure import measure_key, measure_tempo
from mage_bridge.platforms import find_drum_kits, find_soundfont

GOAL_RTF = 15.0

DURATION_S = 32.0
PROMPTS = (
    PromptAnalysis(prompt="deep house", genre="house", bpm=124.0, key="A", mode="minor", time_signature=(4, 4)),
    PromptAnalysis(prompt="trap", genre="trap", bpm=140.0, key="C#", mode="minor", time_signature=(4, 4)),
    PromptAnalysis(prompt="jazz", genre="jazz", bpm=140.0, key="Bb", mode="major", time_signature=(4, 4)),
    PromptAnalysis(prompt="folk 6/8", genre="folk", bpm=120.0, key="D", mode="major", time_signature=(6, 8),
                   instruments=("acoustic guitar",)),
)


def _one(generator: ProceduralGenerator, analysis: PromptAnalysis) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    clip = generator.generate(GenerateRequest(analysis=analysis, seed=0, duration_s=DURATION_S))
    m = mix(clip.stems)
    generated = time.perf_counter()
    measure_tempo(m, time_signature=analysis.time_signature)
    measure_key(m)
    done = time.perf_counter()
    return done - started, {**clip.details["timing_s"], "measure": done - generated}


def fonts() -> None:
    """Opening each font (as a new process would) and a first clip against a second in a fresh process."""
    from mage_bridge.generate.fluidsynth import SoundFont

    print(f"{'SoundFont':32s} {'open s':>7s}")
    paths = [p for p in (find_soundfont(), Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"), *find_drum_kits().values())
             if p is not None and p.is_file()]
    for path in dict.fromkeys(paths):
        started = time.perf_counter()
        SoundFont(path).close()
        print(f"{path.name:32s} {time.perf_counter() - started:7.2f}")
    code = ("import time; from mage_bridge.generate.procedural import ProceduralGenerator as G; "
            "from mage_bridge.generate.base import GenerateRequest as R; from benchmarks.generate import PROMPTS; "
            "g = G(); t = []\nfor i in range(2):\n s = time.perf_counter(); "
            "g.generate(R(analysis=PROMPTS[2], seed=0, duration_s=32.0)); t.append(time.perf_counter() - s)\n"
            "print(f'{t[0]:.2f} {t[1]:.2f}')")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout.split()
    print(f"fresh process, jazz clip: first {out[0]} s (fonts opened, instruments decoded), second {out[1]} s\n")


def main() -> None:
    fonts()
    parallel = ProceduralGenerator(parallel=True)
    sequential = ProceduralGenerator(parallel=False)
    _one(parallel, PROMPTS[0])  # warm the page cache and the library
    print(f"{'prompt':10s} {'parallel s':>10s} {'RTF':>6s} {'1-thread s':>10s} {'RTF':>6s} {'speed-up':>8s}  "
          "(compose / render / measure, parallel)")
    totals = [0.0, 0.0]
    for analysis in PROMPTS:
        t_par, parts = _one(parallel, analysis)
        t_seq, _ = _one(sequential, analysis)
        totals[0] += t_par
        totals[1] += t_seq
        print(f"{analysis.genre:10s} {t_par:10.2f} {DURATION_S / t_par:5.1f}x {t_seq:10.2f} {DURATION_S / t_seq:5.1f}x "
              f"{t_seq / t_par:7.2f}x  ({parts['compose']:.2f} / {parts['render']:.2f} / {parts['measure']:.2f})")
    n = len(PROMPTS)
    print(f"{'mean':10s} {totals[0] / n:10.2f} {DURATION_S * n / totals[0]:5.1f}x {totals[1] / n:10.2f} "
          f"{DURATION_S * n / totals[1]:5.1f}x {totals[1] / totals[0]:7.2f}x  goal: >= {GOAL_RTF:g}x real time "
          f"(<= {DURATION_S / GOAL_RTF:.2f} s)")

    end_to_end()
    fluidr3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
    if fluidr3.is_file() and parallel.soundfont.resolve() != fluidr3:
        generator = ProceduralGenerator(soundfont=fluidr3)
        _one(generator, PROMPTS[0])
        total = sum(_one(generator, analysis)[0] for analysis in PROMPTS)
        print(f"\nsame prompts with FluidR3 as the GM font (parallel): mean {total / n:.2f} s, "
              f"{DURATION_S * n / total:.1f}x real time")


TEXT_PROMPTS = (
    "deep house groove at 122 BPM in the key of G minor",
    "dark trap beat 140 bpm in C# minor with 808s",
    "jazz blues in E minor, slow swing",
    "folk song in 6/8, D major, acoustic guitar",
)


def end_to_end() -> None:
    """The full job from prompt text, warm (in this process) and cold (a fresh CLI process)."""
    print(f"\n{'full job from prompt text (api.generate)':58s} {'s':>6s} {'RTF':>6s}")
    with tempfile.TemporaryDirectory() as tmp:
        times = []
        for i, prompt in enumerate(TEXT_PROMPTS):
            started = time.perf_counter()
            api.generate(prompt, Path(tmp) / f"clip{i}", seed=0)
            times.append(time.perf_counter() - started)
            print(f"{prompt[:58]:58s} {times[-1]:6.2f} {DURATION_S / times[-1]:5.1f}x")
        mean = sum(times) / len(times)
        print(f"{'mean':58s} {mean:6.2f} {DURATION_S / mean:5.1f}x  goal: >= 10x real time (<= 3.2 s)")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mage_bridge.cli", "generate", TEXT_PROMPTS[0], "--out",
                        str(Path(tmp) / "cold"), "--seed", "0"], check=True, capture_output=True)
        cold = time.perf_counter() - started
        print(f"{'cold CLI process, same job (imports included)':58s} {cold:6.2f} {DURATION_S / cold:5.1f}x  "
              f"ratio to warm: {cold / times[0]:.2f}x")


if __name__ == "__main__":
    main()
