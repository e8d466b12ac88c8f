"""How a sung vocal is measured against its score: the share of notes on pitch and of onsets on their timing
markers, by a pitch tracker independent of the PSOLA resynthesis that made the vocal: Praat's autocorrelation
tracker, or librosa's pYIN."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import parselmouth

from mage_bridge.audio import Audio
from mage_bridge.lyrics.timing import SyllableTime

PITCH_STEP_S = 0.005
#: pYIN runs at 8 kHz with a 10 ms hop: the highest sung note (about 1 kHz) is well inside it, and a 32 s
#: vocal is tracked in seconds.
PYIN_RATE, PYIN_HOP = 8000, 80
Tracker = Callable[[Audio], tuple[np.ndarray, np.ndarray]]


def praat_track(audio: Audio) -> tuple[np.ndarray, np.ndarray]:
    """(times s, f0 Hz with 0 where unvoiced) of the left channel, by Praat's autocorrelation tracker."""
    sound = parselmouth.Sound(audio.samples[0].astype(np.float64), sampling_frequency=audio.sample_rate)
    pitch = sound.to_pitch(time_step=PITCH_STEP_S, pitch_floor=60.0, pitch_ceiling=1000.0)
    return np.asarray(pitch.xs()), pitch.selected_array["frequency"]


def _hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def pyin_track(audio: Audio) -> tuple[np.ndarray, np.ndarray]:
    """(times s, f0 Hz with 0 where unvoiced) of the left channel, by librosa's probabilistic YIN."""
    import librosa

    y = librosa.resample(audio.samples[0].astype(np.float32), orig_sr=audio.sample_rate, target_sr=PYIN_RATE)
    f0, voiced, _ = librosa.pyin(y, fmin=65.0, fmax=1100.0, sr=PYIN_RATE, frame_length=512, hop_length=PYIN_HOP)
    return librosa.times_like(f0, sr=PYIN_RATE, hop_length=PYIN_HOP), np.where(voiced, f0, 0.0)


def pitch_rate(times: Sequence[SyllableTime], audio: Audio, track: Tracker = praat_track) -> tuple[float, int]:
    """Share of voiced notes whose median pitch over the note's middle half is within 50 cents of the score,
    and how many notes were voiced."""
    t, f0 = track(audio)
    hits = voiced = 0
    for s in times:
        assert s.note is not None
        middle = (t > s.start + 0.25 * (s.end - s.start)) & (t < s.start + 0.75 * (s.end - s.start)) & (f0 > 0)
        if middle.sum() < 2:
            continue
        voiced += 1
        hits += abs(1200.0 * np.log2(np.median(f0[middle]) / _hz(s.note))) <= 50.0
    return hits / max(voiced, 1), voiced


def onset_rate(times: Sequence[SyllableTime], audio: Audio) -> tuple[float, int]:
    """Share of measurable note onsets within 30 ms of their timing markers, and how many were measurable.

    A note's onset is the voicing onset nearest its marker (within 80 ms), or, for a note sung legato from a
    note at least two semitones away, the instant the pitch crosses halfway between the two.
    """
    t, f0 = praat_track(audio)
    voiced = f0 > 0
    rises = t[1:][voiced[1:] & ~voiced[:-1]]
    hits = measured = 0
    previous: SyllableTime | None = None
    for s in times:
        assert s.note is not None
        near = rises[np.abs(rises - s.start) <= 0.08]
        onset: float | None = None
        if near.size:
            onset = float(near[np.argmin(np.abs(near - s.start))])
        elif previous is not None and previous.note is not None and abs(s.note - previous.note) >= 2 \
                and s.start - previous.end < 0.01:
            window = (t > s.start - 0.08) & (t < s.start + 0.08) & voiced
            semis = 12.0 * np.log2(np.maximum(f0[window], 1.0) / 440.0) + 69.0
            half = (s.note + previous.note) / 2.0
            past = np.flatnonzero((semis - half) * np.sign(s.note - previous.note) > 0)
            if past.size:
                onset = float(t[window][past[0]])
        if onset is not None:
            measured += 1
            hits += abs(onset - s.start) <= 0.030
        previous = s
    return hits / max(measured, 1), measured
