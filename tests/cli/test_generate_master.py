"""``generate --master``: the mix mastered beside the stems, recorded in the manifest, stems and mix left to sum."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mage_bridge import api
from mage_bridge import audio as audio_io
from mage_bridge.api.generate import MASTER_FILE
from mage_bridge.cli.prompts import MASTER_PRESETS
from mage_bridge.effects.loudness import integrated_loudness, true_peak_dbtp
from mage_bridge.effects.master import PRESETS
from mage_bridge.errors import InvalidInputError

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update(XDG_CONFIG_HOME=str(tmp / "xdg"), MAGE_DATA_DIR=str(tmp / "data"), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "mage_bridge.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env, cwd=REPO)


@pytest.mark.parametrize("flags, target", [(["--master"], -14.0), (["--master-preset", "broadcast"], -23.0),
                                           (["--master-lufs", "-11", "--master-true-peak", "-1.5"], -11.0)],
                         ids=["default", "preset", "lufs"])
def test_generate_master_writes_a_mastered_mix_at_its_target(tmp_path: Path, flags: list[str],
                                                            target: float) -> None:
    out = tmp_path / "clip"
    p = _cli("generate", "techno at 130 BPM in D minor", "-o", str(out), "--seed", "4", "--duration", "10",
             "--backend", "procedural", *flags, tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    data = json.loads((out / "manifest.json").read_text())
    record = data["master"]
    assert record["file"] == MASTER_FILE and record["target_lufs"] == target
    mastered = audio_io.load(out / MASTER_FILE)
    assert abs(integrated_loudness(mastered) - target) <= 0.5
    assert true_peak_dbtp(mastered) <= record["true_peak_dbtp"] + 0.05
    assert abs(record["measured"]["loudness_lufs"] - integrated_loudness(mastered)) <= 0.05
    assert "mastered" in p.stderr
    # The stems and mix.wav are the unmastered mix: they still sum, at the mix stage's -16 LUFS.
    stems = [audio_io.load(out / name).samples.astype(np.float64) for name in data["stems"].values()]
    mix = audio_io.load(out / data["mix"])
    error = np.sum(stems, axis=0) - mix.samples
    assert 10.0 * math.log10(float(np.sum(error ** 2)) / float(np.sum(mix.samples.astype(np.float64) ** 2))) < -60
    assert abs(integrated_loudness(mix) + 16.0) <= 0.5


def test_generate_without_master_writes_no_master(tmp_path: Path) -> None:
    path = api.generate("folk song", tmp_path / "clip", seed=1, backend="procedural", options={"duration_s": 8})
    data = json.loads(path.read_text())
    assert data["master"] is None
    assert not (path.parent / MASTER_FILE).exists()


def test_master_option_reports_progress_stage_master(tmp_path: Path) -> None:
    stages: list[tuple[str, float]] = []
    api.generate("house", tmp_path / "clip", seed=1, backend="procedural",
                 options={"duration_s": 8, "master": "apple"}, progress=lambda s, f: stages.append((s, f)))
    fractions = [f for s, f in stages if s == "master"]
    assert fractions and fractions[-1] == 1.0
    data = json.loads((tmp_path / "clip" / "manifest.json").read_text())
    assert data["master"]["preset"] == "apple" and data["master"]["target_lufs"] == -16.0


@pytest.mark.parametrize("value", [1, "louder", {"preset": "apple", "target_lufs": -14}, {"lufs": -14},
                                   {"target_lufs": 5}], ids=str)
def test_bad_master_option_is_refused_before_work(tmp_path: Path, value: object) -> None:
    with pytest.raises(InvalidInputError, match="master|target_lufs|preset"):
        api.generate("house", tmp_path / "clip", backend="procedural", options={"master": value})
    assert not (tmp_path / "clip").exists() or not any((tmp_path / "clip").iterdir())


def test_cli_master_presets_are_the_mastering_presets() -> None:
    assert set(MASTER_PRESETS) == set(PRESETS)
