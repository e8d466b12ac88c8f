"""text2music through ``create_generator("acestep")`` on a tiny random pipeline of the real classes (CPU)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.audio import mix
from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError, CancelledError
from mage_bridge.generate import create_generator
from mage_bridge.generate.base import GenerateRequest
from mage_bridge.progress import STEM_NAMES

from .conftest import make_config
from .spies import spy_pipeline

DURATION_S = 2.01  # not on ACE-Step's 40 ms latent grid: the pipeline gives 2.04 s, MAGE trims


def test_text2music_gives_four_stems_of_the_requested_length_that_sum_to_the_mix(
        config: Config, analysis: PromptAnalysis, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = spy_pipeline(monkeypatch)
    generator = create_generator("acestep", config)
    clip = generator.generate(GenerateRequest(analysis=analysis, seed=5, duration_s=DURATION_S))
    frames = int(round(DURATION_S * 48_000))
    assert list(clip.stems) == list(STEM_NAMES)
    for stem in clip.stems.values():
        assert stem.sample_rate == 48_000 and stem.samples.shape == (2, frames) and stem.samples.dtype == np.float32
    out = spy.outputs[0].audios[0].numpy()
    assert out.shape[1] == 51 * 1920 > frames  # ceil(2.01 * 25) latent frames, trimmed by MAGE
    np.testing.assert_allclose(mix(clip.stems).samples, out[:, :frames], atol=1e-5)
    d = clip.details
    assert d["backend"] == "acestep" and d["route"] == "diffusers" and d["folder"] == str(config.acestep.model_dir)
    assert (d["variant"], d["device"], d["dtype"]) == ("turbo", "cpu", "float32")
    assert (d["steps"], d["guidance"], d["shift"], d["seed"]) == (3, 1.0, 3.0, 5)
    assert d["keyscale"] == "F# minor" and d["bpm"] == 90 and d["warm"] is False and d["load_s"] > 0
    assert any("CPU" in w for w in d["warnings"])


def test_the_pipeline_is_called_offline_with_explicit_duration_and_no_turbo_guidance(
        config: Config, analysis: PromptAnalysis, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = spy_pipeline(monkeypatch)
    assert config.acestep.guidance == 7.0  # the default, which turbo would coerce with a warning per call
    create_generator("acestep", config).generate(GenerateRequest(analysis=analysis, seed=1, duration_s=1.5))
    assert spy.loads[0]["local_files_only"] is True and os.environ["HF_HUB_OFFLINE"] == "1"
    kwargs = spy.calls[0]
    assert kwargs["guidance_scale"] == 1.0 and kwargs["audio_duration"] == 1.5 and kwargs["num_inference_steps"] == 3
    assert kwargs["bpm"] == 90 and kwargs["keyscale"] == "F# minor" and kwargs["timesignature"] == "4"
    assert kwargs["lyrics"] == "[Instrumental]" and kwargs["task_type"] == "text2music"
    assert spy.pipes[0]._progress_bar_config == {"disable": True}


def test_the_same_seed_gives_the_same_audio_and_another_seed_other_audio(
        config: Config, analysis: PromptAnalysis) -> None:
    generator = create_generator("acestep", config)
    a, b, c = (generator.generate(GenerateRequest(analysis=analysis, seed=s, duration_s=1.0)) for s in (3, 3, 4))
    assert all(np.array_equal(a.stems[n].samples, b.stems[n].samples) for n in STEM_NAMES)
    assert not np.array_equal(mix(a.stems).samples, mix(c.stems).samples)


def test_progress_is_reported_once_per_diffusion_step(config: Config, analysis: PromptAnalysis) -> None:
    seen: list[tuple[str, float]] = []
    create_generator("acestep", config).generate(
        GenerateRequest(analysis=analysis, seed=1, duration_s=1.0), progress=lambda s, f: seen.append((s, f)))
    assert [f for s, f in seen if s == "diffuse"] == [1 / 3, 2 / 3, 1.0]
    assert seen[-1] == ("separate", 1.0)


def test_a_cancel_stops_within_the_step_without_decoding(
        models: dict[str, Path], tmp_path: Path, analysis: PromptAnalysis, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config(models["turbo"], tmp_path, steps=4)
    spy = spy_pipeline(monkeypatch)
    seen: list[float] = []

    def cancel_after_first_step(stage: str, fraction: float) -> None:
        if stage == "diffuse":
            seen.append(fraction)
            raise CancelledError("job cancelled")

    generator = create_generator("acestep", config)
    with pytest.raises(CancelledError):
        generator.generate(GenerateRequest(analysis=analysis, seed=1, duration_s=1.0), progress=cancel_after_first_step)
    assert seen == [0.25] and spy.decodes == 0 and spy.outputs == []
    clip = generator.generate(GenerateRequest(analysis=analysis, seed=1, duration_s=1.0))  # the model still works
    assert clip.details["warm"] is True and spy.decodes == 1 and len(spy.loads) == 1


def test_a_second_job_reuses_the_loaded_model(
        config: Config, analysis: PromptAnalysis, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = spy_pipeline(monkeypatch)
    first = create_generator("acestep", config).generate(GenerateRequest(analysis=analysis, seed=1, duration_s=1.0))
    second = create_generator("acestep", config).generate(GenerateRequest(analysis=analysis, seed=2, duration_s=1.0))
    assert len(spy.loads) == 1
    assert first.details["warm"] is False and first.details["load_s"] > 0
    assert second.details["warm"] is True and second.details["load_s"] == 0


def test_an_idle_model_is_released_after_idle_release_s(
        models: dict[str, Path], tmp_path: Path, analysis: PromptAnalysis, monkeypatch: pytest.MonkeyPatch) -> None:
    from mage_bridge.generate.acestep.diffusers_route import WARM

    config = make_config(models["turbo"], tmp_path, idle_release_s=1)
    spy = spy_pipeline(monkeypatch)
    generator = create_generator("acestep", config)
    generator.generate(GenerateRequest(analysis=analysis, seed=1, duration_s=1.0))
    done = time.monotonic()
    assert len(WARM.loaded()) == 1
    while WARM.loaded() and time.monotonic() - done < 10:
        time.sleep(0.05)
    assert not WARM.loaded() and time.monotonic() - done >= 0.9
    again = generator.generate(GenerateRequest(analysis=analysis, seed=1, duration_s=1.0))
    assert again.details["warm"] is False and len(spy.loads) == 2


def test_a_folder_that_is_not_in_the_diffusers_layout_is_named(models: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "acestep"
    shutil.copytree(models["turbo"], broken)
    shutil.rmtree(broken / "transformer")
    with pytest.raises(BackendUnavailableError, match="transformer/config.json"):
        create_generator("acestep", make_config(broken, tmp_path))
    with pytest.raises(BackendUnavailableError, match="does not exist"):
        create_generator("acestep", make_config(tmp_path / "nowhere", tmp_path))
