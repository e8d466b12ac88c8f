"""Conforming: a real 120 BPM clip stretched to 128 BPM measures 128 and has the exact length; keys move to
the nearest equivalent key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mage_bridge import audio as audio_io
from mage_bridge.arrange.conform import conform, key_shift, plan_conform, shifted_key, tempo_fold
from mage_bridge.measure import measure_key, measure_tempo
from tests.arrange.clipfolders import beat_peaks, click_track, procedural_clip
from tests.signals import sine


@pytest.fixture(scope="module")
def techno(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 120 BPM clip of 6 bars (12 s) from the embedded generator."""
    return procedural_clip(tmp_path_factory.mktemp("clips"), "techno", "techno at 120 BPM in A minor", seed=4,
                           bars=6)


def test_a_120_bpm_clip_conformed_to_128_measures_128_and_has_the_exact_length(techno: Path) -> None:
    mix = audio_io.load(techno.parent / "mix.wav")
    assert mix.frames == 576_000 and measure_tempo(mix).bpm == pytest.approx(120.0, rel=0.01)
    plan = plan_conform(mix.frames, clip_bpm=120.0, song_bpm=128.0)
    fitted = conform(mix, plan)
    assert fitted.frames == plan.frames_out == 540_000  # 576 000 * 120 / 128, exactly
    assert measure_tempo(fitted).bpm == pytest.approx(128.0, rel=0.01)
    assert measure_tempo(fitted).bpm != pytest.approx(120.0, rel=0.01)


def test_stretched_beats_stay_on_the_stretched_grid() -> None:
    """The faster engine keeps every click within 2 ms of where the new tempo puts it, over 32 beats."""
    clicks = click_track(120.0, 8)
    fitted = conform(clicks, plan_conform(clicks.frames, clip_bpm=120.0, song_bpm=126.0))
    beat = 60.0 / 126.0 * 48_000
    where, height = beat_peaks(fitted, beat)
    assert len(where) == 32 and np.all(height > 0.25)
    assert np.max(np.abs(where - np.round(np.arange(32) * beat))) < 0.002 * 48_000, where - np.arange(32) * beat


def test_a_clip_at_the_songs_tempo_passes_through_sample_for_sample() -> None:
    tone = sine(440.0, 3.0)
    plan = plan_conform(tone.frames, clip_bpm=124.0, song_bpm=124.0)
    assert plan.identity and conform(tone, plan) is tone


def test_pitch_shift_moves_the_key_and_keeps_the_length(techno: Path) -> None:
    mix = audio_io.load(techno.parent / "mix.wav")
    assert (measure_key(mix).tonic, measure_key(mix).mode) == ("A", "minor")
    plan = plan_conform(mix.frames, clip_bpm=120.0, song_bpm=120.0, semitones=key_shift("A", "minor", "C", "minor"))
    assert plan.semitones == 3
    up = conform(mix, plan)
    assert up.frames == mix.frames
    assert (measure_key(up).tonic, measure_key(up).mode) == ("C", "minor")


@pytest.mark.parametrize(("clip", "song", "semitones"), [
    (("A", "minor"), ("A", "minor"), 0),
    (("A", "minor"), ("C", "minor"), 3),
    (("A", "minor"), ("E", "minor"), -5),   # down a fourth rather than up a fifth
    (("C", "major"), ("A", "minor"), 0),    # the relative major: the same notes
    (("D", "major"), ("A", "minor"), -2),   # to C major, A minor's relative
    (("E", "minor"), ("C", "major"), 5),    # to A minor, C major's relative
    (("F#", "major"), ("C", "major"), -6),  # a tritone: down
    (("Gb", "major"), ("F#", "major"), 0),
], ids=["same", "up3", "down5", "relative", "major-into-minor", "minor-into-major", "tritone", "enharmonic"])
def test_key_shift_is_the_nearest_move_to_a_key_with_the_songs_notes(clip: tuple[str, str], song: tuple[str, str],
                                                                     semitones: int) -> None:
    assert key_shift(*clip, *song) == semitones


def test_tempo_folds_by_octaves_and_keys_are_spelled() -> None:
    assert tempo_fold(64.0, 128.0) == 2.0 and tempo_fold(170.0, 85.0) == 0.5 and tempo_fold(100.0, 128.0) == 1.0
    assert plan_conform(100, clip_bpm=64.0, song_bpm=128.0).identity
    assert shifted_key("A", "minor", 3) == "C minor" and shifted_key("F", "major", 5) == "Bb major"
