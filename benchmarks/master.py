"""Mastering a 3-minute track: MAGE Bridge vs ffmpeg's two-pass loudnorm, same input, same run.

Run: ``.venv/bin/python benchmarks/master.py [--seconds 180] [--lufs -14] [--true-peak -1]``.

Both write a 24-bit 48 kHz WAV from the same hot synthetic mix (chords, bass,
vibrato lead, drums, +8 dB so true peaks sit far above the ceiling). Both
results are measured with our BS.1770-4 meter. ffmpeg's loudnorm is run the
documented way: pass 1 measures (print_format=json), pass 2 normalises with the
measured values and ``linear=true``; when the target cannot be reached linearly
under the ceiling, loudnorm falls back to its dynamic mode, which is where it
tends to miss the target. Prints wall times (ours through the file API,
decoding and encoding included) and the ratio.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mage_bridge import api  # noqa: E402
from mage_bridge import audio as audio_io  # noqa: E402
from mage_bridge.audio import Audio  # noqa: E402
from mage_bridge.config import Config  # noqa: E402
from mage_bridge.effects.loudness import integrated_loudness, true_peak_dbtp  # noqa: E402
from tests.effects.synth import song  # noqa: E402


def _ffmpeg_two_pass(src: Path, out: Path, *, lufs: float, tp: float) -> tuple[float, str]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("ffmpeg is not installed (apt-get install ffmpeg)")
    started = time.perf_counter()
    first = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostats", "-i", str(src), "-af",
         f"loudnorm=I={lufs}:TP={tp}:LRA=20:print_format=json", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    stats = json.loads(re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", first.stderr, re.S).group(0))
    second = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostats", "-y", "-i", str(src), "-af",
         f"loudnorm=I={lufs}:TP={tp}:LRA=20:measured_I={stats['input_i']}:measured_TP={stats['input_tp']}:"
         f"measured_LRA={stats['input_lra']}:measured_thresh={stats['input_thresh']}:"
         f"offset={stats['target_offset']}:linear=true:print_format=json",
         "-ar", "48000", "-c:a", "pcm_s24le", str(out)],
        capture_output=True, text=True, check=True,
    )
    elapsed = time.perf_counter() - started
    mode = re.search(r"\"normalization_type\"\s*:\s*\"(\w+)\"", second.stderr)
    return elapsed, mode.group(1) if mode else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--lufs", type=float, default=-14.0)
    parser.add_argument("--true-peak", type=float, default=-1.0, dest="true_peak")
    parser.add_argument("--gain-db", type=float, default=8.0, help="how hot the input mix is")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mix = song(args.seconds, np.random.default_rng(0))
        hot = Audio(mix.samples * np.float32(10 ** (args.gain_db / 20)), mix.sample_rate)
        src = audio_io.save(hot, folder / "input.wav", subtype="float")
        print(f"input: {args.seconds:g} s, {integrated_loudness(hot):.2f} LUFS, {true_peak_dbtp(hot):+.2f} dBTP; "
              f"target {args.lufs:g} LUFS, ceiling {args.true_peak:g} dBTP")

        ours_path = folder / "ours.wav"
        started = time.perf_counter()
        api.master(src, ours_path, target_lufs=args.lufs, true_peak_dbtp=args.true_peak,
                           config=Config(models_dir=folder))
        ours_s = time.perf_counter() - started

        ff_path = folder / "ffmpeg.wav"
        ff_s, mode = _ffmpeg_two_pass(src, ff_path, lufs=args.lufs, tp=args.true_peak)

        print(f"{'':<22}{'time s':>8}{'LUFS':>9}{'err LU':>8}{'dBTP':>8}  note")
        for name, path, seconds, note in (("mage-bridge master", ours_path, ours_s, "true-peak limiter"),
                                          ("ffmpeg loudnorm x2", ff_path, ff_s, f"mode: {mode}")):
            out = audio_io.load(path)
            lufs = integrated_loudness(out)
            peak = true_peak_dbtp(out)
            ok = "ok" if abs(lufs - args.lufs) <= 0.3 and peak <= args.true_peak else "MISSES"
            print(f"{name:<22}{seconds:8.2f}{lufs:9.2f}{lufs - args.lufs:+8.2f}{peak:8.2f}  {note}, {ok}")
        print(f"speed: ours takes {ours_s / ff_s:.2f}x ffmpeg two-pass time "
              f"({ff_s / ours_s:.1f}x faster)" if ours_s < ff_s else
              f"speed: ours takes {ours_s / ff_s:.2f}x ffmpeg two-pass time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
