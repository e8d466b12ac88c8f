"""ACE-Step through the real daemon: a tiny random AceStepPipeline (the real diffusers classes) in a
models folder the daemon's config names, driven over real UDP like any DAW or OSC app would."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mage_bridge import audio
from tests.server.conftest import DaemonProc, submit, wait_end

pytest.importorskip("diffusers.pipelines.ace_step", reason="the acestep extra (diffusers >= 0.42) is not installed")


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.generate.acestep.tiny import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("models") / "acestep")


def _acestep_daemon(make_daemon: Callable[..., DaemonProc], folder: Path, *, steps: int) -> DaemonProc:
    return make_daemon(extra_config=(f'[backends]\ngenerate = "acestep"\n'
                                     f'[acestep]\nmodel_dir = {json.dumps(str(folder))}\nsteps = {steps}\n'
                                     'idle_release_s = 600\n'))


def _opts(duration_s: float, seed: int) -> str:
    return json.dumps({"duration_s": duration_s, "seed": seed, "bpm": 120})


def _progress(seen: list[tuple[str, list[Any]]], job: str, stage: str) -> list[float]:
    return [float(p[2]) for a, p in seen if a == "/mage/job/progress" and p[0] == job and p[1] == stage]


def test_text2music_repaint_extend_through_the_daemon(make_daemon: Callable[..., DaemonProc],
                                                      tiny_folder: Path) -> None:
    d = _acestep_daemon(make_daemon, tiny_folder, steps=6)
    with d.client() as c:
        seen: list[tuple[str, list[Any]]] = []
        job = submit(c, "/mage/generate", "a1", "warm lofi hip hop with piano in F# minor at 120 BPM", "",
                     json.dumps({"duration_s": 8.0, "seed": 11}))
        addr, reply = wait_end(c, job, 120.0, seen)
        assert addr == "/mage/job/done", reply
        assert _progress(seen, job, "diffuse") == pytest.approx([i / 6 for i in range(1, 7)])
        first = Path(reply[1])
        m = json.loads(first.read_text())
        b = m["backend"]
        assert (b["name"], b["route"], b["seed"]) == ("acestep", "diffusers", 11)
        assert Path(b["folder"]) == tiny_folder and b["variant"] == "turbo" and b["steps"] == 6
        assert not b["warm"]
        mix = audio.load(first.parent / m["mix"])
        assert (mix.sample_rate, mix.channels) == (48_000, 2) and mix.frames == m["frames"]
        assert abs(mix.frames - 8.0 * 48_000) <= 1 and set(m["stems"]) == {"vocals", "drums", "bass", "other"}
        workers = d.worker_pids()

        # A second job in the same worker: the pipeline is not loaded again.
        job2 = submit(c, "/mage/generate", "a2", "warm lofi hip hop with piano", "",
                      json.dumps({"duration_s": 8.0, "seed": 12, "bpm": 120}))
        addr, reply = wait_end(c, job2, 120.0)
        assert addr == "/mage/job/done", reply
        b2 = json.loads(Path(reply[1]).read_text())["backend"]
        assert b2["warm"] and b2["load_s"] == 0.0
        assert d.worker_pids() == workers

        # Repaint 2-4 s of the first clip: outside the window (and its crossfades) nothing changes.
        job3 = submit(c, "/mage/repaint", "a3", str(first), json.dumps({"start_s": 2.0, "end_s": 4.0, "seed": 5}))
        addr, reply = wait_end(c, job3, 120.0)
        assert addr == "/mage/job/done", reply
        rm = json.loads(Path(reply[1]).read_text())
        assert rm["kind"] == "repaint" and rm["lineage"]["task"] == "repaint"
        xf = int(0.05 * 48_000) + 1
        a, z = int(2.0 * 48_000) - xf, int(4.0 * 48_000) + xf
        for name, rel in rm["stems"].items():  # every stem file: bit-identical outside the window
            was, now = audio.load(first.parent / m["stems"][name]), audio.load(Path(reply[1]).parent / rel)
            assert now.frames == was.frames
            assert np.array_equal(now.samples[:, :a], was.samples[:, :a]), name
            assert np.array_equal(now.samples[:, z:], was.samples[:, z:]), name
        new = audio.load(Path(reply[1]).parent / rm["mix"])  # the mix is their sum, rounded as float32 sums are
        assert np.allclose(new.samples[:, :a], mix.samples[:, :a], atol=1e-6, rtol=0)
        assert np.allclose(new.samples[:, z:], mix.samples[:, z:], atol=1e-6, rtol=0)
        assert not np.allclose(new.samples[:, a + xf:z - xf], mix.samples[:, a + xf:z - xf], atol=1e-3)

        # Extend after: a new clip of whole bars that follows the source.
        job4 = submit(c, "/mage/extend", "a4", str(first), json.dumps({"side": "after", "bars": 4}))
        addr, reply = wait_end(c, job4, 120.0)
        assert addr == "/mage/job/done", reply
        em = json.loads(Path(reply[1]).read_text())
        assert em["kind"] == "extend" and em["lineage"]["side"] == "after"
        assert em["frames"] == pytest.approx(4 * 4 * 60 / 120 * 48_000, abs=1)


def test_cancel_stops_within_a_step_and_keeps_the_model(make_daemon: Callable[..., DaemonProc],
                                                         tiny_folder: Path) -> None:
    d = _acestep_daemon(make_daemon, tiny_folder, steps=100)
    with d.client() as c:
        warmup = submit(c, "/mage/generate", "w", "ambient pad", "", _opts(8.0, 1))
        assert wait_end(c, warmup, 120.0)[0] == "/mage/job/done"
        workers = d.worker_pids()
        seen: list[tuple[str, list[Any]]] = []
        job = submit(c, "/mage/generate", "c", "ambient pad", "", _opts(60.0, 2))
        c.wait_for(lambda a, p: a == "/mage/job/progress" and p[:2] == [job, "diffuse"], 60.0, seen)
        nxt = submit(c, "/mage/generate", "n", "ambient pad", "", _opts(8.0, 3))
        c.send("/mage/job/cancel", job)
        sent = time.monotonic()
        addr, reply = wait_end(c, job, 30.0, seen)
        assert (addr, reply[1]) == ("/mage/job/failed", "cancelled")
        done_steps = _progress(seen, job, "diffuse")
        assert done_steps and done_steps[-1] < 0.5  # far from its last step
        # The one worker is free at the next step: the queued job starts at once, not after the ~90 steps
        # and the 60 s decode (several seconds here) the cancelled job had left.
        c.wait_for(lambda a, p: a == "/mage/job/progress" and p[:2] == [nxt, "started"], 30.0, seen)
        assert time.monotonic() - sent < 2.0
        addr, reply = wait_end(c, nxt, 120.0)
        assert addr == "/mage/job/done", reply
        assert json.loads(Path(reply[1]).read_text())["backend"]["warm"]
        assert d.worker_pids() == workers
