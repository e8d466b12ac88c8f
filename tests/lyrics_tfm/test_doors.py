"""The lyric backend chosen at each door: OSC ``/mage/lyrics`` options, ``lyrics --backend``, ``generate
--lyrics-backend``, ``mage-bridge backends`` (real daemon, real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("torch")

from tests.lyrics_tfm.tiny import tiny_model  # noqa: E402
from tests.server.conftest import DaemonProc, make_daemon, submit, wait_end  # noqa: E402, F401

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update(PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8", MAGE_MODELS_DIR=str(tmp / "models"))
    return subprocess.run([sys.executable, "-m", "mage_bridge.cli", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=300, env=env, cwd=tmp)


def test_osc_lyrics_jobs_name_their_writer(tmp_path: Path, make_daemon: Callable[..., DaemonProc]) -> None:
    models = tmp_path / "models"
    tiny_model(models / "lyrics")
    daemon = make_daemon(extra_config=f"models_dir = {json.dumps(str(models))}\n[lyrics]\ntries = 4")
    with daemon.client() as c:
        jobs = {name: submit(c, "/mage/lyrics", f"req-{name}", "sad folk song about rain", "",
                             json.dumps({"seed": 3, "duration_s": 20.0, "backend": name}))
                for name in ("transformers", "embedded", "gpt9")}
        for name in ("transformers", "embedded"):
            addr, reply = wait_end(c, jobs[name], 120.0)
            assert addr == "/mage/job/done", reply
            m = json.loads(Path(str(reply[1])).read_text(encoding="utf-8"))
            assert m["request"]["backend"] == name and m["lyrics"]["backend"] == name
            assert (m["lyrics"]["model"] is not None) == (name == "transformers")
        addr, reply = wait_end(c, jobs["gpt9"], 60.0)
        assert addr == "/mage/job/failed" and reply[1] == "invalid_input", reply
        assert "unknown lyrics backend 'gpt9'" in reply[2]


def test_the_command_line_flags_and_the_backends_list(tmp_path: Path) -> None:
    p = _cli("lyrics", "sad folk song", "--backend", "transformers", tmp=tmp_path)
    assert p.returncode == 1 and p.stdout == ""
    assert "lyrics backend 'transformers' is unavailable" in p.stderr
    assert str(tmp_path / "models" / "lyrics") in p.stderr
    p = _cli("generate", "soul with female vocals", "-o", "clip", "--lyrics-backend", "gpt9", tmp=tmp_path)
    assert p.returncode == 1 and "unknown lyrics backend 'gpt9'; known: auto, transformers, embedded" in p.stderr
    assert not (tmp_path / "clip").exists()
    p = _cli("lyrics", "sad folk song", "--backend", "embedded", "--seed", "2", tmp=tmp_path)
    assert p.returncode == 0 and p.stdout.startswith("[verse]\n") and "by the embedded writer" in p.stderr
    p = _cli("backends", "--json", tmp=tmp_path)
    listed = {b["name"]: b for b in json.loads(p.stdout)["lyrics"]}
    assert listed["embedded"]["available"] and not listed["transformers"]["available"]
    assert "train-lyrics" in listed["transformers"]["reason"]
