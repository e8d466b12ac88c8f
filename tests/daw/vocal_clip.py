"""A finished clip with vocals, in the daemon's layout, for the DAW scripts' lyric tests.

The lyrics are real: written (or the user's, re-timed) by :func:`mage_bridge.api.clips.clip_lyrics` on the clip's
grid and written beside the stems by :func:`~mage_bridge.api.clips.write_lyric_files` (``lyrics.txt``,
``lyrics.lrc``, ``lyrics.enhanced.lrc``), and the manifest is written with the fields and the writer
:func:`~mage_bridge.api.clips.write_clip` uses. The stems are silent WAVs of the clip's exact length (rendering a
clip is not what these tests check, and takes far longer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

RATE = 48_000
LRC_LINE = re.compile(r"^\[(\d+):(\d\d\.\d\d)\](.+)$")


@dataclass(frozen=True)
class SungLine:
    """One sung line as the DAW should show it: its text, section and first syllable's start (clip seconds)."""

    text: str
    section: str
    start_s: float


def vocal_clip(folder: Path, *, prompt: str = "pop song about summer love with female vocals at 120 bpm",
               lyrics: str | None = None, mode: str = "generate", duration_s: float = 24.0,
               stems: tuple[str, ...] = ("vocals", "drums", "bass"), with_lyrics: bool = True,
               job_id: str = "job-vocal") -> tuple[Path, dict[str, Any]]:
    """Write a generated clip with vocals into ``folder``; returns its ``manifest.json`` path and the manifest."""
    from mage_bridge import __version__
    from mage_bridge.analysis import analyze
    from mage_bridge.api.clips import clip_grid, clip_lyrics, write_lyric_files
    from mage_bridge.files import write_json_atomic

    folder.mkdir(parents=True, exist_ok=True)
    analysis = analyze(prompt, lyrics=lyrics)
    grid = clip_grid(analysis, duration_s=duration_s, lead_in_bars=1)
    record = None
    if with_lyrics:
        sung = clip_lyrics(analysis, grid, mode=mode, user_lyrics=lyrics, seed=7)
        record = write_lyric_files(folder, sung)
    frames = round(duration_s * RATE)
    stem_files = {}
    for name in stems:
        soundfile.write(str(folder / f"{name}.wav"), np.zeros(frames, dtype=np.int16), RATE, subtype="PCM_16")
        stem_files[name] = f"{name}.wav"
    manifest: dict[str, Any] = {
        "schema": "mage-bridge/manifest@1", "job_id": job_id, "kind": "generate",
        "created": "2026-12-03T12:00:00+0000", "mage_bridge_version": __version__,
        "request": {"prompt": prompt, "lyrics": lyrics, "seed": 7, "options": {}},
        "analysis": analysis.to_dict(),
        "backend": {"name": "procedural", "seed": 7, "lead_in_s": grid.lead_in_s, "lead_out_s": grid.lead_out_s},
        "requested": {"bpm": analysis.bpm, "key": analysis.key, "mode": analysis.mode,
                      "time_signature": list(analysis.time_signature)},
        "measured": None, "warnings": [], "sample_rate": RATE, "channels": 1, "frames": frames,
        "duration_s": round(frames / RATE, 6), "stems": stem_files, "bars": None, "structure": [],
        "mix": "mix.wav", "master": None, "midi": None, "daw": None, "lyrics": record,
        "lineage": {"parent": None}, "elapsed_s": 0.0,
    }
    write_json_atomic(folder / "manifest.json", manifest)
    return folder / "manifest.json", manifest


def sung_lines(manifest: dict[str, Any]) -> list[SungLine]:
    """The lines of ``manifest["lyrics"]`` that have a sung syllable, in order, with their first syllable's start."""
    lyrics = manifest["lyrics"]
    lines = [(text, s["name"]) for s in lyrics["sections"] for text in s["lines"]]
    starts: dict[int, float] = {}
    for syllable in lyrics["syllables"]:
        starts[syllable["line"]] = min(starts.get(syllable["line"], syllable["start"]), syllable["start"])
    return [SungLine(text, section, starts[i]) for i, (text, section) in enumerate(lines) if i in starts]


def lrc_lines(folder: Path) -> list[tuple[float, str]]:
    """``(seconds, text)`` of each line of the clip's ``lyrics.lrc`` that carries text (end stamps left out)."""
    out = []
    for row in (folder / "lyrics.lrc").read_text(encoding="utf-8").splitlines():
        match = LRC_LINE.match(row)
        if match:
            out.append((int(match[1]) * 60 + float(match[2]), match[3]))
    return out
