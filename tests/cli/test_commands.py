"""The command line's contract, checked with the real command in subprocesses and its real parser."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mage_bridge.cli import build_parser
from mage_bridge.server.client import DaemonUnreachableError, check_daemon

CLI = [sys.executable, "-m", "mage_bridge.cli"]
REPO = Path(__file__).resolve().parents[2]


def run(*args: str, tmp: Path, stdin: str | None = None, module: str = "mage_bridge.cli",
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update(XDG_CONFIG_HOME=str(tmp / "xdg"), MAGE_DATA_DIR=str(tmp / "data"), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", module, *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_command_has_quiet_verbose_config_and_examples() -> None:
    commands = _subcommands()
    assert set(commands) >= {"generate", "analyze", "separate", "enhance", "master", "export", "serve", "submit",
                             "status", "backends", "completion"}
    for name, parser in commands.items():
        text = parser.format_help()
        for flag in ("-q, --quiet", "-v, --verbose", "--config FILE"):
            assert flag in text, (name, flag)
        examples = text.split("examples:\n", 1)[1]
        assert f"mage-bridge {name}" in examples, name
        assert "\n  mage-bridge" in examples, name  # laid out as written, one example per line


def test_config_after_the_subcommand_means_the_same(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[backends]\nanalysis = "rules"\n')
    before = run("--config", str(config), "analyze", "--json", "waltz in D major", tmp=tmp_path)
    after = run("analyze", "--json", "waltz in D major", "--config", str(config), tmp=tmp_path)
    plain = run("analyze", "--json", "waltz in D major", tmp=tmp_path)
    assert before.returncode == after.returncode == plain.returncode == 0, after.stderr
    assert json.loads(before.stdout)["backend"] == json.loads(after.stdout)["backend"] == "rules"
    assert json.loads(plain.stdout)["backend"] != "rules"


def test_analyze_batch_reads_windows_lines_and_keeps_blank_ones_aligned(tmp_path: Path) -> None:
    p = run("analyze", "--json", "-", "--backend", "rules", stdin="waltz in D major\r\n\r\ntrap in C minor\r\n",
            tmp=tmp_path)
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert [d["prompt"] for d in lines] == ["waltz in D major", "", "trap in C minor"]
    assert lines[1]["error"]["code"] == "invalid_input" and lines[2]["genre"] == "trap"
    assert p.returncode == 1


def test_enhance_plugins_is_a_json_file() -> None:
    text = _subcommands()["enhance"].format_help()
    assert "--plugins FILE" in text and "JSON file" in text


@pytest.mark.parametrize("extra", [["--lufs", "-16"], ["--true-peak", "-2"], ["--lufs", "-16", "--true-peak", "-2"]],
                         ids=["lufs", "true-peak", "both"])
def test_master_preset_excludes_an_explicit_target(tmp_path: Path, extra: list[str]) -> None:
    p = run("master", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "o.wav"), "--preset", "apple", *extra,
            tmp=tmp_path)
    assert p.returncode == 2 and "not allowed with argument --preset" in p.stderr, p.stderr


@pytest.mark.parametrize("command", [["status", "abc123"], ["submit", "generate", "house"]], ids=["status", "submit"])
def test_no_daemon_is_told_at_once(tmp_path: Path, command: list[str]) -> None:
    port = _free_udp_port()
    started = time.monotonic()
    p = run(*command, "--port", str(port), tmp=tmp_path)
    took = time.monotonic() - started
    assert p.returncode == 1
    assert p.stderr.strip() == (f"mage-bridge: error: no daemon answers on 127.0.0.1:{port} — is `mage-bridge serve` "
                                "running?")
    assert took < 4.5  # the reply timeout it used to wait for was 5 s, on top of the interpreter's start


def test_check_daemon_uses_the_refusal_not_a_timeout() -> None:
    port = _free_udp_port()
    started = time.monotonic()
    with pytest.raises(DaemonUnreachableError, match=f"127.0.0.1:{port}"):
        check_daemon("127.0.0.1", port, timeout_s=5.0)
    assert time.monotonic() - started < 0.5
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers: the timeout
        silent.bind(("127.0.0.1", 0))
        started = time.monotonic()
        with pytest.raises(DaemonUnreachableError):
            check_daemon("127.0.0.1", silent.getsockname()[1], timeout_s=0.3)
        assert 0.25 < time.monotonic() - started < 2.0


@pytest.mark.parametrize("prompt", ["", "   "], ids=["empty", "blank"])
def test_an_empty_prompt_is_refused_before_any_progress(tmp_path: Path, prompt: str) -> None:
    p = run("generate", prompt, "-o", str(tmp_path / "out"), tmp=tmp_path)
    assert p.returncode == 1
    assert p.stderr.splitlines() == [
        "mage-bridge: error: prompt is empty: describe the music, e.g. 'deep house at 122 BPM in G minor'"]
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_is_valid_and_names_the_commands(tmp_path: Path) -> None:
    p = run("completion", "bash", tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    check = subprocess.run(["bash", "-n"], input=p.stdout, capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    for name in _subcommands():
        assert name in p.stdout, name
    assert "--lufs" in p.stdout and "--preset" in p.stdout
    loaded = subprocess.run(["bash", "-c", 'source /dev/stdin; complete -p mage-bridge'], input=p.stdout,
                            capture_output=True, text=True, timeout=30)
    assert loaded.returncode == 0 and "mage-bridge" in loaded.stdout, loaded.stderr


@pytest.mark.parametrize("shell", ["zsh", "tcsh"])
def test_zsh_and_tcsh_completion_name_the_commands(tmp_path: Path, shell: str) -> None:
    p = run("completion", shell, tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "generate" in p.stdout and "master" in p.stdout and "completion" in p.stdout


def test_python_dash_m_mage_bridge_is_the_command(tmp_path: Path) -> None:
    p = run("--version", tmp=tmp_path, module="mage_bridge")
    assert p.returncode == 0 and p.stdout.startswith("mage-bridge ")
