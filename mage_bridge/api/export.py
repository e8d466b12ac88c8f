"""``export``: an audio file converted to 48 kHz stereo WAV (pcm16/pcm24/float), FLAC or MP3 (cbr320/v0).

Export loads its input whole (it is a conversion, seconds long even for a long song).
"""

from __future__ import annotations

import math
import os
import time
import uuid
from pathlib import Path

from mage_bridge import audio as audio_io
from mage_bridge.api.checks import check_format_options, check_input, check_output_file
from mage_bridge.api.results import base_manifest, commit_file, load_48k_stereo, measure, temp_beside, write_audio
from mage_bridge.audio import Audio
from mage_bridge.config import Config
from mage_bridge.progress import ProgressFn, no_progress


def export(
    audio_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    subtype: str = "pcm24",
    mp3_quality: str = "cbr320",
    overwrite: bool = False,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    job_id: str | None = None,
) -> Path:
    """Convert an audio file to 48 kHz stereo WAV, FLAC or MP3; the extension of ``out_path`` picks the format.

    Samples beyond ±1.0 cannot be stored in integer formats or MP3 and are
    clipped, with a note. ``config`` is accepted for the same call shape as the
    other job kinds; export reads nothing from it. Returns ``<out_path>.json``.
    """
    import numpy as np

    started = time.perf_counter()
    progress = progress or no_progress
    path, _ = check_input(audio_path)
    out, fmt = check_output_file(out_path, overwrite=overwrite)
    check_format_options(fmt, subtype=subtype, mp3_quality=mp3_quality)
    job_id = job_id or uuid.uuid4().hex[:12]
    progress("load", 0.0)
    notes: list[str] = []
    audio, input_info = load_48k_stereo(path, notes)
    progress("load", 1.0)
    peak = float(np.max(np.abs(audio.samples))) if audio.frames else 0.0
    if peak > 1.0 and not (fmt == "wav" and subtype == "float"):
        notes.append(f"sample peak {20 * math.log10(peak):+.2f} dBFS clipped to 0 dBFS by the {fmt} format")
        audio = Audio(np.clip(audio.samples, -1.0, 1.0), audio.sample_rate)
    tmp = temp_beside(out)
    try:
        progress("write", 0.0)
        write_audio(audio, tmp, fmt, subtype=subtype, mp3_quality=mp3_quality)
        progress("write", 0.5)
        decoded = audio_io.load(tmp)
        data = base_manifest("export", job_id, {"audio_path": str(path), "format": fmt, "subtype": subtype,
                                                "mp3_quality": mp3_quality}, decoded)
        data.update({"backend": {"name": "export"}, "input": input_info, "notes": notes,
                     "measured": measure(decoded), "output": out.name, "lineage": {"parent": str(path)},
                     "elapsed_s": round(time.perf_counter() - started, 3)})
        manifest_path = commit_file(tmp, out, data)
    finally:
        tmp.unlink(missing_ok=True)
    progress("write", 1.0)
    return manifest_path
