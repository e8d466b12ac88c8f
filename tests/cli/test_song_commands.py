"""``mage-bridge song new|add|fill|render``: real commands in subprocesses, real clips and songs on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mage_bridge import audio as audio_io
from mage_bridge.config import load_config
from mage_bridge.library.songs import LibrarySongStore
from tests.arrange.clipfolders import click_track, procedural_clip, write_clip
from tests.server.conftest import REPO


def _cli(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update({"PYTHONPATH": str(REPO), "MAGE_DATA_DIR": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "xdg")})
    return subprocess.run([sys.executable, "-m", "mage_bridge.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data folder whose ``clips/`` holds a procedural focus clip and a click clip."""
    clips = tmp_path / "data" / "clips"
    procedural_clip(clips, "house", "deep house at 120 BPM in A minor", seed=1, bars=4)
    write_clip(clips, "clicks", click_track(120.0, 4), bpm=120.0)
    return tmp_path / "data"


def test_new_add_fill_render_make_a_song_in_the_data_folder(data: Path, tmp_path: Path) -> None:
    p = _cli("song", "new", "night", "--focus", "house", "--fade", "4", tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"song 'night' of the library {str(data / 'library')!r}"  # kept in the library
    assert "mage-bridge: song night: focus: house" in p.stderr
    p = _cli("song", "add", "night", "clicks", "--role", "intro", "--fade-kind", "equal-power", "--json",
             tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    assert [s["clip"] for s in json.loads(p.stdout)["slots"]] == ["clicks", "house"]
    p = _cli("song", "fill", "night", "--role", "next", "--id", "night-next", "--bars", "4", "--seed", "2",
             "--backend", "procedural", "-q", tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(data / "clips" / "night-next" / "manifest.json") and p.stderr == ""
    p = _cli("song", "render", "night", "-o", str(tmp_path / "out"), "--format", "flac", "--preset", "apple",
             tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    m = json.loads(Path(p.stdout.strip()).read_text(encoding="utf-8"))
    assert [c["clip"] for c in m["clips"]] == ["clicks", "house", "night-next"]
    assert [j["fade_kind"] for j in m["junctions"]] == ["equal-power", "constant-gain"]
    assert [j["fade_s"] for j in m["junctions"]] == [4.0, 4.0]  # 2 bars at 120 BPM
    assert m["frames"] == 3 * 384_000 - 2 * 192_000
    assert m["master"]["preset"] == "apple" and m["master"]["measured"]["loudness_lufs"] == pytest.approx(-16, abs=0.5)
    assert audio_io.load(tmp_path / "out" / "song.flac").frames == m["frames"]
    assert "mage-bridge: intro -> focus at bar 2 (4.00 s): equal-power over 4.00 s" in p.stderr


def test_refusals_say_what_and_write_nothing(data: Path, tmp_path: Path) -> None:
    p = _cli("song", "new", "night", "--focus", "ghost", tmp=tmp_path)
    assert p.returncode == 1 and "mage-bridge: error: slot focus (clip 'ghost'): no clip 'ghost' in" in p.stderr
    assert not LibrarySongStore(load_config(data_dir=str(data))).exists("night")
    doc = tmp_path / "song.json"
    doc.write_text(json.dumps({"schema": "mage-bridge/arrangement@1", "slots": [
        {"role": "focus", "clip": "house"}, {"role": "next", "clip": "gone"}]}), encoding="utf-8")
    p = _cli("song", "render", str(doc), "-o", str(tmp_path / "out"), tmp=tmp_path)
    assert p.returncode == 1 and "slot next 1 (clip 'gone'): no clip 'gone'" in p.stderr, p.stderr
    doc.write_text('{"schema": "mage-bridge/arrangement@1", "slots": [', encoding="utf-8")
    p = _cli("song", "render", str(doc), "-o", str(tmp_path / "out"), tmp=tmp_path)
    assert p.returncode == 1 and "is not valid JSON" in p.stderr, p.stderr
    assert not (tmp_path / "out").exists()
    p = _cli("song", "add", "night", "house", "--role", "chorus", tmp=tmp_path)
    assert p.returncode == 2 and "invalid choice: 'chorus'" in p.stderr
    p = _cli("song", "render", "night", "-o", str(tmp_path / "out"), "--preset", "apple", "--true-peak", "-2",
             tmp=tmp_path)
    assert p.returncode == 2 and "--true-peak: not allowed with argument --preset" in p.stderr
