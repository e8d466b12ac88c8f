"""``mage-bridge serve`` prints the panel's URL; ``mage-bridge panel`` opens it (or prints it); the panel can be off."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.server.conftest import REPO, DaemonProc


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_") and k != "BROWSER"}
    return subprocess.run([sys.executable, "-m", "mage_bridge.cli", *args], cwd=REPO, capture_output=True, text=True,
                          env={**base, "PYTHONPATH": str(REPO), **(env or {})}, timeout=60)


def test_serve_prints_the_url_and_panel_opens_it(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[server]\nshutdown_grace_s = 1\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update(MAGE_CONFIG=str(config), PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    state = tmp_path / "state"
    proc = subprocess.Popen([sys.executable, "-m", "mage_bridge.cli", "serve", "--port", "0", "--panel-port", "0",
                             "--state-dir", str(state)], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30.0)
        assert ready, "serve printed nothing within 30 s"
        line = proc.stdout.readline().strip()
        assert line.startswith("MAGE Bridge panel: http://127.0.0.1:")
        url = line.split(": ", 1)[1]
        assert "?token=" in url and len(url.split("token=", 1)[1]) >= 32
        assert json.loads((state / "daemon.json").read_text())["panel_url"] == url

        printed = _cli("panel", "--print", "--state-dir", str(state), env={"MAGE_CONFIG": str(config)})
        assert printed.returncode == 0, printed.stderr
        assert printed.stdout.strip() == url

        opened = tmp_path / "opened.txt"
        browser = tmp_path / "browser.sh"
        browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{opened}"\n')
        browser.chmod(0o755)
        shown = _cli("panel", "--state-dir", str(state), env={"MAGE_CONFIG": str(config), "BROWSER": str(browser)})
        assert shown.returncode == 0, shown.stderr
        assert opened.read_text() == url and shown.stdout == ""
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def test_panel_without_a_daemon_says_so(tmp_path: Path):
    result = _cli("panel", "--state-dir", str(tmp_path / "nothing"))
    assert result.returncode == 1
    assert "no daemon is running" in result.stderr and "mage-bridge serve" in result.stderr


def test_a_daemon_without_its_panel(make_daemon: Callable[..., DaemonProc]):
    off = make_daemon(name="off", server={"panel": False})
    assert off.panel_url == ""
    result = _cli("panel", "--print", "--state-dir", str(off.state_dir))
    assert result.returncode == 1 and "without its panel" in result.stderr
    with off.client() as c:
        assert c.ping()  # the rest of the daemon serves as ever


def test_a_taken_port_leaves_the_daemon_running_without_its_panel(make_daemon: Callable[..., DaemonProc]):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        d = make_daemon(name="taken", server={"panel_port": port})
        assert d.panel_url == ""
        assert f"cannot listen on 127.0.0.1:{port}" in d.log()
        with d.client() as c:
            assert c.ping()
