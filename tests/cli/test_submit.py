"""``submit`` against a real daemon: the API's parameter names over OSC, and --wait's progress display."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np

from mage_bridge import audio, manifest
from tests.effects.synth import song
from tests.server.conftest import REPO, DaemonProc, daemon, make_daemon  # noqa: F401  (fixtures)


def _cli(d: DaemonProc, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update({"MAGE_CONFIG": str(d.root / "config.toml"), "PYTHONPATH": str(REPO)})
    return subprocess.run([sys.executable, "-m", "mage_bridge.cli", *args, "--port", str(d.port)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_master_over_osc_takes_the_api_names_and_wait_shows_progress(daemon: DaemonProc) -> None:  # noqa: F811
    src = audio.save(song(12.0, np.random.default_rng(8)), daemon.data_dir / "mix.wav")
    p = _cli(daemon, "submit", "master", str(src), "--options", json.dumps({"target_lufs": -16.0,
                                                                           "true_peak_dbtp": -1.5}), "--wait")
    assert p.returncode == 0, p.stderr
    job_id, manifest_path = p.stdout.split()
    record = manifest.read(manifest_path)
    assert (record["request"]["target_lufs"], record["request"]["true_peak_dbtp"]) == (-16.0, -1.5)
    assert abs(record["measured"]["loudness_lufs"] + 16.0) <= 0.3
    pcts = [int(x) for x in re.findall(r"\] master\s+(\d+)%", p.stderr)]
    assert pcts and pcts[-1] == 100, p.stderr  # the daemon's progress events, drawn as plain lines on a pipe

    old = _cli(daemon, "submit", "master", str(src), "--options", '{"lufs": -16}', "--wait")
    assert old.returncode == 1
    assert "invalid_input" in old.stderr and "lufs" in old.stderr and "target_lufs" in old.stderr, old.stderr

    both = _cli(daemon, "submit", "master", str(src), "--options", '{"preset": "apple", "target_lufs": -16}',
                "--wait", "-q")
    assert both.returncode == 1 and "not both" in both.stderr, both.stderr
    assert not re.search(r"\d+%", both.stderr)  # -q: no progress
