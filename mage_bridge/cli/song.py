"""``song new|add|render|fill``: arrange clips around a focus clip and render them into one song.

Each is one :mod:`mage_bridge.api.song` call. Songs are JSON documents kept in the clip library (or, with
``--songs DIR``, as ``DIR/<song>.json``); clips are library clips by id (``mage-bridge library list``), else
folders of ``<data_dir>/clips`` by name; with ``--clips DIR`` only folders of DIR: clip id ``house`` is
``DIR/house/manifest.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mage_bridge.cli.common import add_command, config_of, print_result
from mage_bridge.cli.progress import display_for
from mage_bridge.cli.prompts import MASTER_PRESETS

#: The roles ``song add`` and ``song fill`` take (the focus is given to ``song new``).
ROLES = ("intro", "previous", "next", "outro")
FADE_KINDS = ("auto", "equal-power", "constant-gain")
_SUBTYPES = {"16": "pcm16", "24": "pcm24", "float": "float"}

EXAMPLES = {
    "new": """
  mage-bridge song new night --focus 3f9a2c            # the focus clip: a library id (or a unique prefix)
  mage-bridge song new night --focus house --bpm 124 --key "A minor" --conform-key --fade 4
""",
    "add": """
  mage-bridge song add night house-intro --role intro
  mage-bridge song add night techno-2 --role next --fade 8 --fade-kind equal-power
""",
    "render": """
  mage-bridge song render night -o songs/night                   # song.wav mastered to -14 LUFS
  mage-bridge song render night -o out/night --format mp3 --preset apple
  mage-bridge song render my-song.json -o out/raw --no-master --format flac
""",
    "fill": """
  mage-bridge song fill night --role next                        # a Next clip at the song's tempo and key
  mage-bridge song fill night --role intro --bars 8 --seed 3 --id night-intro
""",
}


def register(sub: argparse._SubParsersAction) -> None:
    song = add_command(sub, "song", help="arrange clips around a focus clip and render them into a song",
                       description="Arrange clips (Intro, Previous, focus, Next, Outro) and render them into one "
                                   "song, crossfaded on bar lines, mastered and exported.",
                       examples="".join(EXAMPLES[verb] for verb in ("new", "add", "fill", "render")))
    verbs = song.add_subparsers(dest="song_command", metavar="VERB")
    song.set_defaults(func=lambda args: _no_verb(song))

    n = add_command(verbs, "new", help="start a song with its focus clip", examples=EXAMPLES["new"])
    n.add_argument("song", help="the song's id (letters, digits, . _ -)")
    n.add_argument("--focus", required=True, metavar="CLIP", help="the focus clip's id")
    n.add_argument("--name", default="", help="a title")
    n.add_argument("--bpm", type=float, help="the song's tempo (default: the focus clip's)")
    n.add_argument("--time-signature", metavar="N/D", help="the song's metre (default: the focus clip's)")
    n.add_argument("--key", help='the song\'s key, e.g. "A minor" (default: the focus clip\'s)')
    n.add_argument("--conform-key", action="store_true", help="pitch-shift every clip to the song's key")
    n.add_argument("--fade", type=float, default=2.0, dest="fade_s", metavar="SECONDS",
                   help="crossfade at each junction (default 2, snapped to bar lines)")
    n.add_argument("--fade-kind", choices=FADE_KINDS, default="auto",
                   help="auto (default): constant-gain between beat-matched clips, else equal-power")
    n.add_argument("--overwrite", action="store_true", help="replace a song of that id")
    _stores(n)
    n.set_defaults(func=_cmd_new)

    a = add_command(verbs, "add", help="add a clip to a song", examples=EXAMPLES["add"])
    a.add_argument("song", help="the song's id")
    a.add_argument("clip", help="the clip's id")
    a.add_argument("--role", required=True, choices=ROLES,
                   help="intro, previous (goes first of the previous clips), next (last of the next), outro")
    a.add_argument("--fade", type=float, dest="fade_s", metavar="SECONDS",
                   help="its crossfade on the focus clip's side (after an intro or previous, before a next or outro)")
    a.add_argument("--fade-kind", choices=FADE_KINDS, help="the kind of that crossfade")
    a.add_argument("--gain", type=float, dest="gain_db", metavar="DB", help="the clip's gain in dB")
    a.add_argument("--own-tempo", action="store_true", help="play the clip at its own tempo (no time-stretch)")
    a.add_argument("--replace", action="store_true", help="replace the song's intro or outro")
    _stores(a)
    a.set_defaults(func=_cmd_add)

    r = add_command(verbs, "render", help="render, master and export a song", examples=EXAMPLES["render"])
    r.add_argument("song", help="the song's id, or an arrangement .json file")
    r.add_argument("--out", "-o", required=True, metavar="DIR", help="new or empty folder for the song")
    r.add_argument("--format", choices=("wav", "flac", "mp3"), default="wav", help="the song file (default wav)")
    target = r.add_mutually_exclusive_group()
    target.add_argument("--no-master", action="store_true", help="convert the render as it is, unmastered")
    target.add_argument("--preset", choices=MASTER_PRESETS, help="a mastering preset")
    target.add_argument("--lufs", type=float, dest="target_lufs", metavar="LUFS",
                        help="loudness target (default -14)")
    r.add_argument("--true-peak", type=float, dest="true_peak_dbtp", metavar="DBTP",
                   help="true-peak ceiling (default -1)")
    r.add_argument("--bit-depth", choices=sorted(_SUBTYPES), default="24", help="WAV/FLAC: 16, 24 or float")
    r.add_argument("--mp3", choices=("cbr320", "v0"), default="cbr320", dest="mp3_quality", help="MP3 quality")
    r.add_argument("--overwrite", action="store_true", help="replace a folder that already holds a song")
    _stores(r)
    r.set_defaults(func=_cmd_render, usage_error=r.error)

    f = add_command(verbs, "fill", help="generate a clip that fits the song and add it", examples=EXAMPLES["fill"])
    f.add_argument("song", help="the song's id")
    f.add_argument("--role", choices=ROLES, default="next", help="the part the new clip plays (default next)")
    f.add_argument("--id", dest="clip_id", metavar="CLIP", help="the new clip's id (default <song>-<role>-<random>)")
    length = f.add_mutually_exclusive_group()
    length.add_argument("--bars", type=int, metavar="N", help="its length in bars (default: the focus clip's)")
    length.add_argument("--duration", type=float, dest="duration_s", metavar="SECONDS",
                        help="its length in seconds, rounded to whole bars")
    f.add_argument("--seed", type=int, help="same seed, same clip (default: random, recorded)")
    f.add_argument("--backend", help="generator backend (default: the config's backends.generate)")
    _stores(f)
    f.set_defaults(func=_cmd_fill)


def _no_verb(parser: argparse.ArgumentParser) -> int:
    """``mage-bridge song`` alone: its help, and the usage error status."""
    parser.print_help(sys.stderr)
    return 2


def _stores(p: argparse.ArgumentParser) -> None:
    p.add_argument("--songs", metavar="DIR", help="keep songs as JSON files in DIR (default: in the clip library)")
    p.add_argument("--clips", metavar="DIR", help="find clips as folders of DIR by name (default: in the clip "
                   "library by id, then as folders of <data_dir>/clips)")
    p.add_argument("--json", action="store_true", help="print the document (manifest) instead of its path")


def _where(args: argparse.Namespace) -> dict[str, Any]:
    return {"songs_dir": args.songs, "clips_dir": args.clips, "config": config_of(args)}


def _print_song(args: argparse.Namespace, song: Any) -> int:
    from mage_bridge.api.song import song_store

    where = _where(args)
    if args.json:
        print(song.to_json(), end="")
    else:
        print(song_store(where["config"], songs_dir=where["songs_dir"]).location(args.song))
    if not args.quiet:
        roles = " | ".join(f"{label}: {slot.clip}" for label, slot in zip(song.labels(), song.slots))
        print(f"mage-bridge: song {args.song}: {roles}", file=sys.stderr)
    return 0


def _cmd_new(args: argparse.Namespace) -> int:
    from mage_bridge.api.song import song_new

    song = song_new(args.song, args.focus, name=args.name, bpm=args.bpm, time_signature=args.time_signature,
                    key=args.key, conform_key=args.conform_key, fade_s=args.fade_s, fade_kind=args.fade_kind,
                    overwrite=args.overwrite, **_where(args))
    return _print_song(args, song)


def _cmd_add(args: argparse.Namespace) -> int:
    from mage_bridge.api.song import song_add

    song = song_add(args.song, args.clip, role=args.role, fade_s=args.fade_s, fade_kind=args.fade_kind,
                    gain_db=args.gain_db, conform_tempo=False if args.own_tempo else None, replace=args.replace,
                    **_where(args))
    return _print_song(args, song)


def _cmd_render(args: argparse.Namespace) -> int:
    from mage_bridge.api.song import song_render, song_store

    if (args.no_master or args.preset) and args.true_peak_dbtp is not None:
        other = "--no-master" if args.no_master else "--preset"
        args.usage_error(f"argument --true-peak: not allowed with argument {other}")
    where = _where(args)
    given = Path(args.song)
    if given.suffix.lower() == ".json" or given.is_file():
        arrangement: Any = given
    else:
        arrangement = song_store(where["config"], songs_dir=where["songs_dir"]).load(args.song)
    master: Any = False if args.no_master else args.preset or {
        k: v for k, v in (("target_lufs", args.target_lufs), ("true_peak_dbtp", args.true_peak_dbtp)) if v is not None
    } or True
    with display_for(args) as progress:
        path = song_render(arrangement, args.out, clips_dir=where["clips_dir"], format=args.format, master=master,
                           subtype=_SUBTYPES[args.bit_depth], mp3_quality=args.mp3_quality, overwrite=args.overwrite,
                           config=where["config"], progress=progress)
    if not args.json and not args.quiet:
        m = json.loads(Path(path).read_text(encoding="utf-8"))
        for j in m["junctions"]:
            print(f"mage-bridge: {j['from_slot']} -> {j['to_slot']} at bar {j['bar']} ({j['time_s']:.2f} s): "
                  f"{j['fade_kind']} over {j['fade_s']:.2f} s", file=sys.stderr)
        done = m.get("master") or m["export"]
        print(f"mage-bridge: {m['output']}, {m['duration_s']:.2f} s at {m['song']['bpm']:g} BPM, "
              f"{done['measured']['loudness_lufs']} LUFS", file=sys.stderr)
    return print_result(path, args)


def _cmd_fill(args: argparse.Namespace) -> int:
    from mage_bridge.api.song import song_fill

    with display_for(args) as progress:
        path = song_fill(args.song, role=args.role, clip_id=args.clip_id, bars=args.bars, duration_s=args.duration_s,
                         seed=args.seed, backend=args.backend, progress=progress, **_where(args))
    if not args.json and not args.quiet:
        print(f"mage-bridge: added {Path(path).parent.name} to song {args.song} as its {args.role}", file=sys.stderr)
    return print_result(path, args)
