"""``generate`` (a prompt becomes a clip) and ``analyze`` (what a prompt asks for)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mage_bridge.cli.common import add_command, config_of, print_result
from mage_bridge.cli.progress import display_for
from mage_bridge.errors import MageError

GENERATE_EXAMPLES = """
  mage-bridge generate "deep house groove at 122 BPM in G minor" -o clips/house
  mage-bridge generate "boom bap" --bpm 90 --key A --mode minor --bars 8 -o clips/bap --seed 7
  mage-bridge generate "lo-fi piano" -o clips/lofi --json | jq .measured
  mage-bridge generate "techno at 130 BPM" -o clips/techno --master            # + mix.master.wav, -14 LUFS
  mage-bridge generate "dream pop" -o clips/pop --master-preset apple           # mastered to -16 LUFS
"""

#: The mastering presets of :mod:`mage_bridge.effects.master`, spelt here so ``--help`` imports no numpy.
MASTER_PRESETS = ("streaming", "apple", "broadcast", "loud")

ANALYZE_EXAMPLES = """
  mage-bridge analyze "drum n bass at 174 in F# minor"
  mage-bridge analyze --json - < prompts.txt > analyses.jsonl    # one object per input line
"""


def register(sub: argparse._SubParsersAction) -> None:
    g = add_command(sub, "generate", help="turn a prompt into stems, a mix and a manifest",
                    examples=GENERATE_EXAMPLES)
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
    g.add_argument("--backend", help="generator backend (default: the config's backends.generate)")
    g.add_argument("--master", action="store_true",
                   help="also write mix.master.wav, the mix mastered (default -14 LUFS, -1 dBTP); stems and "
                        "mix.wav stay unmastered")
    g.add_argument("--master-preset", choices=MASTER_PRESETS, metavar="PRESET",
                   help=f"master with a preset: {', '.join(MASTER_PRESETS)} (implies --master)")
    g.add_argument("--master-lufs", type=float, metavar="LUFS", help="mastering loudness target (implies --master)")
    g.add_argument("--master-true-peak", type=float, metavar="DBTP",
                   help="mastering true-peak ceiling (implies --master)")
    g.add_argument("--overwrite", action="store_true", help="replace a folder that already holds a clip")
    g.add_argument("--json", action="store_true", help="print the manifest instead of its path")
    g.set_defaults(func=_cmd_generate)

    a = add_command(sub, "analyze", help="prompt -> genre, BPM, key/mode, metre, mood, instruments, vocals",
                    examples=ANALYZE_EXAMPLES,
                    description="Read a prompt the way generate does and show what it asks for. With - as the "
                                "prompt, read one prompt per line from stdin and write one line per prompt: a "
                                "blank or bad line gives an error object ({\"prompt\", \"error\": {\"code\", "
                                "\"message\"}}), the batch goes on, and the exit status is 1 if any line failed.")
    a.add_argument("prompt", help="the prompt, or - to read one prompt per line from stdin")
    a.add_argument("--json", action="store_true", help="one JSON object (per line with -)")
    a.add_argument("--backend", help="analysis backend (default: the config's backends.analysis)")
    a.add_argument("--lyrics", help="lyrics, which imply a vocal")
    a.set_defaults(func=_cmd_analyze)


def _cmd_generate(args: argparse.Namespace) -> int:
    from mage_bridge import api, manifest

    config = config_of(args)
    options: dict[str, Any] = {}
    for name in ("bpm", "key", "mode", "duration_s", "bars"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.time_signature:
        options["time_signature"] = args.time_signature
    master = {name: value for name, value in (("preset", args.master_preset), ("target_lufs", args.master_lufs),
                                              ("true_peak_dbtp", args.master_true_peak)) if value is not None}
    if args.master or master:
        options["master"] = master or True
    with display_for(args) as progress:
        path = api.generate(args.prompt, args.out, lyrics=args.lyrics, seed=args.seed, backend=args.backend,
                            options=options, config=config, progress=progress, overwrite=args.overwrite)
    if not args.json and not args.quiet:
        m = manifest.read(path)
        meas, req = m["measured"], m["requested"]
        print(f"mage-bridge: {m['analysis']['genre']} at {req['bpm']:g} BPM in {req['key']} {req['mode']} "
              f"(measured {meas['bpm']:g} BPM, {meas['key']} {meas['mode']}, "
              f"{meas['loudness_lufs']} LUFS) in {m['elapsed_s']} s", file=sys.stderr)
        if m.get("master"):
            print(f"mage-bridge: mastered {m['master']['file']} at {m['master']['measured']['loudness_lufs']} LUFS, "
                  f"{m['master']['measured']['true_peak_dbtp']} dBTP", file=sys.stderr)
    return print_result(path, args)


def _cmd_analyze(args: argparse.Namespace) -> int:
    from mage_bridge.analysis import create_analyzer

    analyzer = create_analyzer(args.backend, config_of(args))
    if args.prompt != "-":
        result = analyzer.analyze(args.prompt, lyrics=args.lyrics)
        if args.json:
            print(json.dumps(result.to_dict(), ensure_ascii=False))
        else:
            _print_analysis(result.to_dict())
        return 0
    # Batch: one prompt per line in, one JSON object per line out, aligned line for line;
    # a blank or bad line yields an error object and the batch goes on.
    failures = 0
    for line in sys.stdin:
        prompt = line.rstrip("\r\n")  # a file saved on Windows ends its lines with \r\n
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
        ("key", f"{d['key']} {d.get('scale') or d['mode']}"),
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
