"""Long signals processed block by block: a filter applied across block seams, and stores to re-read blocks.

A streaming stage never holds a whole file: it reads blocks
(:func:`~mage_bridge.audio.read_blocks`), passes them through here and writes
blocks (:class:`~mage_bridge.audio.BlockWriter`). What lives here is what sits
between those two ends and is neither reading nor writing a result: the
seam-free application of a filter and the scratch stores of intermediate signals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from mage_bridge.audio.buffer import BLOCK_FRAMES
from mage_bridge.audio.reading import read_blocks
from mage_bridge.audio.writing import BlockWriter


def map_blocks(blocks: Iterable[np.ndarray], fn: Callable[[np.ndarray], np.ndarray], *,
               context_frames: int) -> Iterator[np.ndarray]:
    """Apply a non-causal, length-keeping ``fn`` (filters on the last axis) block by block.

    Each call sees ``context_frames`` of the real neighbouring signal on both
    sides (none past the true ends), and only the middle is kept. For an ``fn``
    whose output at frame n depends on input within ±``context_frames`` (a
    max/mean filter, an oversampling FIR), the result equals ``fn`` of the
    whole signal; for a decaying IIR (zero-phase filters) it does up to the
    tail truncated at ``context_frames``. Output blocks may be re-cut.
    """
    tail: np.ndarray | None = None  # up to context_frames already emitted, before `pending`
    pending: np.ndarray | None = None
    for block in blocks:
        pending = block if pending is None else np.concatenate([pending, block], axis=-1)
        ready = pending.shape[-1] - context_frames
        if ready <= 0:
            continue
        extended = pending if tail is None else np.concatenate([tail, pending], axis=-1)
        before = 0 if tail is None else tail.shape[-1]
        yield fn(extended)[..., before: before + ready]
        tail = extended[..., : before + ready][..., -context_frames:] if context_frames else None
        pending = pending[..., ready:]
    if pending is not None and pending.shape[-1]:
        extended = pending if tail is None else np.concatenate([tail, pending], axis=-1)
        before = 0 if tail is None else tail.shape[-1]
        yield fn(extended)[..., before:]


class BlockStore:
    """Blocks kept in memory, re-readable: the in-memory twin of :class:`FileBlockStore`."""

    def __init__(self) -> None:
        self._blocks: list[np.ndarray] = []

    def write(self, block: np.ndarray) -> None:
        self._blocks.append(np.asarray(block, dtype=np.float32))

    def blocks(self) -> Iterator[np.ndarray]:
        return iter(self._blocks)


class FileBlockStore:
    """Float32 WAV scratch file for an intermediate signal: written block by block, re-read block by block."""

    def __init__(self, path: Path, *, sample_rate: int, channels: int, block_frames: int = BLOCK_FRAMES) -> None:
        self.path = Path(path)
        self.block_frames = block_frames
        self._writer = BlockWriter(self.path, sample_rate=sample_rate, channels=channels, fmt="wav", subtype="float")

    def write(self, block: np.ndarray) -> None:
        self._writer.write(block)

    def blocks(self) -> Iterator[np.ndarray]:
        self._writer.close()
        return read_blocks(self.path, block_frames=self.block_frames)
