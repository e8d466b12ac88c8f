"""Small synthetic signals for tests: sines, chirps, clicks, noise, with fades."""

from __future__ import annotations

import numpy as np

from mage_bridge.audio import Audio

RATE = 48_000


def fade(x: np.ndarray, rate: int = RATE, fade_s: float = 0.01) -> np.ndarray:
    """Raised-cosine fade in and out along the last axis, so signals start and end at zero."""
    n = min(int(fade_s * rate), x.shape[-1] // 2)
    if n == 0:
        return x
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))
    y = x.copy()
    y[..., :n] *= ramp
    y[..., -n:] *= ramp[::-1]
    return y


def sine(freq_hz: float, duration_s: float, *, amplitude: float = 0.5, rate: int = RATE,
         channels: int = 2, phase: float = 0.0) -> Audio:
    t = np.arange(int(duration_s * rate)) / rate
    x = amplitude * np.sin(2 * np.pi * freq_hz * t + phase)
    return Audio(np.tile(x, (channels, 1)).astype(np.float32), rate)


def chirp(f0_hz: float, f1_hz: float, duration_s: float, *, amplitude: float = 0.5,
          rate: int = RATE) -> Audio:
    t = np.arange(int(duration_s * rate)) / rate
    k = (f1_hz - f0_hz) / duration_s
    x = amplitude * np.sin(2 * np.pi * (f0_hz * t + 0.5 * k * t * t))
    return Audio(np.tile(fade(x, rate), (2, 1)).astype(np.float32), rate)


def clicks(bpm: float, duration_s: float, *, rate: int = RATE, amplitude: float = 0.8) -> Audio:
    """A click track: short decaying noise bursts on every beat."""
    x = np.zeros(int(duration_s * rate))
    period = 60.0 / bpm
    burst = np.exp(-np.arange(int(0.02 * rate)) / (0.003 * rate))
    rng = np.random.default_rng(0)
    for start in np.arange(0.0, duration_s, period):
        i = int(start * rate)
        seg = x[i:i + burst.size]
        seg += amplitude * burst[: seg.size] * rng.uniform(-1, 1, seg.size)
    return Audio(np.tile(x, (2, 1)).astype(np.float32), rate)


def noise(duration_s: float, rng: np.random.Generator, *, amplitude: float = 0.1,
          rate: int = RATE) -> Audio:
    x = amplitude * rng.standard_normal((2, int(duration_s * rate)))
    return Audio(fade(x, rate).astype(np.float32), rate)
