"""Synthetic music made in the tests: known stems that sum to a mix.

* ``vocals`` – a sung-like tone: harmonic series with 5.5 Hz vibrato, a melody
  of held notes with short gaps, a formant-ish spectral tilt;
* ``drums`` – kick (pitched-down sine thump) on beats, noise-burst snare on 2 and 4,
  closed hats (high-passed noise ticks) on eighths;
* ``bass`` – a low sawtooth-ish line (few harmonics) on the chord roots;
* ``other`` – sustained triads (a soft organ-like pad) in the midrange.

Everything is seeded, 48 kHz stereo float32, with a little panning so stereo matters.
"""

from __future__ import annotations

import numpy as np

from mage_bridge.audio import Audio
from tests.signals import RATE, fade

_CHORDS = ((57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62))  # Am F C G
_MELODY = (69, 72, 71, 67, 69, 76, 74, 72)


def _hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


def _pan(x: np.ndarray, pan: float) -> np.ndarray:
    left, right = np.cos((pan + 1) * np.pi / 4), np.sin((pan + 1) * np.pi / 4)
    return np.stack([left * x, right * x]) * np.sqrt(2)


def stems(duration_s: float, rng: np.random.Generator, *, bpm: float = 120.0,
          rate: int = RATE) -> dict[str, Audio]:
    n = int(duration_s * rate)
    t = np.arange(n) / rate
    beat = 60.0 / bpm
    bar = 4 * beat

    vocals = np.zeros(n)
    note_s = beat * 2
    for k, start in enumerate(np.arange(0.0, duration_s, note_s)):
        i0, i1 = int(start * rate), min(n, int((start + note_s * 0.85) * rate))
        if i1 <= i0:
            continue
        tt = t[i0:i1] - start
        f0 = _hz(_MELODY[k % len(_MELODY)]) * (1 + 0.012 * np.sin(2 * np.pi * 5.5 * tt))
        phase = 2 * np.pi * np.cumsum(f0) / rate
        tone = sum((0.6 ** h) * np.sin((h + 1) * phase) for h in range(8))
        vocals[i0:i1] += fade(tone, rate, 0.03)
    vocals *= 0.18

    drums = np.zeros(n)
    kick_len, snare_len, hat_len = int(0.25 * rate), int(0.18 * rate), int(0.04 * rate)
    kt = np.arange(kick_len) / rate
    kick = np.sin(2 * np.pi * (50 * kt + 60 * (1 - np.exp(-kt * 30)) / 30)) * np.exp(-kt * 14)
    for b in np.arange(0.0, duration_s, beat):
        i = int(b * rate)
        m = min(kick_len, n - i)
        drums[i:i + m] += 0.7 * kick[:m]
        if int(round(b / beat)) % 2 == 1:
            m = min(snare_len, n - i)
            drums[i:i + m] += 0.45 * rng.uniform(-1, 1, m) * np.exp(-np.arange(m) / (0.04 * rate))
    for b in np.arange(0.0, duration_s, beat / 2):
        i = int(b * rate)
        m = min(hat_len, n - i)
        burst = rng.standard_normal(m)
        burst = np.diff(burst, prepend=0.0)  # a crude high-pass
        drums[i:i + m] += 0.08 * burst * np.exp(-np.arange(m) / (0.008 * rate))

    bass = np.zeros(n)
    other = np.zeros(n)
    for k, start in enumerate(np.arange(0.0, duration_s, bar)):
        chord = _CHORDS[k % len(_CHORDS)]
        i0, i1 = int(start * rate), min(n, int((start + bar) * rate))
        tt = t[i0:i1]
        root = _hz(chord[0] - 24)
        line = sum(np.sin(2 * np.pi * root * (h + 1) * tt) / (h + 1) for h in range(4))
        bass[i0:i1] += fade(line, rate, 0.01)
        pad = sum(np.sin(2 * np.pi * _hz(note) * tt) + 0.3 * np.sin(4 * np.pi * _hz(note) * tt) for note in chord)
        other[i0:i1] += fade(pad, rate, 0.05)
    bass *= 0.25
    other *= 0.07

    return {
        "vocals": Audio(_pan(vocals, 0.0).astype(np.float32), rate),
        "drums": Audio(_pan(drums, -0.1).astype(np.float32), rate),
        "bass": Audio(_pan(bass, 0.0).astype(np.float32), rate),
        "other": Audio(_pan(other, 0.3).astype(np.float32), rate),
    }


def song(duration_s: float, rng: np.random.Generator, **kwargs) -> Audio:
    """The mix of :func:`stems`."""
    from mage_bridge.audio import mix

    return mix(stems(duration_s, rng, **kwargs))
