"""The web panel's cost to the daemon: OSC ping latency with pages open, API latency, waveform peaks.

    .venv/bin/python benchmarks/panel.py [--pings 500] [--pages 8]

Starts a fresh daemon (``serve --port 0 --panel-port 0``, temporary state folder, test job kinds on) and
measures, in the same run:

1. OSC ``/mage/ping`` round trips with no page open (the baseline), then with ``--pages`` pages reading the
   event stream while a job reports progress 50 times a second, a page asks ``/api/analyze`` for a new
   prompt every 50 ms and another polls ``/api/jobs``: the ratio of p99s says what the panel costs the loop.
   Goal: p99 under load < 5 ms (the daemon's goal while a model runs).
2. ``GET /api/jobs`` under that load. Goal: p99 < 50 ms.
3. Waveform peaks of a 32 s stem: computed (first ask) vs from the cache (every later ask), and the JSON's
   size against the WAV's. Goal: cached < 10 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mage_bridge.server.client import OscClient  # noqa: E402


class Http:
    def __init__(self, url: str) -> None:
        where = urlsplit(url)
        self.port = int(where.port or 0)
        self.token = url.split("token=", 1)[1]

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Authorization": f"token {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        conn.close()
        return r.status, json.loads(raw) if raw else None


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def pings(osc: OscClient, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        osc.ping(timeout_s=2.0)
        out.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.002)
    return out


def page(panel: Http, stop: threading.Event, counted: list[int]) -> None:
    """A page reading the event stream until ``stop``; counts the events."""
    conn = http.client.HTTPConnection("127.0.0.1", panel.port, timeout=60)
    conn.putrequest("GET", "/api/events")
    conn.putheader("Authorization", f"token {panel.token}")
    conn.endheaders()
    r = conn.getresponse()
    while not stop.is_set():
        line = r.fp.readline()
        if not line:
            break
        if line.startswith(b"data: "):
            counted[0] += 1
    conn.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pings", type=int, default=500)
    ap.add_argument("--pages", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = root / "config.toml"
        config.write_text(f'data_dir = "{root / "data"}"\n[server]\nshutdown_grace_s = 1\npanel_port = 0\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
        env.update(MAGE_CONFIG=str(config), MAGE_TEST_JOBS="1", PYTHONPATH=str(REPO))
        proc = subprocess.Popen([sys.executable, "-m", "mage_bridge.cli", "serve", "--port", "0", "--state-dir",
                                 str(root / "state")], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip().split(": ", 1)[1]
            info = json.loads((root / "state" / "daemon.json").read_text())
            panel = Http(url)
            with OscClient("127.0.0.1", int(info["port"])) as osc:
                osc.ping(timeout_s=5.0)
                panel.call("POST", "/api/analyze", {"prompt": "warm up the helper"})
                idle = pings(osc, args.pings)

                stop = threading.Event()
                received = [0]
                threads = [threading.Thread(target=page, args=(panel, stop, received), daemon=True)
                           for _ in range(args.pages)]
                api_ms: list[float] = []

                def typist() -> None:
                    i = 0
                    while not stop.is_set():
                        panel.call("POST", "/api/analyze", {"prompt": f"deep house at {100 + i % 60} BPM in G minor"})
                        i += 1
                        time.sleep(0.05)

                def poller() -> None:
                    while not stop.is_set():
                        t0 = time.perf_counter()
                        panel.call("GET", "/api/jobs?limit=200")
                        api_ms.append((time.perf_counter() - t0) * 1000)
                        time.sleep(0.02)

                threads += [threading.Thread(target=typist, daemon=True), threading.Thread(target=poller, daemon=True)]
                for t in threads:
                    t.start()
                seconds = max(4.0, args.pings * 0.004)
                osc.send("/mage/test/job", "bench-sleep", "sleep", json.dumps({"seconds": seconds, "steps":
                                                                                int(seconds * 50)}))
                time.sleep(0.3)
                loaded = pings(osc, args.pings)
                stop.set()

            print(f"OSC ping, no page open:        p50 {statistics.median(idle):.3f} ms  p99 {pct(idle, .99):.3f} ms")
            print(f"OSC ping, {args.pages} pages + typing:  p50 {statistics.median(loaded):.3f} ms  "
                  f"p99 {pct(loaded, .99):.3f} ms  ({pct(loaded, .99) / pct(idle, .99):.2f}x the idle p99; "
                  "goal < 5 ms)")
            print(f"GET /api/jobs under that load: p50 {statistics.median(api_ms):.2f} ms  "
                  f"p99 {pct(api_ms, .99):.2f} ms "
                  f"({len(api_ms)} requests; goal p99 < 50 ms); events received by the pages: {received[0]}")

            status, data = panel.call("POST", "/api/generate", {"req_id": "panel-bench", "prompt":
                                                                "deep house groove at 122 BPM in G minor",
                                                                "options": {"bars": 16}, "seed": 1,
                                                                "backend": "procedural"})
            job_id = data["job"]["id"]
            deadline = time.monotonic() + 300
            while panel.call("GET", f"/api/jobs/{job_id}")[1]["job"]["state"] not in ("done", "failed"):
                assert time.monotonic() < deadline, "the clip did not finish"
                time.sleep(0.2)
            path = f"/api/jobs/{job_id}/stems/mix/peaks?columns=1024"
            t0 = time.perf_counter()
            status, peaks = panel.call("GET", path)
            cold = (time.perf_counter() - t0) * 1000
            warm = []
            for _ in range(20):
                t0 = time.perf_counter()
                panel.call("GET", path)
                warm.append((time.perf_counter() - t0) * 1000)
            wav = (root / "state" / "jobs" / job_id / "mix.wav").stat().st_size
            size = len(json.dumps(peaks))
            print(f"peaks of a {peaks['frames'] / peaks['sample_rate']:.1f} s mix (1024 columns): computed "
                  f"{cold:.1f} ms, cached p50 {statistics.median(warm):.2f} ms ({cold / statistics.median(warm):.0f}x "
                  f"faster; goal < 10 ms); {size / 1024:.1f} KiB of JSON for a {wav / 1024:.0f} KiB WAV "
                  f"({wav / size:.0f}x smaller)")
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
