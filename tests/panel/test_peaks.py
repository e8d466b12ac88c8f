"""Waveform peaks: min/max per column, exact on synthetic signals; computed once, again when the file changes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import numpy as np
import pytest

from mage_bridge.audio import Audio, save
from mage_bridge.panel.peaks import MAX_COLUMNS, MIN_COLUMNS, PeakCache, column_count, peaks_of
from tests.signals import sine

RATE = 48000


def _write(path: Path, samples: np.ndarray) -> Path:
    save(Audio(samples.astype(np.float32), RATE), path, subtype="float", overwrite=True)
    return path


def test_each_column_holds_the_min_and_max_of_its_frames(tmp_path: Path, rng: np.random.Generator):
    frames = RATE  # 1 s
    samples = rng.uniform(-0.5, 0.5, size=(2, frames)).astype(np.float32)
    path = _write(tmp_path / "noise.wav", samples)
    columns = 128
    peaks = peaks_of(path, columns)
    assert (peaks["columns"], peaks["frames"], peaks["sample_rate"], peaks["channels"]) == (columns, frames, RATE, 2)
    edges = [c * frames // columns for c in range(columns + 1)]
    want_min = [float(samples[:, a:b].min()) for a, b in zip(edges, edges[1:])]
    want_max = [float(samples[:, a:b].max()) for a, b in zip(edges, edges[1:])]
    assert peaks["min"] == pytest.approx(want_min, abs=1e-4)
    assert peaks["max"] == pytest.approx(want_max, abs=1e-4)


def test_a_click_lands_in_its_column_and_silence_stays_zero(tmp_path: Path):
    frames = 10 * RATE
    samples = np.zeros((1, frames), dtype=np.float32)
    samples[0, 7 * RATE] = 0.9  # a click at 7 s: column 70 of 100 (blocks of the reader cross it)
    samples[0, 2 * RATE] = -0.6
    peaks = peaks_of(_write(tmp_path / "click.wav", samples), 100)
    assert peaks["max"][70] == pytest.approx(0.9, abs=1e-4)
    assert peaks["min"][20] == pytest.approx(-0.6, abs=1e-4)
    assert sum(1 for v in peaks["max"] if v != 0) == 1
    assert sum(1 for v in peaks["min"] if v != 0) == 1


def test_a_sine_fills_every_column_to_its_amplitude(tmp_path: Path):
    tone = sine(440.0, 2.0, amplitude=0.5, rate=RATE)
    peaks = peaks_of(_write(tmp_path / "sine.wav", tone.samples), 256)
    body = slice(10, 246)  # clear of the fades
    assert np.allclose(peaks["max"][body], 0.5, atol=0.01)
    assert np.allclose(peaks["min"][body], -0.5, atol=0.01)


def test_fewer_frames_than_columns(tmp_path: Path):
    samples = np.array([[0.1, -0.2, 0.3, -0.4, 0.5]], dtype=np.float32)
    peaks = peaks_of(_write(tmp_path / "short.wav", samples), 64)
    assert len(peaks["max"]) == 64
    assert set(peaks["max"]) == {0.1, -0.2, 0.3, -0.4, 0.5}  # every column shows the frame it falls in
    assert peaks["max"][0] == pytest.approx(0.1) and peaks["max"][-1] == pytest.approx(0.5)


@pytest.mark.parametrize("asked,served", [("1000", 1024), ("64", 64), ("65", 128), ("1", MIN_COLUMNS),
                                          ("99999", MAX_COLUMNS), ("lots", 1024), (None, 1024)])
def test_column_counts_are_clamped_and_rounded(asked: str | None, served: int):
    assert column_count(asked) == served


def test_the_cache_computes_once_and_again_when_the_file_changes(tmp_path: Path):
    path = _write(tmp_path / "a.wav", np.full((2, RATE), 0.25, dtype=np.float32))
    cache = PeakCache(tmp_path / "cache")

    async def twice() -> tuple[dict, dict]:
        return tuple(await asyncio.gather(cache.get(path, 64), cache.get(path, 64)))  # type: ignore[return-value]

    first, second = asyncio.run(twice())
    assert first == second and first["max"][0] == pytest.approx(0.25)
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert len(entries) == 1
    stamp = entries[0].stat().st_mtime_ns
    assert asyncio.run(cache.get(path, 64)) == first
    assert entries[0].stat().st_mtime_ns == stamp  # read, not computed again

    _write(path, np.full((2, RATE), -0.75, dtype=np.float32))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    changed = asyncio.run(cache.get(path, 64))
    assert changed["min"][0] == pytest.approx(-0.75)


def test_forget_removes_every_column_count_of_those_files_only(tmp_path: Path):
    kept = _write(tmp_path / "kept.wav", np.full((2, RATE // 10), 0.5, dtype=np.float32))
    gone = _write(tmp_path / "gone.wav", np.full((2, RATE // 10), 0.5, dtype=np.float32))
    cache = PeakCache(tmp_path / "cache")

    async def fill() -> None:
        for path in (kept, gone):
            for columns in (64, 128, 1024):
                await cache.get(path, columns)

    asyncio.run(fill())
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 6
    assert cache.forget([gone]) == 3
    assert cache.cached(gone, 64) is None and cache.cached(gone, 1024) is None
    assert all(cache.cached(kept, n) is not None for n in (64, 128, 1024))
    assert cache.forget([gone]) == 0
