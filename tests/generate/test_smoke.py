"""A first render through the registry: shape, rate, peak, length."""

from __future__ import annotations

import numpy as np

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.audio import mix
from mage_bridge.config import load_config
from mage_bridge.generate import REGISTRY, create_generator
from mage_bridge.generate.base import GenerateRequest


def test_auto_falls_back_to_procedural_and_renders() -> None:
    config = load_config()
    assert REGISTRY.names()[:2] == ["acestep", "procedural"]
    generator = create_generator("auto", config)
    assert generator.name == "procedural"
    analysis = PromptAnalysis(prompt="deep house in A minor", genre="house", bpm=124.0, key="A",
                              mode="minor", time_signature=(4, 4))
    clip = generator.generate(GenerateRequest(analysis=analysis, seed=3))
    assert set(clip.stems) == {"drums", "bass", "other"}
    m = mix(clip.stems)
    assert m.sample_rate == 48_000 and m.channels == 2 and m.frames == round(32.0 * 48_000)
    assert m.peak_dbfs() <= -1.0
    assert 20 * np.log10(np.abs(m.samples[:, -4800:]).max() + 1e-12) < -60
