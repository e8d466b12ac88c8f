"""ACE-Step's edits on tiny random pipelines: repaint, extend, cover on turbo; lego and extract on base."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.audio import Audio, mix
from mage_bridge.config import Config
from mage_bridge.errors import InvalidInputError, NotSupportedError
from mage_bridge.generate import create_generator
from mage_bridge.generate.base import EditRequest
from mage_bridge.progress import STEM_NAMES
from mage_bridge.separate import create_separator

from .conftest import make_config
from .spies import spy_pipeline

SR = 48_000


@pytest.fixture
def source() -> dict[str, Audio]:
    """Four distinct 3 s stems (tones and noise), as a MAGE clip's."""
    rng = np.random.default_rng(11)
    t = np.arange(3 * SR) / SR
    waves = {"vocals": np.sin(2 * np.pi * 440 * t), "drums": rng.standard_normal(t.size) * (t % 0.5 < 0.05),
             "bass": np.sin(2 * np.pi * 55 * t), "other": np.sin(2 * np.pi * 660 * t) * 0.5}
    return {n: Audio(np.stack([w, w * 0.9]).astype(np.float32) * 0.2, SR) for n, w in waves.items()}


def repaint(config: Config, analysis: PromptAnalysis, stems: dict[str, Audio] | None, mixed: Audio,
            seed: int = 2) -> dict[str, Audio]:
    request = EditRequest(task="repaint", source=mixed, analysis=analysis, seed=seed, stems=stems, start_s=1.0,
                          end_s=2.0, crossfade_s=0.05)
    return create_generator("acestep", config).edit(request).stems


def test_repaint_changes_only_the_window_in_every_stem_and_the_mix(
        config: Config, analysis: PromptAnalysis, source: dict[str, Audio], monkeypatch: pytest.MonkeyPatch) -> None:
    spy = spy_pipeline(monkeypatch)
    out = repaint(config, analysis, source, mix(source))
    lo, start, end, hi = round(0.95 * SR), SR, 2 * SR, round(2.05 * SR)
    pairs = [(out[n].samples, source[n].samples) for n in STEM_NAMES] + [(mix(out).samples, mix(source).samples)]
    for new, old in pairs:
        assert new.shape == old.shape == (2, 3 * SR)
        assert np.array_equal(new[:, :lo], old[:, :lo]) and np.array_equal(new[:, hi:], old[:, hi:])
        assert not np.array_equal(new[:, start:end], old[:, start:end])
        assert not np.array_equal(new[:, lo:start], old[:, lo:start])  # crossfaded, not cut
    call = spy.calls[0]
    assert call["task_type"] == "repaint" and call["audio_duration"] == 3.0
    assert call["repainting_start"] == pytest.approx(0.92, abs=1e-5)  # the crossfades in whole latents
    assert call["repainting_end"] == pytest.approx(2.08, abs=1e-5)
    assert call["src_audio"].shape == (2, 3 * SR) and np.array_equal(call["src_audio"].numpy(), mix(source).samples)


def test_repaint_is_reproducible_with_its_seed(config: Config, analysis: PromptAnalysis,
                                               source: dict[str, Audio]) -> None:
    a, b = (repaint(config, analysis, source, mix(source), seed=4) for _ in range(2))
    assert all(np.array_equal(a[n].samples, b[n].samples) for n in STEM_NAMES)


def test_repaint_of_a_bare_mix_separates_it_first(config: Config, analysis: PromptAnalysis,
                                                  source: dict[str, Audio]) -> None:
    mixed = mix(source)
    out = repaint(config, analysis, None, mixed)
    separated = create_separator(None, config).separate(mixed)
    for name in STEM_NAMES:
        assert np.array_equal(out[name].samples[:, :int(0.95 * SR)], separated[name].samples[:, :int(0.95 * SR)])
    np.testing.assert_allclose(mix(out).samples[:, :int(0.95 * SR)], mixed.samples[:, :int(0.95 * SR)], atol=1e-5)


@pytest.mark.parametrize("side", ["after", "before"])
def test_extend_repaints_a_silent_pad_beside_the_source_and_returns_only_the_new_part(
        config: Config, analysis: PromptAnalysis, source: dict[str, Audio], side: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    spy = spy_pipeline(monkeypatch)
    mixed = mix(source)
    clip = create_generator("acestep", config).edit(
        EditRequest(task="extend", source=mixed, analysis=analysis, seed=3, side=side, duration_s=1.01))
    new = int(1.01 * SR)
    assert all(clip.stems[n].samples.shape == (2, new) for n in STEM_NAMES)
    call = spy.calls[0]
    src = call["src_audio"].numpy()
    pad = 26 * 1920  # 1.01 s in whole latent frames
    assert src.shape == (2, 3 * SR + pad) and call["audio_duration"] == pytest.approx(src.shape[1] / SR)
    generated = spy.outputs[0].audios[0].numpy()
    if side == "after":
        assert np.array_equal(src[:, :3 * SR], mixed.samples) and not src[:, 3 * SR:].any()
        assert call["repainting_start"] == pytest.approx(3.0, abs=1e-5) and call["repainting_end"] is None
        kept = generated[:, 3 * SR:3 * SR + new]
    else:
        assert np.array_equal(src[:, pad:], mixed.samples) and not src[:, :pad].any()
        assert call["repainting_start"] == pytest.approx(0.0, abs=1e-5)
        assert call["repainting_end"] == pytest.approx(pad / SR, abs=1e-5)
        kept = generated[:, pad - new:pad]
    np.testing.assert_allclose(mix(clip.stems).samples, kept, atol=1e-5)
    assert clip.details["task"] == "extend" and clip.details["side"] == side


def test_cover_runs_with_the_audio_tokenizer_and_names_it_when_missing(
        models: dict[str, Path], tmp_path: Path, analysis: PromptAnalysis, source: dict[str, Audio],
        monkeypatch: pytest.MonkeyPatch) -> None:
    spy = spy_pipeline(monkeypatch)
    request = EditRequest(task="cover", source=mix(source), analysis=analysis, seed=1, strength=0.7)
    clip = create_generator("acestep", make_config(models["turbo"], tmp_path)).edit(request)
    assert all(clip.stems[n].samples.shape == (2, 3 * SR) for n in STEM_NAMES)
    assert spy.calls[0]["task_type"] == "cover" and spy.calls[0]["audio_cover_strength"] == 0.7
    with pytest.raises(NotSupportedError, match="audio_tokenizer"):
        create_generator("acestep", make_config(models["plain"], tmp_path)).edit(request)


@pytest.mark.parametrize("task", ["lego", "extract"])
def test_lego_and_extract_are_refused_on_turbo_naming_base_and_sft(
        config: Config, analysis: PromptAnalysis, source: dict[str, Audio], task: str) -> None:
    request = EditRequest(task=task, source=mix(source), analysis=analysis, track="drums")
    with pytest.raises(NotSupportedError, match="base or SFT"):
        create_generator("acestep", config).edit(request)


def test_lego_adds_one_track_to_its_stem_on_base(
        models: dict[str, Path], tmp_path: Path, analysis: PromptAnalysis, source: dict[str, Audio],
        monkeypatch: pytest.MonkeyPatch) -> None:
    spy = spy_pipeline(monkeypatch)
    config = make_config(models["base"], tmp_path)
    clip = create_generator("acestep", config).edit(
        EditRequest(task="lego", source=mix(source), analysis=analysis, stems=source, seed=1, track="drums"))
    call = spy.calls[0]
    assert call["task_type"] == "lego" and call["track_name"] == "drums" and call["guidance_scale"] == 7.0
    added = spy.outputs[0].audios[0].numpy()[:, :3 * SR]
    for name in ("vocals", "bass", "other"):
        assert np.array_equal(clip.stems[name].samples, source[name].samples)
    np.testing.assert_allclose(clip.stems["drums"].samples, source["drums"].samples + added, atol=1e-6)
    assert clip.details["variant"] == "base" and clip.details["track"] == "drums"


def test_extract_gives_the_track_in_its_stem_on_base(
        models: dict[str, Path], tmp_path: Path, analysis: PromptAnalysis, source: dict[str, Audio]) -> None:
    config = make_config(models["base"], tmp_path)
    generator = create_generator("acestep", config)
    clip = generator.edit(EditRequest(task="extract", source=mix(source), analysis=analysis, seed=1, track="bass"))
    assert clip.stems["bass"].samples.any() and clip.stems["bass"].samples.shape == (2, 3 * SR)
    assert not any(clip.stems[n].samples.any() for n in ("vocals", "drums", "other"))
    with pytest.raises(InvalidInputError, match="woodwinds"):
        generator.edit(EditRequest(task="extract", source=mix(source), analysis=analysis, track="kazoo"))
