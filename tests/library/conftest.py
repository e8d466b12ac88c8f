"""Real libraries in tmp_path, and clip folders written as jobs write them (real WAVs, a real manifest)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mage_bridge import audio as audio_io
from mage_bridge import manifest
from mage_bridge.files import write_json_atomic
from mage_bridge.library import Library

#: A tenth of a second of quiet noise: a real WAV, small enough to write hundreds of.
_FRAMES = 4800


def _wav(path: Path, seed: int = 0) -> None:
    samples = np.random.default_rng(seed).uniform(-0.01, 0.01, (2, _FRAMES)).astype(np.float32)
    audio_io.save(audio_io.Audio(samples, 48_000), path, overwrite=True)


def write_clip(folder: Path, *, prompt: str = "deep house groove", bpm: float | None = 122.0, key: str | None = "A",
               mode: str | None = "minor", genre: str = "deep house", kind: str = "generate",
               measured_bpm: float | None = None, measured_key: tuple[str, str] | None = None, tempo_off: bool = False,
               stems: Sequence[str] = ("drums", "bass"), job_id: str | None = None, parent: str | None = None,
               parent_job: str | None = None, lyrics: str | None = None, midi: bool = True) -> Path:
    """A clip folder as ``generate`` (or an edit task) leaves it: stems, ``mix.wav``, MIDI, ``manifest.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in stems:
        _wav(folder / f"{name}.wav")
    _wav(folder / "mix.wav")
    midi_record = None
    if midi:
        (folder / "parts.mid").write_bytes(b"MThd")
        midi_record = {"file": "parts.mid", "parts": []}
    mk = measured_key or (key, mode)
    data: dict[str, Any] = {
        "schema": manifest.SCHEMA, "job_id": job_id or uuid.uuid4().hex[:12], "kind": kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "mage_bridge_version": "test",
        "request": {"prompt": prompt, "lyrics": lyrics, "seed": 7, "options": {}},
        "analysis": {"prompt": prompt, "genre": genre, "bpm": bpm, "key": key, "mode": mode,
                     "time_signature": [4, 4]},
        "backend": {"name": "procedural", "seed": 7, "backend_version": "test-1", "lead_in_s": 2.0, "lead_out_s": 1.0},
        "requested": {"bpm": bpm, "key": key, "mode": mode, "time_signature": [4, 4]},
        "measured": {"bpm": measured_bpm if measured_bpm is not None else bpm, "tempo_confidence": 0.5,
                     "key": mk[0], "mode": mk[1], "key_confidence": 0.8, "loudness_lufs": -16.0,
                     "true_peak_dbtp": -1.5, "peak_dbfs": -1.6, "tempo_off": tempo_off},
        "warnings": [], "sample_rate": 48000, "channels": 2, "frames": _FRAMES, "duration_s": _FRAMES / 48000,
        "stems": {name: f"{name}.wav" for name in stems}, "bars": 8, "mix": "mix.wav", "master": None,
        "midi": midi_record, "daw": None,
        "lyrics": {"text": lyrics, "file": "lyrics.txt"} if lyrics else None,
        "lineage": {"parent": parent, "parent_job": parent_job, "task": kind} if parent else {"parent": None},
    }
    if lyrics:
        (folder / "lyrics.txt").write_text(lyrics + "\n")
    return write_json_atomic(folder / manifest.FILENAME, data)


def write_master(out: Path, source: Path) -> Path:
    """A file result as ``master`` leaves it: ``out`` and ``out.json`` beside it."""
    _wav(out)
    data = {"schema": manifest.SCHEMA, "job_id": uuid.uuid4().hex[:12], "kind": "master",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "request": {"audio_path": str(source)},
            "sample_rate": 48000, "channels": 2, "frames": _FRAMES, "duration_s": _FRAMES / 48000,
            "measured": {"loudness_lufs": -14.0, "true_peak_dbtp": -1.0, "peak_dbfs": -1.1},
            "output": out.name, "lineage": {"parent": str(source)}}
    return write_json_atomic(out.with_name(out.name + ".json"), data)


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    with Library(tmp_path / "library") as lib:
        yield lib
