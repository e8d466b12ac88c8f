"""The config's separator choice reaches the daemon's jobs: a request that names no backend runs the configured one."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.server.conftest import submit, wait_end

pytestmark = pytest.mark.skipif(importlib.util.find_spec("demucs") is None, reason="demucs is not installed")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder whose default Demucs model (``htdemucs``) is a tiny random one of the real classes."""
    from tests.separate.tiny_demucs import make_tiny_demucs_repo

    folder = tmp_path_factory.mktemp("models")
    make_tiny_demucs_repo(folder / "demucs", name="htdemucs", segment_s=1.0)
    return folder


def _separate(d: Any, options: dict[str, Any]) -> dict[str, Any]:
    wav = d.data_dir / "in.wav"
    t = np.arange(48_000 * 2) / 48_000
    sf.write(wav, np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 330 * t)], axis=1) * 0.3, 48_000)
    with d.client() as c:
        job = submit(c, "/mage/separate", f"sep-{len(options)}", str(wav), json.dumps(options) if options else "")
        address, reply = wait_end(c, job, 120.0)
    assert address == "/mage/job/done", reply
    return json.loads(Path(reply[1]).read_text())


@pytest.mark.parametrize("how", ["env", "toml"])
def test_configured_demucs_runs_in_the_daemon(make_daemon: Any, models: Path, how: str) -> None:
    if how == "env":
        d = make_daemon(env={"MAGE_SEPARATE_BACKEND": "demucs", "MAGE_MODELS_DIR": str(models)})
    else:
        d = make_daemon(extra_config=f'models_dir = "{models}"\n[backends]\nseparate = "demucs"\n')
    manifest = _separate(d, {})
    assert manifest["backend"]["name"] == "demucs", manifest["backend"]
    # A request that names a backend overrides the config.
    assert _separate(d, {"backend": "dsp"})["backend"]["name"] == "dsp"
