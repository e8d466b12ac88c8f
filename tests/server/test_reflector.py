"""No reflector, no endless leases: remote senders prove their address before anything is sent to
them that is larger than what they sent, and subscriptions end unless renewed."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pythonosc.osc_message import OscMessage

from mage_bridge.config import Config, ServerConfig
from mage_bridge.server import osc
from mage_bridge.server.client import OscClient
from mage_bridge.server.daemon import Daemon
from mage_bridge.server.handshake import COOKIE_CHARS
from mage_bridge.server.osc import encode
from tests.server.conftest import DaemonProc, submit, wait_end

REMOTE = ("10.0.0.9", 5000)


class _RecordingSocket:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sent.append((data, addr))


def _remote_daemon(tmp_path: Path) -> tuple[Daemon, _RecordingSocket]:
    d = Daemon(Config(data_dir=tmp_path, state_dir=tmp_path / "s",
                      server=ServerConfig(host="0.0.0.0", allow_remote=True, allow_clients=("10.0.0.0/24",))))
    sock = _RecordingSocket()
    d._sock = sock  # type: ignore[assignment]
    return d, sock


def _replies(sock: _RecordingSocket) -> list[tuple[str, list[Any]]]:
    out = [(m.address, list(m.params)) for m in (OscMessage(data) for data, _ in sock.sent)]
    sock.sent.clear()
    return out


def _attacks() -> list[bytes]:
    """What a forged source might send: every request, small and large, and broken datagrams."""
    return [
        encode("/mage/ping", ""), encode("/mage/ping", "x" * 40),
        encode("/mage/generate", "r", "jazz blues in E minor"), encode("/mage/subscribe", 9000),
        encode("/mage/job/status", "0123456789ab"), encode("/mage/daw/context", 120.0, 4, 4, 0.0, "reaper"),
        encode("/mage/daw/replay", "reaper"), encode("/mage/trigger", 1), encode("/mage/verify", "short"),
        encode("/mage/verify", "0" * COOKIE_CHARS), encode("/mage/nope", "x" * 300),
        b"garbage", b"#bundle\x00" + bytes(8) + b"\x00\x00\x00\x10" + encode("/mage/ping", "y"),
    ]


def test_an_unproven_remote_sender_never_gets_more_than_it_sent_and_changes_nothing(tmp_path: Path) -> None:
    d, sock = _remote_daemon(tmp_path)
    for data in _attacks():
        d.datagram(data, REMOTE)
        for reply, addr in sock.sent:
            assert addr == REMOTE and len(reply) <= len(data), (data, reply)
        sock.sent.clear()
    assert len(d._subscribers) == 0 and d.daw_clients.get("reaper") is None


def test_the_handshake_proves_the_address_and_then_requests_are_served(tmp_path: Path) -> None:
    d, sock = _remote_daemon(tmp_path)
    d.datagram(encode("/mage/ping", "p"), REMOTE)
    assert _replies(sock) == []  # an error would be larger than the ping
    d.datagram(encode("/mage/verify", "x" * COOKIE_CHARS), REMOTE)
    [(address, [cookie])] = _replies(sock)
    assert address == "/mage/cookie" and len(cookie) == COOKIE_CHARS

    other = ("10.0.0.9", 5001)  # a cookie is for one address and port
    d.datagram(encode("/mage/verify", cookie), other)
    assert _replies(sock)[0][0] == "/mage/cookie"
    d.datagram(encode("/mage/ping", "p"), other)
    assert _replies(sock) == []

    d.datagram(encode("/mage/verify", cookie), REMOTE)
    assert _replies(sock) == [("/mage/verified", [600])]
    d.datagram(encode("/mage/ping", "p"), REMOTE)
    assert [a for a, _ in _replies(sock)] == ["/mage/pong"]


def test_a_proven_address_falls_quiet_and_must_prove_itself_again(tmp_path: Path) -> None:
    d, sock = _remote_daemon(tmp_path)
    clock = [1000.0]
    d.handshake._now = lambda: clock[0]  # type: ignore[method-assign]
    d.datagram(encode("/mage/verify", "x" * COOKIE_CHARS), REMOTE)
    [(_, [cookie])] = _replies(sock)
    clock[0] += 599.0  # the next period: a cookie of the last one still counts
    d.datagram(encode("/mage/verify", cookie), REMOTE)
    assert _replies(sock)[0][0] == "/mage/verified"
    clock[0] += 599.0
    d.datagram(encode("/mage/ping", "p"), REMOTE)  # heard: verified for another 600 s
    assert _replies(sock)[0][0] == "/mage/pong"
    clock[0] += 601.0
    d.datagram(encode("/mage/ping", "p"), REMOTE)
    assert _replies(sock) == []
    d.datagram(encode("/mage/verify", cookie), REMOTE)  # two periods old: refused, a new one offered
    assert _replies(sock)[0][0] == "/mage/cookie"


def _local_ipv4() -> str | None:
    """This machine's address on a non-loopback interface, or None where it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent, only a route looked up
            host = s.getsockname()[0]
        except OSError:
            return None
    return None if host.startswith("127.") or host == "0.0.0.0" else host


def test_over_a_real_interface_a_forged_looking_sender_gets_no_amplification(
        make_daemon: Callable[..., DaemonProc]) -> None:
    host = _local_ipv4()
    if host is None:
        pytest.skip("this machine has no non-loopback IPv4 address to send from")
    d = make_daemon(server={"host": "0.0.0.0", "allow_remote": True, "allow_clients": [host]})
    with OscClient(host, d.port, bind_host=host) as c:
        sizes = []
        for data in _attacks():
            c.send_raw(data)
            while (got := c.recv(0.3)) is not None:
                sizes.append((len(data), len(encode(got[0], *got[1]))))
        assert all(reply <= sent for sent, reply in sizes), sizes
        c.send("/mage/verify", "x" * COOKIE_CHARS)
        addr, (cookie,) = c.wait_for(lambda a, p: a == "/mage/cookie", 3.0)
        c.send("/mage/verify", cookie)
        assert c.wait_for(lambda a, p: True, 3.0) == ("/mage/verified", [600])
        job = submit(c, "/mage/test/job", "remote", "sleep", '{"seconds": 0.1}')
        assert wait_end(c, job, 10.0)[0] == "/mage/job/done"
    assert f"{host}:" in d.log() and "proved its address" in d.log()


# -- subscription leases -------------------------------------------------------------------------
def test_a_subscription_not_renewed_ends_and_says_so(make_daemon: Callable[..., DaemonProc]) -> None:
    d = make_daemon(server={"subscription_lease_s": 2})
    with d.client() as c, d.client() as sub, d.client() as renewing:
        assert sub.request("/mage/subscribe", sub.port) == ("/mage/subscribed", [sub.port, 2])
        assert renewing.request("/mage/subscribe", renewing.port)[0] == "/mage/subscribed"
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:  # one renews every second; the other stays silent
            renewing.request("/mage/subscribe", renewing.port)
            time.sleep(1.0)
        assert sub.wait_for(lambda a, p: a == "/mage/unsubscribed", 2.0)[1] == [sub.port]
        job = submit(c, "/mage/test/job", "after", "sleep", '{"seconds": 0.1}')
        assert wait_end(renewing, job, 10.0)[0] == "/mage/job/done"
        assert sub.recv(0.5) is None  # the ended lease hears nothing more
        leases = json.loads((d.state_dir / "subscribers.json").read_text())
        assert [[h, p] for h, p, _ in leases] == [["127.0.0.1", renewing.port]]
        assert f"subscription of 127.0.0.1:{sub.port} ended" in d.log()


def test_leases_survive_a_restart_until_they_end(make_daemon: Callable[..., DaemonProc]) -> None:
    d = make_daemon(server={"subscription_lease_s": 60})
    with d.client() as sub:
        assert sub.request("/mage/subscribe", sub.port)[0] == "/mage/subscribed"
        time.sleep(1.2)  # written on the next tick
        path = d.state_dir / "subscribers.json"
        [[host, port, until]] = json.loads(path.read_text())
        assert (host, port) == ("127.0.0.1", sub.port) and 55 < until - time.time() <= 60
        d.stop()
        path.write_text(json.dumps([[host, port, until], ["127.0.0.1", 9, time.time() - 1], ["127.0.0.1", 10]]))
        d.start()
        assert "1 subscriber(s) kept from before the restart" in d.log()
        with d.client() as c:
            job = submit(c, "/mage/test/job", "told", "sleep", '{"seconds": 0.1}')
            assert wait_end(sub, job, 10.0)[0] == "/mage/job/done"


def test_unsubscribed_and_verified_are_reply_addresses() -> None:
    assert {"/mage/cookie", "/mage/verified", "/mage/unsubscribed"} <= osc.REPLY_ADDRESSES
