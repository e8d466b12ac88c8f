"""The sung vocal measured on its output with Praat's pitch tracker (an estimate independent of the synthesis):
notes on pitch, onsets on the timing markers, nothing outside the clip or the sung lines, no clipping, the same
samples for the same input, and a clear error when espeak-ng is missing."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from functools import cache

import numpy as np
import pytest

from mage_bridge.analysis import analyze
from mage_bridge.audio import Audio
from mage_bridge.errors import BackendUnavailableError, InvalidInputError
from mage_bridge.generate.harmony import parse_progression
from mage_bridge.lyrics.melody import ChordSpan, vocal_melody
from mage_bridge.lyrics.timing import SyllableTime, time_lyrics
from mage_bridge.lyrics.voice import ESPEAK_VOICES, espeak_executable, sing, speak
from mage_bridge.lyrics.writer import write_lyrics
from mage_bridge.music import bar_seconds
from tests.lyrics.vocal_measures import onset_rate, pitch_rate

DURATION_S, LEAD_IN_S, LEAD_OUT_S = 32.0, 1.5, 2.0
#: (prompt, voice, tonic pc, scale, progression, seed): low and high voices, major, minor and modal keys.
CASES = (
    ("pop song about summer love", "female", 0, "major", "I-V-vi-IV", 1),
    ("melancholic indie ballad about the sea", "baritone", 9, "minor", "i-VI-III-VII", 2),
    ("upbeat rock song about freedom", "tenor", 4, "minor", "i-iv-VI-V", 3),
    ("dreamy folk song in 6/8 about autumn", "soprano", 2, "dorian", "i-IV-VII-IV", 4),
    ("slow blues about the road", "bass", 7, "mixolydian", "I-bVII-IV-I", 5),
)
IDS = [f"{c[1]}-{c[3]}" for c in CASES]


@cache
def _sung(case: int) -> tuple[tuple[SyllableTime, ...], Audio, float]:
    """The case's timed, melodised syllables, their vocal and its render time in seconds."""
    prompt, voice, tonic, scale, progression, seed = CASES[case]
    analysis = analyze(prompt, backend="rules")
    lyrics = write_lyrics(analysis, seed=seed, duration_s=DURATION_S, lead_in_s=LEAD_IN_S, lead_out_s=LEAD_OUT_S)
    times = time_lyrics(lyrics, bpm=analysis.bpm, time_signature=analysis.time_signature, lead_in_s=LEAD_IN_S,
                        duration_s=DURATION_S, lead_out_s=LEAD_OUT_S)
    chords = parse_progression(progression, tonic_pc=tonic, mode=scale)
    bar_s = bar_seconds(analysis.bpm, analysis.time_signature)
    spans = [ChordSpan(LEAD_IN_S + b * bar_s, LEAD_IN_S + (b + 1) * bar_s, chords[b % len(chords)].pitch_classes)
             for b in range(int(DURATION_S / bar_s) + 1)]
    times = vocal_melody(times, tonic_pc=tonic, scale=scale, chords=spans, voice=voice, seed=seed, lyrics=lyrics)
    start = time.perf_counter()
    audio = sing(times, voice=voice, duration_s=DURATION_S, seed=seed)
    return tuple(times), audio, time.perf_counter() - start


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_sung_notes_are_on_pitch_and_on_time(case: int) -> None:
    times, audio, seconds = _sung(case)
    assert audio.samples.shape == (2, int(DURATION_S * 48000)) and audio.sample_rate == 48000
    assert np.array_equal(audio.samples[0], audio.samples[1])
    on_pitch, voiced = pitch_rate(times, audio)
    on_time, measured = onset_rate(times, audio)
    print(f"\n{IDS[case]}: {len(times)} notes, {on_pitch:.1%} of {voiced} voiced notes within 50 cents, "
          f"{on_time:.1%} of {measured} measurable onsets within 30 ms; render {seconds:.2f} s")
    assert voiced >= 0.8 * len(times)
    assert on_pitch >= 0.9
    assert measured >= 0.5 * len(times)
    assert on_time >= 0.9


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_vocal_is_silent_outside_sung_lines_and_not_clipped(case: int) -> None:
    times, audio, _ = _sung(case)
    x = audio.samples[0]
    peak = float(np.max(np.abs(x)))
    assert 0.1 < peak <= 0.55  # about -6 dBFS, well under full scale
    sung = np.zeros(x.size, dtype=bool)
    for line in sorted({s.line for s in times}):
        members = [s for s in times if s.line == line]
        first = max(0, int((members[0].start - 0.35) * audio.sample_rate))
        sung[first:int((members[-1].end + 0.3) * audio.sample_rate)] = True
    assert float(np.max(np.abs(x[~sung]))) < 1e-3, "sound outside the sung lines"
    hop = audio.sample_rate // 10  # every sung line is heard
    for line in sorted({s.line for s in times}):
        members = [s for s in times if s.line == line]
        a, b = int(members[0].start * audio.sample_rate), int(members[-1].end * audio.sample_rate)
        assert np.sqrt(np.mean(x[a:b].astype(np.float64) ** 2)) > 0.01, f"line {line} is silent"
        assert b - a > hop


def test_same_input_gives_same_samples_and_render_time_is_reported() -> None:
    times, audio, _ = _sung(0)
    start = time.perf_counter()
    again = sing(times, voice=CASES[0][1], duration_s=DURATION_S, seed=CASES[0][5])
    seconds = time.perf_counter() - start
    print(f"\n32 s clip, {len(times)} syllables: vocal rendered in {seconds:.2f} s (warm, {os.cpu_count()} cores)")
    assert np.array_equal(again.samples, audio.samples)


def test_espeak_ng_voices_speak_the_same_samples_a_second_later() -> None:
    """espeak-ng seeds its breath noise from the clock: the voices used must not depend on it."""
    exe = espeak_executable()
    first = {name: speak("summer", voice=v, exe=exe) for name, v in ESPEAK_VOICES.items()}
    time.sleep(1.1)
    for name, v in ESPEAK_VOICES.items():
        assert np.array_equal(speak("summer", voice=v, exe=exe), first[name]), name


def test_nothing_is_written_outside_the_clip() -> None:
    times, _, _ = _sung(1)
    shifted = [replace(s, start=s.start + 8.0, end=s.end + 8.0) for s in times]  # the last lines run past 32 s
    audio = sing(shifted, voice="baritone", duration_s=DURATION_S, sample_rate=44100)
    assert audio.samples.shape == (2, int(DURATION_S * 44100))
    assert float(np.max(np.abs(audio.samples[:, :int(8.5 * 44100)]))) < 1e-3
    assert float(np.max(np.abs(audio.samples))) <= 0.55


def test_no_syllables_give_silence_and_bad_arguments_are_named() -> None:
    silent = sing([], voice="male", duration_s=2.0)
    assert silent.samples.shape == (2, 96000) and not silent.samples.any()
    note = SyllableTime("la", 0.5, 1.0, 60, 0, 0, 0)
    with pytest.raises(InvalidInputError, match="no note"):
        sing([replace(note, note=None)], duration_s=2.0)
    with pytest.raises(InvalidInputError, match="voice"):
        sing([note], voice="castrato", duration_s=2.0)
    with pytest.raises(InvalidInputError, match="duration_s"):
        sing([note], duration_s=0.0)


def test_missing_espeak_ng_names_the_package_to_install(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackendUnavailableError) as caught:
        sing([SyllableTime("la", 0.5, 1.0, 60, 0, 0, 0)], duration_s=2.0)
    message = str(caught.value)
    assert "espeak-ng" in message and "apt install espeak-ng" in message and "brew install espeak-ng" in message
    assert "Windows" in message and isinstance(caught.value, ImportError)
