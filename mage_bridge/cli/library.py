"""``library``: list, search, show, import, tag, rate, delete and check the clips of the clip library.

Results print as a table on stdout (``--json``: one JSON object); counts and what was done go to
stderr, so ``mage-bridge library search --bpm 120-128 --json | jq`` composes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mage_bridge.cli.common import add_command, config_of
from mage_bridge.cli.progress import display_for

if TYPE_CHECKING:
    from mage_bridge.library import Clip, Library, Page

LIBRARY_EXAMPLES = """
  mage-bridge library list
  mage-bridge library search --bpm 120-128 --key "A minor" --compatible --json
  mage-bridge library import ~/Music/loops/break.wav --tag drums --rating 4
  mage-bridge library check --dry-run
"""
EXAMPLES = {
    "list": "  mage-bridge library list --limit 20\n  mage-bridge library list --deleted",
    "search": ('  mage-bridge library search "deep house" --bpm 120-128 --key "A minor" --compatible\n'
               "  mage-bridge library search --tag drums --min-rating 4 --json"),
    "show": "  mage-bridge library show 3f2a\n  mage-bridge library show 3f2a9c81d4e0 --json",
    "import": ("  mage-bridge library import break.wav --title \"Amen break\" --tag drums\n"
               "  mage-bridge library import clips/house/manifest.json       # a clip made with registering off"),
    "tag": "  mage-bridge library tag 3f2a dark late-night\n  mage-bridge library tag 3f2a --remove dark",
    "rate": "  mage-bridge library rate 3f2a 5\n  mage-bridge library rate 3f2a 0                # no rating",
    "delete": "  mage-bridge library delete 3f2a",
    "check": "  mage-bridge library check --dry-run\n  mage-bridge library check --json",
}
#: Widest title a table row shows.
TITLE_CHARS = 44


def register(sub: argparse._SubParsersAction) -> None:
    lib = add_command(sub, "library", help="the clip library: list, search, show, import, tag, rate, delete, check",
                      examples=LIBRARY_EXAMPLES)
    verbs = lib.add_subparsers(dest="library_command", metavar="VERB")
    lib.set_defaults(func=lambda args: _help(lib))

    p = _verb(verbs, "list", "the library's clips, newest first")
    p.add_argument("--deleted", action="store_true", help="the deleted clips instead (kept as tombstones)")
    _paging(p)
    p.set_defaults(func=_cmd_list)

    p = _verb(verbs, "search", "clips by tempo, key, genre, tag, rating, kind and words")
    p.add_argument("text", nargs="?", help="words that must appear in the title, prompt, genre, tags or lyrics")
    p.add_argument("--bpm", help="tempo range, e.g. 120-128 (one number: within 0.5 BPM)")
    p.add_argument("--key", help='key, e.g. "A minor", Am, "F# major", or a Camelot code such as 8A')
    p.add_argument("--compatible", action="store_true",
                   help="also the keys that mix with it: relative major/minor and Camelot neighbours")
    p.add_argument("--genre", help="genre, as the prompt analysis names it (deep house, boom bap, ...)")
    p.add_argument("--tag", action="append", default=[], metavar="TAG", help="a tag the clip has (repeatable)")
    p.add_argument("--min-rating", type=int, metavar="N", help="rated at least N (1-5)")
    p.add_argument("--kind", help="generate, import, separate, master, retake, repaint, extend, cover, lego, extract")
    _paging(p)
    p.set_defaults(func=_cmd_search)

    p = _verb(verbs, "show", "everything the library knows of one clip")
    p.add_argument("clip", help="clip id (a unique prefix of 4+ digits will do)")
    p.set_defaults(func=_cmd_show)

    p = _verb(verbs, "import", "copy your own audio into the library and measure tempo, key and loudness")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="audio files; or a clip's manifest.json (or folder), recorded where it lies")
    p.add_argument("--title", help="title (default: the file name)")
    p.add_argument("--tag", action="append", default=[], metavar="TAG", help="tag the clips (repeatable)")
    p.add_argument("--rating", type=int, default=0, help="rating 1-5 (default none)")
    p.set_defaults(func=_cmd_import)

    p = _verb(verbs, "tag", "add or remove tags")
    p.add_argument("clip", help="clip id")
    p.add_argument("tags", nargs="*", metavar="TAG", help="tags to add")
    p.add_argument("--remove", action="append", default=[], metavar="TAG", help="a tag to remove (repeatable)")
    p.set_defaults(func=_cmd_tag)

    p = _verb(verbs, "rate", "rate a clip 1-5 (0: no rating)")
    p.add_argument("clip", help="clip id")
    p.add_argument("rating", type=int, help="0-5")
    p.set_defaults(func=_cmd_rate)

    p = _verb(verbs, "delete", "delete clips and their files (the row stays as a tombstone)")
    p.add_argument("clips", nargs="+", metavar="CLIP", help="clip ids")
    p.set_defaults(func=_cmd_delete)

    p = _verb(verbs, "check", "find and repair rows without files and files without rows")
    p.add_argument("--dry-run", action="store_true", help="only report what would be done")
    p.set_defaults(func=_cmd_check)


def _verb(verbs: argparse._SubParsersAction, name: str, help: str) -> argparse.ArgumentParser:
    p = add_command(verbs, name, help=help, examples=EXAMPLES[name])
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def _paging(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, default=50, help="clips per page (default 50, at most 500)")
    p.add_argument("--offset", type=int, default=0, help="skip this many (the next page: --offset 50)")


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _open(args: argparse.Namespace) -> Library:
    from mage_bridge.library import Library

    return Library.open(config_of(args))


def _say(args: argparse.Namespace, text: str) -> None:
    if not getattr(args, "quiet", False):
        print(f"mage-bridge: {text}", file=sys.stderr)


# -- the table -------------------------------------------------------------------------------------
def _cell(value: Any, fmt: str = "{}") -> str:
    return "-" if value is None else fmt.format(value)


def _length(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def _row(clip: Clip) -> list[str]:
    key = f"{clip.key} ({clip.camelot})" if clip.key else "-"
    title = clip.title if len(clip.title) <= TITLE_CHARS else clip.title[:TITLE_CHARS - 1] + "…"
    return [clip.id, clip.kind, _cell(clip.bpm, "{:.1f}"), key, _length(clip.duration_s),
            _cell(clip.loudness_lufs, "{:.1f}"), str(clip.rating) if clip.rating else "-",
            ",".join(clip.tags) or "-", title]


def print_table(clips: list[Clip]) -> None:
    """Clips as aligned columns: id, kind, BPM, key (Camelot), length, LUFS, rating, tags, title."""
    rows = [["ID", "KIND", "BPM", "KEY", "LEN", "LUFS", "RATING", "TAGS", "TITLE"], *(_row(c) for c in clips)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[-1])


def _print_page(args: argparse.Namespace, page: Page) -> int:
    if args.json:
        print(json.dumps({"total": page.total, "offset": page.offset,
                          "clips": [c.summary() for c in page.clips]}, indent=2, ensure_ascii=False))
        return 0
    if page.clips:
        print_table(page.clips)
    shown = f"clips {page.offset + 1}-{page.offset + len(page.clips)} of {page.total}" if page.clips else \
        f"no clips of {page.total}"
    more = f" (next page: --offset {page.offset + len(page.clips)})" if page.offset + len(page.clips) < page.total \
        else ""
    _say(args, f"{shown}{more}")
    return 0


# -- the verbs -------------------------------------------------------------------------------------
def _cmd_list(args: argparse.Namespace) -> int:
    with _open(args) as library:
        return _print_page(args, library.list(offset=args.offset, limit=args.limit, deleted=args.deleted))


def _cmd_search(args: argparse.Namespace) -> int:
    from mage_bridge.library import Query, search

    query = Query.build(text=args.text, bpm=args.bpm, key=args.key, compatible=args.compatible, genre=args.genre,
                        tags=args.tag, min_rating=args.min_rating, kind=args.kind, offset=args.offset,
                        limit=args.limit)
    with _open(args) as library:
        return _print_page(args, search(library, query))


def _cmd_show(args: argparse.Namespace) -> int:
    with _open(args) as library:
        clip = library.get(args.clip, deleted=True)
    record = clip.to_dict()
    if args.json:
        print(json.dumps(record, indent=2, ensure_ascii=False))
        return 0
    for name in ("id", "kind", "title", "prompt", "genre", "bpm", "key", "camelot", "time_signature", "bars",
                 "duration_s", "loudness_lufs", "rating", "tags", "created", "folder", "audio", "manifest"):
        value = record[name]
        if value not in (None, [], ""):
            print(f"{name + ':':<16}{', '.join(value) if isinstance(value, list) else value}")
    for name in ("requested", "measured", "backend", "lineage"):
        shown = {k: v for k, v in record[name].items() if v is not None}
        if shown:
            print(f"{name + ':':<16}" + ", ".join(f"{k} {v}" for k, v in shown.items()))
    for name, path in record["stems"].items():
        print(f"{'stem ' + name + ':':<16}{path}")
    if clip.deleted is not None:
        print(f"{'deleted:':<16}{record['deleted']}: {clip.deleted_reason}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from mage_bridge.library import import_audio

    clips = []
    with _open(args) as library, display_for(args) as progress:
        for path in args.paths:
            clips.append(import_audio(library, Path(path), title=args.title, tags=args.tag, rating=args.rating,
                                      progress=progress))
    if args.json:
        print(json.dumps([c.to_dict() for c in clips], indent=2, ensure_ascii=False))
    else:
        print_table(clips)
    return 0


def _cmd_tag(args: argparse.Namespace) -> int:
    with _open(args) as library:
        clip = library.tag(args.clip, args.tags, args.remove)
    print(json.dumps(clip.summary(), indent=2, ensure_ascii=False) if args.json else " ".join(clip.tags))
    return 0


def _cmd_rate(args: argparse.Namespace) -> int:
    with _open(args) as library:
        clip = library.rate(args.clip, args.rating)
    print(json.dumps(clip.summary(), indent=2, ensure_ascii=False) if args.json else clip.rating)
    return 0


def _cmd_delete(args: argparse.Namespace) -> int:
    done = []
    with _open(args) as library:
        clips = [library.get(ref) for ref in args.clips]  # every id checked before anything is removed
        for clip in clips:
            deleted = library.delete(clip.id)
            done.append({"id": clip.id, "title": clip.title, "removed": [str(p) for p in deleted.removed]})
            _say(args, f"deleted {clip.id} ({len(deleted.removed)} file(s) removed)")
    if args.json:
        print(json.dumps(done, indent=2, ensure_ascii=False))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from mage_bridge.library import check_library

    config = config_of(args)
    jobs = config.server.jobs_dir or config.resolved_state_dir / "jobs"
    with _open(args) as library:
        report = check_library(library, dry_run=args.dry_run, results_dirs=[Path(jobs).expanduser()])
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return 0
    for f in report.findings:
        print(f"{f.problem:<11}{f.clip_id or '-':<14}{f.action}: {f.path}" + (f" ({', '.join(f.files)})"
                                                                            if f.files else ""))
    _say(args, f"{report.checked} clip(s) checked; " + ("files and rows agree" if report.clean else
                                                        f"{len(report.findings)} finding(s)"
                                                        + (" (dry run: nothing changed)" if args.dry_run else "")))
    return 0
