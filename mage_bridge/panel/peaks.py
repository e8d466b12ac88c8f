"""Waveform peaks: the min and max of an audio file per pixel column, computed once and kept on disk.

A page draws a stem from a few kilobytes of JSON (``columns`` pairs of numbers) instead of
decoding the whole WAV to draw it. :func:`peaks_of` reads the file in blocks (never whole),
:class:`PeakCache` keeps each result under the panel's cache folder, keyed by the file's resolved
path and the column count, and computes it again only when the file changed (size or mtime);
concurrent asks for the same peaks share one computation. The clip library's view asks for a
clip's stems by clip id and gets the same entries as the job that made the clip (one file, one
entry); a deleted clip's entries are removed with it (:meth:`PeakCache.forget`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from mage_bridge.files import write_json_atomic

#: Column counts a page may ask for; others are rounded up to a multiple of :data:`COLUMN_STEP`.
MIN_COLUMNS, MAX_COLUMNS, COLUMN_STEP = 64, 4096, 64
#: Decimals kept per value (the JSON stays small; a pixel needs far less).
DECIMALS = 4


def column_count(asked: Any) -> int:
    """The column count served for ``asked`` (a query string value): clamped and rounded up to a step."""
    try:
        n = int(asked)
    except (TypeError, ValueError):
        n = 1024
    n = min(max(n, MIN_COLUMNS), MAX_COLUMNS)
    return -(-n // COLUMN_STEP) * COLUMN_STEP


def peaks_of(path: Path, columns: int) -> dict[str, Any]:
    """``{"columns", "frames", "sample_rate", "channels", "min", "max"}`` of the file at ``path``.

    Column ``c`` covers frames ``[c * frames // columns, (c + 1) * frames // columns)``; ``min`` and
    ``max`` are over every channel, in full scale (-1..1). A file shorter than ``columns`` frames
    repeats its frames over the columns.
    """
    from mage_bridge.audio import probe, read_blocks

    info = probe(path)
    frames = max(info.frames, 1)
    lows = np.full(columns, np.inf, dtype=np.float64)
    highs = np.full(columns, -np.inf, dtype=np.float64)
    offset = 0
    for block in read_blocks(path):
        n = block.shape[1]
        if n == 0:
            continue
        low, high = block.min(axis=0), block.max(axis=0)
        index = ((offset + np.arange(n, dtype=np.int64)) * columns) // frames
        index = np.minimum(index, columns - 1)
        np.minimum.at(lows, index, low)
        np.maximum.at(highs, index, high)
        offset += n
    filled = np.isfinite(lows)
    if offset and not filled.all():
        # fewer frames than columns: a column between two frames shows the frame before it
        last = np.maximum.accumulate(np.where(filled, np.arange(columns), 0))
        lows, highs = lows[last], highs[last]
    lows[~np.isfinite(lows)] = 0.0
    highs[~np.isfinite(highs)] = 0.0
    return {"columns": columns, "frames": offset, "sample_rate": info.sample_rate, "channels": info.channels,
            "min": np.round(lows, DECIMALS).tolist(), "max": np.round(highs, DECIMALS).tolist()}


class PeakCache:
    """Peaks of files, on disk under ``folder``; computed in a thread, once per file version."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._running: dict[tuple[str, int], asyncio.Future[dict[str, Any]]] = {}

    def _entry(self, path: Path, columns: int) -> Path:
        digest = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return self.folder / digest[:2] / f"{digest}-{columns}.json"

    def cached(self, path: Path, columns: int) -> dict[str, Any] | None:
        """The peaks kept for this version of ``path`` (same size and mtime), or ``None``."""
        st = os.stat(path)
        try:
            data = json.loads(self._entry(path, columns).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("source") != [st.st_size, st.st_mtime_ns]:
            return None
        return data

    async def get(self, path: Path, columns: int) -> dict[str, Any]:
        """The peaks of ``path`` (resolved, already checked by the caller) at ``columns`` columns."""
        hit = self.cached(path, columns)
        if hit is not None:
            return hit
        key = (str(path), columns)
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.run_in_executor(None, self._compute, path, columns)
        self._running[key] = future
        try:
            return await asyncio.shield(future)
        finally:
            if future.done():
                self._running.pop(key, None)
            else:
                future.add_done_callback(lambda _: self._running.pop(key, None))

    def forget(self, paths: list[Path]) -> int:
        """Remove the peaks kept for ``paths`` (a deleted clip's files), every column count; how many went."""
        removed = 0
        for path in paths:
            entry = self._entry(path, 0)
            for kept in entry.parent.glob(entry.name.replace("-0.json", "-*.json")):
                kept.unlink(missing_ok=True)
                removed += 1
        return removed

    def _compute(self, path: Path, columns: int) -> dict[str, Any]:
        st = os.stat(path)
        data = peaks_of(path, columns)
        data["source"] = [st.st_size, st.st_mtime_ns]
        try:
            write_json_atomic(self._entry(path, columns), data, indent=None)
        except OSError:
            pass  # a full disk: served all the same, computed again next time
        return data
