"""The OSC door of a real daemon process: replies, errors, bundles, subscriptions, jobs."""

from __future__ import annotations

import json
import struct
import time
from typing import Any

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from mage_bridge import __version__
from mage_bridge.server import osc
from mage_bridge.server.client import OscClient
from tests.server.conftest import DONE_OR_FAILED, DaemonProc, free_port, status, submit, wait_end


def test_ping_round_trip_on_the_port_given(make_daemon: Any) -> None:
    port = free_port()
    d = make_daemon(port=port)
    assert d.port == port
    with d.client() as c:
        t0 = time.perf_counter()
        addr, args = c.request("/mage/ping", "abc")
        elapsed = time.perf_counter() - t0
    assert (addr, args) == ("/mage/pong", ["abc", __version__])
    assert elapsed < 0.5
    assert f"listening on 127.0.0.1:{port}" in d.log()


def _blob_msg(address: str, *args: Any) -> tuple[str, tuple[Any, ...]]:
    return address, args


WRONG = [
    pytest.param("/mage/nope", ("r1",), "unknown_address", id="unknown-address"),
    pytest.param("/mage/ping", (), "bad_arguments", id="ping-missing"),
    pytest.param("/mage/ping", ("r1", "extra"), "bad_arguments", id="ping-extra"),
    pytest.param("/mage/ping", (5,), "bad_arguments", id="ping-int-id"),
    pytest.param("/mage/generate", ("r1",), "bad_arguments", id="generate-missing-prompt"),
    pytest.param("/mage/generate", ("r1", 3.5), "bad_arguments", id="generate-float-prompt"),
    pytest.param("/mage/generate", ("r1", "p", "", "{}", "x"), "bad_arguments", id="generate-extra"),
    pytest.param("/mage/generate", ("r1", "p", "", "{not json"), "bad_json", id="generate-bad-json"),
    pytest.param("/mage/generate", ("r1", "p", "", "[1, 2]"), "bad_json", id="generate-json-not-object"),
    pytest.param("/mage/generate", ("r1", "   "), "invalid_input", id="generate-empty-prompt"),
    pytest.param("/mage/generate", ("r1", "x" * 5000), "invalid_input", id="generate-huge-prompt"),
    pytest.param("/mage/generate", ("r1", "p", "", '{"seed": -4}'), "invalid_input", id="generate-bad-seed"),
    pytest.param("/mage/separate", ("r1",), "bad_arguments", id="separate-missing-path"),
    pytest.param("/mage/job/status", ("nope",), "not_found", id="status-unknown-job"),
    pytest.param("/mage/job/cancel", ("nope",), "not_found", id="cancel-unknown-job"),
    pytest.param("/mage/job/cancel", (), "bad_arguments", id="cancel-missing"),
    pytest.param("/mage/subscribe", ("9000",), "bad_arguments", id="subscribe-string-port"),
    pytest.param("/mage/subscribe", (70000,), "bad_arguments", id="subscribe-port-range"),
    pytest.param("/mage/trigger", (1.5,), "bad_arguments", id="trigger-float"),
    pytest.param("/mage/trigger", (3,), "not_found", id="trigger-no-preset"),
    pytest.param("/mage/daw/context", (120.0, 4, 4), "bad_arguments", id="context-missing"),
    pytest.param("/mage/daw/context", (120.0, 4, 3, 0.0), "invalid_input", id="context-bad-metre"),
    pytest.param("/mage/live/launch", ("r1", "no-such-clip"), "not_found", id="live-unknown-clip"),
    pytest.param("/mage/live/launch", ("r1", "../up"), "invalid_input", id="live-clip-id-climbs"),
    pytest.param("/mage/live/next", ("r1",), "invalid_input", id="live-next-without-order"),
    pytest.param("/mage/live/tempo", ("r1", 5.0), "invalid_input", id="live-tempo-range"),
]


@pytest.mark.parametrize("address,args,code", WRONG)
def test_wrong_requests_get_an_error_with_the_request_id(client: OscClient, address: str,
                                                         args: tuple[Any, ...], code: str) -> None:
    client.send(address, *args)
    addr, reply = client.wait_for(lambda a, p: True, 5.0)
    assert addr == "/mage/error"
    assert reply[1] == code, reply
    assert isinstance(reply[2], str) and reply[2]
    if args and isinstance(args[0], str) and address != "/mage/subscribe":
        assert reply[0] == args[0][:128]


def test_blob_and_boolean_arguments_are_wrong_types(client: OscClient) -> None:
    b = OscMessageBuilder("/mage/ping")
    b.add_arg(b"\x01\x02", "b")
    client.send_raw(b.build().dgram)
    b = OscMessageBuilder("/mage/generate")
    b.add_arg("r9", "s")
    b.add_arg(True, "T")
    client.send_raw(b.build().dgram)
    got = [client.wait_for(lambda a, p: True, 5.0) for _ in range(2)]
    assert [g[1][1] for g in got] == ["bad_arguments", "bad_arguments"]
    assert "blob" in got[0][1][2] and "boolean" in got[1][1][2]
    assert got[1][1][0] == "r9"


def test_malformed_datagrams_get_an_error(client: OscClient) -> None:
    for data in (b"", b"garbage", b"/mage/ping\x00\x00,s\x00\x00", b"#bundle\x00\x00\x00"):
        client.send_raw(data)
        addr, reply = client.wait_for(lambda a, p: True, 5.0)
        assert (addr, reply[0], reply[1]) == ("/mage/error", "", "malformed")
    assert client.ping()


def _msg(address: str, *args: str) -> Any:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a, "s")
    return b.build()


def test_bundles_and_nested_bundles_are_answered_message_by_message(client: OscClient) -> None:
    inner = OscBundleBuilder(IMMEDIATELY)
    inner.add_content(_msg("/mage/ping", "inner"))
    inner.add_content(_msg("/mage/what", "bad"))
    deeper = OscBundleBuilder(IMMEDIATELY)
    deeper.add_content(_msg("/mage/ping", "deepest"))
    inner.add_content(deeper.build())
    outer = OscBundleBuilder(IMMEDIATELY)
    outer.add_content(_msg("/mage/ping", "outer"))
    outer.add_content(inner.build())
    client.send_raw(outer.build().dgram)
    got = [client.wait_for(lambda a, p: True, 5.0) for _ in range(4)]
    assert sorted((a, p[0]) for a, p in got) == [
        ("/mage/error", "bad"), ("/mage/pong", "deepest"), ("/mage/pong", "inner"), ("/mage/pong", "outer")]


def _bundle_of(*elements: bytes, sizes: tuple[int, ...] = ()) -> bytes:
    """A bundle whose element sizes may lie: ``sizes`` overrides the size field of each element."""
    body = b"".join(struct.pack(">i", sizes[i] if i < len(sizes) else len(e)) + e for i, e in enumerate(elements))
    return b"#bundle\x00" + struct.pack(">Q", 1) + body


def test_bundle_with_a_broken_element_is_refused_whole(client: OscClient) -> None:
    ping = _msg("/mage/ping", "in-bundle").dgram
    broken = {
        "zero-size": _bundle_of(ping, b"", sizes=(len(ping), 0)),
        "garbage": _bundle_of(ping, b"garbage!"),
        "size-minus-4": _bundle_of(ping, sizes=(-4,)),  # python-osc's own parser never returns from this
        "size-too-large": _bundle_of(ping, sizes=(len(ping) + 64,)),
        "trailing-bytes": _bundle_of(ping) + b"\x01\x02",
    }
    for name, data in broken.items():
        client.send_raw(data)
        addr, reply = client.wait_for(lambda a, p: True, 5.0)
        assert (addr, reply[0], reply[1]) == ("/mage/error", "", "malformed"), name
        assert "bundle element" in reply[2], name
    assert client.ping()


def test_large_datagram_is_read_whole(client: OscClient) -> None:
    lyrics = "la " * 5000  # ~15 kB: beyond python-osc's default 8192-byte server buffer
    client.send("/mage/generate", "big", "", lyrics)
    addr, reply = client.wait_for(lambda a, p: True, 5.0)
    assert (addr, reply[0], reply[1]) == ("/mage/error", "big", "invalid_input")
    assert "prompt" in reply[2]


def test_sleep_job_reports_progress_then_done_to_client_and_subscriber(daemon: DaemonProc) -> None:
    with daemon.client() as c, OscClient("127.0.0.1", daemon.port) as sub:
        sub.send("/mage/subscribe", sub.port)
        assert sub.wait_for(lambda a, p: True, 5.0) == ("/mage/subscribed", [sub.port, 600])
        job = submit(c, "/mage/test/job", "req-1", "sleep", json.dumps({"seconds": 0.4, "steps": 4}))
        seen: list[Any] = []
        addr, reply = wait_end(c, job, 10.0, seen)
        assert addr == "/mage/job/done"
        manifest = reply[1]
        assert json.loads(open(manifest).read())["kind"] == "sleep"
        progress = [p for a, p in seen if a == "/mage/job/progress"]
        assert progress[0][1:] == ["started", 0.0]
        fractions = [p[2] for p in progress if p[1] == "sleep"]
        assert fractions == sorted(fractions) and fractions[-1] == 1.0
        sub_seen: list[Any] = []
        wait_end(sub, job, 5.0, sub_seen)
        assert ("/mage/job/accepted", ["req-1", job]) in sub_seen
        assert status(c, job)[:2] == [job, "done"] and status(c, job)[4] == manifest


def test_cancel_a_running_and_a_queued_job(daemon: DaemonProc, client: OscClient) -> None:
    running = submit(client, "/mage/test/job", "a", "sleep", '{"seconds": 30, "steps": 300}')
    queued = submit(client, "/mage/test/job", "b", "sleep", '{"seconds": 30}')
    client.wait_for(lambda a, p: a == "/mage/job/progress" and p[:2] == [running, "sleep"], 10.0)
    assert status(client, running)[1] == "running"
    assert status(client, queued)[1] == "queued"
    for job in (queued, running):
        client.send("/mage/job/cancel", job)
        addr, reply = wait_end(client, job, 5.0)
        assert (addr, reply[1]) == ("/mage/job/failed", "cancelled")
        assert status(client, job)[1] == "cancelled"
    client.send("/mage/job/cancel", running)
    assert client.wait_for(lambda a, p: a == "/mage/error", 5.0)[1][:2] == [running, "not_cancellable"]
    # the worker that ran the cancelled job stopped it and runs the next one
    job = submit(client, "/mage/test/job", "c", "sleep", '{"seconds": 0.1}')
    assert wait_end(client, job, 15.0)[0] == "/mage/job/done"


def test_queue_full_and_rate_limit(make_daemon: Any) -> None:
    d = make_daemon(server={"max_queue": 3, "rate_burst": 6, "rate_per_minute": 60})
    with d.client() as c:
        codes = []
        for i in range(8):
            c.send("/mage/test/job", f"q{i}", "sleep", '{"seconds": 30}')
            addr, reply = c.wait_for(lambda a, p: a in ("/mage/job/accepted", "/mage/error"), 5.0)
            codes.append("accepted" if addr == "/mage/job/accepted" else reply[1])
        # one runs, three wait, then the queue is full; after six requests the bucket is empty
        assert codes == ["accepted"] * 4 + ["queue_full"] * 2 + ["rate_limited"] * 2, codes
        assert c.ping()


def test_daw_context_is_acknowledged_and_recorded(daemon: DaemonProc, client: OscClient) -> None:
    client.send("/mage/daw/context", 128, 6, 8, 12.5)  # an int bpm is accepted as a float
    assert client.wait_for(lambda a, p: True, 5.0) == ("/mage/daw/context/ack", [128.0, 6, 8, 12.5])
    job = submit(client, "/mage/test/job", "ctx", "sleep", '{"seconds": 0}')
    wait_end(client, job, 10.0)
    from mage_bridge.server.jobs import JobStore

    store = JobStore(daemon.state_dir / "jobs.sqlite3")
    try:
        assert store.get(job).params["daw_context"]["bpm"] == 128.0
    finally:
        store.close()


def test_encode_round_trips_through_python_osc() -> None:
    from pythonosc.osc_message import OscMessage

    m = OscMessage(osc.encode("/a/b", "héllo", 3, 1.5, ""))
    assert (m.address, m.params) == ("/a/b", ["héllo", 3, 1.5, ""])


def test_two_workers_run_two_jobs_at_once(make_daemon: Any) -> None:
    d = make_daemon(server={"workers": 2})
    with d.client() as c:
        jobs = [submit(c, "/mage/test/job", f"w{i}", "sleep", '{"seconds": 6, "steps": 60}') for i in range(2)]
        for job in jobs:
            c.wait_for(lambda a, p, job=job: a == "/mage/job/progress" and p[:2] == [job, "sleep"], 20.0)
        assert [status(c, j)[1] for j in jobs] == ["running", "running"]
        assert len(d.worker_pids()) == 2
        ends: dict[str, str] = {}  # the two jobs end in either order: collect both in one loop

        def both_ended(address: str, args: list[Any]) -> bool:
            if address in DONE_OR_FAILED and args and args[0] in jobs:
                ends[args[0]] = address
            return len(ends) == 2

        c.wait_for(both_ended, 20.0)
        assert ends == {job: "/mage/job/done" for job in jobs}


def test_replies_sent_to_the_daemon_are_not_answered(daemon: DaemonProc, client: OscClient) -> None:
    client.send("/mage/subscribe", daemon.port)
    assert client.wait_for(lambda a, p: True, 5.0)[1][1] == "bad_arguments"
    for address in ("/mage/error", "/mage/pong", "/mage/job/done"):
        client.send(address, "x", "y")
    assert client.recv(0.3) is None
    assert client.ping()
