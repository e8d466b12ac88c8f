"""Run the REAPER scripts under a real ``lua5.4`` against tests/daw/reaper_emu.lua."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.daw.conftest import HERE, REPO

SCRIPTS = REPO / "reaper" / "MAGE_Bridge"
GENERATE = SCRIPTS / "MAGE - Generate at edit cursor.lua"
SEPARATE = SCRIPTS / "MAGE - Separate selected item into stems.lua"
MASTER = SCRIPTS / "MAGE - Master selected item.lua"
LISTENER = SCRIPTS / "MAGE - Listener.lua"
EMU = HERE / "reaper_emu.lua"
LUA = shutil.which("lua5.4")

needs_lua = pytest.mark.skipif(LUA is None, reason="lua5.4 is not installed (setup.sh installs it)")


def to_lua(value: Any) -> str:
    """A Python value as a Lua literal (dicts -> tables with string keys, lists -> sequences)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (str, Path)):
        return json.dumps(str(value))  # JSON string escapes are valid Lua escapes for these strings
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(to_lua(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{json.dumps(str(k))}] = {to_lua(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as Lua")


def listen(max_iterations: int = 5, **kw: Any) -> dict[str, Any]:
    return {"defer": {"max_iterations": max_iterations, "interval_s": 0.05, **kw}}


def start_reaper(tmp_path: Path, scenario: dict[str, Any], state_dir: Path, name: str = "run"
                 ) -> tuple[subprocess.Popen[str], Path]:
    """Start the emulation in the background; returns the process and where its dump will be."""
    if LUA is None:
        pytest.skip("lua5.4 is not installed")
    scenario_file = tmp_path / f"{name}.scenario.lua"
    scenario_file.write_text("return " + to_lua(scenario) + "\n")
    out = tmp_path / f"{name}.out.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env["MAGE_STATE_DIR"] = str(state_dir)
    proc = subprocess.Popen([LUA, str(EMU), str(scenario_file), str(out)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, out


def finish_reaper(proc: subprocess.Popen[str], out: Path, timeout_s: float = 180.0) -> dict[str, Any]:
    try:
        output, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        raise AssertionError(f"the REAPER emulation did not finish in {timeout_s} s:\n{output}") from None
    assert proc.returncode == 0, output
    return json.loads(out.read_text())


def run_reaper(tmp_path: Path, scenario: dict[str, Any], state_dir: Path, name: str = "run",
               timeout_s: float = 180.0) -> dict[str, Any]:
    """Run a scenario to the end and return the emulated project's dump."""
    proc, out = start_reaper(tmp_path, scenario, state_dir, name)
    return finish_reaper(proc, out, timeout_s)


def new_tracks(dump: dict[str, Any], before: int) -> list[dict[str, Any]]:
    return dump["tracks"][before:]
