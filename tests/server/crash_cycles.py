"""Crash test: kill -9 the daemon and its workers during bursts of job requests, N times, and count.

    python -m tests.server.crash_cycles --cycles 20 [--seed 1] [--burst 30] [--workers 2]

Each cycle starts the real daemon (``mage-bridge serve`` with ``MAGE_TEST_JOBS=1``), sends a burst of
``sleep``, ``burn`` and ``crash`` jobs (some of which exit their worker hard) from one OSC app, cancels
a few, and in the middle of the burst kills with SIGKILL the daemon, or a worker and then the daemon,
or all of them at once. A request that heard no ``accepted`` is sent again, from the same socket with
the same request id, after the restart (as an OSC app that timed out would). One subscriber stays up
through all of it and counts the ``done``/``failed`` events. At the end the daemon runs until its queue
is empty, stops, and the script prints::

    accepted / done / failed / lost / duplicated / end-event-missing / staging-left

``lost``: an accepted job that is not in the queue; ``unfinished``: one still queued or running when the
queue stopped moving for ``drain_s``; ``duplicated``: a request that
became more than one job; ``end-event-missing``: an ended job the subscriber never heard end (and
``end-event-duplicated``: heard end twice); ``staging-left``: staging folders left in the jobs folder.
The goal is 0 for each. The exit status is 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pythonosc.osc_message import OscMessage

from mage_bridge.server import osc
from tests.server.conftest import DaemonProc

END_EVENTS = ("/mage/job/done", "/mage/job/failed")
GOALS = ("lost", "unfinished", "duplicated", "end_event_missing", "end_event_duplicated", "staging_left")


class Listener:
    """A UDP socket on loopback and a thread that records every message it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = int(self.sock.getsockname()[1])
        self.messages: list[tuple[str, list[Any]]] = []
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self._running:
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, OSError):
                continue
            try:
                msg = OscMessage(data)
            except Exception:  # noqa: BLE001 - a test listener records what it can read
                continue
            with self._lock:
                self.messages.append((msg.address, list(msg.params)))

    def snapshot(self) -> list[tuple[str, list[Any]]]:
        with self._lock:
            return list(self.messages)

    def send(self, port: int, address: str, *args: str | int | float) -> None:
        try:
            self.sock.sendto(osc.encode(address, *args), ("127.0.0.1", port))
        except OSError:
            pass

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=1.0)
        self.sock.close()


@dataclass
class Tally:
    cycles: int = 0
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    unanswered: int = 0
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    lost: int = 0
    unfinished: int = 0
    duplicated: int = 0
    end_event_missing: int = 0
    end_event_duplicated: int = 0
    end_event_wrong: int = 0
    staging_left: int = 0
    kills: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        return (f"cycles={self.cycles} sent={self.sent} accepted={self.accepted} done={self.done} "
                f"failed={self.failed} (cancelled={self.cancelled}) refused={self.refused} "
                f"unanswered={self.unanswered} lost={self.lost} unfinished={self.unfinished} "
                f"duplicated={self.duplicated} "
                f"end-event-missing={self.end_event_missing} end-event-duplicated={self.end_event_duplicated} "
                f"end-event-wrong={self.end_event_wrong} staging-left={self.staging_left} "
                f"kills={dict(self.kills)}")

    @property
    def ok(self) -> bool:
        return all(getattr(self, name) == 0 for name in GOALS) and self.end_event_wrong == 0


def _request(rng: random.Random) -> tuple[str, str]:
    """A job kind and its options for the burst: mostly short sleeps, some CPU, some crashes."""
    r = rng.random()
    if r < 0.55:
        return "sleep", f'{{"seconds": {rng.uniform(0.02, 0.6):.3f}, "steps": 5}}'
    if r < 0.75:
        return "burn", f'{{"seconds": {rng.uniform(0.05, 0.3):.3f}}}'
    if r < 0.88:
        return "crash", "{}"
    return "crash", '{"exit_code": 3}'


def _kill_all(d: DaemonProc, mode: str, rng: random.Random) -> None:
    workers = d.worker_pids()
    if mode == "worker" and workers:
        os.kill(rng.choice(workers), signal.SIGKILL)
        time.sleep(rng.uniform(0.05, 0.3))
    elif mode == "all":
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    d.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    d.wait(10.0)


def _db_rows(state_dir: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(f"file:{state_dir / 'jobs.sqlite3'}?mode=ro", uri=True, timeout=5.0)
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT id, req_id, state, error_code FROM jobs ORDER BY seq").fetchall()
    finally:
        db.close()


def run(cycles: int, *, seed: int = 1, burst: int = 30, workers: int = 2, root: Path | None = None,
        drain_s: float = 30.0, log: Any = print) -> Tally:
    """Run the crash cycles in ``root`` (a fresh temporary folder by default); returns the tally."""
    rng = random.Random(seed)
    tmp = None
    if root is None:
        tmp = tempfile.TemporaryDirectory(prefix="mage-crash-")
        root = Path(tmp.name)
    d = DaemonProc(root, 0, server={"workers": workers, "rate_burst": 100000, "rate_per_minute": 1000000,
                                    "max_queue": 100000, "max_queue_per_client": 100000, "shutdown_grace_s": 1})
    app, sub = Listener(), Listener()
    tally = Tally(cycles=cycles)
    requests: dict[str, tuple[str, str]] = {}  # req_id -> (kind, options)
    try:
        d.start()
        sub.send(d.port, "/mage/subscribe", sub.port)
        deadline = time.monotonic() + 5.0
        while not any(a == "/mage/subscribed" for a, _ in sub.snapshot()) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the daemon keeps its subscribers on disk within a tick
        for cycle in range(cycles):
            mode = rng.choice(("daemon", "daemon", "worker", "all"))
            tally.kills[mode] += 1
            kill_at = time.monotonic() + rng.uniform(0.15, 1.2)
            i = 0
            while time.monotonic() < kill_at or i < burst // 2:
                if i < burst:
                    req_id = f"c{cycle}-{i}"
                    kind, options = _request(rng)
                    requests[req_id] = (kind, options)
                    app.send(d.port, "/mage/test/job", req_id, kind, options)
                    i += 1
                if rng.random() < 0.08:  # cancel a job this app was told about
                    accepted = [p[1] for a, p in app.snapshot()[-50:] if a == "/mage/job/accepted" and len(p) > 1]
                    if accepted:
                        app.send(d.port, "/mage/job/cancel", str(rng.choice(accepted)))
                time.sleep(rng.uniform(0.0, 0.03))
            _kill_all(d, mode, rng)
            d.start()
            _resend_unanswered(d, app, requests, wait_s=0.3)
        # the last start: answer every request, then run the queue dry
        for _ in range(5):
            if not _resend_unanswered(d, app, requests, wait_s=1.0):
                break
        last, stalled_since = -1, time.monotonic()
        while time.monotonic() - stalled_since < drain_s:  # until the queue is dry or stops moving
            states = [r["state"] for r in _db_rows(d.state_dir)]
            ended = sum(s in ("done", "failed", "cancelled") for s in states)
            if ended == len(states):
                break
            if ended != last:
                last, stalled_since = ended, time.monotonic()
            time.sleep(0.2)
        time.sleep(0.5)  # the last events are on their way
        d.stop()
        _count(tally, d, app, sub, requests)
    finally:
        d.stop()
        app.close()
        sub.close()
        if tmp is not None:
            tmp.cleanup()
    log(tally.line())
    return tally


def _answers(app: Listener) -> tuple[dict[str, set[str]], set[str]]:
    accepted: dict[str, set[str]] = {}
    refused: set[str] = set()
    for address, params in app.snapshot():
        if address == "/mage/job/accepted" and len(params) >= 2:
            accepted.setdefault(str(params[0]), set()).add(str(params[1]))
        elif address == "/mage/error" and params:
            refused.add(str(params[0]))
    return accepted, refused


def _resend_unanswered(d: DaemonProc, app: Listener, requests: dict[str, tuple[str, str]], *,
                       wait_s: float) -> int:
    """Send again (same socket, same request id) every request that got neither accepted nor an error."""
    time.sleep(wait_s)
    accepted, refused = _answers(app)
    missing = [r for r in requests if r not in accepted and r not in refused]
    for req_id in missing:
        kind, options = requests[req_id]
        app.send(d.port, "/mage/test/job", req_id, kind, options)
        time.sleep(0.002)
    return len(missing)


def _count(tally: Tally, d: DaemonProc, app: Listener, sub: Listener, requests: dict[str, tuple[str, str]]) -> None:
    accepted, refused = _answers(app)
    rows = _db_rows(d.state_dir)
    by_id = {r["id"]: r for r in rows}
    jobs_per_req = Counter(r["req_id"] for r in rows)
    ends: dict[str, list[str]] = {}
    for address, params in sub.snapshot():
        if address in END_EVENTS and params:
            ends.setdefault(str(params[0]), []).append(address)

    tally.sent = len(requests)
    tally.accepted = len(accepted)
    tally.refused = len((refused & set(requests)) - set(accepted))  # a cancel's error names a job, not a request
    tally.unanswered = len([r for r in requests if r not in accepted and r not in refused])
    tally.duplicated = sum(n - 1 for req, n in jobs_per_req.items() if req in requests and n > 1)
    tally.duplicated += sum(len(ids) - 1 for ids in accepted.values() if len(ids) > 1)
    for ids in accepted.values():
        for job_id in ids:
            row = by_id.get(job_id)
            if row is None:
                tally.lost += 1
            elif row["state"] not in ("done", "failed", "cancelled"):
                tally.unfinished += 1
    for row in rows:
        state = row["state"]
        if state == "done":
            tally.done += 1
        elif state in ("failed", "cancelled"):
            tally.failed += 1
            tally.cancelled += state == "cancelled"
        else:
            continue
        heard = ends.get(row["id"], [])
        if not heard:
            tally.end_event_missing += 1
        elif len(heard) > 1:
            tally.end_event_duplicated += 1
        elif heard[0] != ("/mage/job/done" if state == "done" else "/mage/job/failed"):
            tally.end_event_wrong += 1
    jobs_dir = d.state_dir / "jobs"
    tally.staging_left = len(list(jobs_dir.glob(".*.partial-*"))) if jobs_dir.exists() else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.server.crash_cycles", description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=10, help="kill -9 cycles (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--burst", type=int, default=30, help="job requests per cycle (default 30)")
    parser.add_argument("--workers", type=int, default=2, help="server.workers (default 2)")
    parser.add_argument("--keep", type=Path, default=None, help="run in this folder and keep it (logs, queue)")
    args = parser.parse_args(argv)
    if args.cycles < 1:
        parser.error(f"--cycles must be at least 1, got {args.cycles}")
    if args.keep is not None:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep needs a new or empty folder, got {str(args.keep)!r}")
        args.keep.mkdir(parents=True, exist_ok=True)
    tally = run(args.cycles, seed=args.seed, burst=args.burst, workers=args.workers, root=args.keep)
    return 0 if tally.ok else 1


if __name__ == "__main__":
    sys.exit(main())
