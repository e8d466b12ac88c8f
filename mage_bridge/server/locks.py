"""Locks that tell who is alive in a state folder: the one daemon, and each of its workers.

Both are operating-system locks taken through ``filelock`` (``flock`` on macOS and Linux,
``msvcrt.locking`` on Windows). The system drops such a lock when its process ends, however it
ends (a crash, ``kill -9``, the OOM killer), so a lock file that can be taken belongs to nobody
alive, and a held one to a live process. Held locks are never broken: a daemon that finds its
state folder locked refuses to start, and one that finds a worker's lock held waits for that worker
of an earlier daemon to leave before it touches the jobs folder.

``filelock`` is imported on first use, so importing the daemon stays cheap.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mage_bridge.errors import MageError

if TYPE_CHECKING:
    from filelock import BaseFileLock

log = logging.getLogger("mage_bridge.server")

#: One daemon per state folder holds this lock while it runs.
DAEMON_LOCK_NAME = "daemon.lock"
#: Worker ``i`` holds ``<state_dir>/worker-locks/worker-<i>.lock`` while it lives.
WORKER_LOCKS_DIR = "worker-locks"
#: How long a starting worker waits for its lock (its predecessor of the same index is exiting).
WORKER_LOCK_WAIT_S = 5.0
#: Seconds between two looks at the worker locks of an earlier daemon.
ORPHAN_POLL_S = 0.02


def _file_lock(path: Path) -> BaseFileLock:
    from filelock import FileLock

    return FileLock(path, mode=0o600)


def take_daemon_lock(state_dir: Path) -> BaseFileLock:
    """Hold ``state_dir`` for this process until :meth:`release` or its end; :class:`MageError` if a
    daemon holds it already."""
    from filelock import Timeout

    lock = _file_lock(state_dir / DAEMON_LOCK_NAME)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise MageError(f"another mage-bridge daemon is using the state folder {str(state_dir)!r}") from None
    return lock


def hold_worker_lock(folder: Path, index: int) -> BaseFileLock | None:
    """Take worker ``index``'s lock for the life of this process; ``None`` (logged) if it stays held."""
    from filelock import Timeout

    folder.mkdir(parents=True, exist_ok=True)
    lock = _file_lock(folder / f"worker-{index}.lock")
    try:
        lock.acquire(timeout=WORKER_LOCK_WAIT_S)
    except Timeout:
        log.warning("worker %d: %s is still held after %.0f s; running without it", index, lock.lock_file,
                    WORKER_LOCK_WAIT_S)
        return None
    return lock


def held_worker_locks(folder: Path) -> list[Path]:
    """The worker locks in ``folder`` that a live process holds, by name."""
    from filelock import Timeout

    held = []
    for path in sorted(folder.glob("worker-*.lock")):
        lock = _file_lock(path)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            held.append(path)
        except OSError:  # removed meanwhile, or not ours to open: nobody's lock
            continue
        else:
            lock.release()
    return held


def wait_for_orphans(folder: Path, timeout_s: float = 10.0) -> list[Path]:
    """Wait until no worker of an earlier daemon holds a lock in ``folder``; returns those still held
    after ``timeout_s`` (empty when all are gone)."""
    deadline = time.monotonic() + timeout_s
    while True:
        held = held_worker_locks(folder)
        if not held or time.monotonic() >= deadline:
            return held
        time.sleep(ORPHAN_POLL_S)
