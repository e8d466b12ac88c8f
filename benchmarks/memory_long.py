"""Peak memory and time of master, enhance and separate on a long file, against a short one in the same run.

Run::

    .venv/bin/python benchmarks/memory_long.py [--minutes 30] [--baseline-minutes 3] [--stages master,enhance,separate]

A stereo 48 kHz float WAV of ``--minutes`` (the documented input limit is 30)
and one of ``--baseline-minutes`` are generated on disk in 24 s pieces of the
synthetic song (tests/effects/synth.py, a new seed per piece) written through
``soundfile.SoundFile``, so the parent never holds a long file in memory. Each
stage then runs through the file API (``api.master``, ``enhance`` of
one stem, ``separate`` with the embedded DSP backend) in a fresh child process;
the child's peak resident set (``ru_maxrss`` from ``os.wait4``) and wall time
are printed for both lengths with their ratio: a ratio near 1 means memory no
longer grows with the input's length. ``--tree`` runs the stages from another
checkout (e.g. a copy of the code before streaming) for a before/after table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_PIECE_S = 24.0  # whole bars at 120 BPM, so the pieces join on a downbeat

_CHILD = """
import sys, time
sys.path.insert(0, {tree!r})
from pathlib import Path
from mage_bridge import api
from mage_bridge.config import Config
stage, src, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
config = Config(data_dir=out.parent / "data", models_dir=out.parent / "models")
started = time.perf_counter()
if stage == "master":
    api.master(src, out / "master.wav", config=config)
elif stage == "enhance":
    api.enhance(src, out / "vocals.wav", options={{"stem": "vocals"}}, config=config)
elif stage == "separate":
    api.separate(src, out / "stems", backend="dsp", config=config)
print(f"{{time.perf_counter() - started:.3f}}")
"""


def write_long_file(path: Path, minutes: float) -> Path:
    """A ``minutes``-long stereo 48 kHz float WAV written piece by piece (never one big array)."""
    import soundfile as sf

    from tests.effects.synth import song

    total = int(round(minutes * 60.0 * 48_000))
    with sf.SoundFile(str(path), "w", samplerate=48_000, channels=2, subtype="FLOAT", format="WAV") as f:
        written, seed = 0, 0
        while written < total:
            piece = song(_PIECE_S, np.random.default_rng(seed)).samples[:, : total - written]
            f.write(piece.T)
            written += piece.shape[1]
            seed += 1
    return path


def run_stage(stage: str, src: Path, work: Path, tree: Path, timeout_s: float) -> tuple[float | None, float, str]:
    """(peak RSS in MiB or None, wall s, status) of one stage in a fresh child process."""
    out = work / f"{stage}-{src.stem}"
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", _CHILD.format(tree=str(tree)), stage, str(src), str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = started + timeout_s
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            child.kill()
            _, status, usage = os.wait4(child.pid, 0)
            return usage.ru_maxrss / 1024.0, time.perf_counter() - started, "timeout"
        time.sleep(0.05)
    wall = time.perf_counter() - started
    stderr = child.stderr.read() if child.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {code}"
        return usage.ru_maxrss / 1024.0, wall, f"failed: {last[:120]}"
    return usage.ru_maxrss / 1024.0, wall, "ok"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--baseline-minutes", type=float, default=3.0, dest="baseline_minutes")
    parser.add_argument("--stages", default="master,enhance,separate")
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout whose mage_bridge the stages run")
    parser.add_argument("--timeout-s", type=float, default=1800.0, dest="timeout_s")
    parser.add_argument("--work", type=Path, default=None, help="folder for the files (default: a temp folder)")
    args = parser.parse_args()
    stages = [s for s in args.stages.split(",") if s]

    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        lengths = [args.baseline_minutes, args.minutes]
        files = {m: write_long_file(work / f"input_{m:g}min.wav", m) for m in lengths}
        print(f"code: {args.tree}; inputs: {', '.join(f'{m:g} min' for m in lengths)} stereo 48 kHz float WAV")
        print(f"{'stage':<10}{'minutes':>8}{'peak RSS MiB':>14}{'wall s':>9}{'RTF':>8}  status")
        for stage in stages:
            peaks = {}
            for minutes in lengths:
                rss, wall, status = run_stage(stage, files[minutes], work, args.tree, args.timeout_s)
                peaks[minutes] = rss
                print(f"{stage:<10}{minutes:8g}{rss:14.0f}{wall:9.1f}{wall / (minutes * 60):8.3f}  {status}",
                      flush=True)
            ratio = peaks[args.minutes] / peaks[args.baseline_minutes]
            print(f"{stage:<10}{'ratio':>8}{ratio:14.2f}  ({args.minutes / args.baseline_minutes:g}x longer input)",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
