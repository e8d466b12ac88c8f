"""Importing the user's own audio: copied into the library's folder, analysed, recorded; or nothing at all.

The file is copied into a hidden staging folder beside ``<library>/clips/<id>/`` and decoded from
that copy (so what is measured is what is kept); its tempo, key and loudness are measured as a
generated clip's mix is (4/4 assumed: the felt beat of a file with no request), and a manifest of
kind ``import`` is written beside it (``docs/manifest.md``). Then, in one transaction, the row is
inserted and the folder renamed into place. Audio that cannot be decoded, a file too long, a bad
tag: a clear error, and the staging folder is removed, so the library holds the clip whole or not
at all. A process killed half-way leaves a staging folder (or, between the rename and the commit, a
folder without a row); ``library check`` removes the one and records the other from its manifest.

A clip's own ``manifest.json`` (or its folder, or a master's ``.json``) is not copied: the clip is
registered where it lies, as a finished job's result is.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mage_bridge import __version__, manifest
from mage_bridge import audio as audio_io
from mage_bridge.errors import InvalidAudioError, InvalidInputError
from mage_bridge.files import staging_path, write_json_atomic
from mage_bridge.library.records import MAX_TITLE_CHARS, Clip, fields_from_manifest
from mage_bridge.library.store import Library, check_rating, new_clip_id, normalize_tag
from mage_bridge.progress import ProgressFn, no_progress

#: Longest file imported: what the other jobs take (their input limit).
MAX_IMPORT_DURATION_S = 30 * 60.0
#: A file that decodes to less than its header's length by more than this fraction is refused as cut short
#: (a FLAC or MP3 whose end is missing decodes without complaint up to the cut).
CUT_SHORT_TOLERANCE = 0.01
_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def import_audio(library: Library, source: str | os.PathLike[str], *, title: str | None = None,
                 tags: Iterable[str] = (), rating: int = 0, progress: ProgressFn | None = None) -> Clip:
    """Import ``source`` into ``library``: an audio file is copied and analysed, a result manifest registered
    in place. Returns the clip. Every argument is checked before anything is read or written."""
    progress = progress or no_progress
    tag_list = sorted({normalize_tag(t) for t in tags})
    check_rating(rating)
    if title is not None and (not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE_CHARS):
        raise InvalidInputError(f"title must be 1 to {MAX_TITLE_CHARS} characters, got {title!r}")
    path = Path(source).expanduser().absolute()
    if path.is_dir() or path.suffix.lower() == ".json":
        return _register_result(library, path, tag_list, rating)
    if not path.is_file():
        raise InvalidInputError(f"no audio file at {str(path)!r}")
    info = audio_io.probe(path)  # unreadable: InvalidAudioError naming what each decoder said
    if info.frames <= 0:
        raise InvalidAudioError(f"audio file holds no samples: {str(path)!r}")
    if info.duration_s > MAX_IMPORT_DURATION_S:
        raise InvalidAudioError(f"{str(path)!r} lasts {info.duration_s / 60:.1f} min; the library imports up to "
                                f"{MAX_IMPORT_DURATION_S / 60:g} min")
    if info.channels not in (1, 2):
        raise InvalidAudioError(f"{str(path)!r} has {info.channels} channels; only mono and stereo are imported")

    started = time.perf_counter()
    clip_id = new_clip_id()
    final = library.clips_dir / clip_id
    staging = staging_path(final, clip_id)
    name = _UNSAFE.sub("_", path.name).strip(". ") or "audio"
    renamed = committed = False
    with library.import_lock(clip_id):
        staging.mkdir(parents=True)
        try:
            progress("load", 0.0)
            shutil.copyfile(path, staging / name)
            audio = audio_io.load(staging / name)
            if audio.frames < info.frames * (1.0 - CUT_SHORT_TOLERANCE):
                raise InvalidAudioError(
                    f"{str(path)!r} is cut short or damaged: its header promises {info.duration_s:.2f} s, only "
                    f"{audio.duration_s:.2f} s decode")
            progress("load", 1.0)
            progress("measure", 0.0)
            measured = measure_audio(audio)
            progress("measure", 1.0)
            progress("write", 0.0)
            data = _manifest(clip_id, path, name, audio, measured, title or path.stem, tag_list, rating, started)
            write_json_atomic(staging / manifest.FILENAME, data)
            fields = fields_from_manifest(final / manifest.FILENAME, data)
            assert fields is not None  # an import is a clip
            fields["folder"] = library.stored_folder(final)
            fields["created"] = time.time()
            with library.transaction():
                library.upsert(fields, clip_id=clip_id, tags=tag_list, rating=rating)
                os.rename(staging, final)
                renamed = True
            committed = True
        finally:
            if not committed:
                shutil.rmtree(final if renamed else staging, ignore_errors=True)
    progress("write", 1.0)
    return library.get(clip_id)


def _register_result(library: Library, path: Path, tags: list[str], rating: int) -> Clip:
    """A result manifest (or the folder holding one) registered where it lies."""
    target = path / manifest.FILENAME if path.is_dir() else path
    clip = library.register(target, tags=tags, rating=rating)
    if clip is None:
        raise InvalidInputError(f"{str(target)!r} is a result the library does not keep (only clips: generated, "
                                "reworked, separated, mastered or imported audio)")
    return clip


def measure_audio(audio: audio_io.Audio) -> dict[str, Any]:
    """Tempo (4/4 assumed), key, integrated loudness, true peak and sample peak; the key ``null`` where nothing
    tonal was heard, the tempo ``null`` where no beat was."""
    from mage_bridge.effects.loudness import integrated_loudness, sample_peak_dbfs, true_peak_dbtp
    from mage_bridge.measure import measure_key, measure_tempo

    tempo = measure_tempo(audio)
    key = measure_key(audio)
    heard = key.confidence > 0.0
    return {
        "bpm": round(float(tempo.bpm), 3) if tempo.bpm > 0 else None,
        "tempo_confidence": round(float(tempo.confidence), 3),
        "key": key.tonic if heard else None, "mode": key.mode if heard else None,
        "key_confidence": round(float(key.confidence), 3),
        "loudness_lufs": manifest.finite_or_none(integrated_loudness(audio)),
        "true_peak_dbtp": manifest.finite_or_none(true_peak_dbtp(audio)),
        "peak_dbfs": manifest.finite_or_none(sample_peak_dbfs(audio)),
    }


def _manifest(clip_id: str, source: Path, name: str, audio: audio_io.Audio, measured: dict[str, Any], title: str,
              tags: list[str], rating: int, started: float) -> dict[str, Any]:
    return {
        "schema": manifest.SCHEMA, "job_id": clip_id, "kind": "import",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "mage_bridge_version": __version__,
        "request": {"source": str(source), "title": title, "tags": tags, "rating": rating},
        "sample_rate": audio.sample_rate, "channels": audio.channels, "frames": audio.frames,
        "duration_s": round(audio.duration_s, 6), "audio": name, "measured": measured,
        "lineage": {"parent": None, "source": str(source)},
        "elapsed_s": round(time.perf_counter() - started, 3),
    }
