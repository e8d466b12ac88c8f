"""Real daemons in subprocesses, real UDP sockets on 127.0.0.1, real SQLite in tmp_path."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mage_bridge.server.client import OscClient

REPO = Path(__file__).resolve().parents[2]
DONE_OR_FAILED = ("/mage/job/done", "/mage/job/failed")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))


@dataclass
class DaemonProc:
    """A ``mage-bridge serve`` subprocess and the folders it owns."""

    root: Path
    port: int
    server: dict[str, Any] = field(default_factory=dict)
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    #: TOML written before ``[server]``: top-level keys, then any tables (``[backends]``...).
    extra_config: str = ""
    #: What runs the CLI: ``python <launcher> serve ...``.
    launcher: tuple[str, ...] = ("-m", "mage_bridge.cli")
    proc: subprocess.Popen[bytes] | None = None
    #: The running daemon's token from its daemon.json (what the user's own CLI sends).
    token: str = ""
    #: The panel's URL with its token, from daemon.json ("" when it serves none).
    panel_url: str = ""

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "mage-bridge.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout_s: float = 20.0) -> DaemonProc:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.toml"
        lines = [f"data_dir = {_toml(self.data_dir)}", self.extra_config, "[server]"]
        lines += [f"{k} = {_toml(v)}" for k, v in {"shutdown_grace_s": 1, "panel_port": 0, **self.server}.items()]
        config.write_text("\n".join(lines) + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
        env.update({"MAGE_CONFIG": str(config), "MAGE_TEST_JOBS": "1",
                    "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", **self.env})
        info = self.state_dir / "daemon.json"
        if info.exists():
            info.unlink()
        self.proc = subprocess.Popen(
            [sys.executable, *self.launcher, "serve", "--port", str(self.port),
             "--state-dir", str(self.state_dir), *self.extra_args],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}:\n{self.log()}")
            if info.exists():
                try:
                    data = json.loads(info.read_text())
                except ValueError:
                    data = {}
                if data.get("pid") == self.proc.pid:
                    self.port = int(data["port"])
                    self.token = str(data.get("token") or "")
                    self.panel_url = str(data.get("panel_url") or "")
                    with self.client() as c:
                        c.ping(timeout_s=2.0)
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"daemon did not start within {timeout_s} s:\n{self.log()}")

    def client(self) -> OscClient:
        c = OscClient("127.0.0.1", self.port)
        c.token = self.token  # type: ignore[attr-defined]  # for status(): the user's own CLI has it too
        return c

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout_s: float = 15.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout_s)

    def children(self) -> list[tuple[int, str]]:
        """(pid, command line) of the daemon's child processes."""
        out = []
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            for pid in (task / "children").read_text().split():
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    continue
                out.append((int(pid), cmd))
        return out

    def worker_pids(self) -> list[int]:
        return [pid for pid, cmd in self.children() if "spawn_main" in cmd]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator[Callable[..., DaemonProc]]:
    """``make_daemon(server={...}, extra_args=(...))`` -> a started daemon, stopped at teardown."""
    made: list[DaemonProc] = []

    def make(*, name: str = "d", port: int = 0, start: bool = True, **kw: Any) -> DaemonProc:
        d = DaemonProc(tmp_path / name, port, **kw)
        made.append(d)
        return d.start() if start else d

    yield make
    for d in made:
        d.stop()


@pytest.fixture
def daemon(make_daemon: Callable[..., DaemonProc]) -> DaemonProc:
    return make_daemon()


@pytest.fixture
def client(daemon: DaemonProc) -> Iterator[OscClient]:
    with daemon.client() as c:
        yield c


def submit(c: OscClient, address: str, *args: str | int | float) -> str:
    """Send a job request and return the job id from ``/mage/job/accepted``."""
    addr, reply = c.request(address, *args, timeout_s=5.0)
    assert addr == "/mage/job/accepted", (addr, reply)
    return str(reply[1])


def wait_end(c: OscClient, job_id: str, timeout_s: float = 30.0,
             seen: list[tuple[str, list[Any]]] | None = None) -> tuple[str, list[Any]]:
    """Receive until this job's done/failed event."""
    return c.wait_for(lambda a, p: a in DONE_OR_FAILED and bool(p) and p[0] == job_id, timeout_s, seen)


def status(c: OscClient, job_id: str) -> list[Any]:
    """Ask about a job as the user's own CLI does (with the daemon's token, when ``c`` came from
    :meth:`DaemonProc.client`), so a test may ask from any socket: a client after a restart, a second one."""
    token = getattr(c, "token", "")
    c.send("/mage/job/status", job_id, *([token] if token else []))
    addr, reply = c.wait_for(lambda a, p: a in ("/mage/job/status", "/mage/error") and p[:1] == [job_id], 5.0)
    assert addr == "/mage/job/status", (addr, reply)
    return reply
