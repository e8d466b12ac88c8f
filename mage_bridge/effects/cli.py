"""CLI commands ``separate``, ``enhance``, ``master``, ``export`` (thin layer over mage_bridge.api_effects).

Paths go to stdout (the manifest, or with ``--json`` the manifest itself);
progress and errors to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from mage_bridge.config import load_config

_SUBTYPES = {"16": "pcm16", "24": "pcm24", "float": "float", "32f": "float"}


class _Progress:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.stage = ""
        self.start = time.perf_counter()

    def __call__(self, stage: str, fraction: float) -> None:
        if not self.quiet and stage != self.stage:
            self.stage = stage
            print(f"[{time.perf_counter() - self.start:6.2f}s] {stage}", file=sys.stderr, flush=True)


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("separate", help="split an audio file into vocals/drums/bass/other WAVs")
    s.add_argument("audio", help="input audio file (WAV, FLAC, MP3, OGG, or anything ffmpeg reads)")
    s.add_argument("--out", "-o", required=True, metavar="DIR", help="new or empty folder for the stems")
    s.add_argument("--backend", help="auto (default from config), demucs or dsp")
    s.add_argument("--model", help="Demucs model name (default htdemucs)")
    s.add_argument("--shifts", type=int, help="Demucs test-time shifts (0-10)")
    _common(s)
    s.set_defaults(func=_cmd_separate)

    e = sub.add_parser("enhance", help="per-stem EQ, compression, de-essing, reverb, width (+ your VST3s)")
    e.add_argument("audio", help="a stem file, or a separation folder / manifest.json")
    e.add_argument("--out", "-o", required=True, metavar="PATH", help="output file, or folder for a stem set")
    e.add_argument("--stem", choices=("vocals", "drums", "bass", "other"), help="which chain (default: from name)")
    e.add_argument("--genre", help="preset by genre name (house, boom bap, ambient, ...)")
    e.add_argument("--prompt", help="pick the preset from a prompt's genre")
    e.add_argument("--plugins", metavar="JSON", help="VST3 plugins per stem: {stem: [{path, parameters}]}")
    _common(e)
    e.set_defaults(func=_cmd_enhance)

    m = sub.add_parser("master", help="master to a loudness target under a true-peak ceiling")
    m.add_argument("audio", help="input audio file")
    m.add_argument("--out", "-o", required=True, metavar="FILE", help="output .wav, .flac or .mp3")
    m.add_argument("--lufs", type=float, default=-14.0, help="integrated loudness target (default -14)")
    m.add_argument("--true-peak", type=float, default=-1.0, dest="true_peak", help="ceiling in dBTP (default -1)")
    m.add_argument("--preset", choices=("streaming", "apple", "broadcast", "loud"),
                   help="streaming -14, apple -16, broadcast -23, loud -9 LUFS (overrides --lufs/--true-peak)")
    _format(m)
    _common(m)
    m.set_defaults(func=_cmd_master)

    x = sub.add_parser("export", help="convert to 48 kHz stereo WAV/FLAC/MP3")
    x.add_argument("audio", help="input audio file")
    x.add_argument("--out", "-o", required=True, metavar="FILE", help="output .wav, .flac or .mp3")
    _format(x)
    _common(x)
    x.set_defaults(func=_cmd_export)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--json", action="store_true", help="print the manifest instead of its path")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")


def _format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bit-depth", choices=sorted(_SUBTYPES), default="24", help="WAV/FLAC: 16, 24 or float")
    p.add_argument("--mp3", choices=("cbr320", "v0"), default="cbr320", dest="mp3_quality",
                   help="MP3: CBR 320 kbit/s (default) or VBR V0")


def _done(path, args: argparse.Namespace) -> int:
    from mage_bridge import manifest

    if args.json:
        print(json.dumps(manifest.read(path), indent=2))
    else:
        print(path)
    return 0


def _cmd_separate(args: argparse.Namespace) -> int:
    from mage_bridge import api_effects

    config = load_config(args.config)
    options = {k: getattr(args, k) for k in ("model", "shifts") if getattr(args, k) is not None}
    path = api_effects.separate(args.audio, args.out, backend=args.backend or config.backends.separate,
                                options=options, config=config, progress=_Progress(args.quiet),
                                overwrite=args.overwrite)
    return _done(path, args)


def _cmd_enhance(args: argparse.Namespace) -> int:
    from mage_bridge import api_effects

    options = {k: getattr(args, k) for k in ("stem", "genre", "prompt", "plugins") if getattr(args, k)}
    path = api_effects.enhance(args.audio, args.out, options=options, config=load_config(args.config),
                               progress=_Progress(args.quiet), overwrite=args.overwrite)
    return _done(path, args)


def _cmd_master(args: argparse.Namespace) -> int:
    from mage_bridge import api_effects

    path = api_effects.master(args.audio, args.out, lufs=args.lufs, true_peak_db=args.true_peak, preset=args.preset,
                              overwrite=args.overwrite, config=load_config(args.config),
                              progress=_Progress(args.quiet), subtype=_SUBTYPES[args.bit_depth],
                              mp3_quality=args.mp3_quality)
    if not args.json and not args.quiet:
        from mage_bridge import manifest

        record = manifest.read(path)
        m = record["measured"]
        lufs = (f"{m['loudness_lufs']} LUFS" if m["loudness_lufs"] is not None
                else "loudness undefined (under 0.4 s)" if record["duration_s"] < 0.4 else "silent (-inf LUFS)")
        print(f"mage-bridge: {lufs}, {m['true_peak_dbtp']} dBTP", file=sys.stderr)
    return _done(path, args)


def _cmd_export(args: argparse.Namespace) -> int:
    from mage_bridge import api_effects

    path = api_effects.export(args.audio, args.out, subtype=_SUBTYPES[args.bit_depth], mp3_quality=args.mp3_quality,
                              overwrite=args.overwrite, config=load_config(args.config),
                              progress=_Progress(args.quiet))
    return _done(path, args)
