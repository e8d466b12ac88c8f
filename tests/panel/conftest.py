"""A real daemon with its panel on a free port, and an HTTP client that sets every header by hand."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.server.conftest import DaemonProc, make_daemon  # noqa: F401  (make_daemon: a fixture)


@dataclass
class Panel:
    """Where a daemon's panel listens and the token that opens it."""

    daemon: DaemonProc

    @property
    def port(self) -> int:
        return int(urlsplit(self.daemon.panel_url).port or 0)

    @property
    def token(self) -> str:
        return self.daemon.panel_url.split("token=", 1)[1]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None,
                token: bool = True, host: str | None = None, content_type: str | None = "application/json",
                timeout_s: float = 30.0) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request with exactly these headers (``Host`` included); (status, headers, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout_s)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host if host is not None else f"127.0.0.1:{self.port}")
            for name, value in {**({"Authorization": f"token {self.token}"} if token else {}),
                                **(headers or {})}.items():
                conn.putheader(name, value)
            data = b""
            if body is not None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                if content_type is not None:
                    conn.putheader("Content-Type", content_type)
                conn.putheader("Content-Length", str(len(data)))
            conn.endheaders(data or None)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def api(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, dict[str, Any]]:
        status, _, raw = self.request(method, path, body=body if body is not None or method != "POST" else {}, **kw)
        return status, json.loads(raw or b"{}")


@pytest.fixture(scope="module")
def panel_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProc]:
    """One daemon for a module's tests (its panel on a free port, test job kinds on)."""
    d = DaemonProc(tmp_path_factory.mktemp("panel"), 0)
    d.start()
    try:
        assert d.panel_url.startswith("http://127.0.0.1:"), d.log()
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="module")
def panel(panel_daemon: DaemonProc) -> Panel:
    return Panel(panel_daemon)


class EventReader:
    """The panel's event stream read as a browser would (``text/event-stream``), one JSON event at a time."""

    def __init__(self, panel: Panel) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", panel.port, timeout=30.0)
        self.conn.putrequest("GET", "/api/events", skip_host=True, skip_accept_encoding=True)
        self.conn.putheader("Host", f"127.0.0.1:{panel.port}")
        self.conn.putheader("Authorization", f"token {panel.token}")
        self.conn.putheader("Accept", "text/event-stream")
        self.conn.endheaders()
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.read()
        assert self.response.getheader("Content-Type", "").startswith("text/event-stream")
        assert self.next()["type"] == "hello"

    def next(self) -> dict[str, Any]:
        while True:
            line = self.response.fp.readline()
            if not line:
                raise EOFError("the event stream ended")
            if line.startswith(b"data: "):
                return dict(json.loads(line[6:]))

    def until_end(self, job_id: str) -> list[dict[str, Any]]:
        """This job's events, up to its done or failed."""
        seen = []
        while True:
            event = self.next()
            if event.get("job", {}).get("id") != job_id:
                continue
            seen.append(event)
            if event["type"] in ("done", "failed"):
                return seen

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def events(panel: Panel) -> Iterator[EventReader]:
    reader = EventReader(panel)
    yield reader
    reader.close()
