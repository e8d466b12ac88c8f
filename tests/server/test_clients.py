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


def test_only_the_sender_or_the_users_cli_may_cancel_or_ask_about_a_job(daemon: DaemonProc) -> None:
    token = json.loads((daemon.state_dir / "daemon.json").read_text())["token"]
    assert (daemon.state_dir / "daemon.json").stat().st_mode & 0o077 == 0  # the user's alone
    with daemon.client() as owner, daemon.client() as other:
        job = submit(owner, "/mage/test/job", "own-1", "sleep", json.dumps({"seconds": 10}))
        for address in ("/mage/job/cancel", "/mage/job/status"):
            addr, reply = other.request(address, job, timeout_s=5.0)
            assert addr == "/mage/error" and reply[:2] == [job, "not_owner"], reply
            addr, reply = other.request(address, job, "not-the-token", timeout_s=5.0)
            assert reply[:2] == [job, "not_owner"]
        assert other.request("/mage/job/status", job, token, timeout_s=5.0)[0] == "/mage/job/status"
        assert owner.request("/mage/job/status", job, timeout_s=5.0)[0] == "/mage/job/status"
        addr, reply = owner.request("/mage/job/cancel", job, timeout_s=5.0)
        assert (addr, reply[:2]) == ("/mage/job/failed", [job, "cancelled"])


def test_a_daws_job_is_the_daws_from_the_address_that_holds_its_id(daemon: DaemonProc) -> None:
    with daemon.client() as listener, daemon.client() as action, daemon.client() as other:
        listener.request("/mage/daw/context", 120.0, 4, 4, 0.0, "reaper", "p1", timeout_s=5.0)
        daw = json.dumps({"seconds": 10, "daw": {"client_id": "reaper"}})
        job = submit(action, "/mage/test/job", "daw-1", "sleep", daw)  # an action's own one-shot socket
        assert other.request("/mage/job/cancel", job, timeout_s=5.0)[1][:2] == [job, "not_owner"]
        listener.send("/mage/job/cancel", job)  # the Listener holds "reaper": it may
        addr, reply = listener.wait_for(lambda a, p: a == "/mage/job/failed" and p[0] == job, 5.0)
        assert reply[1] == "cancelled"
