"""``enhance``: the per-stem chains (EQ, compression, de-essing, reverb, width, your VST3s) on one stem or a set.

A stem file gives a file with a ``.json`` manifest beside it; a separation
result (its folder or ``manifest.json``) gives a folder with one enhanced WAV
per stem and ``manifest.json``. Stems are read and written block by block.
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
from mage_bridge.api.checks import check_format_options, check_input, check_options, check_output_dir, check_output_file
from mage_bridge.api.results import (
    Source48k,
    base_manifest,
    commit_file,
    counted,
    jsonable,
    measure_file,
    temp_beside,
    work_dir,
)
from mage_bridge.audio import SAMPLE_RATE
from mage_bridge.config import Config, load_config
from mage_bridge.errors import InvalidInputError
from mage_bridge.files import staged_folder, write_json_atomic
from mage_bridge.progress import STEM_NAMES, ProgressFn, no_progress

#: Options an enhance request may carry.
ENHANCE_OPTIONS = ("stem", "genre", "prompt", "plugins", "subtype")


def _genre_from(opts: Mapping[str, Any], config: Config) -> tuple[str | None, str]:
    """The genre whose preset the chains use, and where it came from.

    An explicit ``genre`` wins; else a ``prompt`` is analysed (its errors are the caller's: an empty
    prompt, an analyser that cannot run); no genre at all means the default preset.
    """
    if opts.get("genre"):
        return str(opts["genre"]), "option"
    if opts.get("prompt"):
        from mage_bridge.analysis import analyze

        genre = analyze(str(opts["prompt"]), config=config).genre
        return (genre, "prompt") if genre else (None, "default (no genre in the prompt)")
    return None, "default"


def _stem_files(folder: Path) -> dict[str, Path]:
    """The stems of a separation result: from its manifest, else the stem WAVs that are there."""
    try:
        return {k: folder / v for k, v in manifest.read(folder)["stems"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {n: folder / f"{n}.wav" for n in STEM_NAMES if (folder / f"{n}.wav").is_file()}


def enhance(
    audio_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    options: Mapping[str, Any] | None = None,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    overwrite: bool = False,
    job_id: str | None = None,
) -> Path:
    """Run the per-stem enhancement chains.

    ``audio_path`` is one stem file: ``out_path`` is then the output file (a
    folder or a name without extension gets ``<stem>.enhanced.wav`` inside it).
    Or ``audio_path`` is a separation result (its folder or ``manifest.json``):
    then every stem is enhanced into the folder ``out_path``. ``options``:
    ``stem`` (for one file; default from the file name, else ``other``),
    ``genre`` or ``prompt`` (picks the preset), ``plugins`` (a JSON preset file
    of VST3 plugins per stem, or its content as the daemon's workers pass it
    once checked), ``subtype``. Returns the manifest path.
    """
    from mage_bridge.effects.chains import load_user_chains, load_user_plugins

    started = time.perf_counter()
    progress = progress or no_progress
    opts = check_options("enhance", options, ENHANCE_OPTIONS)
    config = config or load_config()
    subtype = str(opts.get("subtype", "pcm24"))
    plugins = load_user_chains(load_user_plugins(opts["plugins"])) if opts.get("plugins") else {}
    genre, genre_source = _genre_from(opts, config)
    job_id = job_id or uuid.uuid4().hex[:12]
    source = Path(audio_path).expanduser().absolute()
    backend = {"name": "chains", "genre_preset": genre or "default", "genre_source": genre_source}
    if source.is_dir() or source.name == manifest.FILENAME:
        return _enhance_set(source if source.is_dir() else source.parent, out_path, opts=opts, subtype=subtype,
                            plugins=plugins, genre=genre, backend=backend, progress=progress, overwrite=overwrite,
                            job_id=job_id, started=started)

    path, _ = check_input(source)
    stem = str(opts.get("stem") or (path.stem if path.stem in STEM_NAMES else "other"))
    if stem not in STEM_NAMES:
        raise InvalidInputError(f"stem must be one of {', '.join(STEM_NAMES)}, got {stem!r}")
    out = Path(out_path).expanduser().absolute()
    if out.is_dir() or not out.suffix:
        out = out / f"{path.stem}.enhanced.wav"
    out, fmt = check_output_file(out, overwrite=overwrite)
    check_format_options(fmt, subtype=subtype, mp3_quality="cbr320")
    notes: list[str] = []
    tmp = temp_beside(out)
    try:
        with work_dir(out) as work:
            progress("load", 0.0)
            read = Source48k(path, Path(work), notes)
            progress("load", 1.0)
            blocks = _chain(counted(read.blocks(), read.frames, progress, "enhance"), stem, genre, plugins)
            audio_io.write_blocks(tmp, blocks, sample_rate=SAMPLE_RATE, fmt=fmt, subtype=subtype,
                                  mp3_quality="cbr320")
        progress("write", 0.0)
        measured, result = measure_file(tmp)
        data = base_manifest("enhance", job_id, {"audio_path": str(path), "options": jsonable(opts)}, result)
        data.update({"backend": {**backend, "stem": stem},
                     "input": read.input, "notes": notes, "measured": measured, "output": out.name,
                     "lineage": {"parent": str(path)}, "elapsed_s": round(time.perf_counter() - started, 3)})
        manifest_path = commit_file(tmp, out, data)
    finally:
        tmp.unlink(missing_ok=True)
    progress("write", 1.0)
    return manifest_path


def _chain(blocks: Any, stem: str, genre: str | None, plugins: dict[str, list[Any]]) -> Any:
    """The blocks through ``stem``'s chain (genre preset, then the user's plugins for it and for ``all``)."""
    from mage_bridge.effects.chains import enhance_blocks

    return enhance_blocks(blocks, stem, sample_rate=SAMPLE_RATE, genre=genre,
                          user_plugins=plugins.get(stem, []) + plugins.get("all", []))


def _enhance_set(folder: Path, out_dir: str | os.PathLike[str], *, opts: dict[str, Any], subtype: str,
                 plugins: dict[str, list[Any]], genre: str | None, backend: dict[str, Any], progress: ProgressFn,
                 overwrite: bool, job_id: str, started: float) -> Path:
    """Every stem of the separation result in ``folder`` into the folder ``out_dir``."""
    stem_files = _stem_files(folder)
    if not stem_files:
        raise InvalidInputError(f"{str(folder)!r} holds no stems (vocals.wav, drums.wav, bass.wav, other.wav)")
    for p in stem_files.values():
        check_input(p)
    check_format_options("wav", subtype=subtype, mp3_quality="cbr320")
    out = check_output_dir(out_dir, overwrite=overwrite)
    with staged_folder(out, job_id=job_id, overwrite=overwrite) as staging:
        written: dict[str, str] = {}
        notes: list[str] = []
        measured: dict[str, Any] = {}
        result = None
        for i, (name, p) in enumerate(stem_files.items()):
            stem_name = name if name in STEM_NAMES else "other"
            with work_dir(staging / f"{name}.wav") as work:
                read = Source48k(p, Path(work), notes)
                share = 1.0 / len(stem_files)
                blocks = counted(read.blocks(), read.frames, progress, "enhance", start=i * share,
                                 stop=(i + 1) * share)
                audio_io.write_blocks(staging / f"{name}.wav", _chain(blocks, stem_name, genre, plugins),
                                      sample_rate=SAMPLE_RATE, subtype=subtype)
            written[name] = f"{name}.wav"
            measured[name], result = measure_file(staging / f"{name}.wav")
        data = base_manifest("enhance", job_id, {"audio_path": str(folder), "options": jsonable(opts)}, result)
        data.update({"backend": backend, "notes": sorted(set(notes)), "measured": measured, "stems": written,
                     "lineage": {"parent": str(folder)}, "elapsed_s": round(time.perf_counter() - started, 3)})
        write_json_atomic(staging / manifest.FILENAME, data)
    progress("enhance", 1.0)
    return out / manifest.FILENAME
