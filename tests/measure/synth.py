"""Synthetic music for the measurement tests: drum patterns and chord progressions.

Everything is built from decaying sines and filtered noise with a seeded
generator, at 48 kHz stereo, so tests need no files and no FluidSynth.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt

from mage_bridge.audio import Audio

RATE = 48_000


def _env(n: int, decay_s: float, rate: int) -> np.ndarray:
    return np.exp(-np.arange(n) / (decay_s * rate))


def kick(rate: int = RATE) -> np.ndarray:
    n = int(0.35 * rate)
    t = np.arange(n) / rate
    freq = 50.0 + 90.0 * np.exp(-t / 0.03)
    phase = 2 * np.pi * np.cumsum(freq) / rate
    return np.sin(phase) * _env(n, 0.12, rate)


def snare(rng: np.random.Generator, rate: int = RATE) -> np.ndarray:
    n = int(0.25 * rate)
    t = np.arange(n) / rate
    sos = butter(2, [300.0, 6000.0], btype="bandpass", fs=rate, output="sos")
    body = sosfilt(sos, rng.standard_normal(n)) * _env(n, 0.06, rate)
    tone = 0.5 * np.sin(2 * np.pi * 190.0 * t) * _env(n, 0.04, rate)
    return 1.2 * body + tone


def hat(rng: np.random.Generator, rate: int = RATE, *, open_: bool = False) -> np.ndarray:
    n = int((0.25 if open_ else 0.06) * rate)
    sos = butter(4, 7000.0, btype="highpass", fs=rate, output="sos")
    return sosfilt(sos, rng.standard_normal(n)) * _env(n, 0.08 if open_ else 0.015, rate)


def bass_pluck(freq_hz: float, rate: int = RATE) -> np.ndarray:
    """A short synth-bass note: fundamental plus two harmonics, 5 ms attack, ~0.25 s long."""
    n = int(0.25 * rate)
    t = np.arange(n) / rate
    tone = sum(a * np.sin(2 * np.pi * freq_hz * h * t) for h, a in ((1, 1.0), (2, 0.5), (3, 0.25)))
    return tone * np.minimum(1.0, t / 0.005) * _env(n, 0.1, rate)


def drum_clip(
    bpm: float,
    patterns: dict[str, str],
    *,
    steps_per_quarter: float,
    rng: np.random.Generator,
    duration_s: float = 32.0,
    swing: float = 0.0,
    gains: dict[str, float] | None = None,
    lead_in_steps: int = 0,
    bass_notes_hz: tuple[float, ...] = (),
    rate: int = RATE,
) -> Audio:
    """Loop ``patterns`` (instrument -> step string, 'x' hit, 'o' soft, '.' rest) at ``bpm``.

    A step lasts ``60 / bpm / steps_per_quarter`` seconds (2 = eighths, 4 =
    sixteenths, 2 in 6/8 = eighth notes). ``swing`` delays every odd step by that
    fraction of a step. ``bass_notes_hz`` adds a plucked bass note on each
    pattern repeat, cycling through the list. Instruments: kick, snare, hat, ohat
    and bass (a short synth-bass note; with a bass line, ``bass_notes_hz`` gives
    its pitch per pattern repeat, default 55 Hz, instead of adding held notes).
    """
    gains = {"kick": 1.0, "snare": 0.7, "hat": 0.25, "ohat": 0.25, "bass": 0.5, **(gains or {})}
    bass_line = "bass" in patterns
    line_hz = bass_notes_hz or (55.0,)
    step_s = 60.0 / bpm / steps_per_quarter
    n = int(duration_s * rate)
    out = np.zeros(n)
    sounds = {
        "kick": lambda: kick(rate),
        "snare": lambda: snare(rng, rate),
        "hat": lambda: hat(rng, rate),
        "ohat": lambda: hat(rng, rate, open_=True),
        "bass": lambda: bass_pluck(line_hz[repeat % len(line_hz)], rate),
    }
    length = len(next(iter(patterns.values())))
    step = lead_in_steps
    bar = 0
    while True:
        start_s = step * step_s
        if start_s >= duration_s:
            break
        repeat, i = divmod(step - lead_in_steps, length)
        if i == 0 and bass_notes_hz and not bass_line:
            note = bass_notes_hz[bar % len(bass_notes_hz)]
            m = int(min(length * step_s, duration_s - start_s) * rate)
            t = np.arange(m) / rate
            tone = 0.3 * (np.sin(2 * np.pi * note * t) + 0.3 * np.sin(4 * np.pi * note * t))
            j = int(start_s * rate)
            out[j:j + m] += tone * _env(m, 0.4, rate)
            bar += 1
        t0 = start_s + (swing * step_s if step % 2 == 1 else 0.0)
        for name, pattern in patterns.items():
            ch = pattern[i]
            if ch == ".":
                continue
            vel = 1.0 if ch == "x" else 0.45
            sound = sounds[name]() * gains[name] * vel * rng.uniform(0.9, 1.0)
            j = int(round(t0 * rate))
            seg = out[j:j + sound.size]
            seg += sound[: seg.size]
        step += 1
    out *= 0.5 / max(np.max(np.abs(out)), 1e-9)
    return Audio(np.tile(out, (2, 1)).astype(np.float32), rate)


# --- harmony ---------------------------------------------------------------------

MAJOR_TRIAD = (0, 4, 7)
MINOR_TRIAD = (0, 3, 7)
#: (root offset from tonic in semitones, triad) for I-V-vi-IV and i-VI-III-VII.
MAJOR_PROGRESSION = ((0, MAJOR_TRIAD), (7, MAJOR_TRIAD), (9, MINOR_TRIAD), (5, MAJOR_TRIAD))
MINOR_PROGRESSION = ((0, MINOR_TRIAD), (8, MAJOR_TRIAD), (3, MAJOR_TRIAD), (10, MAJOR_TRIAD))


def _tone(freq: float, n: int, rate: int, *, harmonics: int = 4, decay_s: float = 1.5) -> np.ndarray:
    t = np.arange(n) / rate
    x = sum((0.6 ** (h - 1)) * np.sin(2 * np.pi * freq * h * t) for h in range(1, harmonics + 1))
    attack = np.minimum(1.0, t / 0.01)
    return x * attack * _env(n, decay_s, rate)


def chord_clip(
    tonic_pc: int,
    mode: str,
    *,
    rng: np.random.Generator,
    bpm: float = 100.0,
    cycles: int = 3,
    drums: bool = True,
    noise_level: float = 0.02,
    drum_gain: float = 0.5,
    rate: int = RATE,
) -> Audio:
    """A progression (I-V-vi-IV or i-VI-III-VII), one bar per chord, ``cycles`` times,
    ending on a held tonic chord that decays (the lead-out). Triads sit around
    C4-B4 with a bass root one to two octaves below; drums and noise on top."""
    progression = MAJOR_PROGRESSION if mode == "major" else MINOR_PROGRESSION
    bar_s = 4 * 60.0 / bpm
    chords = list(progression) * cycles + [progression[0]]
    n_total = int((len(chords) * bar_s + 2.0) * rate)
    out = np.zeros(n_total)
    for k, (offset, triad) in enumerate(chords):
        root = (tonic_pc + offset) % 12
        last = k == len(chords) - 1
        j = int(k * bar_s * rate)
        n = min(int((bar_s + (2.0 if last else 0.0)) * rate), n_total - j)
        for interval in triad:
            midi = 60 + (root + interval) % 12
            out[j:j + n] += 0.2 * _tone(440.0 * 2 ** ((midi - 69) / 12), n, rate)
        bass_midi = 36 + root if root < 8 else 24 + root  # E1..G2 region
        out[j:j + n] += 0.35 * _tone(440.0 * 2 ** ((bass_midi - 69) / 12), n, rate, harmonics=3)
    if drums:
        beat = int(60.0 / bpm * rate)
        for b in range(0, n_total - int(2.5 * rate), beat):
            sound = kick(rate) if (b // beat) % 2 == 0 else snare(rng, rate)
            seg = out[b:b + sound.size]
            seg += drum_gain * sound[: seg.size]
    out += noise_level * rng.standard_normal(n_total)
    out *= 0.5 / np.max(np.abs(out))
    return Audio(np.tile(out, (2, 1)).astype(np.float32), rate)
