"""What every subcommand shares: ``--config``, ``-q``, ``-v``, examples in ``--help``, and how results print.

Data goes to stdout (a manifest path, or with ``--json`` the manifest
itself); progress, summaries and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from mage_bridge.config import Config, default_config_path, load_config


def config_help() -> str:
    """The ``--config`` help, naming this platform's default file."""
    return f"config file (default: $MAGE_CONFIG, else {default_config_path()})"


def common_options() -> argparse.ArgumentParser:
    """The parent parser of every subcommand.

    Its defaults are suppressed, so ``--config`` given before the subcommand
    (``mage-bridge --config c.toml master ...``) is not reset by the
    subcommand's parser, and one given after it means the same.
    """
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("common options")
    g.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=config_help())
    g.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                   help="no progress and no summary on stderr (errors are still printed)")
    g.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                   help="log what happens (debug level) on stderr; progress as plain lines")
    return p


def add_command(sub: argparse._SubParsersAction, name: str, *, help: str, examples: str,
                description: str | None = None) -> argparse.ArgumentParser:
    """A subcommand with the common options and an ``Examples:`` epilog, its layout kept as written."""
    return sub.add_parser(name, help=help, description=description or help[:1].upper() + help[1:] + ".",
                          parents=[common_options()], formatter_class=argparse.RawDescriptionHelpFormatter,
                          epilog="examples:\n" + examples.strip("\n"))


def config_of(args: argparse.Namespace, **overrides: Any) -> Config:
    """The config the command's ``--config`` (or ``$MAGE_CONFIG``) names, with ``overrides``."""
    return load_config(getattr(args, "config", None), **overrides)


def print_result(path: str | os.PathLike[str], args: argparse.Namespace) -> int:
    """The manifest's path on stdout, or with ``--json`` the manifest itself."""
    from mage_bridge import manifest

    if getattr(args, "json", False):
        print(json.dumps(manifest.read(Path(path)), indent=2))
    else:
        print(path)
    return 0
