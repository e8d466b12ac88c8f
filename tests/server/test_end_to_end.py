"""The real generate job over OSC, and the submit/status commands against a running daemon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mage_bridge import audio
from tests.server.conftest import REPO, DaemonProc, submit, wait_end


def _cli(d: DaemonProc, *args: str, timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update({"MAGE_CONFIG": str(d.root / "config.toml"), "PYTHONPATH": str(REPO)})
    return subprocess.run([sys.executable, "-m", "mage_bridge.cli", *args, "--port", str(d.port)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout_s)


def test_generate_over_osc_end_to_end(daemon: DaemonProc) -> None:
    with daemon.client() as c:
        job = submit(c, "/mage/generate", "e2e", "deep house groove at 122 BPM in the key of G minor", "",
                     json.dumps({"duration_s": 8.0, "seed": 5}))
        seen: list[Any] = []
        addr, reply = wait_end(c, job, 120.0, seen)
        assert addr == "/mage/job/done", reply
    progress = [p for a, p in seen if a == "/mage/job/progress"]
    assert progress[0][1:] == ["started", 0.0] and len({p[1] for p in progress}) >= 3
    assert all(0.0 <= p[2] <= 1.0 for p in progress)
    manifest_path = Path(reply[1])
    assert manifest_path.parent == daemon.state_dir / "jobs" / job
    manifest = json.loads(manifest_path.read_text())
    assert manifest["kind"] == "generate" and manifest["request"]["seed"] == 5
    assert set(manifest["stems"]) >= {"drums", "bass"}
    for rel in [*manifest["stems"].values(), manifest["mix"]]:
        clip = audio.load(manifest_path.parent / rel)
        assert clip.sample_rate == manifest["sample_rate"] and clip.frames == manifest["frames"]
        assert clip.peak_dbfs() > -60.0 or rel.startswith("vocals")


def test_submit_and_status_commands(daemon: DaemonProc) -> None:
    with daemon.client() as c:
        job = submit(c, "/mage/test/job", "cli", "sleep", '{"seconds": 0.1}')
        wait_end(c, job, 15.0)
    out = _cli(daemon, "status", job, "--json", "--state-dir", str(daemon.state_dir))
    assert out.returncode == 0, out.stderr
    st = json.loads(out.stdout)
    assert (st["job_id"], st["state"]) == (job, "done") and st["detail"].endswith("manifest.json")
    stranger = _cli(daemon, "status", job)  # without the daemon's state folder, this CLI is just another app
    assert stranger.returncode == 1 and "not_owner" in stranger.stderr and "--state-dir" in stranger.stderr
    missing = _cli(daemon, "status", "no-such-job")
    assert missing.returncode == 1 and "not_found" in missing.stderr

    refused = _cli(daemon, "submit", "separate", "/etc/passwd")
    assert refused.returncode == 1 and "path_not_allowed" in refused.stderr

    made = _cli(daemon, "submit", "generate", "lo-fi hip hop beat", "--options", '{"duration_s": 10}',
                "--seed", "3", "--wait")
    assert made.returncode == 0, made.stderr
    job_id, manifest = made.stdout.split()
    assert Path(manifest).is_file() and job_id in manifest
