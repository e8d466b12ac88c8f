"""The live player under load: a launch every bar while the daemon generates clips.

    .venv/bin/python benchmarks/live.py [--seconds 60] [--idle-seconds 20] [--buffer 256]

Starts a private JACK server on the dummy driver (``jackd -d dummy -r 48000 -p BUFFER``,
non-realtime: no sound card, no special rights; needs Debian ``jackd2``), a daemon whose player
plays on it (``live.device = "JACK"``), and a JACK client in this process that records what the
player outputs. Two clips of one bar at 120 BPM (16th-note clicks whose height tells their place in
the bar, downbeats of different heights) are launched in turn, one launch request a bar, so every
bar starts a clip.

Two phases, the first the baseline: ``--idle-seconds`` with nothing else running, then
``--seconds`` while the daemon runs real ``generate`` jobs back to back in its worker (the test-only
CPU ``burn`` job if generation cannot run here, said so). For each phase it prints:

* xruns: the stream callback's output-underflow flags (PortAudio raises them for every xrun of the JACK
  graph, whoever was late), callbacks that took longer than a buffer, and whom JACK itself names late:
  the player, the benchmark's recorder, and the floor of the machine - two reference clients in the same
  server, a minimal Python one (its callback copies one buffer) and ``jack_metro`` (C) - and the server's
  own timer;
* callback time p50 / p99 / max, in ms and as a fraction of the buffer period;
* launch jitter: for every launch heard, how far its downbeat landed from where the clicks of the clip
  before it put the bar (frames, ms). Launches around which the clicks are not evenly spaced (the
  server skipped the player for a cycle) are counted apart, as "disturbed".

Goal: 0 xruns (and the player named late no more often than the reference clients), p99 well under the
buffer period, jitter 0 frames (launches are sample-exact).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.osc_latency import serve  # noqa: E402
from mage_bridge.server.client import OscClient  # noqa: E402
from tests.live.capture import Capture  # noqa: E402
from tests.live.synth import beat_frames, write_clip  # noqa: E402

BPM = 120.0
BEAT = beat_frames(BPM)
BAR = 4 * BEAT
SIXTEENTH = BEAT // 4
LOAD_JOB = ("deep house groove at 122 BPM", '{"duration_s": 16}')
#: The reference clients' JACK names.
REFERENCE_PY, REFERENCE_C = "reference-python", "reference-c"


def bar_of_clicks(downbeat: float) -> np.ndarray:
    x = np.zeros((2, BAR), dtype=np.float32)
    for k in range(16):
        x[:, k * SIXTEENTH] = 0.2 + 0.01 * k
    x[:, 0] = downbeat
    return x


def start_jack(name: str, buffer: int, log: Path, *, realtime: bool) -> tuple[subprocess.Popen[bytes], bool]:
    """jackd on the dummy driver, with realtime scheduling (as a studio runs it) where this system allows it."""
    if shutil.which("jackd") is None:
        raise SystemExit("jackd is not installed (Debian: apt install jackd2); this benchmark plays through JACK")
    env = {**os.environ, "JACK_NO_AUDIO_RESERVATION": "1", "JACK_DEFAULT_SERVER": name}
    os.environ["JACK_DEFAULT_SERVER"] = name
    import jack

    for rt in ((True, False) if realtime else (False,)):
        mode = ["-R", "-P", "70"] if rt else ["--no-realtime"]
        proc = subprocess.Popen(["jackd", "-n", name, *mode, "-d", "dummy", "-r", "48000", "-p", str(buffer)],
                                env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                jack.Client("bench-probe", no_start_server=True).close()
                return proc, rt
            except jack.JackOpenError:
                time.sleep(0.1)
        proc.terminate()
        proc.wait(timeout=10)
    raise SystemExit(f"jackd did not start: {log.read_text()[-2000:]}")


def start_daemon(tmp: Path, clips: Path, buffer: int, jack_name: str) -> tuple[subprocess.Popen[bytes], int]:
    return serve(tmp, f'data_dir = "{tmp / "data"}"\n[live]\ndevice = "JACK"\nbuffer_frames = {buffer}\n'
                      f'clips_dirs = ["{clips}"]\ncrossfade_beats = 0\n', JACK_DEFAULT_SERVER=jack_name)


def status(c: OscClient) -> dict[str, Any]:
    addr, reply = c.request("/mage/live/status", "bench-status", timeout_s=5.0)
    assert addr == "/mage/live/state", (addr, reply)
    return dict(json.loads(reply[8]))


class LoadJobs:
    """Generate jobs back to back in the daemon's worker while ``running``."""

    def __init__(self, port: int) -> None:
        self.client = OscClient("127.0.0.1", port)
        self.running = False
        self.done = 0
        self.kind = "generate"
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.running = True
        self._thread.start()

    def _run(self) -> None:
        n = 0
        while self.running:
            n += 1
            if self.kind == "generate":
                addr, reply = self.client.request("/mage/generate", f"load{n}", LOAD_JOB[0], "", LOAD_JOB[1])
            else:
                addr, reply = self.client.request("/mage/test/job", f"load{n}", "burn", '{"seconds": 10}')
            if addr != "/mage/job/accepted":
                print(f"  note: load job refused: {reply}", file=sys.stderr)
                return
            job_id = reply[1]
            addr, end = self.client.wait_for(
                lambda a, p, job_id=job_id: a in ("/mage/job/done", "/mage/job/failed") and p[:1] == [job_id], 600.0)
            if addr == "/mage/job/failed" and self.kind == "generate":
                print(f"  note: generate failed here ({end[1]}: {end[2][:120]}); burning a CPU instead",
                      file=sys.stderr)
                self.kind = "burn"
            self.done += addr == "/mage/job/done"

    def stop(self) -> None:
        self.running = False
        self._thread.join(timeout=600)
        self.client.close()


def play(c: OscClient, capture: Capture, seconds: float) -> tuple[dict[str, Any], np.ndarray, int]:
    """Launch a and b in turn, one request a bar, for ``seconds``; the player's status and what was heard."""
    c.request("/mage/live/launch", "first", "a")
    capture.connect()  # the player's output may have been opened afresh
    start_frames = capture.frames
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < seconds:
        time.sleep(max(0.0, t0 + (n + 1) * 2.0 - time.perf_counter()))  # a bar at 120 BPM
        n += 1
        addr, reply = c.request("/mage/live/launch", f"l{n}", "b" if n % 2 else "a")
        if addr != "/mage/live/queued":
            print(f"  note: launch {n}: {reply}", file=sys.stderr)
    time.sleep(2.5)
    st = status(c)
    heard = capture.heard()[start_frames:, 0].copy()
    c.request("/mage/live/close", "reset")  # the next phase starts with a fresh engine (its own figures)
    return st, heard, n + 1


def jitter(heard: np.ndarray) -> tuple[list[int], int]:
    """Each launch's distance (frames) from where the clicks before it put the bar; and the disturbed count."""
    clicks = np.nonzero(heard > 0.1)[0]
    landed_all = [i for i in clicks if heard[i] > 0.55]  # downbeats: a 0.6, b 0.9 (a bar's own clicks < 0.4)
    out, disturbed = [], 0
    for landed in landed_all:
        before = clicks[(clicks < landed) & (clicks >= landed - 4 * SIXTEENTH - 512)]
        if landed < 4 * SIXTEENTH:
            continue  # the phase's first launch: nothing before it
        if len(before) != 4 or np.ptp(np.diff(np.r_[before, landed])) > 0:
            disturbed += 1
            continue
        out.append(int(landed - before[-1]) - SIXTEENTH)
    return out, disturbed


class JackLog:
    """What the JACK server itself says of each xrun, read from its log a phase at a time.

    An xrun is a whole-graph event: PortAudio flags it to the player's callback whichever client was
    late, this benchmark's recorder included. jackd names the late ones: ``JackEngine::XRun: client =
    NAME was not finished, state = STATE`` (``Running``: in its callback; ``Triggered``: woken, not yet
    run), and ``JackTimedDriver::Process XRun = N usec`` when its own timer thread woke late.
    """

    PLAYER = "PortAudio"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def since_last(self) -> dict[str, int]:
        data = self.path.read_bytes()[self.offset:]
        self.offset += len(data)
        text = data.decode(errors="replace")
        counts = {"player running": 0, "player not yet run": 0, "recorder": 0, REFERENCE_PY: 0, REFERENCE_C: 0,
                  "driver": 0}
        for m in re.finditer(r"client = (.+?) was not finished, state = (\w+)", text):
            name = m.group(1)
            if name == self.PLAYER:
                counts["player running" if m.group(2) == "Running" else "player not yet run"] += 1
            else:
                counts[name if name in (REFERENCE_PY, REFERENCE_C) else "recorder"] += 1
        counts["driver"] = len(re.findall(r"JackTimedDriver::Process XRun", text))
        return counts


def start_references(seconds: float) -> list[subprocess.Popen[bytes]]:
    """The machine's floor, in the same server: a minimal Python client (its callback copies one buffer:
    all a Python callback can be) and ``jack_metro`` (C, from jackd2), both playing into nothing."""
    py = subprocess.Popen([sys.executable, __file__, "--reference-client", str(seconds)])
    procs = [py]
    if shutil.which("jack_metro"):
        procs.append(subprocess.Popen(["jack_metro", "-n", REFERENCE_C, "-b", "120"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def reference_client(seconds: float) -> int:
    """The minimal Python JACK client :func:`start_references` runs: one buffer copied per cycle."""
    import jack

    client = jack.Client(REFERENCE_PY, no_start_server=True)
    port = client.outports.register("out")
    silence = np.zeros(client.blocksize, dtype=np.float32)

    @client.set_process_callback
    def process(frames: int) -> None:
        port.get_array()[:] = silence[:frames]

    client.activate()
    time.sleep(seconds)
    client.deactivate()
    client.close()
    return 0


def report(label: str, st: dict[str, Any], heard: np.ndarray, launches: int, rate: int,
           jack: dict[str, int]) -> None:
    cb, period = st["callback"], st["buffer_ms"]
    devs, disturbed = jitter(heard)
    abs_devs = np.abs(devs) if devs else np.zeros(1)
    print(f"{label}")
    print(f"  xruns {st['xruns']} (callback flags), late callbacks {st['late_callbacks']} of {st['callbacks']}")
    print(f"  JACK names late: the player {jack['player running'] + jack['player not yet run']} "
          f"(in its callback {jack['player running']}, woken but not yet run {jack['player not yet run']}), "
          f"the recorder {jack['recorder']}; the floor: a minimal Python client {jack[REFERENCE_PY]}, "
          f"jack_metro (C) {jack[REFERENCE_C]}, the server's own timer woke late {jack['driver']}")
    print(f"  callback p50 {cb['p50_ms']:.3f} ms  p99 {cb['p99_ms']:.3f} ms  max {cb['max_ms']:.3f} ms  "
          f"(buffer {period:.2f} ms: p99 {cb['p99_ms'] / period:.1%}, max {cb['max_ms'] / period:.1%})")
    print(f"  launches sent {launches}, started {st['launches']}, measured {len(devs)}, disturbed {disturbed}: "
          f"jitter max {abs_devs.max():.0f} frames ({abs_devs.max() / rate * 1e3:.3f} ms), "
          f"mean {abs_devs.mean():.2f} frames")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="playback while generating (default 60)")
    ap.add_argument("--idle-seconds", type=float, default=20.0, help="the baseline, nothing else running")
    ap.add_argument("--buffer", type=int, default=256, help="frames per buffer, JACK's and the player's")
    ap.add_argument("--no-realtime", action="store_true",
                    help="run jackd without realtime scheduling (as the tests do), even where it is allowed")
    ap.add_argument("--reference-client", type=float, metavar="SECONDS", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reference_client is not None:
        return reference_client(args.reference_client)
    with tempfile.TemporaryDirectory(prefix="mage-live-bench-") as tmpdir:
        tmp = Path(tmpdir)
        clips = tmp / "clips"
        write_clip(clips, "a", {"drums": bar_of_clicks(0.6)}, bpm=BPM)
        write_clip(clips, "b", {"drums": bar_of_clicks(0.9)}, bpm=BPM)
        name = f"mage-live-bench-{os.getpid()}"
        jackd, realtime = start_jack(name, args.buffer, tmp / "jackd.log", realtime=not args.no_realtime)
        daemon, port = start_daemon(tmp, clips, args.buffer, name)
        references: list[subprocess.Popen[bytes]] = []
        try:
            with OscClient("127.0.0.1", port) as c:
                c.request("/mage/live/launch", "open", "a")  # opens the output: PortAudio's ports appear
                capture = Capture(seconds=args.seconds + args.idle_seconds + 30)
                c.request("/mage/live/stop", "s", "now")
                time.sleep(0.5)
                print(f"live player on JACK dummy ({'realtime' if realtime else 'not realtime'}), {args.buffer}-frame "
                      f"buffers at 48 kHz, a launch every bar at {BPM:g} BPM; {os.cpu_count()} CPU(s), load average "
                      f"{os.getloadavg()[0]:.1f}")
                references = start_references(args.seconds + args.idle_seconds + 30)
                time.sleep(1.0)
                jack_log = JackLog(tmp / "jackd.log")
                jack_log.since_last()  # start-up's messages
                st, heard, n = play(c, capture, args.idle_seconds)
                report(f"idle, {args.idle_seconds:g} s (baseline)", st, heard, n, capture.rate, jack_log.since_last())
                load = LoadJobs(port)
                load.start()
                time.sleep(1.0)  # the first job is under way
                st, heard, n = play(c, capture, args.seconds)
                load.running = False
                report(f"while the daemon runs {load.kind} jobs, {args.seconds:g} s ({load.done} finished)",
                       st, heard, n, capture.rate, jack_log.since_last())
                capture.close()
                load.stop()
        finally:
            for proc in references:
                proc.terminate()
                proc.wait(timeout=10)
            daemon.terminate()
            daemon.wait(timeout=60)
            jackd.terminate()
            jackd.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
