"""Shared preparation for the measurers: mono mix-down and decimation.

Both measurers look at the mix as one mono float32 signal at ~12 kHz. Mixing
down before resampling halves the filtering cost; decimation by an integer
factor uses :func:`scipy.signal.resample_poly` with a 10-taps-per-phase Kaiser
FIR (passband to 0.9 x the new Nyquist): enough for onsets and pitch up to
5 kHz, and twice as fast as scipy's default filter. The last result is kept for
the same :class:`Audio` object, so measuring tempo and then key of one clip
decimates once.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from mage_bridge.audio import Audio

#: Target analysis rate in Hz. 48 kHz -> 12 kHz, 44.1 kHz -> 11.025 kHz.
ANALYSIS_RATE_HZ = 12_000

_lock = threading.Lock()
_last: tuple[weakref.ref[Audio], int, np.ndarray, float] | None = None


def mono_downsampled(audio: Audio, *, target_rate_hz: int = ANALYSIS_RATE_HZ) -> tuple[np.ndarray, float]:
    """Mean of the channels, decimated by the integer factor closest to ``rate / target``.

    Returns ``(x, rate_hz)``: read-only float32 samples shaped ``(frames,)`` and
    their rate. Input already at or below the target rate is not decimated.
    """
    global _last
    with _lock:
        last = _last
    if last is not None and last[0]() is audio and last[1] == target_rate_hz:
        return last[2], last[3]
    x, rate = _decimate(audio, target_rate_hz)
    x.flags.writeable = False
    with _lock:
        _last = (weakref.ref(audio), target_rate_hz, x, rate)
    return x, rate


def _decimate(audio: Audio, target_rate_hz: int) -> tuple[np.ndarray, float]:
    from scipy.signal import firwin, resample_poly

    x = audio.samples.mean(axis=0, dtype=np.float32)
    factor = int(round(audio.sample_rate / target_rate_hz))
    if factor <= 1 or x.size < 64 * factor:
        return np.array(x, dtype=np.float32), float(audio.sample_rate)
    taps = firwin(20 * factor + 1, 0.9 / factor, window=("kaiser", 6.0)) * factor
    y = resample_poly(x, 1, factor, window=taps)
    return y.astype(np.float32, copy=False), audio.sample_rate / factor


def frame_signal(x: np.ndarray, *, frame_length: int, hop: int) -> np.ndarray:
    """Overlapping frames as a read-only strided view shaped ``(n_frames, frame_length)``.

    The signal is zero-padded by half a frame on both sides so that frame ``i``
    is centred on sample ``i * hop``. Needs ``x.size >= 1``.
    """
    pad = frame_length // 2
    padded = np.pad(x, (pad, pad))
    if padded.size < frame_length:
        padded = np.pad(padded, (0, frame_length - padded.size))
    view = np.lib.stride_tricks.sliding_window_view(padded, frame_length)
    return view[::hop]
