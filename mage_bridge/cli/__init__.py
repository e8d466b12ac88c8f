"""The ``mage-bridge`` command: a thin layer over :mod:`mage_bridge.api` and the daemon's OSC door.

Each command group is a module here that registers its subcommands through
``register(subparsers)``; this module assembles them and turns failures into
one line on stderr: ``mage-bridge: error: <message>`` (exit 1), with the OS
error's name in brackets when one caused it (``[disk_full]``); a closed
stdout (``| head``) ends quietly with 141, Ctrl-C with 130.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from mage_bridge import __version__
from mage_bridge.cli.common import config_help
from mage_bridge.errors import MageError, failure_code, failure_message

#: Modules that add subcommands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "mage_bridge.cli.prompts",
    "mage_bridge.cli.edit",
    "mage_bridge.cli.audio",
    "mage_bridge.cli.song",
    "mage_bridge.cli.training",
    "mage_bridge.cli.daemon",
    "mage_bridge.cli.library",
    "mage_bridge.cli.environment",
)

EXAMPLES = """examples:
  mage-bridge generate "deep house at 122 BPM in G minor" -o clips/house
  mage-bridge repaint clips/house/manifest.json --start 8 --end 12 -o clips/house-fix   # ACE-Step
  mage-bridge separate song.wav -o stems/ && mage-bridge enhance stems/ -o enhanced/
  mage-bridge master mix.wav -o master.flac --lufs -16
  mage-bridge song new night --focus house && mage-bridge song fill night --role next
  mage-bridge song render night -o songs/night --format mp3
  mage-bridge serve                      # then send OSC to 127.0.0.1:9137, or: mage-bridge submit ...
  mage-bridge COMMAND --help             # each command's options and examples
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mage-bridge",
        description="AI music inside your DAW: prompts to stems, over OSC and MIDI.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mage-bridge {__version__}")
    parser.add_argument("--config", metavar="FILE", help=config_help())
    parser.set_defaults(quiet=False, verbose=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


class _Stderr:
    """Whatever ``sys.stderr`` is at the time of writing (tests and ``rich`` replace it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _log_to_stderr() -> None:
    """``-v``: the library's debug log on stderr (the daemon's ``serve`` sets up its own, with a file)."""
    handler = logging.StreamHandler(_Stderr())
    handler.setFormatter(logging.Formatter("mage-bridge: %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("mage_bridge")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    if args.verbose and args.command != "serve":
        _log_to_stderr()
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in an exit-time "Exception ignored"
        return code
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as Unix tools do. Later writes of the
        # interpreter's own go to devnull, so it cannot complain at exit either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (MageError, OSError, MemoryError) as e:  # a full disk, a refused write: words, not a traceback
        name = failure_code(e)
        told = f" [{name}]" if name != getattr(e, "code", None) else ""  # the OS error behind it, by name
        print(f"mage-bridge: error: {failure_message(e)}{told}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mage-bridge: interrupted", file=sys.stderr)
        return 130
