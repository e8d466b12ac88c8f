"""Clip folders for the arranger's tests: synthetic audio under an exact manifest, or real procedural clips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mage_bridge import api
from mage_bridge import audio as audio_io
from mage_bridge.audio import Audio
from mage_bridge.music import bar_seconds
from tests.signals import RATE


def write_clip(root: Path, clip_id: str, audio: Audio, *, bpm: float | None, time_signature: tuple[int, int] = (4, 4),
               key: str | None = "A", mode: str | None = "minor", lead_in_s: float | None = 0.0,
               grid: bool = True, extra: dict[str, Any] | None = None) -> Path:
    """``<root>/<clip_id>/`` with ``mix.wav`` and a manifest that says exactly what the clip is.

    ``grid``: the manifest carries a generator timeline (``backend.bpm``, ``backend.lead_in_s``), so
    its bar lines are known; without it only the requested tempo is (an imported or model clip).
    """
    folder = root / clip_id
    folder.mkdir(parents=True)
    audio_io.save(audio, folder / "mix.wav", subtype="float")
    requested: dict[str, Any] = {"time_signature": list(time_signature)}
    if bpm is not None:
        requested["bpm"] = bpm
    if key is not None:
        requested.update(key=key, mode=mode)
    backend: dict[str, Any] = {"name": "test"}
    if grid and bpm is not None:
        backend.update(bpm=bpm, time_signature=list(time_signature), bar_s=bar_seconds(bpm, time_signature),
                       lead_in_s=lead_in_s)
    data = {"schema": "mage-bridge/manifest@1", "job_id": f"job-{clip_id}", "kind": "generate",
            "request": {"prompt": f"test clip {clip_id}"}, "requested": requested, "backend": backend,
            "measured": {}, "sample_rate": audio.sample_rate, "channels": audio.channels, "frames": audio.frames,
            "duration_s": audio.duration_s, "mix": "mix.wav", **(extra or {})}
    (folder / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    return folder / "manifest.json"


def click_track(bpm: float, bars: int, *, time_signature: tuple[int, int] = (4, 4), freq_hz: float = 1000.0,
                amplitude: float = 0.5) -> Audio:
    """A click on every beat of ``bars`` whole bars: 5 ms tone bursts, the first at frame 0."""
    beats = bars * time_signature[0]
    beat_s = 60.0 / bpm * 4.0 / time_signature[1]
    frames = int(round(bars * bar_seconds(bpm, time_signature) * RATE))
    x = np.zeros(frames)
    burst_n = int(0.005 * RATE)
    burst = amplitude * np.sin(2 * np.pi * freq_hz * np.arange(burst_n) / RATE) * np.hanning(burst_n * 2)[burst_n:]
    for b in range(beats):
        i = int(round(b * beat_s * RATE))
        x[i:i + burst_n] += burst[: max(0, min(burst_n, frames - i))]
    return Audio(np.tile(x, (2, 1)).astype(np.float32), RATE)


def beat_peaks(audio: Audio, beat_frames: float, *, window_s: float = 0.025) -> tuple[np.ndarray, np.ndarray]:
    """For beat ``k`` of a grid from frame 0, where the loudest sample within ``window_s`` of it is, and how
    loud: ``(frames, heights)``. A time-stretcher smears a click's onset, not where its energy peaks."""
    env = np.max(np.abs(audio.samples), axis=0)
    half = int(window_s * audio.sample_rate)
    where, height = [], []
    for k in range(int((audio.frames - half) / beat_frames) + 1):
        centre = int(round(k * beat_frames))
        low = max(0, centre - half)
        i = low + int(np.argmax(env[low:centre + half]))
        where.append(i)
        height.append(env[i])
    return np.array(where), np.array(height)


def procedural_clip(root: Path, clip_id: str, prompt: str, *, seed: int, bars: int,
                    **options: Any) -> Path:
    """A real clip from the embedded generator, in ``<root>/<clip_id>/``."""
    return api.generate(prompt, root / clip_id, seed=seed, backend="procedural", options={"bars": bars, **options})
