"""The test harness for the Live remote script: install it as a user does, run Live's tick, stand in for a daemon.

- :func:`live_rig` (a pytest fixture factory, used as ``live`` in the tests) copies ``daw_scripts/MAGE_Bridge``
  into a temporary *Remote Scripts* folder with a ``settings.json`` next to the script, points the per-user
  config folder at an empty temporary one, and loads the script under CPython with the fake ``Live`` module.
- :class:`FakeDaemon` is a bare UDP socket where the script's settings point, for checks of what the script sends
  without a real daemon.
"""

from __future__ import annotations

import importlib
import json
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

FAKE_LIVE = Path(__file__).resolve().parent
REPO = FAKE_LIVE.parents[2]
SCRIPT = REPO / "daw_scripts" / "MAGE_Bridge"
MODULES = ("Live", "_Framework", "MAGE_Bridge")


@dataclass
class CInstance:
    """What Live hands a control surface: the song, the status bar, the log."""

    song_obj: Any
    messages: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def song(self) -> Any:
        return self.song_obj

    def show_message(self, message: str) -> None:
        self.messages.append(message)

    def log_message(self, message: str) -> None:
        self.log.append(message)


class Rig:
    """One installed copy of the script and the fake Live it runs in."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.remote_scripts = root / "Remote Scripts"
        self.config_home = root / "config"
        self.config_home.mkdir(parents=True)
        shutil.copytree(SCRIPT, self.remote_scripts / "MAGE_Bridge",
                        ignore=shutil.ignore_patterns("__pycache__", "settings.json"))
        for var in ("MAGE_PORT", "MAGE_LIVE_VIEW", "APPDATA"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("XDG_CONFIG_HOME", str(self.config_home))
        monkeypatch.setenv("HOME", str(root / "home"))
        _purge()
        monkeypatch.syspath_prepend(str(self.remote_scripts))
        monkeypatch.syspath_prepend(str(FAKE_LIVE))
        self.live = importlib.import_module("Live")
        self.package = importlib.import_module("MAGE_Bridge")
        self.surface_module = importlib.import_module("MAGE_Bridge.surface")
        self.surfaces: list[Any] = []

    @property
    def settings_path(self) -> Path:
        return self.remote_scripts / "MAGE_Bridge" / "settings.json"

    @property
    def user_settings_path(self) -> Path:
        return self.config_home / "mage-bridge" / "live.json"

    def write_settings(self, settings: dict[str, Any] | str, *, user: bool = False) -> Path:
        path = self.user_settings_path if user else self.settings_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(settings if isinstance(settings, str) else json.dumps(settings))
        return path

    def song(self, **kw: Any) -> Any:
        return self.live.Song.Song(**kw)

    def start(self, *, song: Any = None, version: tuple[int, int, int] = (12, 2, 0), **song_kw: Any
              ) -> tuple[Any, CInstance]:
        """Live loads the control surface (``create_instance``) for ``song`` (a new set by default)."""
        self.live.configure(version)
        c = CInstance(song if song is not None else self.song(**song_kw))
        surface = self.package.create_instance(c)
        self.surfaces.append(surface)
        return surface, c

    def close(self) -> None:
        for s in self.surfaces:
            s.disconnect()
        _purge()


def _purge() -> None:
    for mod in [m for m in sys.modules if m.split(".")[0] in MODULES]:
        del sys.modules[mod]


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    rig = Rig(tmp_path / "live", monkeypatch)
    yield rig
    rig.close()


def tick_until(surface: Any, done: Callable[[], bool], timeout_s: float = 60.0, every_s: float = 0.02) -> None:
    """Call Live's ~100 ms tick (faster here) until ``done()``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        surface.update_display()
        if done():
            return
        time.sleep(every_s)
    raise AssertionError(f"condition not met within {timeout_s} s")


def tick_for(surface: Any, seconds: float, every_s: float = 0.02) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        surface.update_display()
        time.sleep(every_s)


class FakeDaemon:
    """A UDP socket on 127.0.0.1 that records what the script sends and answers what a test tells it to."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.0)
        self.port = int(self.sock.getsockname()[1])
        self.peer: tuple[str, int] | None = None
        self.received: list[tuple[str, list[Any]]] = []

    def poll(self) -> list[tuple[str, list[Any]]]:
        """Messages that arrived since the last poll (also appended to ``received``)."""
        from mage_bridge.server import osc as daemon_osc

        new = []
        while True:
            try:
                data, self.peer = self.sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                break
            for msg in daemon_osc.decode(data):
                new.append((msg.address, list(msg.params)))
        self.received.extend(new)
        return new

    def send(self, address: str, *args: Any) -> None:
        from mage_bridge.server import osc as daemon_osc

        assert self.peer is not None, "the script has not sent anything yet"
        self.sock.sendto(daemon_osc.encode(address, *args), self.peer)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def fake_daemon() -> Iterator[FakeDaemon]:
    d = FakeDaemon()
    yield d
    d.close()
