"""Separation quality and speed: the DSP separator's SDR on known stems, and Demucs-path RTF.

Run: ``.venv/bin/python benchmarks/separate.py [--seconds 30]``.

Quality: a mix is built from four known synthetic stems (vibrato lead, drums,
bass, chords; tests/effects/synth.py); for each stem the global SDR
10·log10(Σs² / Σ(s − ŝ)²) of the DSP estimate is printed beside the SDR of
the baseline "the mixture as the estimate".

Speed: real-time factor (processing time / audio duration, lower is faster)
of the DSP separator and of the Demucs adapter path (get_model from a local
repo → apply_model → 48 kHz stems) on randomly initialised weights: the tiny
test model and the full-size HTDemucs architecture (same compute as the real
htdemucs; its weights are random, so only its speed means anything).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mage_bridge.audio import mix  # noqa: E402
from mage_bridge.config import Config  # noqa: E402
from mage_bridge.progress import STEM_NAMES  # noqa: E402
from mage_bridge.separate import create_separator  # noqa: E402
from mage_bridge.separate.dsp import DspSeparator  # noqa: E402
from tests.effects.synth import stems as make_stems  # noqa: E402


def sdr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    reference = reference.astype(np.float64)
    return float(10 * np.log10(np.sum(reference**2) / np.sum((reference - estimate.astype(np.float64)) ** 2)))


def _full_size_repo(folder: Path) -> None:
    import torch
    from demucs.htdemucs import HTDemucs
    from demucs.states import get_state, save_with_checksum

    torch.manual_seed(0)
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"], samplerate=44100, segment=7.8)
    args, kwargs = model._init_args_kwargs
    folder.mkdir(parents=True, exist_ok=True)
    save_with_checksum({"klass": HTDemucs, "args": args, "kwargs": kwargs,
                        "state": get_state(model, None, half=False), "training_args": {}}, folder / "0full0ht.th")
    (folder / "htdemucs_random.yaml").write_text("models: ['0full0ht']\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--demucs-seconds", type=float, default=10.0)
    args = parser.parse_args()

    known = make_stems(args.seconds, np.random.default_rng(1))
    mixture = mix(known)
    started = time.perf_counter()
    estimates = DspSeparator().separate(mixture)
    dsp_s = time.perf_counter() - started
    print(f"DSP separator on a {args.seconds:g} s synthetic mix (global SDR, dB):")
    print(f"  {'stem':<8}{'dsp':>8}{'mixture':>10}{'gain':>8}")
    for name in STEM_NAMES:
        ours = sdr_db(known[name].samples, estimates[name].samples)
        base = sdr_db(known[name].samples, mixture.samples)
        print(f"  {name:<8}{ours:8.2f}{base:10.2f}{ours - base:+8.2f}")
    residual = np.abs(sum(e.samples.astype(np.float64) for e in estimates.values()) - mixture.samples).max()
    print(f"  stems sum to the mix within {residual:.1e}; RTF {dsp_s / args.seconds:.3f}")

    try:
        import demucs  # noqa: F401
    except ImportError:
        print("Demucs: not installed (pip install 'mage-bridge[demucs]'), RTF not measured")
        return 0
    from tests.separate.tiny_demucs import make_tiny_demucs_repo

    clip = mix(make_stems(args.demucs_seconds, np.random.default_rng(2)))
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = Path(tmp)
        make_tiny_demucs_repo(models / "demucs")
        _full_size_repo(models / "demucs")
        config = Config(models_dir=models)
        print(f"Demucs adapter path on {args.demucs_seconds:g} s (random weights, CPU):")
        for model in ("tiny_htdemucs", "htdemucs_random"):
            separator = create_separator("demucs", config, model=model)
            started = time.perf_counter()
            separator.load()
            load_s = time.perf_counter() - started
            started = time.perf_counter()
            out = separator.separate(clip)
            run_s = time.perf_counter() - started
            shape = out["vocals"].samples.shape
            print(f"  {model:<16} load {load_s:5.2f} s, separate {run_s:6.2f} s, RTF {run_s / args.demucs_seconds:.3f}"
                  f" -> 4 stems of {shape[1]} frames at {out['vocals'].sample_rate} Hz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
