from __future__ import annotations

import numpy as np
import pytest

from mage_bridge.audio import Audio
from mage_bridge.measure import KeyEstimate, measure_key
from mage_bridge.music import key_name, pitch_class
from tests.measure.synth import chord_clip
from tests.signals import noise, sine

ALL_KEYS = [(pc, mode) for mode in ("major", "minor") for pc in range(12)]


def test_progressions_in_all_24_keys(rng):
    """I-V-vi-IV / i-VI-III-VII with drums and noise, ending on the tonic: >= 23 of 24 right."""
    wrong = []
    for pc, mode in ALL_KEYS:
        est = measure_key(chord_clip(pc, mode, rng=rng))
        if not (est.mode == mode and pitch_class(est.tonic) == pc):
            wrong.append(f"{key_name(pc, mode)} {mode} -> {est.tonic} {est.mode}")
    assert len(wrong) <= 1, wrong


@pytest.mark.parametrize(("pc", "mode"), [(9, "minor"), (0, "major"), (4, "minor"), (7, "major")],
                         ids=["A-minor", "C-major", "E-minor", "G-major"])
def test_relative_keys_told_apart_without_drums(pc, mode, rng):
    est = measure_key(chord_clip(pc, mode, rng=rng, drums=False, bpm=120.0))
    assert (pitch_class(est.tonic), est.mode) == (pc, mode)
    assert est.confidence > 0.1


def test_tonic_is_spelled_the_conventional_way(rng):
    est = measure_key(chord_clip(10, "major", rng=rng))
    assert (est.tonic, est.mode) == ("Bb", "major")
    est = measure_key(chord_clip(6, "minor", rng=rng))
    assert (est.tonic, est.mode) == ("F#", "minor")


def test_detuned_by_30_cents(rng):
    clip = chord_clip(2, "major", rng=rng, rate=48_000)
    # Play the 48 kHz samples as if at 48 kHz * 2**(30/1200): every pitch goes up 30 cents.
    detuned = Audio(clip.samples, int(round(48_000 * 2 ** (30 / 1200))))
    est = measure_key(detuned)
    assert (pitch_class(est.tonic), est.mode) == (2, "major")
    assert est.tuning_cents == pytest.approx(30.0, abs=10.0)


def test_mono_input(rng):
    clip = chord_clip(5, "minor", rng=rng)
    est = measure_key(Audio(clip.samples[:1], clip.sample_rate))
    assert (pitch_class(est.tonic), est.mode) == (5, "minor")
    assert len(est.scores) == 24 and all(np.isfinite(est.scores))


@pytest.mark.parametrize(
    "audio",
    [
        pytest.param(Audio.silence(32 * 48_000, 48_000), id="silence"),
        pytest.param(sine(440.0, 0.2), id="too-short"),
        pytest.param(Audio(np.zeros((1, 0), np.float32), 48_000), id="empty"),
    ],
)
def test_silence_and_short_audio_give_zero_confidence(audio):
    assert measure_key(audio) == KeyEstimate("C", "major", 0.0)


def test_noise_is_finite_and_unconfident(rng):
    est = measure_key(noise(8.0, rng))
    assert np.isfinite(est.confidence) and 0.0 <= est.confidence < 0.5


@pytest.mark.parametrize(("drum_gain", "noise_level"), [(1.5, 0.05), (3.0, 0.1), (1.0, 0.2)],
                         ids=["loud-drums", "very-loud-drums", "noisy"])
def test_loud_drums_and_noise(drum_gain, noise_level, rng):
    wrong = []
    for pc, mode in ALL_KEYS[::3]:
        est = measure_key(chord_clip(pc, mode, rng=rng, drum_gain=drum_gain, noise_level=noise_level))
        if not (est.mode == mode and pitch_class(est.tonic) == pc):
            wrong.append(f"{key_name(pc, mode)} {mode} -> {est.tonic} {est.mode}")
    assert not wrong, wrong
