"""Shared preparation for the measurers: mono mix-down and decimation.

Both measurers look at the mix as one mono signal at a reduced rate. Mixing
down before resampling halves the filtering cost; decimating by an integer
factor with :func:`scipy.signal.resample_poly` (a windowed-sinc polyphase FIR)
keeps the cost at a few milliseconds for a 32 s clip.
"""

from __future__ import annotations

import numpy as np

from mage_bridge.audio import Audio

#: Target analysis rate in Hz. 48 kHz -> 12 kHz, 44.1 kHz -> 11.025 kHz.
ANALYSIS_RATE_HZ = 12_000


def mono_downsampled(audio: Audio, *, target_rate_hz: int = ANALYSIS_RATE_HZ) -> tuple[np.ndarray, float]:
    """Mean of the channels, decimated by the integer factor closest to ``rate / target``.

    Returns ``(x, rate_hz)``: float64 samples shaped ``(frames,)`` and their rate.
    Input already at or below the target rate is returned undecimated.
    """
    from scipy.signal import resample_poly

    x = audio.samples.astype(np.float64).mean(axis=0)
    factor = int(round(audio.sample_rate / target_rate_hz))
    if factor <= 1 or x.size < 64 * factor:
        return x, float(audio.sample_rate)
    return resample_poly(x, 1, factor), audio.sample_rate / factor


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
