"""``master``: an audio file mastered to a loudness target under a true-peak ceiling, as WAV, FLAC or MP3.

The chain (:func:`mage_bridge.effects.master.master_blocks`) reads its input
several times: two passes over the input (analysis, then EQ and glue into a
scratch file), one pass over the scratch file per round of the gain loop,
and one more for the final render. :class:`_Passes` turns the frames read in
those passes into one ``master`` fraction, so a long song shows movement
through every pass.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from mage_bridge import audio as audio_io
from mage_bridge.api.checks import check_format_options, check_input, check_output_file
from mage_bridge.api.results import (
    Source48k,
    base_manifest,
    commit_file,
    measure_file,
    register_result,
    temp_beside,
    work_dir,
)
from mage_bridge.audio import SAMPLE_RATE
from mage_bridge.config import Config, load_config
from mage_bridge.errors import InvalidInputError
from mage_bridge.progress import ProgressFn, no_progress

#: Default loudness target (LUFS) and true-peak ceiling (dBTP) when neither they nor a preset are given.
DEFAULT_TARGET_LUFS = -14.0
DEFAULT_TRUE_PEAK_DBTP = -1.0
#: Lossy round trip: extra tries, each with a ceiling tightened by the decoded overshoot.
_LOSSY_TRIES = 4
#: Passes over the signal a typical master makes (2 over the input, 2 gain rounds, the final render).
_EXPECTED_PASSES = 5
#: How far the passes before the final render take the ``master`` fraction.
_BEFORE_RENDER = 0.8


class _Passes:
    """The ``master`` stage's fraction from the frames read so far, across passes of unknown number.

    Each pass over the input or the scratch file moves the fraction a share of what is left below
    :data:`_BEFORE_RENDER` (1/remaining expected passes, at most a third), so extra gain rounds slow
    the bar down instead of running it past the end; the pass that writes the result (told by the
    first block written) takes it to 1. The chain's own reports count too; the fraction never goes back.
    """

    def __init__(self, progress: ProgressFn, frames: int) -> None:
        self.progress = progress
        self.frames = max(frames, 1)
        self.passes = 0
        self.shown = -1.0  # nothing reported yet
        self.rendering = False

    def report(self, stage: str, fraction: float) -> None:
        if stage != "master":
            self.progress(stage, fraction)
        elif fraction > self.shown + 0.004 or fraction >= 1.0 > self.shown:
            self.shown = min(fraction, 1.0)
            self.progress("master", self.shown)

    def writing(self, write: Callable[[np.ndarray], None]) -> Callable[[np.ndarray], None]:
        """``write``, telling this counter that the pass under way is the final render."""
        def wrapped(block: np.ndarray) -> None:
            self.rendering = True
            write(block)

        return wrapped

    def count(self, blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        self.passes += 1
        start, begun = max(self.shown, 0.0), 0  # the fraction and the frames read where this part began
        stop = start + (_BEFORE_RENDER - start) / max(_EXPECTED_PASSES - self.passes, 3)
        done = 0
        for block in blocks:
            yield block
            done += int(np.shape(block)[-1])
            if self.rendering and stop < 1.0:  # this pass writes the result: the rest of it runs up to 1
                start, begun, stop = max(self.shown, 0.0), done, 1.0
            part = (done - begun) / max(self.frames - begun, 1)
            self.report("master", start + (stop - start) * min(1.0, part))


class _CountedSource:
    """A :class:`Source48k` whose every read is counted by :class:`_Passes`."""

    def __init__(self, source: Source48k, passes: _Passes) -> None:
        self.source, self.passes = source, passes

    def blocks(self) -> Iterator[np.ndarray]:
        return self.passes.count(self.source.blocks())


class _CountedStore:
    """A scratch :class:`~mage_bridge.audio.FileBlockStore` whose every read is counted by :class:`_Passes`."""

    def __init__(self, store: audio_io.FileBlockStore, passes: _Passes) -> None:
        self.store, self.passes = store, passes

    def write(self, block: np.ndarray) -> None:
        self.store.write(block)

    def blocks(self) -> Iterator[np.ndarray]:
        return self.passes.count(self.store.blocks())


def master(
    audio_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    target_lufs: float | None = None,
    true_peak_dbtp: float | None = None,
    preset: str | None = None,
    overwrite: bool = False,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    subtype: str = "pcm24",
    mp3_quality: str = "cbr320",
    job_id: str | None = None,
) -> Path:
    """Master an audio file to ``target_lufs`` integrated under a ``true_peak_dbtp`` ceiling.

    Without a ``preset`` the defaults are −14 LUFS and −1 dBTP. ``preset``
    (streaming −14, apple −16, broadcast −23, loud −9 LUFS) sets both and may
    not be combined with either. ``out_path``'s extension picks the format
    (.wav/.flac/.mp3). The written file is decoded and measured again; for MP3
    the encode–decode round trip is repeated with a tightened ceiling until the
    *decoded* file holds the ceiling. Returns ``<out_path>.json``.
    """
    from mage_bridge.effects.master import PRESETS, check_master_inputs, master_blocks

    started = time.perf_counter()
    progress = progress or no_progress
    if preset is not None and (target_lufs is not None or true_peak_dbtp is not None):
        given = ", ".join(n for n, v in (("target_lufs", target_lufs), ("true_peak_dbtp", true_peak_dbtp))
                          if v is not None)
        raise InvalidInputError(f"preset {preset!r} sets the loudness target and ceiling: give it or {given}, "
                                "not both")
    lufs = DEFAULT_TARGET_LUFS if target_lufs is None else target_lufs
    ceiling_dbtp = DEFAULT_TRUE_PEAK_DBTP if true_peak_dbtp is None else true_peak_dbtp
    check_master_inputs(target_lufs=lufs, true_peak_dbtp=ceiling_dbtp, preset=preset)
    spec = PRESETS[preset] if preset is not None else None
    if spec is not None:
        lufs, ceiling_dbtp = spec.target_lufs, spec.true_peak_dbtp
    path, _ = check_input(audio_path)
    out, fmt = check_output_file(out_path, overwrite=overwrite)
    check_format_options(fmt, subtype=subtype, mp3_quality=mp3_quality)
    config = config or load_config()
    job_id = job_id or uuid.uuid4().hex[:12]

    notes: list[str] = []
    ceiling = float(ceiling_dbtp)
    tmp = temp_beside(out)
    try:
        with work_dir(out) as work:
            progress("load", 0.0)
            source = Source48k(path, Path(work), notes)
            progress("load", 1.0)
            for attempt in range(1, _LOSSY_TRIES + 1 if fmt == "mp3" else 2):
                passes = _Passes(progress, source.frames)
                scratch = audio_io.FileBlockStore(Path(work) / "glued.wav", sample_rate=SAMPLE_RATE, channels=2)
                with audio_io.BlockWriter(tmp, sample_rate=SAMPLE_RATE, fmt=fmt, subtype=subtype,
                                          mp3_quality=mp3_quality) as writer:
                    result = master_blocks(_CountedSource(source, passes), sample_rate=SAMPLE_RATE,
                                           frames=source.frames, write=passes.writing(writer.write),
                                           scratch=_CountedStore(scratch, passes), target_lufs=float(lufs),
                                           true_peak_dbtp=ceiling, glue_ratio=spec.glue_ratio if spec else None,
                                           glue_threshold_lu=spec.glue_threshold_lu if spec else None,
                                           progress=passes.report)
                progress("write", 0.0)
                measured, decoded = measure_file(tmp)
                peak = measured["true_peak_dbtp"]
                if fmt != "mp3" or peak is None or peak <= ceiling_dbtp:
                    break
                ceiling = max(ceiling - (peak - ceiling_dbtp) - 0.05, -12.0)
                notes.append(f"MP3 round trip {attempt} peaked at {peak} dBTP: re-mastered with a {ceiling:.2f} "
                             "dBTP ceiling")
        data = base_manifest("master", job_id, {"audio_path": str(path), "target_lufs": lufs,
                                                "true_peak_dbtp": ceiling_dbtp, "preset": preset, "format": fmt,
                                                "subtype": subtype, "mp3_quality": mp3_quality}, decoded)
        data.update({"backend": {"name": "master", "limiter_ceiling_dbtp": round(ceiling, 3),
                                 **result.to_dict()},
                     "input": source.input, "notes": notes + list(result.notes), "measured": measured,
                     "output": out.name, "lineage": {"parent": str(path)},
                     "elapsed_s": round(time.perf_counter() - started, 3)})
        manifest_path = commit_file(tmp, out, data)
    finally:
        tmp.unlink(missing_ok=True)
    progress("write", 1.0)
    return register_result(manifest_path, config)
