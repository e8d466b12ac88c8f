"""``separate``, ``enhance``, ``master``, ``export``: the audio-file commands, one :mod:`mage_bridge.api` call each."""

from __future__ import annotations

import argparse
import sys

from mage_bridge.cli.common import add_command, config_of, print_result
from mage_bridge.cli.progress import display_for
from mage_bridge.progress import STEM_NAMES

_SUBTYPES = {"16": "pcm16", "24": "pcm24", "float": "float", "32f": "float"}

SEPARATE_EXAMPLES = """
  mage-bridge separate song.mp3 -o stems/
  mage-bridge separate song.wav -o stems/ --backend demucs --model htdemucs_ft --shifts 2
"""
ENHANCE_EXAMPLES = """
  mage-bridge enhance stems/ -o enhanced/ --genre house       # every stem of a separation
  mage-bridge enhance vocals.wav -o vocals-enhanced.wav --prompt "dreamy synthwave"
  mage-bridge enhance stems/ -o enhanced/ --plugins my-plugins.json

  a plugin file is JSON: {"vocals": [{"path": "/path/Plugin.vst3", "parameters": {"mix": 0.3}}],
                          "all": [...]}   (keys: vocals, drums, bass, other, all)
"""
MASTER_EXAMPLES = """
  mage-bridge master mix.wav -o master.wav                    # -14 LUFS, -1 dBTP
  mage-bridge master mix.wav -o master.flac --lufs -16 --true-peak -1.5
  mage-bridge master mix.wav -o master.mp3 --preset apple --mp3 v0
"""
EXPORT_EXAMPLES = """
  mage-bridge export take.aiff -o take.wav --bit-depth 16
  mage-bridge export mix.wav -o mix.mp3 --mp3 v0
"""


def register(sub: argparse._SubParsersAction) -> None:
    s = add_command(sub, "separate", help="split an audio file into vocals/drums/bass/other WAVs",
                    examples=SEPARATE_EXAMPLES)
    s.add_argument("audio", help="input audio file (WAV, FLAC, MP3, OGG, or anything ffmpeg reads)")
    s.add_argument("--out", "-o", required=True, metavar="DIR", help="new or empty folder for the stems")
    s.add_argument("--backend", help="auto, demucs or dsp (default: the config's backends.separate)")
    s.add_argument("--model", help="Demucs model name (default htdemucs)")
    s.add_argument("--shifts", type=int, help="Demucs test-time shifts (0-10)")
    _common(s)
    s.set_defaults(func=_cmd_separate)

    e = add_command(sub, "enhance", help="per-stem EQ, compression, de-essing, reverb, width (+ your VST3s)",
                    examples=ENHANCE_EXAMPLES)
    e.add_argument("audio", help="a stem file, or a separation folder / manifest.json")
    e.add_argument("--out", "-o", required=True, metavar="PATH", help="output file, or folder for a stem set")
    e.add_argument("--stem", choices=STEM_NAMES, help="which chain (default: from name)")
    e.add_argument("--genre", help="preset by genre name (house, boom bap, ambient, ...)")
    e.add_argument("--prompt", help="pick the preset from a prompt's genre")
    e.add_argument("--plugins", metavar="FILE",
                   help="a JSON file of VST3 plugins per stem: {stem: [{path, parameters}]} (see examples)")
    _common(e)
    e.set_defaults(func=_cmd_enhance)

    m = add_command(sub, "master", help="master to a loudness target under a true-peak ceiling",
                    examples=MASTER_EXAMPLES)
    m.add_argument("audio", help="input audio file")
    m.add_argument("--out", "-o", required=True, metavar="FILE", help="output .wav, .flac or .mp3")
    group = m.add_argument_group("target (a preset, or --lufs and --true-peak)")
    target = group.add_mutually_exclusive_group()
    target.add_argument("--preset", choices=("streaming", "apple", "broadcast", "loud"),
                        help="streaming -14, apple -16, broadcast -23, loud -9 LUFS, each with its ceiling")
    target.add_argument("--lufs", type=float, dest="target_lufs", metavar="LUFS",
                        help="integrated loudness target (default -14)")
    group.add_argument("--true-peak", type=float, dest="true_peak_dbtp", metavar="DBTP",
                       help="true-peak ceiling in dBTP (default -1); not with --preset")
    _format(m)
    _common(m)
    m.set_defaults(func=_cmd_master, usage_error=m.error)

    x = add_command(sub, "export", help="convert to 48 kHz stereo WAV/FLAC/MP3", examples=EXPORT_EXAMPLES)
    x.add_argument("audio", help="input audio file")
    x.add_argument("--out", "-o", required=True, metavar="FILE", help="output .wav, .flac or .mp3")
    _format(x)
    _common(x)
    x.set_defaults(func=_cmd_export)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--json", action="store_true", help="print the manifest instead of its path")


def _format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bit-depth", choices=sorted(_SUBTYPES), default="24", help="WAV/FLAC: 16, 24 or float")
    p.add_argument("--mp3", choices=("cbr320", "v0"), default="cbr320", dest="mp3_quality",
                   help="MP3: CBR 320 kbit/s (default) or VBR V0")


def _cmd_separate(args: argparse.Namespace) -> int:
    from mage_bridge import api

    options = {k: getattr(args, k) for k in ("model", "shifts") if getattr(args, k) is not None}
    with display_for(args) as progress:
        path = api.separate(args.audio, args.out, backend=args.backend, options=options, config=config_of(args),
                            progress=progress, overwrite=args.overwrite)
    return print_result(path, args)


def _cmd_enhance(args: argparse.Namespace) -> int:
    from mage_bridge import api

    options = {k: getattr(args, k) for k in ("stem", "genre", "prompt", "plugins") if getattr(args, k)}
    with display_for(args) as progress:
        path = api.enhance(args.audio, args.out, options=options, config=config_of(args), progress=progress,
                           overwrite=args.overwrite)
    return print_result(path, args)


def _cmd_master(args: argparse.Namespace) -> int:
    from mage_bridge import api

    if args.preset is not None and args.true_peak_dbtp is not None:  # --lufs is excluded by its group
        args.usage_error("argument --true-peak: not allowed with argument --preset (the preset sets the ceiling)")
    with display_for(args) as progress:
        path = api.master(args.audio, args.out, target_lufs=args.target_lufs, true_peak_dbtp=args.true_peak_dbtp,
                          preset=args.preset, overwrite=args.overwrite, config=config_of(args), progress=progress,
                          subtype=_SUBTYPES[args.bit_depth], mp3_quality=args.mp3_quality)
    if not args.json and not args.quiet:
        from mage_bridge import manifest

        record = manifest.read(path)
        m = record["measured"]
        lufs = (f"{m['loudness_lufs']} LUFS" if m["loudness_lufs"] is not None
                else "loudness undefined (under 0.4 s)" if record["duration_s"] < 0.4 else "silent (-inf LUFS)")
        print(f"mage-bridge: {lufs}, {m['true_peak_dbtp']} dBTP", file=sys.stderr)
    return print_result(path, args)


def _cmd_export(args: argparse.Namespace) -> int:
    from mage_bridge import api

    with display_for(args) as progress:
        path = api.export(args.audio, args.out, subtype=_SUBTYPES[args.bit_depth], mp3_quality=args.mp3_quality,
                          overwrite=args.overwrite, config=config_of(args), progress=progress)
    return print_result(path, args)

