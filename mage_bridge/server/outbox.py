"""The outbox: how each DAW-tagged job ended, kept until its DAW has it.

``<state_dir>/outbox/<client_id>/<name>.json`` holds one record per job (``<job_id>.json``) or
refused spool request (``req-<req_id>.json``). A file-reading DAW (REAPER) moves a record into
``handled/`` once it has inserted it; an OSC DAW (Live) acknowledges it with ``/mage/daw/ack``
and the daemon moves it there. Records nobody takes (a project never opened again, a client
gone for good) expire after :data:`KEEP_S` with a log line; the job's own folder stays.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from mage_bridge.files import write_json_atomic
from mage_bridge.server.daw import safe_name

log = logging.getLogger("mage_bridge.server")

HANDLED_DIR = "handled"
#: Undelivered records older than this expire (seconds): one week of a closed project.
KEEP_S = 7 * 24 * 3600.0
#: Delivered records in ``handled/`` are kept this long for the user to look at, then removed.
HANDLED_KEEP_S = 24 * 3600.0
#: At most this many records are replayed to one client per request (oldest first).
MAX_REPLAY = 256


class Outbox:
    """The outbox folder of the daemon."""

    def __init__(self, folder: Path, *, keep_s: float = KEEP_S) -> None:
        self.folder = folder
        self.keep_s = keep_s

    def write(self, client_id: str, name: str, record: dict[str, Any]) -> None:
        try:
            write_json_atomic(self.folder / client_id / name, record)
        except OSError as e:
            log.error("cannot write the outbox file %s/%s: %s", client_id, name, e)

    def pending(self, client_id: str, project_id: str | None = None) -> list[dict[str, Any]]:
        """The undelivered records of a client, oldest first: those of ``project_id`` and those of no project."""
        records = []
        for path in self._files(self.folder / client_id):
            record = _read(path)
            if record is None:
                continue
            owner = record.get("project_id")
            if project_id is None or owner in (None, "", project_id):
                records.append(record)
        records.sort(key=lambda r: (float(r.get("time") or 0.0), str(r.get("job_id") or r.get("req_id"))))
        return records[:MAX_REPLAY]

    def ack(self, client_id: str, job_id: str) -> bool:
        """Move the record of ``job_id`` (or of a refused request id) into ``handled/``; False if there is none."""
        folder = self.folder / client_id
        for name in (f"{safe_name(job_id)}.json", f"req-{safe_name(job_id)}.json"):
            path = folder / name
            if path.is_file():
                (folder / HANDLED_DIR).mkdir(exist_ok=True)
                os.replace(path, folder / HANDLED_DIR / name)
                return True
        return False

    def expire(self, now: float | None = None) -> int:
        """Drop undelivered records older than ``keep_s`` (logged) and old ``handled/`` ones; returns how many."""
        now = time.time() if now is None else now
        dropped = 0
        try:
            clients = [e for e in os.scandir(self.folder) if e.is_dir()]
        except OSError:
            return 0
        for client in clients:
            expired: dict[str | None, int] = {}
            for path in self._files(Path(client.path)):
                if now - _mtime(path) > self.keep_s:
                    record = _read(path) or {}
                    expired[record.get("project_id")] = expired.get(record.get("project_id"), 0) + 1
                    _unlink(path)
            for project, n in expired.items():
                log.warning("outbox: %d result(s) for DAW client %r, project %r were never picked up in %.0f days "
                            "and expire; their files stay in the jobs folder", n, client.name, project,
                            self.keep_s / 86400)
                dropped += n
            for path in self._files(Path(client.path) / HANDLED_DIR):
                if now - _mtime(path) > HANDLED_KEEP_S:
                    _unlink(path)
        return dropped

    @staticmethod
    def _files(folder: Path) -> list[Path]:
        try:
            return [Path(e.path) for e in os.scandir(folder)
                    if e.name.endswith(".json") and not e.name.startswith(".") and e.is_file()]
        except OSError:
            return []


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
