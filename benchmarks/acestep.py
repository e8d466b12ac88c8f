"""ACE-Step adapter overhead: per-step time through MAGE's generator vs calling the pipeline directly.

Run: ``.venv/bin/python benchmarks/acestep.py [--repeats 30] [--seconds 4] [--steps 8]``.

A tiny random ``AceStepPipeline`` of the real diffusers classes (``tests/generate/acestep/tiny.py``)
is saved to a temporary models folder and loaded through MAGE's path (``create_generator("acestep")``).
Jobs alternate between MAGE's ``generate`` (step times from its ``progress("diffuse", k/N)`` events)
and a direct ``pipe(...)`` call on the same loaded pipeline with the same arguments (step times from
``callback_on_step_end``). A step time is the gap between consecutive step events, so the first step
(which also encodes the text) is left out; the figure is the median over all repeats. Clips are short
because at 30 s the VAE decode swamps the per-step cost. Goal: ratio <= 1.05.

The load time of the first job and of the second (goal 0: the model stays warm) come from the
generator's details. A direct call's whole time (diffusion and decode) is printed beside the route's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mage_bridge.analysis.result import PromptAnalysis  # noqa: E402
from mage_bridge.config import load_config  # noqa: E402
from mage_bridge.generate import create_generator  # noqa: E402
from mage_bridge.generate.base import GenerateRequest  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if not 0 < args.seconds <= 4:
        parser.error("--seconds must be from 0 to 4 (longer clips measure the VAE decode, not the steps)")

    import torch

    from mage_bridge.generate.acestep import AceStepGenerator
    from mage_bridge.generate.acestep.diffusers_route import WARM, DiffusersRoute
    from tests.generate.acestep.tiny import build_tiny_pipeline

    torch.set_num_threads(args.threads)
    from diffusers import AceStepPipeline, AutoencoderOobleck  # noqa: F401  (imports are not the builder's time)
    from transformers import PreTrainedTokenizerFast, Qwen3Model  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        folder = build_tiny_pipeline(Path(tmp) / "models" / "acestep")
        built = time.perf_counter() - started
        config = load_config(data_dir=str(Path(tmp) / "data"), models_dir=str(Path(tmp) / "models"),
                             **{"acestep.model_dir": str(folder), "acestep.steps": args.steps,
                                "acestep.idle_release_s": 0, "backends.separate": "dsp"})
        analysis = PromptAnalysis(prompt="warm lofi piano", genre="lofi hip hop", bpm=90.0, key="F#",
                                  mode="minor", time_signature=(4, 4), mood=("warm",), instruments=("piano",))
        request = GenerateRequest(analysis=analysis, seed=1, duration_s=args.seconds)

        first = create_generator("acestep", config).generate(request)
        second_generator = create_generator("acestep", config)
        second = second_generator.generate(request)
        assert isinstance(second_generator, AceStepGenerator)
        route = second_generator.route
        assert isinstance(route, DiffusersRoute)
        choice = route.choice
        entry, warm = WARM.acquire(folder, choice.device, choice.dtype, config.acestep.cpu_offload)
        assert warm, "the pipeline should still be loaded"
        pipe = entry.pipe
        d = second.details
        direct_kwargs = dict(
            prompt=d["caption"], lyrics=d["lyrics"], audio_duration=args.seconds, num_inference_steps=args.steps,
            guidance_scale=1.0, shift=d["shift"], bpm=d["bpm"], keyscale=d["keyscale"],
            timesignature=d["timesignature"], task_type="text2music", output_type="pt",
        )

        mage_steps: list[float] = []
        direct_steps: list[float] = []
        mage_whole: list[float] = []
        direct_whole: list[float] = []
        def through_mage() -> None:
            stamps: list[float] = []
            clip = second_generator.generate(
                request, progress=lambda stage, fraction: stamps.append(time.perf_counter()) if stage == "diffuse"
                else None)
            mage_steps.extend(b - a for a, b in zip(stamps, stamps[1:]))
            mage_whole.append(clip.details["timing_s"]["diffuse"])

        def directly() -> None:
            stamps: list[float] = []

            def on_step(_pipe: object, _i: int, _t: object, kwargs: dict[str, object]) -> dict[str, object]:
                stamps.append(time.perf_counter())
                return kwargs

            started = time.perf_counter()
            with torch.inference_mode():
                pipe(generator=torch.Generator("cpu").manual_seed(1), callback_on_step_end=on_step, **direct_kwargs)
            direct_whole.append(time.perf_counter() - started)
            direct_steps.extend(b - a for a, b in zip(stamps, stamps[1:]))

        for k in range(args.repeats):  # alternate which goes first, so drifting machine load hits both alike
            for run in ((through_mage, directly) if k % 2 == 0 else (directly, through_mage)):
                run()
        WARM.release(entry, 0)

    mage_ms, direct_ms = statistics.median(mage_steps) * 1e3, statistics.median(direct_steps) * 1e3
    mage_all, direct_all = statistics.median(mage_whole) * 1e3, statistics.median(direct_whole) * 1e3
    ratio = mage_ms / direct_ms
    print(f"tiny AceStepPipeline (real diffusers classes), {args.seconds:g} s clip, {args.steps} steps, "
          f"{args.repeats} repeats, torch {torch.__version__} on {d['device']} ({args.threads} thread(s)); "
          f"built in {built:.2f} s")
    print(f"{'':28s} {'MAGE':>10s} {'direct':>10s} {'ratio':>7s}")
    print(f"{'median step, ms':28s} {mage_ms:10.3f} {direct_ms:10.3f} {ratio:7.3f}   (goal <= 1.05: "
          f"{'met' if ratio <= 1.05 else 'NOT met'})")
    print(f"{'median diffuse+decode, ms':28s} {mage_all:10.2f} {direct_all:10.2f} {mage_all / direct_all:7.3f}")
    print(f"load: first job {first.details['load_s']:.3f} s (warm={first.details['warm']}), "
          f"second job {second.details['load_s']:.3f} s (warm={second.details['warm']}; goal 0, no reload)")
    return 0 if ratio <= 1.05 and second.details["load_s"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
