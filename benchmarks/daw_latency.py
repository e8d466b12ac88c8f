"""Controller trigger to stems in REAPER: how long the DAW door adds to a generation.

    .venv/bin/python benchmarks/daw_latency.py [--runs 20] [--duration-s 8] [--defer-ms 30] [--luasocket]

A real ``mage-bridge serve`` (temporary state folder, a MIDI map whose slot 1 is a generate preset with a fixed
seed, the embedded procedural generator) and REAPER's "MAGE - Listener" running under a real ``lua5.4`` in the
ReaScript emulation of tests/daw (tests/daw/reaper.py starts it), one Listener for the whole run, as a producer
has it on a toolbar: its defer loop ticks every ``--defer-ms`` (REAPER runs deferred scripts about 30 times a
second), it reports the project's context to the daemon and inserts finished results. Stock REAPER has no
LuaSocket, so by default the Listener finds results by looking at the outbox folder every 0.2 s; with
``--luasocket`` it also hears the daemon's job events over OSC and looks at once.

Each run sends OSC ``/mage/trigger 1`` (what a pad bound to slot 1 does) and waits until the stems are in the
emulated project: a probe script loaded before the Listener wraps the emulation's ``Undo_EndBlock`` and prints
the job id of every folder track that a closed undo block added; the benchmark timestamps that line when it
reads it. One warm-up run (worker start, imports, page cache) is not counted; runs are one at a time, with a
random pause of up to 0.5 s between them so the Listener's outbox poll is met at every phase.

Printed beside it, as the baseline from the same runs: the generation alone, each job's own ``elapsed_s``
from its manifest (analysis, composition, render, measurement and files, inside the worker). The door's
overhead is trigger->inserted minus that, per run: queueing and dispatch, the outbox record, the Listener's
poll and the insert. Median and worst of ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.daw.reaper import LISTENER, LUA, start_reaper  # noqa: E402
from tests.server.conftest import DaemonProc, wait_end  # noqa: E402

SLOT = 1
PROMPT = "deep house groove at 122 BPM in the key of G minor"
SEED = 7
MARK = "MAGE-BENCH"

# Loaded as a script before the Listener. It only observes: when the outermost undo block closes, every folder
# track with a job id it has not seen yet is an insert, said on stdout at once. After `total` inserts it stops
# passing deferred calls on, so the Listener ends (its atexit runs) and the emulation writes its dump.
PROBE = """
local R = reaper
local total, depth, seen, inserted = %d, 0, {}, 0
local begin_block, end_block, defer = R.Undo_BeginBlock, R.Undo_EndBlock, R.defer
R.Undo_BeginBlock = function(...) depth = depth + 1 return begin_block(...) end
R.Undo_EndBlock = function(...)
  local result = end_block(...)
  depth = math.max(0, depth - 1)
  if depth == 0 then
    for i = 0, R.CountTracks(0) - 1 do
      local _, job = R.GetSetMediaTrackInfo_String(R.GetTrack(0, i), "P_EXT:mage_job_id", "", false)
      if job ~= "" and not seen[job] then
        seen[job] = true
        inserted = inserted + 1
        io.stdout:write("%s inserted ", job, "\\n")
        io.stdout:flush()
      end
    end
  end
  return result
end
R.defer = function(fn)
  if inserted >= total then return true end
  return defer(fn)
end
"""


def _map(duration_s: float) -> str:
    return f"""
[midi]
api = "jack"   # no MIDI port is needed: the benchmark triggers over OSC, as an OSC pad app does

[[binding]]
note = 36
action = "trigger"
slot = {SLOT}

[presets.{SLOT}]
prompt = "{PROMPT}"
options = {{ duration_s = {duration_s}, seed = {SEED} }}
"""


class Inserts:
    """Reads the emulation's output; records when each job's stems were inserted (perf_counter)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.at: dict[str, float] = {}
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            now = time.perf_counter()
            with self._cond:
                if line.startswith(f"{MARK} inserted "):
                    self.at[line.split()[-1]] = now
                else:
                    self.lines.append(line)
                self._cond.notify_all()

    def wait(self, job_id: str, timeout_s: float) -> float:
        with self._cond:
            if not self._cond.wait_for(lambda: job_id in self.at, timeout_s):
                raise TimeoutError(f"job {job_id} was not inserted into the emulated REAPER project within "
                                   f"{timeout_s:.0f} s; the emulation said:\n{''.join(self.lines)[-3000:]}")
            return self.at[job_id]

    def join(self) -> None:
        self._thread.join(timeout=10)


def _tagged(d: DaemonProc, job_id: str) -> bool:
    """Whether the daemon tagged the job for a DAW (it did if it knew the Listener's context then)."""
    import sqlite3

    db = sqlite3.connect(f"file:{d.state_dir / 'jobs.sqlite3'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT params FROM jobs WHERE id = ?", (job_id,)).fetchone()
    finally:
        db.close()
    return bool(row) and bool(json.loads(row[0]).get("daw"))


@dataclass(frozen=True)
class Run:
    """One trigger, in seconds from sending it."""

    job_id: str
    total_s: float        # stems inserted in the emulated project
    generation_s: float   # the job's own elapsed_s (its manifest)
    done_s: float         # /mage/job/done received
    backend: str          # the generator that ran (the manifest's backend.name)


def _trigger(c: Any, d: DaemonProc, inserts: Inserts, timeout_s: float) -> Run | str:
    """Trigger slot 1 and time it to the insert; a job the daemon did not tag for REAPER gives its id instead."""
    t0 = time.perf_counter()
    c.send("/mage/trigger", SLOT)
    _, accepted = c.wait_for(lambda a, p: a in ("/mage/job/accepted", "/mage/error"), 5.0)
    if accepted[0] != f"trigger:{SLOT}" or len(accepted) != 2:
        raise SystemExit(f"the daemon refused the trigger: {accepted}")
    job_id = str(accepted[1])
    addr, end = wait_end(c, job_id, timeout_s)
    t_done = time.perf_counter()
    if addr != "/mage/job/done":
        raise SystemExit(f"job {job_id} failed: {end}\n{d.log()[-3000:]}")
    if not _tagged(d, job_id):
        return job_id
    try:
        t_inserted = inserts.wait(job_id, timeout_s)
    except TimeoutError as e:
        outbox = sorted(str(f.relative_to(d.state_dir)) for f in (d.state_dir / "outbox").rglob("*"))
        raise SystemExit(f"{e}\noutbox: {outbox}\ndaemon log:\n{d.log()[-3000:]}") from None
    manifest = json.loads(Path(end[1]).read_text())
    return Run(job_id, t_inserted - t0, float(manifest["elapsed_s"]), t_done - t0,
               str(manifest.get("backend", {}).get("name", "?")))


def _row(name: str, values: list[float], note: str = "") -> str:
    return f"{name:34s} {statistics.median(values):8.3f} {max(values):8.3f}   {note}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--duration-s", type=float, default=8.0, help="clip length asked of the preset")
    parser.add_argument("--defer-ms", type=float, default=30.0, help="the emulated REAPER's defer interval")
    parser.add_argument("--luasocket", action="store_true", help="let the Listener load LuaSocket")
    parser.add_argument("--timeout-s", type=float, default=120.0, help="per run")
    args = parser.parse_args()
    if LUA is None:
        raise SystemExit("lua5.4 is not installed (setup.sh installs it; Debian: apt-get install lua5.4)")
    if args.runs < 1:
        raise SystemExit(f"--runs must be at least 1, got {args.runs}")

    rng = random.Random(0)
    with tempfile.TemporaryDirectory(prefix="mage-daw-latency-") as tmp_name:
        tmp = Path(tmp_name)
        mapping = tmp / "map.toml"
        mapping.write_text(_map(args.duration_s))
        probe = tmp / "probe.lua"
        warmup = 1
        probe.write_text(PROBE % (warmup + args.runs, MARK))
        d = DaemonProc(tmp / "daemon", 0, extra_args=("--midi-map", str(mapping)),
                       env={"JACK_DEFAULT_SERVER": f"mage-bench-none-{os.getpid()}", "JACK_NO_START_SERVER": "1"})
        d.start()
        proc = None
        try:
            scenario = {
                "socket": args.luasocket,
                "project": {"bpm": 120.0, "numerator": 4, "denominator": 4, "cursor": 2.0,
                            "path": str(tmp / "bench.rpp"), "tracks": []},
                "steps": [{"run": probe}, {"run": LISTENER},
                          {"defer": {"max_iterations": 10**7, "interval_s": args.defer_ms / 1000.0,
                                     "timeout_s": (warmup + args.runs) * (args.timeout_s + 1.0)}}],
            }
            proc, out = start_reaper(tmp, scenario, d.state_dir, name="reaper")
            inserts = Inserts(proc)
            results = []
            with d.client() as c:
                # Warm-up: also waits until the daemon has the Listener's context (the first report goes through
                # the spool, polled every 200 ms); a job triggered before that is not for REAPER and is retried.
                deadline = time.monotonic() + 30.0
                while True:
                    if isinstance(_trigger(c, d, inserts, args.timeout_s), Run):
                        break
                    if time.monotonic() > deadline:
                        raise SystemExit("the daemon never tagged a triggered job for REAPER: did the Listener "
                                         f"report its context?\n{''.join(inserts.lines)[-3000:]}\n{d.log()[-3000:]}")
                    time.sleep(0.2)
                for i in range(args.runs):
                    time.sleep(rng.uniform(0.0, 0.5))
                    r = _trigger(c, d, inserts, args.timeout_s)
                    if not isinstance(r, Run):
                        raise SystemExit(f"run {i + 1}: the daemon did not tag job {r} for REAPER")
                    results.append(r)
                    print(f"  run {i + 1:2d}: trigger->inserted {r.total_s:.3f} s, generation "
                          f"{r.generation_s:.3f} s", file=sys.stderr)
            proc.wait(timeout=30)
            inserts.join()
            dump = json.loads(out.read_text())
        finally:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
            d.stop()

    problems = dump.get("errors", []) + [m.get("msg") for m in dump.get("messages", [])]
    folders = [t for t in dump["tracks"] if any(e.get("key") == "mage_job_id" for e in t.get("ext", []))]
    if problems or len(folders) != warmup + args.runs:
        raise SystemExit(f"the emulated project is not what {warmup + args.runs} clean inserts leave: "
                         f"{len(folders)} result folders, errors/messages {problems}")

    total = [r.total_s for r in results]
    gen = [r.generation_s for r in results]
    overhead = [r.total_s - r.generation_s for r in results]
    to_done = [r.done_s for r in results]
    after_done = [r.total_s - r.done_s for r in results]
    print(f"trigger -> stems inserted in emulated REAPER: {args.runs} runs (+{warmup} warm-up), "
          f"{args.duration_s:g} s preset clip, seed {SEED}, generator "
          f"{'/'.join(sorted({r.backend for r in results}))}; Listener defer "
          f"{args.defer_ms:g} ms, {'LuaSocket' if args.luasocket else 'stock REAPER Lua (no LuaSocket)'}")
    print(f"{'':34s} {'median s':>8s} {'worst s':>8s}")
    print(_row("trigger -> inserted", total))
    print(_row("generation alone (manifest)", gen, "baseline: the job's own elapsed_s"))
    print(_row("door overhead (difference)", overhead, "per run: trigger->inserted minus generation"))
    print(_row("  trigger -> job done event", to_done, "queue, worker, generation, outbox record"))
    print(_row("  job done -> inserted", after_done, "Listener finds the outbox record, inserts"))
    ratio = statistics.median(total) / statistics.median(gen)
    print(f"trigger->inserted / generation alone: {ratio:.2f}x (median); the door adds "
          f"{statistics.median(overhead):.3f} s median, {max(overhead):.3f} s worst")
    return 0


if __name__ == "__main__":
    sys.exit(main())
