"""The progress display of the real CLI: a bar on a terminal, lines through a pipe, nothing with -q.

The terminal is a real pseudo-terminal (``pty.openpty``): the CLI runs as a subprocess with its stderr
on the pty's slave side, exactly as in an interactive shell.
"""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mage_bridge import audio
from mage_bridge.cli.progress import ProgressDisplay
from tests.effects.synth import song

CLI = [sys.executable, "-m", "mage_bridge.cli"]
REPO = Path(__file__).resolve().parents[2]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update(XDG_CONFIG_HOME=str(tmp / "xdg"), MAGE_DATA_DIR=str(tmp / "data"), PYTHONPATH=str(REPO),
               TERM="xterm-256color", COLUMNS="100")
    return env


@pytest.fixture(scope="module")
def song_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twenty seconds of synthetic music: long enough for a bar to be drawn while the master runs."""
    return audio.save(song(20.0, np.random.default_rng(11)), tmp_path_factory.mktemp("song") / "song.wav")


def _run_on_pty(args: list[str], tmp: Path) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; returns (exit status, stdout, what the terminal showed)."""
    master_fd, slave_fd = pty.openpty()
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=slave_fd, stdin=subprocess.DEVNULL,
                            env=_env(tmp), cwd=REPO)
    os.close(slave_fd)
    shown = bytearray()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master_fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master_fd, 65536)
            except OSError:  # EIO: the slave side is closed (the process ended)
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    os.close(master_fd)
    out = proc.stdout.read().decode() if proc.stdout else ""
    return proc.wait(timeout=30), out, shown.decode(errors="replace")


def test_on_a_terminal_a_bar_with_stage_and_percent(song_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.wav"
    code, stdout, shown = _run_on_pty(["master", str(song_file), "-o", str(out)], tmp_path)
    assert code == 0, shown
    assert stdout.strip() == f"{out}.json"
    assert "━" in shown  # rich's bar
    assert re.search(r"master\s.*━.*\d+%", shown), shown
    assert "\r\x1b[2K" in shown  # drawn in place (carriage return, erase line), not printed as lines
    assert not re.search(r"\[\s*[\d.]+s\] master", shown)  # no plain lines on a terminal


def test_through_a_pipe_plain_lines_per_stage_and_quarter(song_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.wav"
    p = subprocess.run([*CLI, "master", str(song_file), "-o", str(out)], capture_output=True, text=True,
                       env=_env(tmp_path), cwd=REPO, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "\x1b[" not in p.stderr and "━" not in p.stderr
    lines = [line for line in p.stderr.splitlines() if line.startswith("[")]
    stages = [re.match(r"\[\s*[\d.]+s\] (\w+)\s+(\d+)%", line).groups() for line in lines]  # type: ignore[union-attr]
    master = [int(pct) for stage, pct in stages if stage == "master"]
    assert master[0] == 0 and master[-1] == 100 and len(master) >= 3
    quarters = [pct // 25 for pct in master]
    assert quarters == sorted(set(quarters))  # one line per quarter reached, not one per report
    assert [s for s, _ in stages].index("load") < [s for s, _ in stages].index("master")
    assert p.stderr.splitlines()[-1].startswith("mage-bridge: ") and "LUFS" in p.stderr.splitlines()[-1]


def test_quiet_prints_nothing_on_a_terminal_either(song_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.wav"
    code, stdout, shown = _run_on_pty(["master", str(song_file), "-o", str(out), "-q"], tmp_path)
    assert code == 0
    assert shown == ""
    assert stdout.strip() == f"{out}.json"


def test_every_audio_command_reports_through_the_display(song_file: Path, tmp_path: Path) -> None:
    env = _env(tmp_path)
    stems = tmp_path / "stems"
    for args, stage in ((["separate", str(song_file), "-o", str(stems), "--backend", "dsp"], "separate"),
                        (["enhance", str(stems / "vocals.wav"), "-o", str(tmp_path / "v.wav")], "enhance"),
                        (["export", str(song_file), "-o", str(tmp_path / "x.flac")], "write")):
        p = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
        assert p.returncode == 0, p.stderr
        pcts = [int(m) for m in re.findall(rf"\] {stage}\s+(\d+)%", p.stderr)]
        assert pcts and pcts[-1] == 100 and len(pcts) >= 3, p.stderr  # the fractions, not only stage names


def test_lines_mode_steps_and_eta() -> None:
    stream = io.StringIO()
    shown = ProgressDisplay(mode="lines", stream=stream)
    for i in range(101):
        shown("render", i / 100)
    shown("write", 0.0)
    shown("write", 0.1)
    shown("write", 1.0)
    lines = stream.getvalue().splitlines()
    assert [re.search(r"(\w+)\s+(\d+)%", line).groups() for line in lines] == [  # type: ignore[union-attr]
        ("render", "0"), ("render", "25"), ("render", "50"), ("render", "75"), ("render", "100"),
        ("write", "0"), ("write", "100")]
    off = io.StringIO()
    ProgressDisplay(mode="off", stream=off)("render", 0.5)
    assert off.getvalue() == ""
