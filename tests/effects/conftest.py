"""Fixtures for the effects tests: a real VST3 built once per session from ``vst3_gain/`` with Debian's dpf-source."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

DPF_PATH = Path("/usr/share/dpf")
GAIN_SOURCE = Path(__file__).parent / "vst3_gain"


@pytest.fixture(scope="session")
def gain_vst3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``MageTestGain.vst3``: stereo gain, one parameter ``gain_db`` (−24 to +12 dB, default 0).

    Objects and the bundle go to a session temp folder; nothing is written under DPF_PATH or beside the source.
    """
    missing = [tool for tool in ("make", "g++") if shutil.which(tool) is None]
    if not (DPF_PATH / "Makefile.plugins.mk").is_file():
        missing.append(f"{DPF_PATH} (Debian package dpf-source)")
    if missing:
        pytest.skip(f"cannot build the test VST3: missing {', '.join(missing)} (setup.sh installs them)")
    out = tmp_path_factory.mktemp("vst3_gain")
    build = subprocess.run(
        ["make", "-C", str(GAIN_SOURCE), f"DPF_PATH={DPF_PATH}", f"DPF_BUILD_DIR={out / 'obj'}",
         f"DPF_TARGET_DIR={out / 'bin'}"],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, f"building the test VST3 failed:\n{build.stdout}\n{build.stderr}"
    bundle = out / "bin" / "MageTestGain.vst3"
    assert bundle.is_dir(), f"make succeeded but {bundle} is missing:\n{build.stdout}"
    return bundle
