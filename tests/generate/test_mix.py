"""The procedural mix stage: no DC, no anti-phase, a mono sub, the target loudness, stems that sum to the mix."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import signal

from mage_bridge import api
from mage_bridge import audio as audio_io
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.audio import Audio, mix
from mage_bridge.effects.loudness import integrated_loudness, true_peak_dbtp
from mage_bridge.generate.base import GenerateRequest
from mage_bridge.generate.mix import CEILING_DBTP, TARGET_LUFS, correlation, mix_stems
from mage_bridge.generate.procedural import ProceduralGenerator

RATE = 48_000
#: Trap layers the GM synth pad (program 89), whose render carries a DC offset and an anti-phase image.
TRAP = PromptAnalysis(prompt="dark trap in C# minor", genre="trap", bpm=140.0, key="C#", mode="minor",
                      time_signature=(4, 4))
SYNTH_PAD = 89


def _low_correlation(x: np.ndarray) -> float:
    low = signal.sosfiltfilt(signal.butter(4, 120.0, btype="lowpass", fs=RATE, output="sos"), x, axis=1)
    return correlation(low[0], low[1])


@pytest.fixture(scope="module")
def pad_clip() -> tuple[dict[str, Audio], Audio, dict, set[int]]:
    clip = ProceduralGenerator().generate(GenerateRequest(analysis=TRAP, seed=0, duration_s=16.0))
    assert clip.score is not None
    programs = {p.program for parts in clip.score.stems().values() for p in parts}
    return clip.stems, mix(clip.stems), clip.details, programs


def test_synth_pad_clip_has_no_dc_and_no_anti_phase(pad_clip: tuple) -> None:
    stems, m, details, programs = pad_clip
    assert SYNTH_PAD in programs  # the patch that renders with DC and an anti-phase image
    x = m.samples.astype(np.float64)
    assert float(np.max(np.abs(x.mean(axis=1)))) < 0.002
    assert correlation(x[0], x[1]) >= 0.3
    assert _low_correlation(x) >= 0.9
    other = stems["other"].samples.astype(np.float64)
    assert correlation(other[0], other[1]) >= 0.3
    # The render itself was wider than MIN_CORRELATION allows (near or below zero): the mix stage narrowed it,
    # and says so.
    report = details["mix"]["stems"]["other"]
    assert report["correlation_before"] < 0.1 and report["width"] < 1.0


def test_mix_lands_at_the_target_loudness_under_the_ceiling(pad_clip: tuple) -> None:
    _, m, details, _ = pad_clip
    assert abs(integrated_loudness(m) - TARGET_LUFS) <= 0.5
    assert true_peak_dbtp(m) <= CEILING_DBTP
    assert details["mix"]["target_lufs"] == TARGET_LUFS
    assert abs(details["mix"]["lufs"] - integrated_loudness(m)) <= 0.1


def test_written_stems_sum_to_the_written_mix(tmp_path) -> None:
    manifest = api.generate("dark trap beat with pads", tmp_path / "clip", seed=3, backend="procedural",
                            options={"genre": "trap", "bpm": 140, "key": "C#", "mode": "minor", "duration_s": 8})
    data = json.loads(manifest.read_text())
    folder = manifest.parent
    stems = [audio_io.load(folder / name).samples.astype(np.float64) for name in data["stems"].values()]
    written = audio_io.load(folder / data["mix"]).samples.astype(np.float64)
    error = np.sum(stems, axis=0) - written
    ratio_db = 10.0 * math.log10(float(np.sum(error ** 2)) / float(np.sum(written ** 2)))
    assert ratio_db < -60.0


def test_peaky_mix_is_limited_to_the_ceiling_at_the_target_loudness() -> None:
    rng = np.random.default_rng(0)
    n = 8 * RATE
    clicks = np.zeros((2, n), dtype=np.float32)
    clicks[:, :: RATE // 2] = 0.9  # sparse spikes: far more than 15 dB of peak over loudness
    hiss = (0.01 * rng.standard_normal((2, n))).astype(np.float32)
    stems, report = mix_stems({"drums": clicks, "other": hiss}, sample_rate=RATE)
    m = mix(stems)
    assert report.limiter_max_reduction_db > 0.0
    assert abs(integrated_loudness(m) - TARGET_LUFS) <= 0.5
    assert true_peak_dbtp(m) <= CEILING_DBTP


def test_dc_and_anti_phase_are_removed_from_a_synthetic_stem() -> None:
    rng = np.random.default_rng(1)
    n = 4 * RATE
    tone = np.sin(2 * np.pi * 440.0 * np.arange(n) / RATE)
    noise = rng.standard_normal(n)
    left = 0.3 * tone + 0.2 * noise + 0.1
    right = 0.3 * tone - 0.25 * noise + 0.1  # anti-phase side, DC on both channels
    raw = np.stack([left, right]).astype(np.float32)
    assert correlation(raw[0] - 0.1, raw[1] - 0.1) < 0.0
    stems, report = mix_stems({"other": raw}, sample_rate=RATE)
    x = stems["other"].samples.astype(np.float64)
    assert float(np.max(np.abs(x[:, RATE // 10:].mean(axis=1)))) < 0.002
    assert correlation(x[0], x[1]) >= 0.3
    assert 0.0 < report.stems["other"]["width"] < 1.0


def test_a_mono_sub_stays_and_a_wide_sub_is_centred() -> None:
    n = 4 * RATE
    t = np.arange(n) / RATE
    sub = np.sin(2 * np.pi * 50.0 * t)
    raw = np.stack([sub, -sub]).astype(np.float32) * 0.3  # a 50 Hz tone only in the side
    mono = np.stack([sub, sub]).astype(np.float32) * 0.3
    stems, _ = mix_stems({"bass": mono, "other": raw}, sample_rate=RATE)
    side = stems["other"].samples[0] - stems["other"].samples[1]
    assert float(np.sqrt(np.mean(side[RATE: -RATE] ** 2))) < 0.02 * 0.3
    kept = stems["bass"].samples
    assert np.allclose(kept[0], kept[1], atol=1e-6)
