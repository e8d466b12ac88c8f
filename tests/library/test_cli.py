"""``mage-bridge library ...`` as a real subprocess: table and JSON output, errors as one line and status 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mage_bridge import audio as audio_io
from mage_bridge.library import Library
from tests.library.conftest import write_clip
from tests.measure.synth import chord_clip

REPO = Path(__file__).resolve().parents[2]


def run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update(XDG_CONFIG_HOME=str(tmp / "xdg"), MAGE_DATA_DIR=str(tmp / "data"), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "mage_bridge.cli", "library", *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=REPO)


@pytest.fixture
def filled(tmp_path: Path) -> dict[str, str]:
    """A library in the CLI's data folder: two generated clips and nothing else."""
    with Library(tmp_path / "data" / "library") as library:
        a = library.register(write_clip(tmp_path / "a", prompt="deep house groove", bpm=124.0, key="A", mode="minor"))
        b = library.register(write_clip(tmp_path / "b", prompt="techno at night", bpm=128.0, key="E", mode="minor"))
        c = library.register(write_clip(tmp_path / "c", prompt="polka", bpm=150.0, key="F#", mode="major"))
    assert a is not None and b is not None and c is not None
    return {"a": a.id, "b": b.id, "c": c.id}


def test_search_as_the_readme_shows_it(tmp_path: Path, filled: dict[str, str]) -> None:
    done = run(tmp_path, "search", "--bpm", "120-128", "--key", "A minor", "--compatible", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["total"] == 2 and {c["id"] for c in result["clips"]} == {filled["a"], filled["b"]}
    assert {c["camelot"] for c in result["clips"]} == {"8A", "9A"}
    table = run(tmp_path, "search", "night", "--bpm", "120-130")
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "KIND", "BPM", "KEY", "LEN", "LUFS", "RATING", "TAGS", "TITLE"]
    assert len(lines) == 2 and lines[1].startswith(filled["b"]) and "E minor (9A)" in lines[1]
    assert "clips 1-1 of 1" in table.stderr


def test_import_tag_rate_show_list_delete_check(tmp_path: Path, filled: dict[str, str],
                                                rng: np.random.Generator) -> None:
    audio_io.save(chord_clip(9, "minor", rng=rng, bpm=120.0, cycles=1), tmp_path / "mine.wav")
    done = run(tmp_path, "import", str(tmp_path / "mine.wav"), "--tag", "Field", "--rating", "3", "--json", "-q")
    assert done.returncode == 0, done.stderr
    imported = json.loads(done.stdout)[0]
    assert imported["kind"] == "import" and imported["key"] == "A minor" and imported["tags"] == ["field"]
    clip_id = imported["id"]
    assert run(tmp_path, "tag", clip_id[:6], "dusty", "--remove", "field").stdout.split() == ["dusty"]
    assert run(tmp_path, "rate", clip_id, "5").stdout.strip() == "5"
    shown = json.loads(run(tmp_path, "show", clip_id, "--json").stdout)
    assert (shown["rating"], shown["tags"], shown["measured"]["key"]) == (5, ["dusty"], "A minor")
    assert Path(shown["audio"]).is_file()
    listed = json.loads(run(tmp_path, "list", "--json").stdout)
    assert listed["total"] == 4 and listed["clips"][0]["id"] == clip_id  # newest first
    gone = run(tmp_path, "delete", clip_id, "--json")
    assert gone.returncode == 0 and not Path(shown["folder"]).exists()
    assert f"deleted {clip_id}" in gone.stderr
    (tmp_path / "a" / "mix.wav").unlink()
    report = json.loads(run(tmp_path, "check", "--dry-run", "--json").stdout)
    assert [(f["problem"], f["clip_id"]) for f in report["findings"]] == [("missing", filled["a"])]
    fixed = run(tmp_path, "check")
    assert fixed.returncode == 0 and "missing" in fixed.stdout and "1 finding(s)" in fixed.stderr
    assert "files and rows agree" in run(tmp_path, "check").stderr
    tomb = run(tmp_path, "show", filled["a"])
    assert tomb.returncode == 0 and "files missing: mix.wav" in tomb.stdout


@pytest.mark.parametrize("args,message", [
    (("search", "--bpm", "128-120"), "bpm range must run upwards"),
    (("search", "--bpm", "fast"), "bpm must be a tempo or a range such as 120-128, got 'fast'"),
    (("search", "--key", "H minor"), "unknown key 'H minor'"),
    (("show", "ffffffffffff"), "no clip 'ffffffffffff' in the library"),
    (("rate", "ffff", "9"), "rating must be an int from 0 (none) to 5, got 9"),
    (("import", "/nowhere/at/all.wav"), "no audio file at '/nowhere/at/all.wav'"),
], ids=["bpm-downwards", "bpm-word", "key", "missing-clip", "rating", "import-missing"])
def test_bad_input_is_one_line_and_status_1(tmp_path: Path, filled: dict[str, str], args: tuple[str, ...],
                                            message: str) -> None:
    done = run(tmp_path, *args)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("mage-bridge: error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_deleted_clip_is_named_as_deleted(tmp_path: Path, filled: dict[str, str]) -> None:
    assert run(tmp_path, "delete", filled["c"], "-q").returncode == 0
    done = run(tmp_path, "tag", filled["c"], "x")
    assert done.returncode == 1 and f"clip {filled['c']} ('polka') was deleted on" in done.stderr


def test_a_corrupt_import_writes_nothing(tmp_path: Path, filled: dict[str, str]) -> None:
    (tmp_path / "broken.flac").write_bytes(os.urandom(3000))
    done = run(tmp_path, "import", str(tmp_path / "broken.flac"))
    assert done.returncode == 1 and "broken.flac" in done.stderr
    assert json.loads(run(tmp_path, "list", "--json").stdout)["total"] == 3
    assert not (tmp_path / "data" / "library" / "clips").exists() or \
        list((tmp_path / "data" / "library" / "clips").iterdir()) == []


def test_a_clip_generated_by_the_cli_is_in_the_library(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), MAGE_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(REPO))
    made = subprocess.run([sys.executable, "-m", "mage_bridge.cli", "generate", "warm disco groove at 118 BPM",
                           "--out", str(tmp_path / "disco"), "--duration", "8", "-q"], capture_output=True, text=True,
                          timeout=180, env=env, cwd=REPO)
    assert made.returncode == 0, made.stderr
    listed = json.loads(run(tmp_path, "search", "disco", "--bpm", "118", "--json").stdout)
    assert listed["total"] == 1 and listed["clips"][0]["audio"] == str(tmp_path / "disco" / "mix.wav")
