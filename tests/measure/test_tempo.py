from __future__ import annotations

import numpy as np
import pytest

from mage_bridge.audio import Audio
from mage_bridge.errors import InvalidInputError
from mage_bridge.measure import TempoEstimate, measure_tempo
from mage_bridge.measure.tempo import is_compound
from tests.measure.cases import BASS, CASES, HOUSE_OFFBEAT_BASS, ROCK_8, SIX_EIGHT
from tests.measure.synth import drum_clip
from tests.signals import clicks, noise, sine


@pytest.mark.parametrize(
    ("bpm", "time_signature", "kwargs"),
    [pytest.param(bpm, ts, kw, id=id_) for id_, bpm, ts, kw in CASES],
)
def test_drum_patterns_within_one_percent(bpm, time_signature, kwargs, rng):
    clip = drum_clip(bpm, rng=rng, **kwargs)
    est = measure_tempo(clip, time_signature=time_signature)
    assert est.bpm == pytest.approx(bpm, rel=0.01)
    assert 0.0 < est.confidence <= 1.0


@pytest.mark.parametrize("bpm", [96, 100, 104], ids=lambda b: f"{b}bpm")
def test_four_on_the_floor_with_an_offbeat_bass_louder_than_the_kick_reads_the_kick(bpm, rng):
    # Kick on every quarter, open hat and synth bass on every off-beat (house). The bass shares the
    # kick band, so that band pulses on every eighth; the eighth level (192-208 BPM) is not the beat.
    clip = drum_clip(bpm, HOUSE_OFFBEAT_BASS, steps_per_quarter=2, rng=rng, bass_notes_hz=BASS,
                     gains={"bass": 2.0, "ohat": 0.4})
    assert measure_tempo(clip).bpm == pytest.approx(bpm, rel=0.01)


@pytest.mark.parametrize("bpm", [60, 90, 128, 174], ids=lambda b: f"{b}bpm")
def test_click_track_within_half_percent(bpm):
    est = measure_tempo(clicks(bpm, 32.0))
    assert est.bpm == pytest.approx(bpm, rel=0.005)
    assert est.beat_period_s == pytest.approx(60.0 / bpm, rel=0.005)


def test_lead_in_and_silent_tail_do_not_matter(rng):
    clip = drum_clip(97.0, rng=rng, patterns=ROCK_8, steps_per_quarter=2, duration_s=26.0,
                     lead_in_steps=8)
    padded = np.concatenate([clip.samples, np.zeros((2, 6 * 48_000), np.float32)], axis=1)
    assert measure_tempo(Audio(padded, 48_000)).bpm == pytest.approx(97.0, rel=0.01)


def test_compound_metre_reports_quarter_note_bpm(rng):
    clip = drum_clip(120.0, rng=rng, patterns=SIX_EIGHT, steps_per_quarter=2)
    est = measure_tempo(clip, time_signature=(6, 8))
    assert est.bpm == pytest.approx(120.0, rel=0.01)
    assert est.beat_period_s == pytest.approx(0.75, rel=0.01)  # dotted quarter at 80/min


@pytest.mark.parametrize(
    ("signature", "compound"),
    [((4, 4), False), ((3, 4), False), ((3, 8), False), ((6, 8), True), ((12, 8), True), ((9, 8), True)],
    ids=str,
)
def test_is_compound(signature, compound):
    assert is_compound(signature) is compound


def test_mono_and_44k1_input(rng):
    clip = drum_clip(110.0, rng=rng, patterns=ROCK_8, steps_per_quarter=2, rate=44_100)
    mono = Audio(clip.samples[:1], 44_100)
    assert measure_tempo(mono).bpm == pytest.approx(110.0, rel=0.01)


@pytest.mark.parametrize(
    "audio",
    [
        pytest.param(Audio.silence(32 * 48_000, 48_000), id="silence"),
        pytest.param(Audio.silence(100, 48_000, channels=1), id="short-silence"),
        pytest.param(sine(440.0, 1.0), id="too-short"),
        pytest.param(Audio(np.zeros((2, 0), np.float32), 48_000), id="empty"),
    ],
)
def test_silence_and_short_audio_give_zero_confidence(audio):
    est = measure_tempo(audio)
    assert est == TempoEstimate(0.0, 0.0, 0.0, (4, 4))


def test_steady_tone_and_noise_are_finite(rng):
    for audio in (sine(440.0, 8.0), noise(8.0, rng)):
        est = measure_tempo(audio)
        assert np.isfinite(est.bpm) and 0.0 <= est.confidence <= 1.0


@pytest.mark.parametrize(
    "options",
    [
        {"time_signature": (4, 3)},
        {"time_signature": (0, 4)},
        {"time_signature": [4, 4]},
        {"min_bpm": 0.0},
        {"min_bpm": 120.0, "max_bpm": 100.0},
        {"min_bpm": 100.0, "max_bpm": 150.0},
        {"max_bpm": float("nan")},
    ],
    ids=str,
)
def test_bad_options_are_refused(options):
    with pytest.raises(InvalidInputError):
        measure_tempo(sine(440.0, 3.0), **options)
