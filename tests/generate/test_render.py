"""Rendering: seeded determinism, registry, clear errors when FluidSynth or a SoundFont is missing."""

from __future__ import annotations

import numpy as np
import pytest

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.config import load_config
from mage_bridge.errors import BackendUnavailableError
from mage_bridge.generate import REGISTRY, create_generator, fluidsynth
from mage_bridge.generate.base import GenerateRequest
from mage_bridge.generate.procedural import ProceduralGenerator

BOOM_BAP = PromptAnalysis(prompt="boom bap in D minor", genre="boom bap", bpm=90.0, key="D", mode="minor",
                          time_signature=(4, 4))


def _render(seed: int, *, parallel: bool = True) -> dict[str, np.ndarray]:
    clip = ProceduralGenerator(parallel=parallel).generate(
        GenerateRequest(analysis=BOOM_BAP, seed=seed, duration_s=12.0))
    return {k: v.samples for k, v in clip.stems.items()}


def test_same_seed_identical_other_seed_differs() -> None:
    a, b, c = _render(7), _render(7), _render(8)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_threads_render_what_one_thread_renders() -> None:
    a, b = _render(5), _render(5, parallel=False)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_details_say_how_to_re_render() -> None:
    clip = ProceduralGenerator().generate(GenerateRequest(analysis=BOOM_BAP, seed=3, duration_s=12.0))
    d = clip.details
    for key in ("backend_version", "seed", "soundfont", "soundfont_name", "lead_in_s", "body_bars",
                "lead_out_s", "bar_s", "progression", "parts"):
        assert key in d
    assert d["seed"] == 3 and d["progression"][0] == "i" and d["progression"][-1] == "i"
    assert abs(d["bar_s"] - 4 * 60 / 90) < 1e-6
    assert d["lead_in_s"] + d["body_bars"] * d["bar_s"] + d["lead_out_s"] == pytest.approx(12.0, abs=1e-4)
    assert {p["stem"] for p in d["parts"]} == {"drums", "bass", "other"}


def test_registry_prefers_acestep_then_falls_back() -> None:
    config = load_config()
    assert REGISTRY.names()[:2] == ["acestep", "procedural"]
    reason = REGISTRY.why_unavailable("acestep", config)
    assert reason is not None and ("mage-bridge[acestep]" in reason or "ace-step" in reason)
    assert create_generator("auto", config).name == "procedural"
    with pytest.raises(BackendUnavailableError):
        create_generator("acestep", config)


def test_missing_soundfont_names_the_fix(tmp_path) -> None:
    config = load_config(soundfont=str(tmp_path / "nope.sf2"))
    reason = ProceduralGenerator.unavailable_reason(config)
    assert reason is not None and "fluid-soundfont-gm" in reason and "MAGE_SOUNDFONT" in reason
    with pytest.raises(BackendUnavailableError, match="fluid-soundfont-gm"):
        create_generator("procedural", config)


def test_missing_libfluidsynth_names_the_fix(monkeypatch) -> None:
    monkeypatch.setattr(fluidsynth, "_lib", None)
    monkeypatch.setattr(fluidsynth, "_load_error", None)
    monkeypatch.setattr(fluidsynth, "_LIB_NAMES", ("libfluidsynth-not-here.so.9",))
    monkeypatch.setattr(fluidsynth.ctypes.util, "find_library", lambda name: None)
    monkeypatch.delenv("MAGE_FLUIDSYNTH_LIB", raising=False)
    with pytest.raises(BackendUnavailableError, match="apt-get install libfluidsynth3"):
        fluidsynth.load_library()
    assert "libfluidsynth3" in (ProceduralGenerator.unavailable_reason(load_config()) or "")


def test_soundfont_name_is_read_from_the_file() -> None:
    sf = load_config().resolved_soundfont()
    assert sf is not None
    assert fluidsynth.soundfont_name(sf) not in ("", None)
