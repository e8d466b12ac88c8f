"""Per-field accuracy of an analyser over the labelled prompts (used by the test and by hand)."""

from __future__ import annotations

from typing import Any

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.music import pitch_class

FIELDS = ("bpm", "key", "mode", "metre", "genre", "vocals", "instruments", "exclude", "mood", "exclusive",
          "duration_s")


def check(label: dict[str, Any], result: PromptAnalysis) -> dict[str, bool]:
    """field -> right or wrong, for the fields ``label`` states."""
    out: dict[str, bool] = {}
    if "bpm" in label:
        out["bpm"] = abs(result.bpm - float(label["bpm"])) < 0.01
    if "key" in label:
        out["key"] = pitch_class(result.key) == pitch_class(label["key"])
    if "mode" in label:
        out["mode"] = result.mode == label["mode"]
    if "metre" in label:
        out["metre"] = tuple(result.time_signature) == tuple(label["metre"])
    if "genre" in label:
        wanted = label["genre"] if isinstance(label["genre"], tuple) else (label["genre"],)
        out["genre"] = result.genre in wanted
    if "vocals" in label:
        out["vocals"] = result.vocals == label["vocals"]
    if "instruments" in label:
        out["instruments"] = set(label["instruments"]) <= set(result.instruments)
    if "exclude" in label:
        out["exclude"] = set(label["exclude"]) <= set(result.exclude_instruments)
    if "mood" in label:
        out["mood"] = set(label["mood"]) <= set(result.mood)
    if "exclusive" in label:
        out["exclusive"] = result.exclusive == label["exclusive"]
        if label["exclusive"] and "instruments" in label:  # the whole ensemble: nothing more, nothing less
            out["instruments"] = set(label["instruments"]) == set(result.instruments)
    if "duration_s" in label:
        out["duration_s"] = result.duration_s == label["duration_s"]
    return out


def score(analyzer: Any, labelled: list[dict[str, Any]]) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """``{field: (right, total)}`` and one line per miss."""
    totals = {f: [0, 0] for f in FIELDS}
    misses: list[str] = []
    for label in labelled:
        result = analyzer.analyze(label["prompt"])
        for name, ok in check(label, result).items():
            totals[name][1] += 1
            totals[name][0] += ok
            if not ok:
                got = {"metre": result.time_signature, "exclude": result.exclude_instruments,
                       "instruments": result.instruments}.get(name, getattr(result, name, None))
                misses.append(f"{name:<11} {label['prompt']!r}: wanted {label[name]!r}, got {got!r}")
    return {f: (r, t) for f, (r, t) in totals.items() if t}, misses


def table(scores: dict[str, tuple[int, int]], title: str) -> str:
    lines = [title, f"{'field':<12}{'right':>7}{'total':>7}{'accuracy':>10}"]
    for name, (right, total) in scores.items():
        lines.append(f"{name:<12}{right:>7}{total:>7}{right / total:>10.1%}")
    return "\n".join(lines)
