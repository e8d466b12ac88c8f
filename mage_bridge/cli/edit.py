"""``repaint``, ``extend``, ``cover``, ``lego``, ``extract`` and ``retake``: rework a clip into a new one.

Each is one :mod:`mage_bridge.api.edit` call. SOURCE is a clip's ``manifest.json`` (or its folder) or an
audio file; the result is a clip folder like ``generate``'s. ``mage-bridge submit repaint SOURCE --options
'{"start_s": 8, "end_s": 12}'`` sends the same job to a running daemon.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mage_bridge.cli.common import add_command, config_of, print_result
from mage_bridge.cli.progress import display_for
from mage_bridge.edits import EDIT_KINDS, EDIT_OPTIONS, TRACK_NAMES

EXAMPLES = {
    "repaint": """
  mage-bridge repaint clips/house/manifest.json --start 8 --end 12 -o clips/house-fix
  mage-bridge repaint song.wav --start 30 --end 38 --prompt "soaring synth lead" --crossfade 0.2 -o fixed/
""",
    "extend": """
  mage-bridge extend clips/house/ --bars 8 -o clips/house-next             # continues after its end
  mage-bridge extend clips/house/ --side before --duration 10 -o clips/house-intro
""",
    "cover": """
  mage-bridge cover clips/house/ --prompt "acoustic folk, fingerpicked guitar" --strength 0.6 -o clips/folk
  mage-bridge cover song.wav --prompt "synthwave with a female vocal" --seed 7 -o clips/synthwave
""",
    "lego": """
  mage-bridge lego clips/house/ --track drums -o clips/house-drums
  mage-bridge lego loop.wav --track bass --prompt "funk, slap bass" -o clips/loop-bass
""",
    "extract": """
  mage-bridge extract song.wav --track vocals -o clips/vocals
  mage-bridge extract clips/house/manifest.json --track drums -o clips/house-drums-only
""",
    "retake": """
  mage-bridge retake clips/house/manifest.json -o clips/house-2
  mage-bridge retake clips/house/ --seed 42 -o clips/house-42
""",
}

HELP = {
    "repaint": "regenerate a time range of a clip; the rest stays as it was, crossfaded at the edges",
    "extend": "a new clip that continues a clip after its end (or leads into its start)",
    "cover": "a clip's structure played in another style",
    "lego": "a clip with one generated track added (drums, bass, guitar...)",
    "extract": "one track taken out of a clip's mix",
    "retake": "a clip's request rendered again with a new seed",
}


def register(sub: argparse._SubParsersAction) -> None:
    for kind in EDIT_KINDS:
        p = add_command(sub, kind, help=HELP[kind], examples=EXAMPLES[kind])
        p.add_argument("source", help="a clip's manifest.json (or its folder), or an audio file"
                       if kind != "retake" else "a generated clip's manifest.json (or its folder)")
        p.add_argument("--out", "-o", required=True, metavar="DIR", help="new or empty folder for the result")
        if kind == "repaint":
            p.add_argument("--start", type=float, required=True, dest="start_s", metavar="SECONDS",
                           help="where the range to regenerate starts, from the source's start")
            p.add_argument("--end", type=float, dest="end_s", metavar="SECONDS",
                           help="where it ends (default: the source's end)")
            p.add_argument("--crossfade", type=float, dest="crossfade_s", default=0.05, metavar="SECONDS",
                           help="crossfade at the range's edges, 0-1 s (default 0.05)")
        elif kind == "extend":
            p.add_argument("--side", choices=("after", "before"), default="after",
                           help="after the source's end (a Next/Outro, default) or before its start (an Intro)")
            length = p.add_mutually_exclusive_group()
            length.add_argument("--bars", type=int, metavar="N", help="length in bars of the source's tempo")
            length.add_argument("--duration", type=float, dest="duration_s", metavar="SECONDS",
                                help="length in seconds, rounded to whole bars (default 8 bars)")
        elif kind == "cover":
            p.add_argument("--strength", type=float, default=1.0,
                           help="how much of the source is kept, 0-1 (default 1.0: the most)")
        elif kind in ("lego", "extract"):
            p.add_argument("--track", required=True, choices=TRACK_NAMES, metavar="TRACK",
                           help=f"one of {', '.join(TRACK_NAMES)}")
        p.add_argument("--prompt", required=kind == "cover",
                       help="the style to play it in" if kind == "cover" else "new words for the caption "
                       "(default: the source's)")
        p.add_argument("--lyrics", help="lyrics ([verse]/[chorus] sections; default: the source's)")
        p.add_argument("--seed", type=int, help="same seed, same result (default: random, recorded)")
        p.add_argument("--backend", help="generator backend (default: the config's backends.generate)")
        p.add_argument("--overwrite", action="store_true", help="replace a folder that already holds a clip")
        p.add_argument("--json", action="store_true", help="print the manifest instead of its path")
        p.set_defaults(func=_cmd_edit, kind=kind)


def _cmd_edit(args: argparse.Namespace) -> int:
    from mage_bridge import api, manifest

    kwargs: dict[str, Any] = {name: getattr(args, name) for name in EDIT_OPTIONS[args.kind]
                              if getattr(args, name) is not None}
    with display_for(args) as progress:
        path = getattr(api, args.kind)(args.source, args.out, prompt=args.prompt, lyrics=args.lyrics,
                                       seed=args.seed, backend=args.backend, config=config_of(args),
                                       progress=progress, overwrite=args.overwrite, **kwargs)
    if not args.json and not args.quiet:
        m = manifest.read(path)
        meas, req = m["measured"], m["requested"]
        print(f"mage-bridge: {m['kind']} by {m['backend']['name']}, {m['duration_s']:.2f} s at {req['bpm']:g} BPM "
              f"in {req['key']} {req['mode']} (measured {meas['bpm']:g} BPM, {meas['key']} {meas['mode']}) "
              f"in {m['elapsed_s']} s", file=sys.stderr)
        for warning in m.get("warnings") or ():
            print(f"mage-bridge: warning: {warning}", file=sys.stderr)
    return print_result(path, args)
