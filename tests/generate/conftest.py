"""Renders the measured prompts once per session and prints their results table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from mage_bridge.audio import Audio, mix

from .cases import CASES, Case

SEED = 0
OTHER_SEED = 1
_RESULTS: dict[str, Any] = {}


@dataclass(frozen=True)
class Rendered:
    case: Case
    stems: dict[str, Audio]
    mix: Audio
    details: dict[str, Any]
    bpm: float
    tonic: str
    mode: str
    seconds: float


def render_cases(seed: int) -> dict[str, Rendered]:
    """Every case of :data:`CASES`, generated with ``seed`` and measured without knowing the request."""
    import time

    from mage_bridge.generate import create_generator
    from mage_bridge.generate.base import GenerateRequest
    from mage_bridge.measure import measure_key, measure_tempo

    generator = create_generator("procedural")
    out: dict[str, Rendered] = {}
    for case in CASES:
        started = time.perf_counter()
        clip = generator.generate(GenerateRequest(analysis=case.analysis(), seed=seed))
        m = mix(clip.stems)
        tempo = measure_tempo(m, time_signature=case.time_signature)
        key = measure_key(m)
        out[case.id] = Rendered(case, clip.stems, m, clip.details, tempo.bpm, key.tonic, key.mode,
                                time.perf_counter() - started)
    return out


@pytest.fixture(scope="session")
def rendered() -> dict[str, Rendered]:
    """Every case at seed 0 (the table printed at the end of the run)."""
    out = render_cases(SEED)
    _RESULTS["rendered"] = out
    return out


@pytest.fixture(scope="session")
def rendered_other_seed() -> dict[str, Rendered]:
    """Every case at seed 1: users get random seeds, so accuracy must not hang on seed 0."""
    return render_cases(OTHER_SEED)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from mage_bridge.music import same_key

    rendered = _RESULTS.get("rendered")
    if not rendered:
        return
    tr = terminalreporter
    tr.section("procedural generator: requested vs measured (seed 0)")
    tr.write_line(f"{'case':14s} {'metre':>5s} {'drums':>5s} {'bpm':>6s} {'measured':>8s} {'ok':>3s}  "
                  f"{'key':>9s} {'measured':>9s} {'ok':>3s}  {'style':13s} {'s':>5s}")
    tempo_ok = key_ok = with_drums = 0
    for r in rendered.values():
        c = r.case
        t_ok = abs(r.bpm / c.bpm - 1.0) <= 0.02
        k_ok = same_key(r.tonic, r.mode, c.key, c.mode)
        with_drums += c.has_drums
        tempo_ok += t_ok and c.has_drums
        key_ok += k_ok
        tr.write_line(
            f"{c.id:14s} {c.time_signature[0]:>3d}/{c.time_signature[1]:<1d} {'yes' if c.has_drums else 'no':>5s} "
            f"{c.bpm:6.1f} {r.bpm:8.2f} {'ok' if t_ok else '--':>3s}  {c.key + ' ' + c.mode[:3]:>9s} "
            f"{r.tonic + ' ' + r.mode[:3]:>9s} {'ok' if k_ok else '--':>3s}  {r.details['drum_style']:13s} "
            f"{r.seconds:5.2f}"
        )
    n = len(rendered)
    no_drums = [r for r in rendered.values() if not r.case.has_drums]
    no_drums_ok = sum(abs(r.bpm / r.case.bpm - 1.0) <= 0.02 for r in no_drums)
    tr.write_line(f"tempo within 2%: {tempo_ok}/{with_drums} with drums; {no_drums_ok}/{len(no_drums)} without")
    tr.write_line(f"key (tonic and mode): {key_ok}/{n} = {100.0 * key_ok / n:.0f}%")
