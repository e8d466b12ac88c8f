"""Every accepted job ends once and says so: a full disk at its end, a restart that fails it, and no
staging folder left behind by a killed, cancelled or interrupted job."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mage_bridge.server.client import OscClient
from tests.server.conftest import DaemonProc, status, submit, wait_end

MountFn = Callable[[Path, str], Path]


@pytest.fixture
def small_disk() -> Iterator[MountFn]:
    """``small_disk(folder, "4m")`` mounts a tmpfs of that size on ``folder``: a disk that can really fill up."""
    mounted: list[Path] = []

    def mount(folder: Path, size: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs to fill up (needs root or CAP_SYS_ADMIN): {r.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path) -> Path:
    """Write a file in ``folder`` until its file system says ENOSPC; returns the file (unlink it to free)."""
    path = folder / "filler"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 16, 1 << 12, 1 << 9):
            chunk = b"\0" * size
            while True:
                try:
                    os.write(fd, chunk)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
                    break
    finally:
        os.close(fd)
    return path


def _wait_running(c: OscClient, job: str, timeout_s: float = 15.0) -> None:
    c.wait_for(lambda a, p: a == "/mage/job/progress" and p[:2] == [job, "sleep"], timeout_s)


def _staging(jobs_dir: Path) -> set[str]:
    return {p.name for p in jobs_dir.glob(".*.partial-*")}


# -- a full disk while a job ends --------------------------------------------------------------
def test_a_full_disk_while_a_job_ends_fails_it_with_disk_full_and_the_queue_goes_on(
        small_disk: MountFn, make_daemon: Callable[..., DaemonProc], tmp_path: Path) -> None:
    state = small_disk(tmp_path / "d" / "state", "4m")  # the queue's SQLite file lives here
    d = make_daemon(server={"jobs_dir": str(tmp_path / "jobs")})
    with d.client() as c:
        job = submit(c, "/mage/test/job", "full", "sleep", '{"seconds": 1.0, "steps": 10}')
        _wait_running(c, job)
        filler = fill(state)
        time.sleep(1.5)  # the job has ended in its worker; the daemon cannot write that down
        assert c.ping()
        filler.unlink()
        addr, reply = wait_end(c, job, 5.0)
        assert (addr, reply[1]) == ("/mage/job/failed", "disk_full"), reply
        assert "could not be recorded" in reply[2] and "full" in reply[2]
        assert status(c, job)[1] == "failed"
        nxt = submit(c, "/mage/test/job", "after", "sleep", '{"seconds": 0.1}')
        assert wait_end(c, nxt, 10.0)[0] == "/mage/job/done"


def test_a_full_disk_under_the_jobs_folder_fails_the_job_with_disk_full(
        small_disk: MountFn, make_daemon: Callable[..., DaemonProc], tmp_path: Path) -> None:
    jobs = small_disk(tmp_path / "small", "1m")
    d = make_daemon(server={"jobs_dir": str(jobs)})
    filler = fill(jobs)
    with d.client() as c:
        job = submit(c, "/mage/test/job", "nospace", "sleep", '{"seconds": 0.1}')
        addr, reply = wait_end(c, job, 10.0)
        assert (addr, reply[1]) == ("/mage/job/failed", "disk_full"), reply
        assert "No space left on device" in reply[2]
        assert _staging(jobs) == set()
        filler.unlink()
        nxt = submit(c, "/mage/test/job", "space", "sleep", '{"seconds": 0.1}')
        assert wait_end(c, nxt, 10.0)[0] == "/mage/job/done"


def test_a_request_the_daemon_cannot_record_on_a_full_disk_is_refused_with_disk_full(
        small_disk: MountFn, make_daemon: Callable[..., DaemonProc], tmp_path: Path) -> None:
    state = small_disk(tmp_path / "d" / "state", "4m")
    d = make_daemon(server={"jobs_dir": str(tmp_path / "jobs")})
    with d.client() as c:
        filler = fill(state)
        c.send("/mage/test/job", "no-room", "sleep", '{"seconds": 0.1}')
        addr, reply = c.wait_for(lambda a, p: p[:1] == ["no-room"], 5.0)
        assert (addr, reply[1]) == ("/mage/error", "disk_full"), reply
        assert str(state) not in reply[2] and str(tmp_path) not in reply[2]  # the log names the file, not the reply
        filler.unlink()
        job = submit(c, "/mage/test/job", "room", "sleep", '{"seconds": 0.1}')
        assert wait_end(c, job, 10.0)[0] == "/mage/job/done"


# -- a restart tells how the jobs it failed ended ------------------------------------------------
def test_a_job_failed_as_interrupted_at_restart_is_told_to_its_client_and_the_subscribers(
        make_daemon: Callable[..., DaemonProc]) -> None:
    d = make_daemon()
    with d.client() as c, d.client() as sub:
        assert sub.request("/mage/subscribe", sub.port)[0] == "/mage/subscribed"
        job = submit(c, "/mage/test/job", "twice", "sleep", '{"seconds": 60, "steps": 600}')
        _wait_running(c, job)
        time.sleep(0.4)  # the subscription is on disk
        for attempt in range(2):
            os.kill(d.pid, signal.SIGKILL)
            d.wait(10.0)
            d.start()
            if attempt == 0:
                _wait_running(sub, job)  # re-queued once, running again, and the subscriber hears it
        seen_by_client = wait_end(c, job, 10.0)
        seen_by_sub = wait_end(sub, job, 10.0)
        for addr, reply in (seen_by_client, seen_by_sub):
            assert (addr, reply[1]) == ("/mage/job/failed", "interrupted"), reply
            assert reply[2].startswith("the daemon stopped while this job ran, 2 times")
        d.stop()
        d.start()  # told once: a later start does not tell it again
        assert c.recv(1.0) is None and sub.recv(0.2) is None


# -- staging folders -----------------------------------------------------------------------------
def test_staging_folders_go_after_a_worker_kill_a_cancel_and_a_daemon_kill(
        make_daemon: Callable[..., DaemonProc]) -> None:
    d = make_daemon()
    jobs = d.state_dir / "jobs"
    foreign = jobs / ".not-a-job.partial-x"  # something else's staging folder: left alone
    foreign.mkdir(parents=True)
    with d.client() as c:
        killed = submit(c, "/mage/test/job", "k", "sleep", '{"seconds": 30, "steps": 300}')
        _wait_running(c, killed)
        assert _staging(jobs) == {foreign.name, f".{killed}.partial-{killed}"}
        os.kill(d.worker_pids()[0], signal.SIGKILL)
        assert wait_end(c, killed, 10.0)[1][1] == "worker_crashed"
        assert _staging(jobs) == {foreign.name}

        cancelled = submit(c, "/mage/test/job", "c", "sleep", '{"seconds": 30, "steps": 300}')
        _wait_running(c, cancelled)
        c.send("/mage/job/cancel", cancelled)
        assert wait_end(c, cancelled, 10.0)[1][1] == "cancelled"
        deadline = time.monotonic() + 5.0
        while _staging(jobs) != {foreign.name} and time.monotonic() < deadline:
            time.sleep(0.05)  # gone once its worker has exited
        assert _staging(jobs) == {foreign.name}

        interrupted = submit(c, "/mage/test/job", "i", "sleep", '{"seconds": 30, "steps": 300}')
        _wait_running(c, interrupted)
    os.kill(d.pid, signal.SIGKILL)
    d.wait(10.0)
    assert f".{interrupted}.partial-{interrupted}" in _staging(jobs)
    d.start(timeout_s=20.0)
    with d.client() as c:
        deadline = time.monotonic() + 10.0
        while status(c, interrupted)[1] != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert status(c, interrupted)[1] == "running"
        assert "removed 1 staging folder(s)" in d.log()
        c.send("/mage/job/cancel", interrupted)
        deadline = time.monotonic() + 5.0
        while _staging(jobs) != {foreign.name} and time.monotonic() < deadline:
            time.sleep(0.05)
    assert _staging(jobs) == {foreign.name}


def test_failure_codes_name_a_full_disk_and_a_refused_permission() -> None:
    import sqlite3

    from mage_bridge.errors import InvalidInputError, failure_code

    nospace = OSError(errno.ENOSPC, "No space left on device")
    wrapped = InvalidInputError("cannot write into '/x'")
    wrapped.__cause__ = nospace
    cases: list[tuple[BaseException, str]] = [
        (nospace, "disk_full"), (wrapped, "disk_full"), (PermissionError(errno.EACCES, "Permission denied"),
                                                          "permission_denied"),
        (sqlite3.OperationalError("database or disk is full"), "disk_full"),
        (InvalidInputError("bad"), "invalid_input"), (MemoryError(), "out_of_memory"), (KeyError("x"), "internal"),
    ]
    for exc, code in cases:
        assert failure_code(exc) == code, exc
