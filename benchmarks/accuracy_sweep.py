"""Tempo and key accuracy of the procedural generator across seeds.

Users get a random seed per clip, so accuracy at seed 0 alone says little. This
renders every case of ``tests/generate/cases.py`` (plus the prompt
"deep house groove at 122 BPM in the key of G minor", read by the rules
analyser) at several seeds, measures each mix with :mod:`mage_bridge.measure`
(which never sees the request: only the time signature), and prints one row per
case x seed, the failures, and the totals against the product promise:

* tempo: measured quarter-note BPM within 2 % of the request on clips with drums
  (half or double time counts as a miss);
* key: tonic and mode equal to the request.

Run::

    .venv/bin/python benchmarks/accuracy_sweep.py                 # 25 cases x seeds 0-5
    .venv/bin/python benchmarks/accuracy_sweep.py --seeds 1 2 --cases house trap
    .venv/bin/python benchmarks/accuracy_sweep.py --json /tmp/sweep.json

A clip takes about 1-1.5 s (render + measure) on one core; ``--jobs`` renders
clips in that many processes (default 1: the CI machines have 2 shared cores).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.generate.cases import CASES, Case  # noqa: E402

TEMPO_TOLERANCE = 0.02
PROMISE_TEMPO = 0.98
PROMISE_KEY = 0.95
DEEP_HOUSE_PROMPT = "deep house groove at 122 BPM in the key of G minor"


@dataclass(frozen=True)
class Row:
    case: str
    seed: int
    metre: str
    drums: bool
    bpm: float
    measured_bpm: float
    key: str
    measured_key: str
    style: str
    progression: str
    seconds: float

    @property
    def tempo_ok(self) -> bool:
        return abs(self.measured_bpm / self.bpm - 1.0) <= TEMPO_TOLERANCE

    @property
    def key_ok(self) -> bool:
        from mage_bridge.music import same_key

        (t_a, m_a), (t_b, m_b) = self.key.split(), self.measured_key.split()
        return same_key(t_a, m_a, t_b, m_b)


def _analysis(case_id: str):
    if case_id == "deep-house-prompt":
        from mage_bridge.analysis import analyze

        return analyze(DEEP_HOUSE_PROMPT, backend="rules")
    return next(c for c in CASES if c.id == case_id).analysis()


def _has_drums(case_id: str) -> bool:
    if case_id == "deep-house-prompt":
        return True
    case: Case = next(c for c in CASES if c.id == case_id)
    return case.has_drums


_GENERATOR = None


def render_and_measure(case_id: str, seed: int, save_dir: Path | None = None) -> Row:
    """Generate ``case_id`` at ``seed`` and measure its mix without knowing the request.

    With ``save_dir``, the mix is also saved there as ``{case_id}_{seed}.npy``
    (float32, ``(channels, frames)`` at 48 kHz) to re-measure without re-rendering.
    """
    global _GENERATOR
    from mage_bridge.audio import mix
    from mage_bridge.generate import create_generator
    from mage_bridge.generate.base import GenerateRequest
    from mage_bridge.measure import measure_key, measure_tempo

    if _GENERATOR is None:
        _GENERATOR = create_generator("procedural")
    analysis = _analysis(case_id)
    started = time.perf_counter()
    clip = _GENERATOR.generate(GenerateRequest(analysis=analysis, seed=seed))
    m = mix(clip.stems)
    if save_dir is not None:
        import numpy as np

        np.save(save_dir / f"{case_id}_{seed}.npy", m.samples)
    tempo = measure_tempo(m, time_signature=analysis.time_signature)
    key = measure_key(m)
    num, den = analysis.time_signature
    return Row(
        case=case_id, seed=seed, metre=f"{num}/{den}", drums=_has_drums(case_id), bpm=float(analysis.bpm),
        measured_bpm=round(float(tempo.bpm), 2), key=f"{analysis.key} {analysis.mode}",
        measured_key=f"{key.tonic} {key.mode}", style=str(clip.details.get("drum_style", "")),
        progression=str(clip.details.get("progression", "")), seconds=round(time.perf_counter() - started, 2),
    )


def _ratio_hint(row: Row) -> str:
    """Name the simple ratio a tempo miss sits at (4/5, 3/2...), which points at the metrical level chosen."""
    r = row.measured_bpm / row.bpm
    best = min(((p, q) for p in range(1, 7) for q in range(1, 7)), key=lambda pq: abs(r / (pq[0] / pq[1]) - 1))
    return f"x{best[0]}/{best[1]}" if abs(r / (best[0] / best[1]) - 1) < 0.02 else f"x{r:.3f}"


def print_report(rows: list[Row]) -> tuple[float, float]:
    """Print the table, the failures and the totals; return (tempo hit rate with drums, key hit rate)."""
    print(f"{'case':18s} {'seed':>4s} {'metre':>5s} {'drums':>5s} {'bpm':>6s} {'measured':>8s} {'ok':>3s}  "
          f"{'key':>9s} {'measured':>9s} {'ok':>3s}  {'style':13s} {'progression':22s} {'s':>5s}")
    for r in rows:
        print(f"{r.case:18s} {r.seed:4d} {r.metre:>5s} {'yes' if r.drums else 'no':>5s} {r.bpm:6.1f} "
              f"{r.measured_bpm:8.2f} {'ok' if r.tempo_ok else '--':>3s}  "
              f"{r.key.replace('major', 'maj').replace('minor', 'min'):>9s} "
              f"{r.measured_key.replace('major', 'maj').replace('minor', 'min'):>9s} {'ok' if r.key_ok else '--':>3s}  "
              f"{r.style:13s} {r.progression[:22]:22s} {r.seconds:5.2f}")
    drums = [r for r in rows if r.drums]
    tempo_hits = sum(r.tempo_ok for r in drums)
    key_hits = sum(r.key_ok for r in rows)
    print("\nfailures:")
    for r in rows:
        if r.drums and not r.tempo_ok:
            print(f"  tempo {r.case} seed {r.seed}: asked {r.bpm:g}, measured {r.measured_bpm:.2f} ({_ratio_hint(r)}),"
                  f" style {r.style}, progression {r.progression}")
    for r in rows:
        if not r.key_ok:
            print(f"  key   {r.case} seed {r.seed}: asked {r.key}, measured {r.measured_key}, "
                  f"progression {r.progression}")
    tempo_rate = tempo_hits / max(len(drums), 1)
    key_rate = key_hits / max(len(rows), 1)
    print(f"\ntempo within {100 * TEMPO_TOLERANCE:.0f}%: {tempo_hits}/{len(drums)} clips with drums = "
          f"{100 * tempo_rate:.1f}% (promise >= {100 * PROMISE_TEMPO:.0f}%)")
    print(f"key (tonic and mode): {key_hits}/{len(rows)} = {100 * key_rate:.1f}% (promise >= {100 * PROMISE_KEY:.0f}%)")
    print(f"render + measure: {sum(r.seconds for r in rows):.1f} s over {len(rows)} clips")
    return tempo_rate, key_rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(6)))
    parser.add_argument("--cases", nargs="+", default=None,
                        help="case ids (default: all, plus deep-house-prompt)")
    parser.add_argument("--jobs", type=int, default=1, help="processes rendering clips (default 1)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--save-mixes", type=Path, default=None,
                        help="save each mix here as {case}_{seed}.npy (12 MB each) for re-measuring")
    args = parser.parse_args(argv)
    case_ids = args.cases or [c.id for c in CASES] + ["deep-house-prompt"]
    known = {c.id for c in CASES} | {"deep-house-prompt"}
    unknown = [c for c in case_ids if c not in known]
    if unknown:
        parser.error(f"unknown case ids {unknown!r}; known: {sorted(known)}")
    if args.save_mixes is not None:
        args.save_mixes.mkdir(parents=True, exist_ok=True)
    jobs = [(c, s, args.save_mixes) for c in case_ids for s in args.seeds]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(render_and_measure, *zip(*jobs)))
    else:
        rows = [render_and_measure(*job) for job in jobs]
    tempo_rate, key_rate = print_report(rows)
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    return 0 if tempo_rate >= PROMISE_TEMPO and key_rate >= PROMISE_KEY else 1


if __name__ == "__main__":
    raise SystemExit(main())
