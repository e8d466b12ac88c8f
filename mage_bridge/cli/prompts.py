"""``generate`` (a prompt becomes a clip), ``lyrics`` (a prompt becomes timed lyrics) and ``analyze``
(what a prompt asks for)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mage_bridge.cli.common import add_command, config_of, print_result
from mage_bridge.cli.progress import display_for
from mage_bridge.errors import InvalidInputError, MageError

GENERATE_EXAMPLES = """
  mage-bridge generate "deep house groove at 122 BPM in G minor" -o clips/house
  mage-bridge generate "boom bap" --bpm 90 --key A --mode minor --bars 8 -o clips/bap --seed 7
  mage-bridge generate "lo-fi piano" -o clips/lofi --json | jq .measured
  mage-bridge generate "techno at 130 BPM" -o clips/techno --master            # + mix.master.wav, -14 LUFS
  mage-bridge generate "dream pop" -o clips/pop --master-preset apple           # mastered to -16 LUFS
  mage-bridge generate "indie folk with female vocals" -o clips/folk --lyrics-file song.txt
  cat song.txt | mage-bridge generate "soul ballad, male vocals" -o clips/soul --lyrics -
"""

LYRICS_EXAMPLES = """
  mage-bridge lyrics "a dreamy pop ballad about summer love at 100 BPM"          # tagged lyrics on stdout
  mage-bridge lyrics "sad folk song about rain" --seed 4 -o lyrics/rain        # + lyrics.lrc, manifest.json
  mage-bridge lyrics "punk at 170 BPM" --lyrics-file verse.txt --mode append --bars 24 -o lyrics/punk
  mage-bridge lyrics "sad folk song about rain" --backend transformers      # your model in <models_dir>/lyrics
  cat song.txt | mage-bridge lyrics "soul ballad" --lyrics - --json            # the timing as JSON
"""
#: How the lyric mode reads in ``--help``; the API checks the value (``--help`` imports no lyric writer).
LYRICS_MODE_METAVAR = "generate|replace|append"

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
    _lyrics_arguments(g)
    g.add_argument("--lyrics-mode", metavar=LYRICS_MODE_METAVAR,
                   help="generate: lyrics written from the prompt; replace: yours, sung verbatim (the default "
                        "with --lyrics); append: yours, then a continuation")
    g.add_argument("--bpm", type=float, help="override the prompt's tempo (quarter-note BPM)")
    g.add_argument("--key", help="override the tonic, e.g. F# or Bb")
    g.add_argument("--mode", choices=("major", "minor"), help="override the mode")
    g.add_argument("--time-signature", metavar="N/D", help="override the metre, e.g. 6/8")
    g.add_argument("--duration", type=float, dest="duration_s", metavar="SECONDS",
                   help="clip length including lead-in and lead-out (default 32)")
    g.add_argument("--bars", type=int, metavar="N",
                   help="clip length in whole bars, lead-in and lead-out included (instead of --duration)")
    g.add_argument("--backend", help="generator backend (default: the config's backends.generate)")
    g.add_argument("--lyrics-backend", metavar="NAME",
                   help="lyric writer: embedded, transformers or auto (default: the config's backends.lyrics)")
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

    y = add_command(sub, "lyrics", help="write lyrics for a prompt, timed per syllable on the clip's grid",
                    examples=LYRICS_EXAMPLES,
                    description="Write lyrics ([verse]/[chorus] sections, end rhymes, lines fitted to the phrases) "
                                "for the clip generate would make of the prompt, or keep yours (--mode replace) or "
                                "continue them (--mode append), and time every syllable on that clip's beat grid. "
                                "Without --out the tagged lyrics go to stdout (with --json the timing too); with "
                                "--out a folder gets lyrics.txt, lyrics.lrc, lyrics.enhanced.lrc and manifest.json.")
    y.add_argument("prompt", help='e.g. "a dreamy pop ballad about summer love at 100 BPM"')
    _lyrics_arguments(y)
    y.add_argument("--mode", metavar=LYRICS_MODE_METAVAR, dest="lyrics_mode",
                   help="generate (default without lyrics), replace (default with them: yours verbatim) or append")
    y.add_argument("--seed", type=int, help="same seed, same lyrics (default: random, recorded)")
    y.add_argument("--backend", metavar="NAME",
                   help="lyric writer: embedded, transformers (the model in <models_dir>/lyrics) or auto "
                        "(default: the config's backends.lyrics)")
    y.add_argument("--out", "-o", metavar="DIR", help="write a folder instead of printing")
    y.add_argument("--bpm", type=float, help="override the prompt's tempo (quarter-note BPM)")
    y.add_argument("--key", help="override the tonic, e.g. F# or Bb")
    y.add_argument("--time-signature", metavar="N/D", help="override the metre, e.g. 6/8")
    y.add_argument("--duration", type=float, dest="duration_s", metavar="SECONDS",
                   help="the clip's length, lead-in and lead-out included (default 32)")
    y.add_argument("--bars", type=int, metavar="N", help="the clip's length in whole bars (instead of --duration)")
    y.add_argument("--overwrite", action="store_true", help="replace a folder that already holds files")
    y.add_argument("--json", action="store_true",
                   help="print the manifest (with --out), or the manifest's lyrics object, instead")
    y.set_defaults(func=_cmd_lyrics)

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


def _lyrics_arguments(p: argparse.ArgumentParser) -> None:
    """``--lyrics TEXT|-`` and ``--lyrics-file FILE|-``, one or the other."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--lyrics", metavar="TEXT", help="your lyrics ([verse]/[chorus] sections), or - to read "
                                                        "them from stdin")
    group.add_argument("--lyrics-file", metavar="FILE", help="read your lyrics from FILE (UTF-8), or - for stdin")


def read_lyrics(args: argparse.Namespace) -> str | None:
    """The lyrics ``--lyrics`` / ``--lyrics-file`` give: the text, a file's, or stdin's for ``-``.

    A ``--lyrics`` value that is the name of an existing file is refused (it would be sung as words):
    ``--lyrics-file`` reads a file.
    """
    text, path = getattr(args, "lyrics", None), getattr(args, "lyrics_file", None)
    if text == "-" or path == "-":
        return sys.stdin.read()
    if path is not None:
        try:
            return Path(path).expanduser().read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError(f"--lyrics-file {path!r} is not UTF-8 text") from None
        except OSError as e:
            raise InvalidInputError(f"cannot read --lyrics-file {path!r}: {e.strerror or e}") from None
    if text is not None and "\n" not in text and text.strip() and Path(text).expanduser().is_file():
        raise InvalidInputError(f"--lyrics takes the lyrics themselves; {text!r} is a file: use --lyrics-file {text}")
    return text


def _clip_options(args: argparse.Namespace) -> dict[str, Any]:
    """The clip options the command's flags set (``bpm``, ``key``, ``mode``, ``duration_s``, ``bars``, metre)."""
    options: dict[str, Any] = {}
    for name in ("bpm", "key", "mode", "duration_s", "bars"):
        if getattr(args, name, None) is not None:
            options[name] = getattr(args, name)
    if args.time_signature:
        options["time_signature"] = args.time_signature
    return options


def _cmd_lyrics(args: argparse.Namespace) -> int:
    from mage_bridge.api.lyrics import lyrics, lyrics_for_prompt

    config = config_of(args)
    text = read_lyrics(args)
    options = _clip_options(args)
    if args.out is not None:
        with display_for(args) as progress:
            path = lyrics(args.prompt, args.out, lyrics=text, lyrics_mode=args.lyrics_mode, seed=args.seed,
                          backend=args.backend, options=options, config=config, progress=progress,
                          overwrite=args.overwrite)
        return print_result(path, args)
    if args.overwrite:
        raise InvalidInputError("--overwrite goes with --out")
    made = lyrics_for_prompt(args.prompt, lyrics=text, lyrics_mode=args.lyrics_mode, seed=args.seed,
                             backend=args.backend, options=options, config=config)
    if args.json:
        print(json.dumps(made.sung.record(), ensure_ascii=False, indent=2))
    else:
        print(made.sung.text)
        if not args.quiet:
            sung = made.sung
            span = f" from {sung.times[0].start:.2f} s to {sung.times[-1].end:.2f} s" if sung.times else ""
            print(f"mage-bridge: {sung.lyrics.mode} lyrics, seed {sung.lyrics.seed}, {len(sung.times)} syllables"
                  f"{span} of a {sung.grid.duration_s:g} s clip at {sung.grid.bpm:g} BPM, by the "
                  f"{sung.lyrics.backend} writer", file=sys.stderr)
            for warning in sung.lyrics.warnings:
                print(f"mage-bridge: warning: {warning}", file=sys.stderr)
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from mage_bridge import api, manifest

    config = config_of(args)
    options = _clip_options(args)
    lyrics = read_lyrics(args)
    if args.lyrics_mode is not None:
        options["lyrics_mode"] = args.lyrics_mode
    if args.lyrics_backend is not None:
        options["lyrics_backend"] = args.lyrics_backend
    master = {name: value for name, value in (("preset", args.master_preset), ("target_lufs", args.master_lufs),
                                              ("true_peak_dbtp", args.master_true_peak)) if value is not None}
    if args.master or master:
        options["master"] = master or True
    with display_for(args) as progress:
        path = api.generate(args.prompt, args.out, lyrics=lyrics, seed=args.seed, backend=args.backend,
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
        if m.get("lyrics"):
            print(f"mage-bridge: {m['lyrics']['mode']} lyrics, {len(m['lyrics']['syllables'])} syllables timed in "
                  f"{m['lyrics']['lrc']} and {m['lyrics']['elrc']}", file=sys.stderr)
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
