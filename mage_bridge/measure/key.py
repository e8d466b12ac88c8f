"""Key (tonic and mode) of a mix, measured from the audio alone.

Method (numpy + scipy only; ~50-80 ms for 32 s of stereo at 48 kHz on two
shared cores, 4.6x as fast as librosa's ``chroma_cqt`` with the same
Krumhansl-Kessler profiles, which names 60 of 72 synthetic progressions
against 72 here, mostly mistaking the relative key: ``benchmarks/versus.py``):

1. **Spectral peaks.** The mono mix is decimated to ~12 kHz and analysed with
   0.68 s Hann frames every 0.17 s (1.46 Hz bins: a semitone is 2.4 Hz at
   40 Hz). A 3-frame (~0.5 s) median over time keeps sustained partials and
   drops drum hits and noise bursts shorter than a frame. Only *tonal* peaks
   are kept: local maxima of a frame's spectrum at least 13 dB above the
   log-spectral average of the ~45 Hz around them (noise and drum spectra have
   maxima too, but only a few dB above their surroundings). Their frequency is
   refined by parabolic interpolation of the log magnitude and mapped to a
   pitch class after a global tuning offset (the
   magnitude-weighted circular mean of the peaks' deviations from the
   equal-tempered grid). Peak picking instead of summing all bins keeps the
   leakage of low notes out of the neighbouring pitch classes.
2. **Two chromagrams.** Peaks in 40-200 Hz make a *bass* chroma, peaks in
   130 Hz-5 kHz a *treble* chroma; peaks are weighted by magnitude^0.5.
3. **Scores for the 24 keys.** ``score = r_profile + 0.5 r_bass + 1.0 r_edges``:
   ``r_profile`` is the Pearson correlation of the summed treble chroma with the
   Krumhansl-Kessler probe-tone profile of the key (the standard, and it works
   on triad-based material); ``r_bass`` correlates the summed bass chroma with a
   bass profile where the tonic dominates, then the fifth and fourth;
   ``r_edges`` is the mean correlation of the key's tonic triad with the chroma
   (treble + 2 x bass) of the first and last 2 s of tonal content. The summed
   chroma alone cannot tell relative keys apart when the progression uses the
   same chords (I-V-vi-IV in C and i-VI-III-VII in A minor contain exactly C, G,
   Am, F); what tells them apart in music is where phrases start and, above all,
   the chord they end on, so the edges carry as much weight as the profile.

The requested key is never an input: the estimate is honest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mage_bridge.audio import Audio
from mage_bridge.measure._prep import frame_signal, mono_downsampled
from mage_bridge.music import key_name

#: Shorter than this there is not one analysis frame of music: confidence 0.
MIN_DURATION_S = 1.0
SILENCE_PEAK = 1e-5

_FRAME_S = 0.68
_HOP_FRACTION = 0.25
_BASS_HZ = (40.0, 200.0)
_TREBLE_HZ = (130.0, 5000.0)
_EDGE_S = 2.0
_EDGE_ACTIVE = 0.01
_FLOOR_BINS = 31  # ~45 Hz: the neighbourhood a tonal peak must stand out of
_TONAL_MARGIN_NP = 1.5  # in nepers of magnitude: 13 dB
_WEIGHT_BASS = 0.5
_WEIGHT_EDGES = 1.0

# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
# Bass lines: the tonic most, then the fifth and the fourth, then the other scale degrees.
_BASS_MAJOR = np.array([1.0, 0.0, 0.2, 0.0, 0.25, 0.4, 0.0, 0.6, 0.0, 0.25, 0.0, 0.1])
_BASS_MINOR = np.array([1.0, 0.0, 0.2, 0.25, 0.0, 0.4, 0.0, 0.6, 0.25, 0.0, 0.25, 0.1])
_TRIADS = {"major": (0, 4, 7), "minor": (0, 3, 7)}
MODES = ("major", "minor")


@dataclass(frozen=True)
class KeyEstimate:
    """A measured key.

    ``tonic`` is spelled by :func:`mage_bridge.music.key_name`; ``mode`` is
    ``"major"`` or ``"minor"``. ``scores`` holds the 24 key scores, C major..B
    major then C minor..B minor. ``correlation`` is the best key's profile
    correlation with the summed treble chroma (how tonal the clip is);
    ``confidence`` in [0, 1] grows with the margin over the runner-up
    (``min(1, margin / 0.3)``) times ``max(correlation, 0)``. Silence or too short
    audio gives ``tonic="C"``, ``mode="major"`` with ``confidence = 0.0``.
    """

    tonic: str
    mode: str
    confidence: float
    correlation: float = 0.0
    tuning_cents: float = 0.0
    scores: tuple[float, ...] = ()

    @property
    def pitch_class(self) -> int:
        from mage_bridge.music import pitch_class

        return pitch_class(self.tonic)


def measure_key(audio: Audio) -> KeyEstimate:
    """Measure the key of ``audio`` (any rate, mono or stereo). See the module docstring."""
    empty = KeyEstimate("C", "major", 0.0)
    if audio.duration_s < MIN_DURATION_S or float(np.max(np.abs(audio.samples))) < SILENCE_PEAK:
        return empty
    chroma = chromagrams(audio)
    if chroma is None:
        return empty
    treble, bass, tuning = chroma
    total_treble, total_bass = treble.sum(axis=0), bass.sum(axis=0)
    if total_treble.sum() + total_bass.sum() <= 0.0:
        return empty

    energy = treble.sum(axis=1) + bass.sum(axis=1)
    active = np.flatnonzero(energy > _EDGE_ACTIVE * energy.max())
    frame_s = _FRAME_S * _HOP_FRACTION
    n_edge = max(1, int(round(_EDGE_S / frame_s)))
    edge_start = active[:n_edge]
    edge_end = active[-n_edge:]

    def edge_chroma(frames: np.ndarray) -> np.ndarray:
        t = treble[frames].sum(axis=0)
        b = bass[frames].sum(axis=0)
        return _unit(t) + 2.0 * _unit(b)

    start, end = edge_chroma(edge_start), edge_chroma(edge_end)
    scores = np.zeros(24)
    profile_corr = np.zeros(24)
    for m, mode in enumerate(MODES):
        profile = _KK_MAJOR if mode == "major" else _KK_MINOR
        bass_profile = _BASS_MAJOR if mode == "major" else _BASS_MINOR
        triad = np.zeros(12)
        triad[list(_TRIADS[mode])] = 1.0
        for tonic in range(12):
            r_profile = _corr(np.roll(profile, tonic), total_treble)
            r_bass = _corr(np.roll(bass_profile, tonic), total_bass)
            tri = np.roll(triad, tonic)
            r_edges = 0.5 * (_corr(tri, start) + _corr(tri, end))
            scores[12 * m + tonic] = r_profile + _WEIGHT_BASS * r_bass + _WEIGHT_EDGES * r_edges
            profile_corr[12 * m + tonic] = r_profile
    order = np.argsort(scores)[::-1]
    best, runner_up = int(order[0]), int(order[1])
    mode = MODES[best // 12]
    tonic_pc = best % 12
    correlation = float(profile_corr[best])
    margin = float(scores[best] - scores[runner_up])
    confidence = min(1.0, margin / 0.3) * max(correlation, 0.0)
    return KeyEstimate(
        tonic=key_name(tonic_pc, mode),
        mode=mode,
        confidence=float(np.clip(confidence, 0.0, 1.0)),
        correlation=correlation,
        tuning_cents=float(100.0 * tuning),
        scores=tuple(float(s) for s in scores),
    )


def chromagrams(audio: Audio) -> tuple[np.ndarray, np.ndarray, float] | None:
    """``(treble, bass, tuning_semitones)``: chroma frames shaped ``(n_frames, 12)``, C first.

    None when the audio holds no spectral peaks at all.
    """
    from scipy.ndimage import uniform_filter1d

    x, rate = mono_downsampled(audio)
    n_fft = 1 << int(round(np.log2(rate * _FRAME_S)))
    hop = int(n_fft * _HOP_FRACTION)
    frames = frame_signal(x, frame_length=n_fft, hop=hop)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    lo = int(np.searchsorted(freqs, _BASS_HZ[0])) - 1
    hi = int(np.searchsorted(freqs, min(_TREBLE_HZ[1], 0.45 * rate))) + 1
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(n_fft).astype(np.float32), axis=1))[:, lo:hi]
    if spectrum.shape[0] >= 3:
        spectrum = _median3_over_time(spectrum)
    peak = float(spectrum.max())
    if peak <= 0.0:
        return None
    log_mag = np.log(spectrum + 1e-6 * peak)
    centre = log_mag[:, 1:-1]
    left, right = log_mag[:, :-2], log_mag[:, 2:]
    # Tonal peaks only: local maxima standing well above the log-spectral average around them
    # (noise and drum spectra have maxima too, but only a few dB above their surroundings).
    floor = uniform_filter1d(log_mag, size=_FLOOR_BINS, axis=1, mode="nearest")[:, 1:-1]
    is_peak = (
        (centre > left)
        & (centre >= right)
        & (spectrum[:, 1:-1] > 1e-3 * peak)
        & (centre > floor + _TONAL_MARGIN_NP)
    )
    t_idx, b_idx = np.nonzero(is_peak)
    if t_idx.size == 0:
        return None
    a, b, c = left[t_idx, b_idx], centre[t_idx, b_idx], right[t_idx, b_idx]
    denom = a - 2.0 * b + c
    shift = np.where(denom < 0, 0.5 * (a - c) / np.where(denom < 0, denom, -1.0), 0.0)
    bin_hz = freqs[1]
    freq = (lo + 1 + b_idx + shift) * bin_hz
    keep = freq > 0
    t_idx, freq, mag = t_idx[keep], freq[keep], spectrum[:, 1:-1][t_idx[keep], b_idx[keep]]
    midi = 69.0 + 12.0 * np.log2(freq / 440.0)
    weight = np.sqrt(mag)
    # Global tuning: circular mean of deviations from the nearest semitone.
    angle = 2.0 * np.pi * midi
    tuning = float(np.angle(np.sum(weight * np.exp(1j * angle))) / (2.0 * np.pi))
    nearest = np.round(midi - tuning)
    deviation = midi - tuning - nearest
    weight = weight * np.cos(np.pi * deviation) ** 2
    pc = nearest.astype(int) % 12
    n_frames = spectrum.shape[0]
    treble = np.zeros((n_frames, 12))
    bass = np.zeros((n_frames, 12))
    in_bass = (freq >= _BASS_HZ[0]) & (freq < _BASS_HZ[1])
    in_treble = (freq >= _TREBLE_HZ[0]) & (freq < _TREBLE_HZ[1])
    np.add.at(bass, (t_idx[in_bass], pc[in_bass]), weight[in_bass])
    np.add.at(treble, (t_idx[in_treble], pc[in_treble]), weight[in_treble])
    return treble, bass, tuning


def _median3_over_time(s: np.ndarray) -> np.ndarray:
    """Median of each bin over frames t-1, t, t+1 (edges repeated), shape kept."""
    prev = np.concatenate([s[:1], s[:-1]])
    nxt = np.concatenate([s[1:], s[-1:]])
    return np.maximum(np.minimum(prev, s), np.minimum(np.maximum(prev, s), nxt))


def _unit(v: np.ndarray) -> np.ndarray:
    total = float(v.sum())
    return v / total if total > 0 else v


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denom) if denom > 0 else 0.0
