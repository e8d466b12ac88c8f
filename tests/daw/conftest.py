"""Shared helpers for the DAW tests: a real daemon (tests/server's fixture), spool writing, outbox waiting."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from tests.server.conftest import DaemonProc, daemon, make_daemon  # noqa: F401 - fixtures re-exported

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def write_spool(d: DaemonProc, request: dict[str, Any], name: str | None = None) -> Path:
    """Write a spool request atomically (temp name, then rename), as a DAW script does."""
    spool = d.state_dir / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    name = name or f"{request.get('req_id', uuid.uuid4().hex)}.json"
    tmp = spool / f".{name}.tmp"
    tmp.write_text(json.dumps(request))
    os.replace(tmp, spool / name)
    return spool / name


def wait_for_file(path: Path, timeout_s: float = 30.0) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            return path
        time.sleep(0.05)
    raise AssertionError(f"{path} did not appear within {timeout_s} s")


def wait_outbox(d: DaemonProc, client_id: str, timeout_s: float = 30.0, count: int = 1) -> list[dict[str, Any]]:
    """The outbox records of ``client_id`` once there are ``count`` of them."""
    folder = d.state_dir / "outbox" / client_id
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        files = [f for f in files if not f.name.startswith(".")]
        if len(files) >= count:
            return [json.loads(f.read_text()) for f in files]
        time.sleep(0.05)
    raise AssertionError(f"no {count} outbox file(s) for {client_id} within {timeout_s} s:\n{d.log()[-3000:]}")
