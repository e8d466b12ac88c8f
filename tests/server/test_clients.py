"""Clients of the daemon, one by one: retries are one job, limits are per client, a DAW keeps its places."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from mage_bridge.server.client import OscClient
from tests.server.conftest import DaemonProc, submit, wait_end


def _jobs(d: DaemonProc) -> int:
    with sqlite3.connect(d.state_dir / "jobs.sqlite3") as db:
        return int(db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])


def _code(c: OscClient, req_id: str, *args: Any) -> str:
    addr, reply = c.request("/mage/test/job", req_id, *args, timeout_s=5.0)
    return "accepted" if addr == "/mage/job/accepted" else str(reply[1])


def test_a_retried_request_is_answered_with_the_same_job_and_its_state(daemon: DaemonProc) -> None:
    with daemon.client() as c:
        first = submit(c, "/mage/test/job", "retry-1", "sleep", json.dumps({"seconds": 0.2}))
        addr, reply = c.request("/mage/test/job", "retry-1", "sleep", json.dumps({"seconds": 0.2}), timeout_s=5.0)
        assert addr == "/mage/job/accepted" and reply[:2] == ["retry-1", first] and reply[2] in ("queued", "running")
        wait_end(c, first)
        addr, reply = c.request("/mage/test/job", "retry-1", "sleep", json.dumps({"seconds": 0.2}), timeout_s=5.0)
        assert reply == ["retry-1", first, "done"]
        with daemon.client() as other:  # another app's "retry-1" is its own request
            assert submit(other, "/mage/test/job", "retry-1", "sleep", json.dumps({"seconds": 0.05})) != first
    assert _jobs(daemon) == 2


def test_a_flooding_app_is_limited_alone(make_daemon: Any) -> None:
    d = make_daemon(server={"rate_burst": 3, "rate_per_minute": 1, "max_queue": 16, "max_queue_per_client": 8})
    with d.client() as flood, d.client() as app, d.client() as reaper:
        codes = [_code(flood, f"f{i}", "sleep", json.dumps({"seconds": 5})) for i in range(5)]
        assert codes == ["accepted"] * 3 + ["rate_limited"] * 2
        # the same machine, another app (another port): its own budget
        assert _code(app, "a1", "sleep", json.dumps({"seconds": 0.05})) == "accepted"
        daw = json.dumps({"seconds": 0.05, "daw": {"client_id": "reaper"}})
        assert _code(reaper, "d1", "sleep", daw) == "accepted"


def test_a_daw_finds_a_place_in_a_queue_other_apps_filled(make_daemon: Any) -> None:
    d = make_daemon(server={"max_queue": 16, "max_queue_per_client": 16, "rate_burst": 100})
    with d.client() as blocker:
        submit(blocker, "/mage/test/job", "busy", "sleep", json.dumps({"seconds": 30}))  # holds the worker
        apps = [d.client() for _ in range(4)]
        try:
            codes = [_code(apps[i % 4], f"f{i}", "sleep", json.dumps({"seconds": 1})) for i in range(20)]
        finally:
            for a in apps:
                a.close()
    assert codes.count("accepted") == 14 and codes[14:] == ["queue_full"] * 6  # 16 - 16 // 8 places for apps
    with d.client() as reaper:
        daw = json.dumps({"seconds": 0.05, "daw": {"client_id": "reaper"}})
        assert [_code(reaper, f"d{i}", "sleep", daw) for i in range(3)] == ["accepted", "accepted", "queue_full"]
