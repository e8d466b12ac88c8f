"""``lyrics``: a prompt becomes lyrics timed on a clip's grid, without any audio.

The folder holds the tagged text (:data:`~mage_bridge.api.clips.LYRICS_TEXT_FILE`), its line-level LRC
(:data:`~mage_bridge.api.clips.LRC_FILE`), its word-level enhanced LRC
(:data:`~mage_bridge.api.clips.ENHANCED_LRC_FILE`) and ``manifest.json`` (kind ``"lyrics"``): the same
lyrics, timing and files a clip generated from the same prompt, options and seed would hold.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mage_bridge import __version__, manifest
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.api.checks import check_output_dir
from mage_bridge.api.clips import ClipLyrics, clip_grid, clip_lyrics, write_lyric_files
from mage_bridge.api.generate import (
    apply_overrides,
    check_generate_options,
    check_lyrics_backend,
    clip_length,
    lyrics_mode_for,
    stated_length_note,
)
from mage_bridge.api.results import jsonable
from mage_bridge.config import Config, load_config
from mage_bridge.errors import InvalidInputError
from mage_bridge.files import staged_folder, write_json_atomic
from mage_bridge.progress import ProgressFn, no_progress

#: Options a lyrics request may carry: the clip's tempo, key, metre, genre and length (as ``generate``'s).
LYRICS_OPTIONS = ("bpm", "key", "mode", "time_signature", "genre", "duration_s", "bars", "lead_in_bars",
                  "analysis_backend")

__all__ = ["LYRICS_OPTIONS", "PromptLyrics", "lyrics", "lyrics_for_prompt"]


@dataclass(frozen=True)
class PromptLyrics:
    """Lyrics for a prompt, timed on the clip generate would make of it, and what they were made from."""

    sung: ClipLyrics
    analysis: PromptAnalysis
    #: The checked options, less ``lyrics_mode`` (which is ``sung.lyrics.mode``).
    options: Mapping[str, Any]
    bars: int | None


def lyrics_for_prompt(prompt: str, *, lyrics: str | None = None, lyrics_mode: str | None = None,
                      seed: int | None = None, backend: str | None = None,
                      options: Mapping[str, Any] | None = None, config: Config | None = None,
                      progress: ProgressFn | None = None) -> PromptLyrics:
    """Write and time the lyrics :func:`lyrics` saves, without writing anything (``mage-bridge lyrics``
    without ``--out`` prints them). Raises :class:`InvalidInputError` as :func:`lyrics` does."""
    from mage_bridge.analysis import analyze
    from mage_bridge.analysis.rules import check_prompt

    progress = progress or no_progress
    check_prompt(prompt, lyrics)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32):
        raise InvalidInputError(f"seed must be an int from 0 to 2**32-1, got {seed!r}")
    if backend is not None:
        check_lyrics_backend("backend", backend)
    opts = check_generate_options(options, kind="lyrics", known=LYRICS_OPTIONS)
    if lyrics_mode is not None:
        opts["lyrics_mode"] = lyrics_mode
    mode = lyrics_mode_for(opts, lyrics)
    opts.pop("lyrics_mode", None)
    config = config or load_config()
    seed = secrets.randbelow(2**31) if seed is None else seed

    progress("analyze", 0.0)
    analysis = analyze(prompt, lyrics=lyrics, backend=opts.get("analysis_backend"), config=config)
    analysis = stated_length_note(apply_overrides(analysis, opts), opts)
    duration_s, bars = clip_length(analysis, opts, whole_bars_wanted=False)
    progress("analyze", 1.0)
    progress("lyrics", 0.0)
    grid = clip_grid(analysis, duration_s=duration_s, lead_in_bars=opts.get("lead_in_bars", 1))
    given = bool(lyrics and lyrics.strip())
    sung = clip_lyrics(analysis, grid, mode=mode, user_lyrics=lyrics if given else None, seed=seed,
                       backend=backend, config=config)
    progress("lyrics", 1.0)
    return PromptLyrics(sung, analysis, opts, bars)


def lyrics(
    prompt: str,
    out_dir: str | os.PathLike[str],
    *,
    lyrics: str | None = None,
    lyrics_mode: str | None = None,
    seed: int | None = None,
    backend: str | None = None,
    options: Mapping[str, Any] | None = None,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    job_id: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write lyrics for ``prompt`` into the folder ``out_dir`` and return its manifest's path.

    ``lyrics_mode``: ``"generate"`` (new lyrics from the prompt's mood, genre and topic), ``"replace"``
    (the user's ``lyrics`` kept verbatim, re-timed) or ``"append"`` (the user's lines, then a
    continuation in their rhyme and metre); by default ``"replace"`` when ``lyrics`` are given, else
    ``"generate"``. (It is not called ``mode``: that option is the key's major/minor at every door.)
    ``options`` fix ``bpm``, ``key``, ``mode``, ``time_signature``, ``genre``, ``duration_s`` or ``bars``
    and ``lead_in_bars``, checked and turned into the clip's length exactly as :func:`mage_bridge.api.generate`
    does, so the timing is the one a clip of that request gets. The same ``seed`` writes the same lyrics.
    ``backend`` is the lyric writer: ``"embedded"``, ``"transformers"`` (a causal LM in
    ``<models_dir>/lyrics``) or ``"auto"`` (the model when its folder is usable); ``None``: the config's
    ``backends.lyrics``. The manifest's ``lyrics.backend`` says which wrote them.

    Everything is checked, and the lyrics written and timed, before the folder appears; a bad mode or
    lyrics that cannot fit the clip raise :class:`InvalidInputError` (saying how many lines would fit)
    and leave ``out_dir`` as it was.
    """
    started = time.perf_counter()
    progress = progress or no_progress
    out_dir_path = check_output_dir(out_dir, overwrite=overwrite)
    job_id = job_id or uuid.uuid4().hex[:12]
    made = lyrics_for_prompt(prompt, lyrics=lyrics, lyrics_mode=lyrics_mode, seed=seed, backend=backend,
                             options=options, config=config, progress=progress)
    sung, opts = made.sung, dict(made.options)

    with staged_folder(out_dir_path, job_id=job_id, overwrite=overwrite) as staging:
        progress("write", 0.0)
        record = write_lyric_files(staging, sung)
        write_json_atomic(staging / manifest.FILENAME, {
            "schema": manifest.SCHEMA,
            "job_id": job_id,
            "kind": "lyrics",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "mage_bridge_version": __version__,
            "request": {"prompt": prompt, "lyrics": lyrics, "lyrics_mode": sung.lyrics.mode, "seed": sung.lyrics.seed,
                        "backend": backend, "options": jsonable(opts)},
            "analysis": made.analysis.to_dict(),
            "duration_s": round(sung.grid.duration_s, 6),
            "bars": made.bars,
            "warnings": list(made.analysis.warnings) + list(sung.lyrics.warnings),
            "lyrics": record,
            "elapsed_s": round(time.perf_counter() - started, 3),
        })
    progress("write", 1.0)
    return out_dir_path / manifest.FILENAME
