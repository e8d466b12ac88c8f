"""The ``mage-bridge`` command: a thin layer over the Python API.

Each command group lives beside the code it drives and registers itself
through ``register(subparsers)``; this module only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from mage_bridge import __version__
from mage_bridge.errors import MageError

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
        return int(args.func(args) or 0)
    except MageError as e:
        print(f"mage-bridge: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mage-bridge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
