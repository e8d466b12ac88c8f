"""``python -m mage_bridge.server serve ...``: the daemon's commands without the rest of the CLI."""

from __future__ import annotations

import argparse
import sys

from mage_bridge.errors import MageError
from mage_bridge.server.cli import register


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m mage_bridge.server")
    parser.add_argument("--config", metavar="FILE", help="config file")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args()
    try:
        return int(args.func(args) or 0)
    except MageError as e:
        print(f"mage-bridge: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
