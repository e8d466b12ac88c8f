"""A small blocking OSC client for the CLI, benchmarks and tests."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from pythonosc.osc_message import OscMessage, ParseError

from mage_bridge.errors import MageError
from mage_bridge.server import osc


class DaemonTimeoutError(MageError, TimeoutError):
    """The daemon did not answer in time (is ``mage-bridge serve`` running on that port?)."""

    code = "timeout"


class DaemonUnreachableError(MageError, ConnectionError):
    """Nothing answers on the daemon's address: no ``mage-bridge serve`` there, or another port."""

    code = "no_daemon"


def check_daemon(host: str = "127.0.0.1", port: int = 9137, *, timeout_s: float = 1.0) -> str:
    """The version of the daemon on ``host:port``, or :class:`DaemonUnreachableError` within ``timeout_s``.

    The ping goes out on a *connected* UDP socket: when no socket listens on that
    port, the kernel's ICMP port-unreachable comes back to it as ``ECONNREFUSED``
    at once (on loopback, in microseconds), so a missing daemon is told without
    waiting; a host that drops the datagram silently is told after ``timeout_s``.
    """
    missing = f"no daemon answers on {host}:{port} — is `mage-bridge serve` running?"
    req = uuid.uuid4().hex[:8]
    deadline = time.monotonic() + timeout_s
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((host, port))
            sock.send(osc.encode("/mage/ping", req))
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    msg = OscMessage(sock.recv(65536))
                except ParseError:  # not OSC: not the daemon's answer
                    continue
                params = list(msg.params)
                if params and params[0] == req:  # a pong, or an error reply: either way a daemon is there
                    return str(params[1]) if msg.address == "/mage/pong" and len(params) > 1 else ""
        except (TimeoutError, ConnectionRefusedError):
            pass
        except OSError as e:  # an address that cannot be reached at all (no route, bad name)
            raise DaemonUnreachableError(f"{missing} ({e.strerror or e})") from e
    raise DaemonUnreachableError(missing)


class OscClient:
    """One UDP socket bound to loopback: requests go out, replies and events come back to it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9137, *, bind_host: str = "127.0.0.1") -> None:
        self.target = (host, port)
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((bind_host, 0))

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> OscClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, address: str, *args: str | int | float) -> None:
        self.sock.sendto(osc.encode(address, *args), self.target)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.target)

    def recv(self, timeout_s: float) -> tuple[str, list[Any]] | None:
        """The next message (bundles are not expected from the daemon), or ``None`` after ``timeout_s``."""
        self.sock.settimeout(max(timeout_s, 1e-4))
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, BlockingIOError):
            return None
        msg = OscMessage(data)
        return msg.address, list(msg.params)

    def wait_for(self, match: Callable[[str, list[Any]], bool], timeout_s: float,
                 seen: list[tuple[str, list[Any]]] | None = None) -> tuple[str, list[Any]]:
        """Receive until ``match(address, args)``; everything received is appended to ``seen``."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            got = self.recv(left)
            if got is None:
                break
            if seen is not None:
                seen.append(got)
            if match(*got):
                return got
        raise DaemonTimeoutError(
            f"no matching reply from {self.target[0]}:{self.target[1]} within {timeout_s:g} s"
        )

    def request(self, address: str, *args: str | int | float, timeout_s: float = 5.0) -> tuple[str, list[Any]]:
        """Send a request whose first argument is its id; wait for the reply that echoes it."""
        self.send(address, *args)
        ident = args[0] if args else None
        return self.wait_for(lambda a, p: bool(p) and p[0] == ident and a != "/mage/job/progress", timeout_s)

    def ping(self, timeout_s: float = 2.0) -> str:
        """Round trip ``/mage/ping``; returns the daemon's version."""
        req = uuid.uuid4().hex[:8]
        address, args = self.request("/mage/ping", req, timeout_s=timeout_s)
        if address != "/mage/pong":
            raise MageError(f"unexpected reply to /mage/ping: {address} {args}")
        return str(args[1])
