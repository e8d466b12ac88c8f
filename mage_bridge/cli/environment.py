"""``backends`` (what can run here, and why not) and ``completion`` (the shell's tab completion)."""

from __future__ import annotations

import argparse
import importlib
import json
from typing import Any

from mage_bridge.cli.common import add_command, config_of
from mage_bridge.errors import MageError

#: Stage name -> "module:REGISTRY" for ``mage-bridge backends``.
STAGE_REGISTRIES = {
    "analysis": "mage_bridge.analysis:REGISTRY",
    "lyrics": "mage_bridge.lyrics:REGISTRY",
    "generate": "mage_bridge.generate:REGISTRY",
    "separate": "mage_bridge.separate:REGISTRY",
    "voice": "mage_bridge.effects.voice:REGISTRY",
}
#: Shells ``completion`` writes a script for (those shtab supports that people use with this tool).
SHELLS = ("bash", "zsh", "tcsh")

BACKENDS_EXAMPLES = """
  mage-bridge backends
  mage-bridge backends --json | jq '.separate[] | select(.available)'
"""
COMPLETION_EXAMPLES = """
  mage-bridge completion bash > ~/.local/share/bash-completion/completions/mage-bridge
  mage-bridge completion zsh > "${fpath[1]}/_mage-bridge"
  eval "$(mage-bridge completion bash)"                  # this shell only
"""


def register(sub: argparse._SubParsersAction) -> None:
    b = add_command(sub, "backends", help="which backends are installed and usable, and why not",
                    examples=BACKENDS_EXAMPLES)
    b.add_argument("--json", action="store_true", help="print JSON")
    b.set_defaults(func=_cmd_backends)

    c = add_command(sub, "completion", help="print a tab-completion script for bash, zsh or tcsh",
                    examples=COMPLETION_EXAMPLES)
    c.add_argument("shell", choices=SHELLS)
    c.set_defaults(func=_cmd_completion)


def _cmd_backends(args: argparse.Namespace) -> int:
    config = config_of(args)
    report: dict[str, list[dict[str, Any]]] = {}
    for stage, target in STAGE_REGISTRIES.items():
        module_name, _, attr = target.partition(":")
        registry = getattr(importlib.import_module(module_name), attr)
        chosen = getattr(config.backends, stage, "auto")
        try:
            resolved = registry.resolve(chosen, config)
        except MageError:
            resolved = None
        report[stage] = [
            {"name": s.name, "available": s.available, "reason": s.reason, "summary": s.summary,
             "selected": s.name == resolved}
            for s in registry.status(config)
        ]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for stage, rows in report.items():
        print(f"{stage}:")
        for r in rows:
            mark = "*" if r["selected"] else " "
            state = "ok" if r["available"] else f"unavailable: {r['reason']}"
            print(f"  {mark} {r['name']:<12} {state}")
    print("(* = what the config's choice picks here)")
    return 0


def _cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    from mage_bridge.cli import build_parser

    print(shtab.complete(build_parser(), shell=args.shell))
    return 0
