"""Many processes on one library: writers at once lose nothing; a writer killed with SIGKILL mid-write leaves a
consistent file, and ``library check`` brings files and rows back into agreement."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from mage_bridge.library import Library
from tests.library.conftest import write_clip

REPO = Path(__file__).resolve().parents[2]
PER_WRITER = 40


def _writer(mode: str, root: Path, work: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "tests.library.writers", mode, str(root), str(work), *extra],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_four_processes_writing_at_once_lose_no_rows(tmp_path: Path) -> None:
    root, work = tmp_path / "library", tmp_path / "work"
    work.mkdir()
    writers = [_writer("register", root, work, str(PER_WRITER)) for _ in range(4)]  # they create it together
    time.sleep(1.0)  # each writes its clip folders first, then waits for the start
    (work / "go").touch()
    ids = []
    for w in writers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
        ids += out.split()
    assert len(ids) == len(set(ids)) == 4 * PER_WRITER
    with Library(root) as library:
        page = library.list(limit=500)
        assert page.total == 4 * PER_WRITER and {c.id for c in page.clips} == set(ids)
        tagged = library.db.execute("SELECT COUNT(*) FROM clip_tags WHERE tag = 'shared'").fetchone()[0]
        assert tagged == 4 * len(range(0, PER_WRITER, 5))
        assert library.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # every folder written is recorded, once
        folders = {str(p.parent) for p in work.glob("*/*/manifest.json")}
        assert {str(c.folder) for c in page.clips} == folders


def test_a_writer_killed_mid_write_leaves_a_consistent_library(tmp_path: Path, rng: np.random.Generator) -> None:
    root, work = tmp_path / "library", tmp_path / "work"
    work.mkdir()
    with Library(root) as library:
        kept = library.register(write_clip(tmp_path / "kept"))  # a clip no writer touches
    assert kept is not None
    for cycle in range(5):
        writer = _writer("churn", root, work)
        deadline = time.monotonic() + 60
        with Library(root) as library:  # let it write a while: imports, deletes, tags, ratings
            while library.list(deleted=True).total + library.list().total < 3 * (cycle + 1) + 1:
                assert writer.poll() is None, writer.communicate()[1]
                assert time.monotonic() < deadline
                time.sleep(0.02)
        time.sleep(float(rng.uniform(0.0, 0.3)))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
        assert writer.returncode == -signal.SIGKILL
    with Library(root) as library:
        assert library.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update(PYTHONPATH=str(REPO), MAGE_LIBRARY_DIR=str(root), MAGE_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-m", "mage_bridge.cli", "library", "check", "--json"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dry_run"] is False
    with Library(root) as library:
        live = list(library.live_rows())
        for clip in live:  # every row's files are there...
            assert all((clip.folder / name).is_file() for name in clip.files), clip
        owned = {c.id for c in live if c.folder.parent == library.clips_dir}
        # ...and every folder in the library's own folder is a live clip's, with no staging left
        assert {p.name for p in library.clips_dir.iterdir()} == owned
        assert kept.id in {c.id for c in live}
        assert library.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    again = subprocess.run([sys.executable, "-m", "mage_bridge.cli", "library", "check", "--json"], cwd=REPO,
                           env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(again.stdout)["clean"] is True
