"""Small synthetic clips for the live player's tests: stems as WAV files and an exact manifest,
written as a generate job writes them (:func:`mage_bridge.api.results.base_manifest`, an atomic JSON write)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mage_bridge import audio as audio_io
from mage_bridge import manifest
from mage_bridge.api.results import base_manifest
from mage_bridge.audio import Audio
from mage_bridge.files import write_json_atomic
from mage_bridge.live.clips import ClipInfo
from mage_bridge.live.prepare import PreparedClip

RATE = 48_000


def beat_frames(bpm: float, rate: int = RATE) -> int:
    return int(round(rate * 60.0 / bpm))


def write_clip(root: Path, clip_id: str, stems: dict[str, np.ndarray], *, bpm: float, metre: tuple[int, int] = (4, 4),
               lead_in_s: float = 0.0, lead_out_s: float = 0.0, rate: int = RATE) -> Path:
    """A clip folder ``root/clip_id`` with one float WAV per stem ``(2, frames)`` and its manifest."""
    folder = root / clip_id
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, samples in stems.items():
        audio_io.save(Audio(samples.astype(np.float32), rate), folder / f"{name}.wav", subtype="float")
        files[name] = f"{name}.wav"
    mix = Audio(np.sum([s for s in stems.values()], axis=0).astype(np.float32), rate)
    data = base_manifest("generate", clip_id, {"prompt": f"test clip {clip_id}", "seed": 0, "options": {}}, mix)
    bar_s = metre[0] * 4.0 / metre[1] * 60.0 / bpm
    data.update({
        "backend": {"name": "test", "bar_s": bar_s, "lead_in_s": lead_in_s, "lead_out_s": lead_out_s},
        "requested": {"bpm": bpm, "key": "C", "mode": "major", "time_signature": list(metre)},
        "stems": files, "mix": None, "bars": int(round(mix.duration_s / bar_s)),
    })
    return write_json_atomic(folder / manifest.FILENAME, data)


def noise(frames: int, rng: np.random.Generator, *, rms: float = 0.1) -> np.ndarray:
    """Stationary stereo white noise, its two channels independent (no fades: it loops)."""
    return (rms * rng.standard_normal((2, frames))).astype(np.float32)


def impulses(frames: int, every: int, *, amplitude: float = 0.5, first: int = 0) -> np.ndarray:
    """Single-sample clicks every ``every`` frames from ``first``: where a clip's frames land is exact."""
    x = np.zeros((2, frames), dtype=np.float32)
    x[:, first::every] = amplitude
    return x


def prepared(clip_id: str, stems: dict[str, np.ndarray], *, bpm: float, beats: float, rate: int = RATE) -> PreparedClip:
    """A clip as the preparer leaves it, straight from arrays ``(2, frames)`` (for the engine alone)."""
    info = ClipInfo(clip_id, Path(f"/nonexistent/{clip_id}/manifest.json"), bpm, (4, 4),
                    {name: Path(f"{name}.wav") for name in stems}, 0.0, beats, beats * 60.0 / bpm)
    return PreparedClip(info, bpm, rate, {name: np.ascontiguousarray(s.T) for name, s in stems.items()})
