"""Core CLI commands: ``generate``, ``analyze``, ``backends``.

Data goes to stdout (JSON with ``--json``), progress and errors to stderr, so
``mage-bridge analyze --json - < prompts.txt > out.jsonl`` composes in a shell.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from mage_bridge.config import load_config
from mage_bridge.errors import MageError

#: Stage name -> "module:REGISTRY" for ``mage-bridge backends``.
STAGE_REGISTRIES = {
    "analysis": "mage_bridge.analysis:REGISTRY",
    "generate": "mage_bridge.generate:REGISTRY",
    "separate": "mage_bridge.separate:REGISTRY",
    "voice": "mage_bridge.effects.voice:REGISTRY",
}


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("generate", help="turn a prompt into stems, a mix and a manifest")
    g.add_argument("prompt", help='e.g. "deep house groove at 122 BPM in the key of G minor"')
    g.add_argument("--out", "-o", required=True, metavar="DIR", help="new or empty folder for the clip")
    g.add_argument("--seed", type=int, help="same seed, same audio (default: random, recorded)")
    g.add_argument("--lyrics", help="lyrics text ([verse]/[chorus] sections)")
    g.add_argument("--bpm", type=float, help="override the prompt's tempo (quarter-note BPM)")
    g.add_argument("--key", help="override the tonic, e.g. F# or Bb")
    g.add_argument("--mode", choices=("major", "minor"), help="override the mode")
    g.add_argument("--time-signature", metavar="N/D", help="override the metre, e.g. 6/8")
    g.add_argument("--duration", type=float, dest="duration_s", metavar="SECONDS",
                   help="clip length including lead-in and lead-out (default 32)")
    g.add_argument("--bars", type=int, metavar="N",
                   help="clip length in whole bars, lead-in and lead-out included (instead of --duration)")
    g.add_argument("--backend", help="generator backend (default from config: auto)")
    g.add_argument("--overwrite", action="store_true", help="replace a folder that already holds a clip")
    g.add_argument("--json", action="store_true", help="print the manifest instead of its path")
    g.set_defaults(func=_cmd_generate)

    a = sub.add_parser("analyze", help="prompt -> genre, BPM, key/mode, metre, mood, instruments, vocals")
    a.add_argument("prompt", help="the prompt, or - to read one prompt per line from stdin")
    a.add_argument("--json", action="store_true", help="one JSON object (per line with -)")
    a.add_argument("--backend", help="analysis backend (default from config: auto)")
    a.add_argument("--lyrics", help="lyrics, which imply a vocal")
    a.set_defaults(func=_cmd_analyze)

    b = sub.add_parser("backends", help="which backends are installed and usable, and why not")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=_cmd_backends)


class _StderrProgress:
    """One line per stage change, with percentages; quiet enough for logs, alive enough for humans."""

    def __init__(self) -> None:
        self.stage = ""
        self.shown = -1
        self.start = time.perf_counter()

    def __call__(self, stage: str, fraction: float) -> None:
        pct = int(max(0.0, min(1.0, fraction)) * 100)
        if stage != self.stage or pct >= self.shown + 25 or pct == 100 and self.shown != 100:
            self.stage, self.shown = stage, pct
            print(f"[{time.perf_counter() - self.start:6.2f}s] {stage:<10} {pct:3d}%", file=sys.stderr, flush=True)


def _cmd_generate(args: argparse.Namespace) -> int:
    from mage_bridge import api, manifest

    config = load_config(args.config)
    options: dict[str, Any] = {}
    for name in ("bpm", "key", "mode", "duration_s", "bars", "backend"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.time_signature:
        options["time_signature"] = args.time_signature
    path = api.generate(args.prompt, args.out, lyrics=args.lyrics, seed=args.seed, options=options,
                        config=config, progress=_StderrProgress(), overwrite=args.overwrite)
    if args.json:
        print(json.dumps(manifest.read(path), indent=2))
    else:
        m = manifest.read(path)
        meas, req = m["measured"], m["requested"]
        print(f"mage-bridge: {m['analysis']['genre']} at {req['bpm']:g} BPM in {req['key']} {req['mode']} "
              f"(measured {meas['bpm']:g} BPM, {meas['key']} {meas['mode']}, "
              f"{meas['loudness_lufs']} LUFS) in {m['elapsed_s']} s", file=sys.stderr)
        print(path)
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from mage_bridge.analysis import create_analyzer

    config = load_config(args.config)
    analyzer = create_analyzer(args.backend or config.backends.analysis, config)
    if args.prompt != "-":
        result = analyzer.analyze(args.prompt, lyrics=args.lyrics)
        if args.json:
            print(json.dumps(result.to_dict(), ensure_ascii=False))
        else:
            _print_analysis(result.to_dict())
        return 0
    # Batch: one prompt per line in, one JSON object per line out, aligned line for line;
    # a bad line yields an error object and the batch goes on.
    failures = 0
    for line in sys.stdin:
        prompt = line.rstrip("\n")
        try:
            out = analyzer.analyze(prompt, lyrics=args.lyrics).to_dict()
        except MageError as e:
            failures += 1
            out = {"prompt": prompt, "error": {"code": e.code, "message": str(e)}}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 1 if failures else 0


def _print_analysis(d: dict[str, Any]) -> None:
    num, den = d["time_signature"]
    rows = [
        ("genre", f"{d['genre']}" + (f"  (also: {', '.join(d['genres'][1:])})" if len(d["genres"]) > 1 else "")),
        ("tempo", f"{d['bpm']:g} BPM"),
        ("key", f"{d['key']} {d['mode']}"),
        ("metre", f"{num}/{den}" + (f", swing {d['swing']:.2f}" if d["swing"] else "")),
        ("mood", ", ".join(d["mood"]) or "-"),
        ("instruments", ", ".join(d["instruments"]) or "-"),
        ("vocals", "yes" if d["vocals"] else "no (instrumental)"),
        ("backend", d["backend"]),
    ]
    for name, value in rows:
        source = d["sources"].get(name if name != "tempo" else "bpm")
        suffix = f"   [{source}]" if source and source != "prompt" else ""
        print(f"{name:>12}: {value}{suffix}")
    for w in d["warnings"]:
        print(f"{'warning':>12}: {w}")


def _cmd_backends(args: argparse.Namespace) -> int:
    import importlib

    config = load_config(args.config)
    report: dict[str, list[dict[str, Any]]] = {}
    for stage, target in STAGE_REGISTRIES.items():
        module_name, _, attr = target.partition(":")
        registry = getattr(importlib.import_module(module_name), attr)
        chosen = getattr(config.backends, stage, "auto")
        try:
            resolved = registry.resolve(chosen, config)
        except MageError:
            resolved = None
        report[stage] = [
            {"name": s.name, "available": s.available, "reason": s.reason, "summary": s.summary,
             "selected": s.name == resolved}
            for s in registry.status(config)
        ]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for stage, rows in report.items():
        print(f"{stage}:")
        for r in rows:
            mark = "*" if r["selected"] else " "
            state = "ok" if r["available"] else f"unavailable: {r['reason']}"
            print(f"  {mark} {r['name']:<12} {state}")
    print("(* = what 'auto' picks here)")
    return 0
