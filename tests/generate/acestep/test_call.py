"""Mapping MAGE's analysis to one ACE-Step call, and the package's cheap import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.errors import InvalidInputError, NotSupportedError
from mage_bridge.generate.acestep.call import INSTRUMENTAL, AceStepCall, call_for


def test_call_for_maps_the_analysis(analysis: PromptAnalysis) -> None:
    call = call_for(analysis, duration_s=10.5, seed=7, is_turbo=True, guidance=7.0, shift=3.0)
    assert call.caption == "lofi hip hop, warm, piano, instrumental"
    assert call.lyrics == INSTRUMENTAL and call.bpm == 90 and call.keyscale == "F# minor"
    assert call.timesignature == "4" and call.seed == 7 and call.frames == 504_000
    assert call.steps == 8 and call.guidance == 1.0  # turbo: 8 steps, no classifier-free guidance
    base = call_for(analysis, duration_s=10.0, seed=7, is_turbo=False, guidance=6.5)
    assert base.steps == 50 and base.guidance == 6.5


def test_vocals_and_lyrics(analysis: PromptAnalysis) -> None:
    from dataclasses import replace

    sung = replace(analysis, vocals=True, time_signature=(3, 4), mode="major", key="Bb")
    call = call_for(sung, duration_s=8.0, seed=0, is_turbo=True, lyrics="[verse]\nla la\n")
    assert call.lyrics == "[verse]\nla la" and "vocals" in call.caption and "instrumental" not in call.caption
    assert call.timesignature == "3" and call.keyscale == "Bb major"
    assert call_for(sung, duration_s=8.0, seed=0, is_turbo=True).lyrics == ""  # sung, words left to the model


def test_latent_times_floor_back_to_the_same_latent() -> None:
    from mage_bridge.generate.acestep.call import latent_time

    for latents in range(0, 20_000):
        assert int(latent_time(latents * 1920) * 25) == latents
    assert int(latent_time(51 * 1920 + 100) * 25) == 51


def test_bad_calls_are_refused() -> None:
    kw = dict(caption="x", lyrics="", duration_s=2.0, bpm=90, keyscale="C major", timesignature="4", seed=0,
              steps=2, guidance=1.0, shift=3.0)
    with pytest.raises(InvalidInputError, match="task"):
        AceStepCall(**kw, task_type="remix")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="stereo"):
        AceStepCall(**kw, src_audio=np.zeros((1, 10), np.float32))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="duration"):
        AceStepCall(**{**kw, "duration_s": 0.0})  # type: ignore[arg-type]


def test_lego_and_extract_need_base_or_sft(tmp_path) -> None:
    from mage_bridge.generate.acestep.models import ModelFolder, check_task

    turbo = ModelFolder(route="diffusers", path=tmp_path, variant="turbo", is_turbo=True)
    for task in ("repaint", "extend", "cover", "text2music"):
        check_task(turbo, task)
    for task in ("lego", "extract"):
        with pytest.raises(NotSupportedError, match="base or SFT"):
            check_task(turbo, task)
        check_task(ModelFolder(route="diffusers", path=tmp_path, variant="base", is_turbo=False), task)


def test_importing_the_backend_and_asking_why_imports_no_torch(tmp_path) -> None:
    code = ("import sys\nfrom mage_bridge.config import load_config\nimport mage_bridge.generate.acestep as a\n"
            f"print(a.AceStepGenerator.unavailable_reason(load_config(models_dir={str(tmp_path)!r})))\n"
            "print('torch' in sys.modules, 'diffusers' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert str(tmp_path / "acestep") in out[0]
    assert out[1] == "False False"


def test_fit_frames_trims_the_latent_rounding_pads_short_output_and_makes_stereo() -> None:
    from mage_bridge.generate.acestep.call import fit_frames

    long = np.arange(20, dtype=np.float32).reshape(2, 10)
    assert np.array_equal(fit_frames(long, 7), long[:, :7])
    padded = fit_frames(long, 12)
    assert padded.shape == (2, 12) and np.array_equal(padded[:, :10], long) and not padded[:, 10:].any()
    mono = fit_frames(np.ones((1, 5), np.float64), 5)
    assert mono.shape == (2, 5) and mono.dtype == np.float32
