"""An independent OSC stack (liblo's oscsend/oscdump) against the daemon."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.server.conftest import DaemonProc, free_port

pytestmark = pytest.mark.skipif(
    not (shutil.which("oscsend") and shutil.which("oscdump")),
    reason="liblo-tools (oscsend, oscdump) not installed; setup.sh installs them",
)


def _oscsend(port: int, address: str, types: str, *values: str) -> None:
    subprocess.run(["oscsend", "127.0.0.1", str(port), address, types, *values], check=True, timeout=10)


def test_liblo_client_submits_and_liblo_server_receives_events(daemon: DaemonProc, tmp_path: Path) -> None:
    listen = free_port()
    out = tmp_path / "oscdump.txt"
    with out.open("w") as sink:
        dump = subprocess.Popen(["oscdump", "-L", str(listen)], stdout=sink,
                                stderr=subprocess.STDOUT)
        try:
            time.sleep(0.3)
            # liblo sends from its own ephemeral port, so replies for it go to oscdump via subscribe
            _oscsend(daemon.port, "/mage/subscribe", "i", str(listen))
            _oscsend(daemon.port, "/mage/test/job", "sss", "liblo-1", "sleep", '{"seconds": 0.2, "steps": 2}')
            _oscsend(daemon.port, "/mage/ping", "i", "42")  # wrong type from liblo: answered, not fatal
            deadline = time.monotonic() + 15
            while "/mage/job/done" not in out.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            dump.terminate()
            dump.wait(timeout=5)
    text = out.read_text()
    assert '/mage/job/accepted ss "liblo-1"' in text, text
    assert "/mage/job/progress ssf" in text
    done = [line for line in text.splitlines() if "/mage/job/done ss " in line]
    assert len(done) == 1 and "manifest.json" in done[0]
    with daemon.client() as c:
        assert c.ping()
