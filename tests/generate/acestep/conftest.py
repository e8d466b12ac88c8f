"""Tiny random ACE-Step pipelines (the real diffusers classes) in temporary model folders, and configs naming them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.config import Config, load_config


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tiny turbo folder (with the audio tokenizer), one without it, one base: built once per session."""
    pytest.importorskip("diffusers.pipelines.ace_step", reason="the acestep extra (diffusers >= 0.42) is not installed")
    import torch

    from .tiny import build_tiny_pipeline

    torch.set_num_threads(1)  # tiny tensors: threads only add overhead on a shared machine
    root = tmp_path_factory.mktemp("models")
    return {
        "turbo": build_tiny_pipeline(root / "turbo" / "acestep"),
        "plain": build_tiny_pipeline(root / "plain" / "acestep", with_audio_tokenizer=False),
        "base": build_tiny_pipeline(root / "base" / "acestep", turbo=False),
    }


def make_config(folder: Path, tmp: Path, **acestep: Any) -> Config:
    settings = {"steps": 3, "idle_release_s": 0, **acestep}
    return load_config(data_dir=str(tmp / "data"), models_dir=str(tmp / "models"), **{"acestep.model_dir": str(folder)},
                       **{f"acestep.{k}": v for k, v in settings.items()})


@pytest.fixture
def config(models: dict[str, Path], tmp_path: Path) -> Config:
    return make_config(models["turbo"], tmp_path)


@pytest.fixture
def analysis() -> PromptAnalysis:
    return PromptAnalysis(prompt="warm lofi piano in F# minor", genre="lofi hip hop", bpm=90.0, key="F#",
                          mode="minor", time_signature=(4, 4), mood=("warm",), instruments=("piano",))


@pytest.fixture(autouse=True)
def cold_start() -> Iterator[None]:
    """Each test starts with no pipeline loaded, so load counts and idle timers belong to it."""
    import sys

    route = sys.modules.get("mage_bridge.generate.acestep.diffusers_route")
    if route is not None:
        route.WARM.clear()
    yield
    route = sys.modules.get("mage_bridge.generate.acestep.diffusers_route")
    if route is not None:
        route.WARM.clear()
