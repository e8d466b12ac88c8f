"""10 000+ random and malformed datagrams: the daemon stays up and answers every wrong request."""

from __future__ import annotations

import socket
import struct
import time
from typing import Any

import numpy as np

from mage_bridge.server import osc
from mage_bridge.server.client import OscClient
from tests.server.conftest import DaemonProc

N_DATAGRAMS = 10_240
BATCH = 128

TAGS = b"ifsbhdtTFNIcrm[]S"
SOURCES = [
    osc.encode("/mage/ping", "p"),
    osc.encode("/mage/job/status", "abcdef"),
    osc.encode("/mage/daw/context", 120.0, 4, 4, 1.5),
    osc.encode("/mage/generate", "g", "", "", '{"bpm": 120}'),
    osc.encode("/mage/subscribe", 9),
]


def _bundle(parts: list[bytes]) -> bytes:
    body = b"".join(struct.pack(">i", len(p)) + p for p in parts)
    return b"#bundle\x00" + struct.pack(">Q", 1) + body


def _wrong_request(rng: np.random.Generator, tag: str) -> bytes:
    """Well-formed OSC whose request is wrong; its first argument is ``tag``, echoed in the error."""
    choice = int(rng.integers(9))
    if choice == 0:
        return osc.encode("/mage/ping", tag, "extra")
    if choice == 1:
        return osc.encode("/mage/generate", tag)
    if choice == 2:
        return osc.encode("/mage/generate", tag, 7)
    if choice == 3:
        return osc.encode("/mage/generate", tag, "p", "", "{broken", "one too many")
    if choice == 4:
        return osc.encode("/mage/generate", tag, "prompt", "", "{broken json")
    if choice == 5:
        return osc.encode("/mage/separate", tag, "../../etc/passwd", "[]")
    if choice == 6:
        return osc.encode("/mage/" + "x" * int(rng.integers(1, 300)), tag)
    if choice == 7:
        return osc.encode("/mage/job/status", tag)  # no such job
    return osc.encode("/mage/generate", tag, "p" * 3000)  # over the prompt limit


def _garbage(rng: np.random.Generator) -> bytes:
    choice = int(rng.integers(7))
    if choice == 0:  # random bytes
        return rng.bytes(int(rng.integers(0, 256)))
    if choice == 1:  # truncated valid message
        src = SOURCES[int(rng.integers(len(SOURCES)))]
        return src[: int(rng.integers(0, len(src)))]
    if choice == 2:  # wrong or impossible type tags
        n = int(rng.integers(1, 8))
        tags = bytes(TAGS[int(i)] for i in rng.integers(0, len(TAGS), n))
        return osc._osc_string("/mage/ping") + osc._pad(b"," + tags) + rng.bytes(int(rng.integers(0, 24)))
    if choice == 3:  # huge strings
        size = int(rng.integers(8_000, 60_000))
        return osc.encode("/mage/generate", "h", "x" * size)
    if choice == 4:  # broken bundles: bad sizes, garbage elements
        parts = [SOURCES[0], rng.bytes(int(rng.integers(0, 40)))]
        data = _bundle(parts)
        if rng.integers(2):
            data = data[:16] + struct.pack(">i", int(rng.integers(-5, 10_000))) + data[20:]
        return data
    if choice == 5:  # bundles nested past the limit
        data = SOURCES[0]
        for _ in range(int(rng.integers(5, 40))):
            data = _bundle([data])
        return data
    src = bytearray(SOURCES[int(rng.integers(len(SOURCES)))])  # flipped bytes
    for i in rng.integers(0, len(src), int(rng.integers(1, 6))):
        src[int(i)] = int(rng.integers(0, 256))
    return bytes(src)


def test_fuzz_keeps_the_daemon_up_and_answers_wrong_requests(daemon: DaemonProc, rng: np.random.Generator) -> None:
    started = time.monotonic()
    expected: set[str] = set()
    errors: dict[str, str] = {}
    replies = 0
    with OscClient("127.0.0.1", daemon.port) as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        sent = 0
        batch_no = 0
        while sent < N_DATAGRAMS:
            for _ in range(BATCH):
                if rng.integers(3) == 0:
                    tag = f"w{sent}"
                    expected.add(tag)
                    c.send_raw(_wrong_request(rng, tag))
                else:
                    c.send_raw(_garbage(rng))
                sent += 1
            fence = f"fence{batch_no}"
            batch_no += 1
            c.send("/mage/ping", fence)

            def collect(address: str, args: list[Any]) -> bool:
                nonlocal replies
                replies += 1
                if address == "/mage/error" and args and args[0] in expected:
                    errors[args[0]] = args[1]
                return address == "/mage/pong" and args[:1] == [fence]  # noqa: B023  (called within this iteration)

            c.wait_for(collect, 10.0)
            assert time.monotonic() - started < 90.0, "fuzz took too long"
        assert c.ping()
    assert daemon.proc is not None and daemon.proc.poll() is None
    missing = expected - set(errors)
    assert not missing, f"{len(missing)} wrong requests got no /mage/error, e.g. {sorted(missing)[:5]}"
    assert sent >= 10_000 and replies >= len(expected)
    assert set(errors.values()) <= {"bad_arguments", "bad_json", "path_not_allowed", "unknown_address",
                                    "not_found", "invalid_input"}
    assert "Traceback" not in daemon.log()
