"""``mage-bridge repaint|extend|cover|lego|extract|retake`` and ``submit repaint``: real commands in subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mage_bridge import api
from mage_bridge import audio as audio_io
from tests.server.conftest import REPO, DaemonProc, daemon, make_daemon  # noqa: F401  (fixtures)
from tests.signals import clicks


def _cli(*args: str, tmp: Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update({"PYTHONPATH": str(REPO), "MAGE_DATA_DIR": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "xdg")})
    if config is not None:
        env["MAGE_CONFIG"] = str(config)
    return subprocess.run([sys.executable, "-m", "mage_bridge.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("source") / "clip"
    return api.generate("boom bap at 90 bpm in D minor", out, seed=5, backend="procedural", options={"bars": 4})


def test_repaint_on_a_backend_without_it_says_who_can(clip: Path, tmp_path: Path) -> None:
    p = _cli("repaint", str(clip), "--start", "1", "--end", "2", "--backend", "procedural", "-o",
             str(tmp_path / "out"), tmp=tmp_path)
    assert p.returncode == 1
    assert "mage-bridge: error: the 'procedural' generator cannot repaint" in p.stderr, p.stderr
    assert not (tmp_path / "out").exists()


def test_a_range_past_the_source_is_refused_before_work(clip: Path, tmp_path: Path) -> None:
    p = _cli("repaint", str(clip.parent), "--start", "50", "-o", str(tmp_path / "out"), tmp=tmp_path)
    assert p.returncode == 1 and "start_s=50 must be before" in p.stderr, p.stderr
    p = _cli("lego", str(clip), "--track", "kazoo", "-o", str(tmp_path / "out"), tmp=tmp_path)
    assert p.returncode == 2 and "invalid choice: 'kazoo'" in p.stderr
    p = _cli("cover", str(clip), "-o", str(tmp_path / "out"), tmp=tmp_path)
    assert p.returncode == 2 and "--prompt" in p.stderr
    assert not (tmp_path / "out").exists()


def test_retake_makes_a_new_clip_with_the_source_request(clip: Path, tmp_path: Path) -> None:
    p = _cli("retake", str(clip.parent), "--seed", "11", "-o", str(tmp_path / "out"), tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    m = json.loads(Path(p.stdout.strip()).read_text())
    assert (m["kind"], m["request"]["seed"], m["lineage"]["parent"]) == ("retake", 11, str(clip.parent))
    assert "mage-bridge: retake by procedural" in p.stderr


def test_submit_repaint_to_a_daemon(daemon: DaemonProc, tmp_path: Path) -> None:  # noqa: F811
    beat = audio_io.save(clicks(120.0, 4.0), daemon.data_dir / "beat.wav")
    config, port = daemon.root / "config.toml", str(daemon.port)
    p = _cli("submit", "repaint", str(beat), "--options", json.dumps({"start_s": 0.5, "end_s": 1.5,
                                                                      "backend": "procedural"}),
             "--wait", "--port", port, tmp=tmp_path, config=config)
    assert p.returncode == 1
    assert "not_supported: the 'procedural' generator cannot repaint" in p.stderr, p.stderr
    bad = _cli("submit", "repaint", str(beat), "--options", '{"start_s": "soon"}', "--port", port, tmp=tmp_path,
               config=config)
    assert bad.returncode == 1 and "invalid_input: start_s must be a number" in bad.stderr, bad.stderr
