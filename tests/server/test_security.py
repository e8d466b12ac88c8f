"""Path confinement, the client allowlist, the rate limit and the bind rules."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mage_bridge.config import Config, ServerConfig
from mage_bridge.errors import ConfigError, PathNotAllowedError
from mage_bridge.server.daemon import Daemon
from mage_bridge.server.jobs import JobStore
from mage_bridge.server.security import ClientAllowlist, PathGuard, RateLimiter, is_loopback_host
from tests.server.conftest import DaemonProc, submit, wait_end


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path, Path]:
    data, extra, outside = tmp_path / "data", tmp_path / "extra", tmp_path / "outside"
    for d in (data, extra, outside):
        d.mkdir()
    (data / "ok.wav").write_bytes(b"x")
    (extra / "also.wav").write_bytes(b"x")
    (outside / "secret.wav").write_bytes(b"secret")
    (data / "link-out.wav").symlink_to(outside / "secret.wav")
    (data / "dir-link").symlink_to(outside)
    (outside / "link-in.wav").symlink_to(data / "ok.wav")
    return data, extra, outside


def test_paths_inside_roots_resolve(roots: tuple[Path, Path, Path]) -> None:
    data, extra, outside = roots
    guard = PathGuard([data, extra])
    assert guard.resolve_file(data / "ok.wav") == (data / "ok.wav").resolve()
    assert guard.resolve_file("ok.wav") == (data / "ok.wav").resolve()  # relative to the first root
    assert guard.resolve_file(str(extra / "also.wav")) == (extra / "also.wav").resolve()
    assert guard.resolve_file(outside / "link-in.wav") == (data / "ok.wav").resolve()  # target is inside


@pytest.mark.parametrize("path", [
    "../../etc/passwd", "/etc/passwd", "../outside/secret.wav", "link-out.wav", "dir-link/secret.wav",
    "ok.wav/../../outside/secret.wav", "", "~/.ssh/id_rsa", "/proc/self/environ",
], ids=["dotdot", "absolute", "sibling", "file-symlink-out", "dir-symlink-out", "mixed", "empty", "home", "proc"])
def test_paths_outside_roots_are_refused(roots: tuple[Path, Path, Path], path: str) -> None:
    data, extra, _ = roots
    with pytest.raises(PathNotAllowedError) as e:
        PathGuard([data, extra]).resolve_file(path)
    assert e.value.code == "path_not_allowed"


def test_allowlist_and_loopback() -> None:
    allow = ClientAllowlist(["192.168.1.0/24", "10.0.0.7"])
    assert allow.allows("127.0.0.1") and allow.allows("::1")
    assert allow.allows("192.168.1.77") and allow.allows("10.0.0.7")
    assert not allow.allows("10.0.0.8") and not allow.allows("8.8.8.8") and not allow.allows("junk")
    assert not ClientAllowlist().allows("192.168.1.2")
    with pytest.raises(ConfigError):
        ClientAllowlist(["not-an-address"])
    assert is_loopback_host("localhost") and is_loopback_host("127.0.0.2") and not is_loopback_host("0.0.0.0")


def test_rate_limiter_bursts_then_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=3, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # another host has its own bucket
    now[0] += 1.0
    assert limiter.allow("a") and not limiter.allow("a")


@pytest.mark.parametrize("server", [
    ServerConfig(host="0.0.0.0"),
    ServerConfig(host="0.0.0.0", allow_remote=True),
    ServerConfig(host="0.0.0.0", allow_clients=("192.168.1.0/24",)),
], ids=["nothing", "no-allowlist", "no-explicit-option"])
def test_a_non_loopback_bind_needs_the_option_and_an_allowlist(tmp_path: Path, server: ServerConfig) -> None:
    with pytest.raises(ConfigError, match="allow_remote"):
        Daemon(Config(data_dir=tmp_path, state_dir=tmp_path / "s", server=server))
    Daemon(Config(data_dir=tmp_path, state_dir=tmp_path / "s",
                  server=ServerConfig(host="0.0.0.0", allow_remote=True, allow_clients=("10.0.0.0/8",))))


def test_traversal_over_osc_is_refused_and_nothing_is_queued(make_daemon: Any, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.wav"
    secret.write_bytes(b"secret")
    d: DaemonProc = make_daemon(start=False)
    d.data_dir.mkdir(parents=True)
    (d.data_dir / "link.wav").symlink_to(secret)
    (d.data_dir / "dir").symlink_to(outside)
    d.start()
    before = os.stat(secret)
    attempts = ["../../etc/passwd", "/etc/passwd", str(secret), "link.wav", "dir/secret.wav",
                str(d.data_dir / ".." / "outside" / "secret.wav"), "/proc/self/cmdline"]
    with d.client() as c:
        for i, path in enumerate(attempts):
            for kind in ("separate", "enhance", "master"):
                addr, reply = c.request(f"/mage/{kind}", f"t{i}{kind}", path, "")
                assert (addr, reply[1]) == ("/mage/error", "path_not_allowed"), (path, reply)
    store = JobStore(d.state_dir / "jobs.sqlite3")
    try:
        assert store.list() == []
    finally:
        store.close()
    after = os.stat(secret)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.wav"]
    assert "refused /mage/separate" in d.log()


class _RecordingSocket:
    """Stands in for the daemon's UDP socket so no datagram leaves the machine."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sent.append((data, addr))


def test_clients_outside_the_allowlist_are_dropped_and_logged(tmp_path: Path, caplog: Any) -> None:
    from mage_bridge.server import osc

    d = Daemon(Config(data_dir=tmp_path, state_dir=tmp_path / "s",
                      server=ServerConfig(host="0.0.0.0", allow_remote=True, allow_clients=("10.0.0.0/24",))))
    sock = _RecordingSocket()
    d._sock = sock  # type: ignore[assignment]
    ping = osc.encode("/mage/ping", "x")
    with caplog.at_level("WARNING", logger="mage_bridge.server"):
        d.datagram(ping, ("192.168.7.7", 5000))
        d.datagram(ping, ("192.168.7.7", 5001))
    assert sock.sent == []
    assert "dropped 1 datagram(s) from 192.168.7.7: not in server.allow_clients" in caplog.text
    d.datagram(ping, ("127.0.0.1", 5000))
    assert [addr for _, addr in sock.sent] == [("127.0.0.1", 5000)]
    sock.sent.clear()
    d.datagram(ping, ("10.0.0.9", 5000))  # allowed, but its address is unproven: see the handshake tests
    assert sock.sent == []


def test_a_refusal_over_osc_names_the_path_as_sent_and_only_the_log_has_the_details(make_daemon: Any,
                                                                                   tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.wav").write_bytes(b"secret")
    d: DaemonProc = make_daemon(start=False)
    d.data_dir.mkdir(parents=True)
    (d.data_dir / "link.wav").symlink_to(outside / "secret.wav")
    d.start()
    with d.client() as c:
        for i, path in enumerate(["link.wav", "/etc/passwd", "../outside/secret.wav"]):
            addr, reply = c.request("/mage/master", f"r{i}", path, "")
            assert (addr, reply[1]) == ("/mage/error", "path_not_allowed")
            assert reply[2] == f"path {path!r} is outside the folders this daemon may read (see its log)"
            for secret in (str(tmp_path), str(d.state_dir), str(d.data_dir), str(d.pid)):
                assert secret not in reply[2]
    log = d.log()
    assert f"refused path 'link.wav': it resolves to {str(outside / 'secret.wav')!r}" in log
    assert str(d.data_dir) in log and str(d.state_dir / "jobs") in log  # the allowed folders, in the log


def test_a_job_failure_names_the_input_as_sent_not_its_symlink_target(make_daemon: Any) -> None:
    d: DaemonProc = make_daemon(start=False)
    hidden = d.data_dir / "private-folder"
    hidden.mkdir(parents=True)
    (hidden / "not-audio.wav").write_bytes(b"this is no audio")
    (d.data_dir / "take.wav").symlink_to(hidden / "not-audio.wav")
    d.start()
    with d.client() as c:
        job = submit(c, "/mage/master", "bad-audio", "take.wav", "")
        addr, reply = wait_end(c, job, 60.0)
    assert addr == "/mage/job/failed", reply
    assert "take.wav" in reply[2] and "private-folder" not in reply[2] and str(d.root) not in reply[2], reply[2]
