"""Sample-rate conversion, of a whole :class:`Audio` or of a stream of blocks.

Mixing rates is an error everywhere else in the code; this is the one explicit
place a signal changes rate. Both forms use the same polyphase windowed-sinc
filter, so a file resampled block by block equals the file resampled whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from mage_bridge.audio.buffer import BLOCK_FRAMES, Audio
from mage_bridge.errors import InvalidAudioError


def resample(audio: Audio, sample_rate: int) -> Audio:
    """Explicit sample-rate conversion with a polyphase windowed-sinc filter.

    Uses :func:`scipy.signal.resample_poly` with the reduced ratio
    ``sample_rate / audio.sample_rate`` (44.1 kHz → 48 kHz is 160/147). The
    length becomes ``ceil(frames · ratio)``. Same rate: returned unchanged.
    """
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise InvalidAudioError(f"sample_rate must be a positive int, got {sample_rate!r}")
    if sample_rate == audio.sample_rate:
        return audio
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(sample_rate), audio.sample_rate)
    up, down = int(sample_rate) // g, audio.sample_rate // g
    if audio.frames == 0:
        return Audio(np.zeros((audio.channels, 0), dtype=np.float32), int(sample_rate))
    out = resample_poly(audio.samples.astype(np.float64), up, down, axis=1)
    return Audio(out.astype(np.float32), int(sample_rate))


def resample_blocks(blocks: Iterable[np.ndarray], from_rate: int, to_rate: int, *,
                    block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """:func:`resample` on a stream of ``(channels, frames)`` blocks, equal to resampling the whole signal.

    With the reduced ratio up/down, an input segment starting at a multiple of
    ``down`` maps to output frames starting at ``start·up/down``; each segment
    is filtered with enough real input before and after it (more than the
    filter's half length, 10·max(up, down)/up input frames) that the seam is
    invisible, and zeros only where the signal really ends, as in the whole-file call.
    """
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(to_rate), int(from_rate))
    up, down = int(to_rate) // g, int(from_rate) // g
    pad = down * -(-(10 * max(up, down) // up + 16) // down)
    step = down * max(1, block_frames // down)
    buffer: np.ndarray | None = None
    buffer_start = emitted = 0  # global input frames: buffer[0] and the next unemitted frame

    def emit(buffer: np.ndarray, stop: int, *, final: bool) -> np.ndarray:
        lo = max(emitted - pad, buffer_start)
        x = buffer[:, lo - buffer_start: stop + pad - buffer_start]
        y = resample_poly(x.astype(np.float64), up, down, axis=1)
        first = (emitted - lo) * up // down
        count = (-(-stop * up // down) if final else stop * up // down) - emitted * up // down
        return y[:, first: first + count].astype(np.float32)

    for block in blocks:
        buffer = block if buffer is None else np.concatenate([buffer, block], axis=1)
        while buffer_start + buffer.shape[1] >= emitted + step + pad:
            yield emit(buffer, emitted + step, final=False)
            emitted += step
            keep_from = emitted - pad
            buffer, buffer_start = buffer[:, keep_from - buffer_start:], keep_from
    if buffer is not None:
        total = buffer_start + buffer.shape[1]
        if total > emitted or emitted == 0:
            yield emit(buffer, total, final=True)
