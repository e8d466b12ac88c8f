"""Cooperative cancel: the worker stops its job at the next progress call and stays alive for the next one."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mage_bridge.errors import CancelledError
from mage_bridge.server.workers import CANCEL_GRACE_S, PROGRESS_INTERVAL_S, _Reporter
from tests.server.conftest import DaemonProc, submit, wait_end


def _staging(jobs: Path) -> set[str]:
    return {p.name for p in jobs.glob(".*.partial-*")} if jobs.exists() else set()


def _running(c: Any, job: str) -> None:
    c.wait_for(lambda a, p: a == "/mage/job/progress" and p[:2] == [job, "sleep"], 10.0)


def test_a_cancelled_job_stops_and_its_worker_runs_the_next_one(make_daemon: Callable[..., DaemonProc]) -> None:
    d = make_daemon()
    jobs = d.state_dir / "jobs"
    with d.client() as c:
        before = d.worker_pids()
        assert len(before) == 1
        job = submit(c, "/mage/test/job", "a", "sleep", '{"seconds": 30, "steps": 300}')
        _running(c, job)
        assert _staging(jobs) == {f".{job}.partial-{job}"}
        c.send("/mage/job/cancel", job)
        seen: list[tuple[str, list[Any]]] = []
        addr, reply = wait_end(c, job, 5.0, seen)
        assert (addr, reply[1:]) == ("/mage/job/failed", ["cancelled", "cancelled by request"])
        nxt = submit(c, "/mage/test/job", "b", "sleep", '{"seconds": 0.2, "steps": 2}')
        addr, done = wait_end(c, nxt, 10.0, seen)
        assert addr == "/mage/job/done"
        import json

        # the same worker process ran it: no new spawn, so a warm model would still be loaded
        assert json.loads(Path(done[1]).read_text())["pid"] == before[0]
        assert d.worker_pids() == before
        assert _staging(jobs) == set()
        # exactly one end of the cancelled job, and no progress of it after its end
        ends = [(a, p) for a, p in seen if a in ("/mage/job/done", "/mage/job/failed") and p[0] == job]
        assert len(ends) == 1
        assert c.recv(0.5) is None
    assert "ending worker" not in d.log()


def test_a_job_that_never_reports_progress_is_ended_after_the_grace_time(
        make_daemon: Callable[..., DaemonProc]) -> None:
    d = make_daemon()
    jobs = d.state_dir / "jobs"
    with d.client() as c:
        before = d.worker_pids()
        job = submit(c, "/mage/test/job", "a", "sleep", '{"seconds": 60, "steps": 1}')  # one report, at its start
        _running(c, job)
        c.send("/mage/job/cancel", job)
        started = time.monotonic()
        addr, reply = wait_end(c, job, 5.0)
        assert (addr, reply[1]) == ("/mage/job/failed", "cancelled")  # told at once, not after the grace time
        deadline = started + CANCEL_GRACE_S + 10.0
        while (d.worker_pids() == before or not d.worker_pids()) and time.monotonic() < deadline:
            time.sleep(0.1)
        waited = time.monotonic() - started
        assert d.worker_pids() and d.worker_pids() != before
        assert waited >= CANCEL_GRACE_S - 0.5
        while _staging(jobs) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _staging(jobs) == set()
        nxt = submit(c, "/mage/test/job", "b", "sleep", '{"seconds": 0.1, "steps": 1}')
        assert wait_end(c, nxt, 15.0)[0] == "/mage/job/done"
        assert c.recv(0.5) is None  # the killed worker's exit told nothing more about the cancelled job
    assert "did not stop within" in d.log()


# -- the progress reporter ------------------------------------------------------------------------
def _sent(steps: int, *, stages: tuple[str, ...] = ("diffuse",)) -> list[tuple[Any, ...]]:
    ours, theirs = multiprocessing.Pipe(duplex=True)
    report = _Reporter(theirs, "j")
    for stage in stages:
        for i in range(steps + 1):
            report(stage, i / steps)
    out = []
    while ours.poll():
        out.append(ours.recv())
    return out


def test_every_step_of_a_hundred_step_loop_arrives() -> None:
    sent = _sent(100)
    assert [m[3] for m in sent] == [i / 100 for i in range(101)]


def test_a_thousand_step_loop_is_thinned_to_one_message_per_percent() -> None:
    started = time.monotonic()
    sent = _sent(1000)
    if time.monotonic() - started > PROGRESS_INTERVAL_S:
        pytest.skip("the loop took longer than the interval on this machine")
    fractions = [m[3] for m in sent]
    assert 100 <= len(fractions) <= 102
    assert fractions[-1] == 1.0
    assert all(b - a >= 0.01 - 1e-9 for a, b in zip(fractions, fractions[1:]))


def test_a_stage_change_goes_through() -> None:
    sent = _sent(3, stages=("a", "b"))
    assert [(m[2], m[3]) for m in sent] == [("a", 0.0), ("a", 1 / 3), ("a", 2 / 3), ("a", 1.0),
                                            ("b", 0.0), ("b", 1 / 3), ("b", 2 / 3), ("b", 1.0)]


def test_a_set_cancel_event_raises_at_the_next_call() -> None:
    ours, theirs = multiprocessing.Pipe(duplex=True)
    event = multiprocessing.get_context("spawn").Event()
    report = _Reporter(theirs, "j", event)
    report("diffuse", 0.5)
    event.set()
    with pytest.raises(CancelledError):
        report("diffuse", 0.6)
    assert ours.recv() == ("progress", "j", "diffuse", 0.5) and not ours.poll()
