"""The ``mage-bridge`` command: a thin layer over the Python API.

Each command group lives beside the code it drives and registers itself
through ``register(subparsers)``; this module only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from mage_bridge import __version__
from mage_bridge.errors import MageError, failure_code, failure_message

#: Modules that add subcommands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "mage_bridge.commands",
    "mage_bridge.server.cli",
    "mage_bridge.effects.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mage-bridge",
        description="AI music inside your DAW: prompts to stems, over OSC and MIDI.",
    )
    parser.add_argument("--version", action="version", version=f"mage-bridge {__version__}")
    parser.add_argument("--config", metavar="FILE", help="config file (default: $MAGE_CONFIG or ~/.config/mage-bridge/config.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
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
        code = failure_code(e)
        told = f" [{code}]" if code != getattr(e, "code", None) else ""  # the OS error behind it, by name
        print(f"mage-bridge: error: {failure_message(e)}{told}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mage-bridge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
