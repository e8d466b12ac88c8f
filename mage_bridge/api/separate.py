"""``separate``: an audio file becomes ``vocals``, ``drums``, ``bass``, ``other`` WAVs and a manifest.

The input is read as 48 kHz stereo blocks and separated in overlapping
segments (:func:`mage_bridge.separate.separate_blocks`), so memory does not
grow with its length; the stems are written block by block into a staging
folder that is renamed into place at the end.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mage_bridge import audio as audio_io
from mage_bridge import manifest
from mage_bridge.api.checks import check_input, check_options, check_output_dir
from mage_bridge.api.results import (
    Source48k,
    base_manifest,
    jsonable,
    measure_blocks,
    measure_file,
    register_result,
    work_dir,
)
from mage_bridge.audio import SAMPLE_RATE
from mage_bridge.config import Config, load_config
from mage_bridge.files import staged_folder, write_json_atomic
from mage_bridge.progress import STEM_NAMES, ProgressFn, no_progress

#: Options a separate request may carry; they go to the backend (Demucs: the first five; dsp: the rest).
SEPARATE_OPTIONS = ("model", "shifts", "overlap", "segment_s", "device", "n_fft", "hop", "bass_cutoff_hz",
                    "harmonic_kernel_frames", "percussive_kernel_bins", "neighbours", "centre_width")


def separate(
    audio_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    backend: str | None = None,
    options: Mapping[str, Any] | None = None,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    overwrite: bool = False,
    job_id: str | None = None,
) -> Path:
    """Split an audio file into ``vocals``, ``drums``, ``bass``, ``other`` WAVs (24-bit, 48 kHz stereo).

    ``backend`` is ``"demucs"``, ``"dsp"``, ``"auto"`` (Demucs when it and its
    weights are present, else dsp) or ``None`` (the config's
    ``backends.separate``); ``options`` go to it (Demucs: ``model``, ``shifts``,
    ``overlap``, ``segment_s``, ``device``; dsp: ``n_fft``, ``hop``, ...).
    Returns ``<out_dir>/manifest.json``.
    """
    from mage_bridge.separate import REGISTRY, create_separator, separate_blocks

    started = time.perf_counter()
    progress = progress or no_progress
    opts = check_options("separate", options, SEPARATE_OPTIONS)
    if backend is not None and backend != "auto":
        REGISTRY.spec(backend)  # an unknown name fails now, before any work
    path, _ = check_input(audio_path)
    out = check_output_dir(out_dir, overwrite=overwrite)
    config = config or load_config()
    separator = create_separator(backend, config, **opts)
    job_id = job_id or uuid.uuid4().hex[:12]

    notes: list[str] = []
    with staged_folder(out, job_id=job_id, overwrite=overwrite) as staging:
        with work_dir(staging / "input") as work:
            progress("load", 0.0)
            source = Source48k(path, Path(work), notes)
            progress("load", 1.0)
            writers = {name: audio_io.BlockWriter(staging / f"{name}.wav", sample_rate=SAMPLE_RATE)
                       for name in STEM_NAMES}
            try:
                for pieces in separate_blocks(separator, source.blocks(), frames=source.frames,
                                              progress=progress):
                    for name, samples in pieces.items():
                        writers[name].write(samples)
            finally:
                for writer in writers.values():
                    writer.close()
            progress("write", 0.0)
            measured = {"mix": measure_blocks(source.blocks())[0]}
        files = {}
        for i, name in enumerate(STEM_NAMES):
            progress("write", (i + 1) / (len(STEM_NAMES) + 1))
            measured[name] = measure_file(staging / f"{name}.wav")[0]
            files[name] = f"{name}.wav"
        data = base_manifest("separate", job_id, {"audio_path": str(path), "backend": backend,
                                                  "options": jsonable(opts)}, source)
        data.update({
            "backend": separator.details(),
            "input": source.input,
            "notes": notes,
            "measured": measured,
            "stems": files,
            "lineage": {"parent": str(path)},
            "elapsed_s": round(time.perf_counter() - started, 3),
        })
        write_json_atomic(staging / manifest.FILENAME, data)
    progress("write", 1.0)
    return register_result(out / manifest.FILENAME, config)
