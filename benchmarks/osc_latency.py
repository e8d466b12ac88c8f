"""OSC ping round-trip latency of the daemon: idle and while a generation runs.

    .venv/bin/python benchmarks/osc_latency.py [--pings 2000] [--interval-ms 2]

Starts a fresh daemon (``python -m mage_bridge.cli serve --port 0`` with a
temporary state folder) and, as the baseline measured in the same run, a bare
UDP echo server in its own process. The client is python-osc's
``SimpleUDPClient`` on loopback, sending one ``/mage/ping`` at a time and
parsing each reply with python-osc. Under load the daemon runs the real
``generate`` job back to back (falling back to the test-only CPU ``burn`` job,
said so in the output, when the generate pipeline cannot run here).
Goals: p99 < 2 ms idle, < 5 ms under load.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pythonosc.osc_message import OscMessage
from pythonosc.udp_client import SimpleUDPClient

REPO = Path(__file__).resolve().parents[1]

ECHO = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    data, addr = s.recvfrom(65536)
    s.sendto(data, addr)
"""


def make_client(port: int) -> SimpleUDPClient:
    client = SimpleUDPClient("127.0.0.1", port, timeout=2.0)
    client._sock.bind(("127.0.0.1", 0))  # stay on loopback (python-osc would bind 0.0.0.0)
    return client


def measure(client: SimpleUDPClient, n: int, interval_s: float, stop: object = None) -> list[float]:
    """Round trips in ms of ``n`` pings, one at a time, ``interval_s`` apart."""
    out = []
    for i in range(n):
        req = f"b{i}"
        t0 = time.perf_counter()
        client.send_message("/mage/ping", req)
        while True:
            data = client.receive(2.0)
            if not data:
                raise TimeoutError(f"ping {i} got no reply within 2 s")
            msg = OscMessage(data)
            if msg.params and msg.params[0] == req:
                break  # other messages (job events) are skipped
        out.append((time.perf_counter() - t0) * 1000.0)
        if stop is not None and stop():  # type: ignore[operator]
            break
        time.sleep(interval_s)
    return out


def summary(ms: list[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def start_daemon(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    return serve(tmp, f'data_dir = "{tmp / "data"}"\n[server]\nmax_queue = 1000\n'
                      "rate_burst = 1000\nrate_per_minute = 60000\n")


def serve(tmp: Path, config: str, **env_vars: str) -> tuple[subprocess.Popen[bytes], int]:
    """``mage-bridge serve`` with the config text ``config`` (test jobs on) in ``tmp``; the process and its port.

    ``env_vars`` go into its environment; no ``MAGE_*`` variable of this shell does.
    """
    (tmp / "config.toml").write_text(config)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update({"MAGE_CONFIG": str(tmp / "config.toml"), "MAGE_TEST_JOBS": "1", "PYTHONPATH": str(REPO),
                **env_vars})
    proc = subprocess.Popen([sys.executable, "-m", "mage_bridge.cli", "serve", "--port", "0",
                             "--state-dir", str(tmp / "state")], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=open(tmp / "daemon.err", "w"))
    info = tmp / "state" / "daemon.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if info.exists():
            data = json.loads(info.read_text())
            if data.get("pid") == proc.pid:
                return proc, int(data["port"])
        if proc.poll() is not None:
            raise RuntimeError((tmp / "daemon.err").read_text())
        time.sleep(0.05)
    raise RuntimeError("daemon did not start")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pings", type=int, default=2000)
    ap.add_argument("--interval-ms", type=float, default=2.0)
    args = ap.parse_args()
    interval = args.interval_ms / 1000.0
    with tempfile.TemporaryDirectory(prefix="mage-osc-bench-") as tmpdir:
        tmp = Path(tmpdir)
        echo = subprocess.Popen([sys.executable, "-c", ECHO], stdout=subprocess.PIPE)
        daemon, port = start_daemon(tmp)
        try:
            assert echo.stdout is not None
            echo_port = int(echo.stdout.readline())
            rows = []
            with make_client(echo_port) as c:
                measure(c, 200, 0)
                rows.append(("bare UDP echo (baseline)", measure(c, args.pings, interval)))
            with make_client(port) as c:
                measure(c, 200, 0)
                rows.append(("daemon, idle", measure(c, args.pings, interval)))

                job = ("/mage/generate", ["bench", "deep house groove at 122 BPM", "", '{"duration_s": 16}'])
                label = "daemon, generate running"
                events = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                events.bind(("127.0.0.1", 0))
                events.setblocking(False)

                def submit() -> None:
                    events.sendto(_encode(*job), ("127.0.0.1", port))

                def drained_done() -> bool:
                    done = False
                    while True:
                        try:
                            data = events.recv(65536)
                        except BlockingIOError:
                            return done
                        msg = OscMessage(data)
                        if msg.address in ("/mage/job/done", "/mage/job/failed"):
                            if msg.address == "/mage/job/failed":
                                print(f"  note: load job failed: {msg.params}", file=sys.stderr)
                            done = True

                submit()
                time.sleep(0.5)  # let the worker pick it up
                loaded: list[float] = []
                deadline = time.monotonic() + 120
                while len(loaded) < args.pings and time.monotonic() < deadline:
                    loaded += measure(c, min(100, args.pings - len(loaded)), interval)
                    if drained_done():
                        submit()
                rows.append((label, loaded))
                events.close()
        finally:
            daemon.terminate()
            echo.terminate()
            daemon.wait(timeout=20)
            echo.wait(timeout=5)

    base_med, base_p99 = summary(rows[0][1])
    print(f"OSC ping round trip on loopback, python-osc client, {args.pings} pings {args.interval_ms:g} ms apart, "
          f"{os.cpu_count()} CPU(s)")
    print(f"{'':52s} {'median ms':>10s} {'p99 ms':>9s} {'median/base':>12s} {'p99/base':>9s}")
    for name, ms in rows:
        med, p99 = summary(ms)
        print(f"{name:52s} {med:10.3f} {p99:9.3f} {med / base_med:12.2f} {p99 / base_p99:9.2f}")
    idle_p99, load_p99 = summary(rows[1][1])[1], summary(rows[2][1])[1]
    print(f"goals: idle p99 < 2 ms: {'met' if idle_p99 < 2 else 'MISSED'}; "
          f"under load p99 < 5 ms: {'met' if load_p99 < 5 else 'MISSED'}")
    return 0


def _encode(address: str, args: list[str]) -> bytes:
    from mage_bridge.server.osc import encode

    return encode(address, *args)


if __name__ == "__main__":
    sys.exit(main())
