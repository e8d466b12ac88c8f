"""Killed workers, killed daemons, clean stops: nothing accepted is lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from typing import Any

from tests.server.conftest import DaemonProc, status, submit, wait_end


def _wait_running(c: Any, job: str, timeout_s: float = 15.0) -> None:
    c.wait_for(lambda a, p: a == "/mage/job/progress" and p[:2] == [job, "sleep"], timeout_s)


def test_kill_9_of_a_worker_fails_its_job_and_the_daemon_goes_on(daemon: DaemonProc) -> None:
    with daemon.client() as c:
        job = submit(c, "/mage/test/job", "k1", "sleep", '{"seconds": 30, "steps": 300}')
        _wait_running(c, job)
        [pid] = daemon.worker_pids()
        os.kill(pid, signal.SIGKILL)
        addr, reply = wait_end(c, job, 10.0)
        assert (addr, reply[1]) == ("/mage/job/failed", "worker_crashed")
        assert "the worker process killed by signal 9 (SIGKILL)" in reply[2]
        assert str(pid) not in reply[2] and f"(pid {pid})" in daemon.log()  # the pid stays in the log
        assert c.ping()
        assert status(c, job)[1] == "failed"
        nxt = submit(c, "/mage/test/job", "k2", "sleep", '{"seconds": 0.1}')
        assert wait_end(c, nxt, 20.0)[0] == "/mage/job/done"
        [new_pid] = daemon.worker_pids()
        assert new_pid != pid


def test_kill_9_of_the_daemon_then_restart_completes_every_accepted_job(make_daemon: Any) -> None:
    d = make_daemon()
    with d.client() as c:
        running = submit(c, "/mage/test/job", "r", "sleep", '{"seconds": 3, "steps": 30}')
        queued = [submit(c, "/mage/test/job", f"q{i}", "sleep", '{"seconds": 0.05}') for i in range(5)]
        _wait_running(c, running)
    workers = d.worker_pids()
    os.kill(d.pid, signal.SIGKILL)
    d.wait(10.0)
    deadline = time.monotonic() + 5.0
    while any(os.path.exists(f"/proc/{p}") for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)  # orphaned workers notice their parent is gone and leave
    assert not any(os.path.exists(f"/proc/{p}") and b"Z" not in open(f"/proc/{p}/stat", "rb").read().split()[2]
                   for p in workers)

    d.start()
    with d.client() as c:
        for job in [running, *queued]:
            deadline = time.monotonic() + 20.0
            while status(c, job)[1] != "done" and time.monotonic() < deadline:
                time.sleep(0.05)
            assert status(c, job)[1] == "done"
    assert "was interrupted by a daemon stop; re-queued once" in d.log()


def test_a_job_interrupted_twice_fails_with_the_reason(make_daemon: Any) -> None:
    d = make_daemon()
    with d.client() as c:
        job = submit(c, "/mage/test/job", "twice", "sleep", '{"seconds": 60, "steps": 600}')
        _wait_running(c, job)
    for _ in range(2):
        os.kill(d.pid, signal.SIGKILL)
        d.wait(10.0)
        d.start()
        with d.client() as c:
            st = status(c, job)
        if st[1] == "failed":
            break
        with d.client() as c:
            deadline = time.monotonic() + 15
            while status(c, job)[1] != "running" and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
    with d.client() as c:
        st = status(c, job)
    assert st[1] == "failed"
    assert st[4].startswith("interrupted: the daemon stopped while this job ran, 2 times")


def test_sigterm_requeues_a_running_job_and_the_next_start_runs_it(make_daemon: Any) -> None:
    d = make_daemon(server={"shutdown_grace_s": 1})
    with d.client() as c:
        long = submit(c, "/mage/test/job", "long", "sleep", '{"seconds": 3, "steps": 30}')
        later = submit(c, "/mage/test/job", "later", "sleep", '{"seconds": 0.05}')
        _wait_running(c, long)
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    assert d.wait(15.0) == 0
    assert time.monotonic() - t0 < 6.0
    db = sqlite3.connect(d.state_dir / "jobs.sqlite3")
    states = dict(db.execute("SELECT id, state FROM jobs").fetchall())
    attempts = dict(db.execute("SELECT id, attempts FROM jobs").fetchall())
    db.close()
    assert states == {long: "queued", later: "queued"}
    assert attempts[long] == 0  # a clean stop does not use up the job's retry
    log = d.log()
    assert "SIGTERM received: stopping" in log and "2 job(s) wait in the queue" in log

    d.start()
    with d.client() as c:
        for job in (long, later):
            deadline = time.monotonic() + 20.0
            while status(c, job)[1] != "done" and time.monotonic() < deadline:
                time.sleep(0.1)
            assert status(c, job)[1] == "done"


def test_sigint_lets_a_short_job_finish(make_daemon: Any) -> None:
    d = make_daemon(server={"shutdown_grace_s": 10})
    with d.client() as c:
        job = submit(c, "/mage/test/job", "short", "sleep", '{"seconds": 1, "steps": 10}')
        _wait_running(c, job)
        d.signal(signal.SIGINT)
        time.sleep(0.2)
        c.send("/mage/test/job", "late", "sleep", "")
        addr, reply = c.wait_for(lambda a, p: p[:1] == ["late"], 5.0)
        assert (addr, reply[1]) == ("/mage/error", "shutting_down")
        assert c.ping()  # still answering while it drains
        assert wait_end(c, job, 10.0)[0] == "/mage/job/done"
    assert d.wait(15.0) == 0
