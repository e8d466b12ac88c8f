"""Songs: arrangements of clips around a focus clip, rendered, mastered and exported.

``song_new`` and ``song_add`` build an arrangement document (:mod:`mage_bridge.arrange.document`)
in a store; ``song_render`` turns one into a song folder; ``fill_gap`` generates a clip that fits
a focus clip and ``song_fill`` adds one to a song. Clips are found through a
:class:`~mage_bridge.arrange.clips.ClipSource` and documents kept in an
:class:`~mage_bridge.arrange.store.ArrangementStore`: by default the clip library's
(:mod:`mage_bridge.library.songs`: clips by library id, songs in its ``arrangements`` table), or the
clip folders of ``clips_dir`` and the JSON files of ``songs_dir``.

A song folder holds ``song.<wav|flac|mp3>`` (mastered, or with ``master=False`` only converted),
``mix.wav`` (the render before mastering, 32-bit float: the exact samples), ``arrangement.json``
(the document as rendered) and ``manifest.json`` (kind ``song``: every clip with its conform
ratio and shift, every junction with its time, bar, fade kind and length; docs/manifest.md).
Every clip is read and the whole timeline planned before the folder is begun; it is built in a
hidden staging folder and renamed into place, so it is complete or absent.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mage_bridge import manifest
from mage_bridge.api.checks import FORMATS, check_format_options, check_input, check_output_dir, sidecar
from mage_bridge.arrange.clips import ClipInfo, ClipSource, FolderClipSource, read_clip, resolve_clips
from mage_bridge.arrange.document import AUTO, Arrangement, check_id, loads, new, parse, split_key
from mage_bridge.arrange.store import ArrangementStore, FolderArrangementStore
from mage_bridge.config import Config, load_config
from mage_bridge.errors import InvalidInputError, MageError
from mage_bridge.files import staged_folder, write_json_atomic
from mage_bridge.progress import ProgressFn, no_progress

if TYPE_CHECKING:
    from mage_bridge.arrange.timeline import SongPlan
    from mage_bridge.audio import Audio

MIX_FILE = "mix.wav"
DOCUMENT_FILE = "arrangement.json"
SONG_STEM = "song"
__all__ = ["DOCUMENT_FILE", "MIX_FILE", "fill_gap", "read_arrangement", "song_add", "song_fill", "song_new",
           "song_render", "song_store"]


def song_store(config: Config | None = None, store: ArrangementStore | None = None,
               songs_dir: str | os.PathLike[str] | None = None) -> ArrangementStore:
    """Where songs are kept: ``store`` when given, else the JSON files of ``songs_dir``, else the clip library."""
    if store is not None:
        if not isinstance(store, ArrangementStore):
            raise InvalidInputError(f"store must be an ArrangementStore, got {type(store).__name__}")
        return store
    if songs_dir is not None:
        return FolderArrangementStore(songs_dir)
    from mage_bridge.library.songs import LibrarySongStore

    return LibrarySongStore(config)


def _clip_source(config: Config | None, clip_source: ClipSource | None,
                 clips_dir: str | os.PathLike[str] | None) -> ClipSource:
    """``clip_source`` when given, else the clip folders of ``clips_dir``, else the clip library (then the
    folders of ``<data_dir>/clips``)."""
    if clip_source is not None:
        if not isinstance(clip_source, ClipSource):
            raise InvalidInputError(f"clip_source must be a ClipSource, got {type(clip_source).__name__}")
        return clip_source
    if clips_dir is not None:
        return FolderClipSource(clips_dir)
    from mage_bridge.library.songs import LibraryClipSource

    return LibraryClipSource(config)


def song_new(song_id: str, focus_clip: str, *, name: str = "", bpm: float | None = None,
             time_signature: Any = None, key: str | None = None, mode: str | None = None, conform_key: bool = False,
             fade_s: float = 2.0, fade_kind: str = AUTO, overwrite: bool = False,
             store: ArrangementStore | None = None, clip_source: ClipSource | None = None,
             songs_dir: str | os.PathLike[str] | None = None, clips_dir: str | os.PathLike[str] | None = None,
             config: Config | None = None) -> Arrangement:
    """A new song ``song_id`` of one clip, the focus, saved in the store; returns the document.

    ``bpm``, ``time_signature`` and ``key`` (``"A minor"``, or ``key`` + ``mode``) default to the
    focus clip's when the song is rendered. The focus clip must exist and have a tempo.
    """
    check_id("song id", song_id)
    song = new(focus_clip, name=name, bpm=bpm, time_signature=time_signature, key=key, mode=mode,
               conform_key=conform_key, fade_s=fade_s, fade_kind=fade_kind)
    resolve_clips(song, _clip_source(config, clip_source, clips_dir))
    song_store(config, store, songs_dir).save(song_id, song, overwrite=overwrite)
    return song


def song_add(song_id: str, clip_id: str, *, role: str, fade_s: float | None = None, fade_kind: str | None = None,
             gain_db: float | None = None, conform_tempo: bool | None = None, replace: bool = False,
             store: ArrangementStore | None = None, clip_source: ClipSource | None = None,
             songs_dir: str | os.PathLike[str] | None = None, clips_dir: str | os.PathLike[str] | None = None,
             config: Config | None = None) -> Arrangement:
    """Add ``clip_id`` to song ``song_id`` as its intro, a previous (first of them), a next (last of them) or
    its outro; ``fade_s``/``fade_kind`` set its junction on the focus clip's side (after an intro or a previous
    clip, before a next clip or the outro). The clip must exist and have a tempo."""
    store = song_store(config, store, songs_dir)
    junction = {k: v for k, v in (("fade_s", fade_s), ("kind", fade_kind)) if v is not None}
    song = store.load(song_id).with_slot(role, clip_id, replace_existing=replace, gain_db=gain_db,
                                         conform_tempo=conform_tempo, junction=junction or None)
    resolve_clips(song, _clip_source(config, clip_source, clips_dir))
    store.save(song_id, song, overwrite=True)
    return song


def read_arrangement(arrangement: Arrangement | Mapping[str, Any] | str | os.PathLike[str]) -> Arrangement:
    """A document given as an :class:`Arrangement`, its dict, its JSON text or the path of a JSON file."""
    if isinstance(arrangement, Arrangement):
        return arrangement
    if isinstance(arrangement, Mapping):
        return parse(arrangement)
    if isinstance(arrangement, str) and arrangement.lstrip().startswith("{"):
        return loads(arrangement)
    if isinstance(arrangement, (str, os.PathLike)):
        path = Path(arrangement).expanduser()
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise InvalidInputError(f"cannot read the arrangement {str(path)!r}: {e.strerror or e}") from None
        return loads(raw, where=f"the arrangement {str(path)!r}")
    raise InvalidInputError(f"arrangement must be a document, its JSON or a path, got {type(arrangement).__name__}")


def song_render(
    arrangement: Arrangement | Mapping[str, Any] | str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    clips_dir: str | os.PathLike[str] | None = None,
    clip_source: ClipSource | None = None,
    format: str = "wav",
    master: bool | str | Mapping[str, Any] = True,
    subtype: str = "pcm24",
    mp3_quality: str = "cbr320",
    overwrite: bool = False,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    job_id: str | None = None,
) -> Path:
    """Render an arrangement into the song folder ``out_dir``; returns its ``manifest.json``.

    ``format`` is ``wav``, ``flac`` or ``mp3``; ``master`` is ``True`` (−14 LUFS, −1 dBTP), a
    mastering preset name, ``{"target_lufs", "true_peak_dbtp", "preset"}``, or ``False`` (the render
    converted as it is). A missing or deleted clip, a clip without a tempo, a corrupt document or a
    junction that finds no bar line is refused, naming the slot and the clip, before anything is written.
    Progress stages: ``load``, ``conform``, ``render``, ``measure``, ``master`` (or ``export``), ``write``.
    """
    from mage_bridge.api.generate import check_generate_options

    started = time.perf_counter()
    progress = progress or no_progress
    song = read_arrangement(arrangement)
    fmt = str(format).lower().lstrip(".")
    if "." + fmt not in FORMATS:
        raise InvalidInputError(f"format must be one of wav, flac, mp3, got {format!r}")
    check_format_options(fmt, subtype=subtype, mp3_quality=mp3_quality)
    settings = check_generate_options({"master": master}).get("master") if master is not False else None
    out = check_output_dir(out_dir, overwrite=overwrite)
    infos = resolve_clips(song, _clip_source(config, clip_source, clips_dir))
    for info in infos:
        check_input(info.audio_path)
    job_id = job_id or uuid.uuid4().hex[:12]

    audios, notes, plan = _load_and_plan(song, infos, progress)
    with staged_folder(out, job_id=job_id, overwrite=overwrite) as staging:
        data = _render_into(staging, song, plan, audios, notes, fmt=fmt, settings=settings, subtype=subtype,
                            mp3_quality=mp3_quality, config=config, progress=progress, job_id=job_id)
        data["elapsed_s"] = round(time.perf_counter() - started, 3)
        write_json_atomic(staging / manifest.FILENAME, data)
    progress("write", 1.0)
    return out / manifest.FILENAME


def _load_and_plan(song: Arrangement, infos: list[ClipInfo],
                   progress: ProgressFn) -> tuple[list[Audio], list[str], SongPlan]:
    """Every clip's audio as 48 kHz stereo, and the timeline; nothing is written yet."""
    from mage_bridge.api.results import load_48k_stereo
    from mage_bridge.arrange.timeline import plan_song
    from mage_bridge.audio import SAMPLE_RATE

    audios, notes = [], []
    for i, (label, info) in enumerate(zip(song.labels(), infos)):
        progress("load", i / len(infos))
        converted: list[str] = []
        audio, _ = load_48k_stereo(info.audio_path, converted)
        notes += [f"slot {label} (clip {info.clip_id!r}): {n}" for n in converted]
        audios.append(audio)
    progress("load", 1.0)
    plan = plan_song(song, infos, [a.frames for a in audios], sample_rate=SAMPLE_RATE)
    return audios, notes + list(plan.notes), plan


def _render_into(staging: Path, song: Arrangement, plan: SongPlan, audios: list[Audio], notes: list[str], *, fmt: str,
                 settings: dict[str, Any] | None, subtype: str, mp3_quality: str, config: Config | None,
                 progress: ProgressFn, job_id: str) -> dict[str, Any]:
    """Render, write ``mix.wav``, master or export ``song.<fmt>``, write ``arrangement.json``; the manifest's data."""
    from mage_bridge import audio as audio_io
    from mage_bridge.api.clips import measure_mix, tempo_warning
    from mage_bridge.api.export import export as export_file
    from mage_bridge.api.master import master as master_file
    from mage_bridge.api.results import base_manifest
    from mage_bridge.arrange.render import render_song

    rendered = render_song(plan, audios, progress=progress)
    audio_io.save(rendered, staging / MIX_FILE, subtype="float")
    progress("measure", 0.0)
    measured = measure_mix(rendered, time_signature=plan.time_signature)
    progress("measure", 1.0)
    song_file = staging / f"{SONG_STEM}.{fmt}"
    if settings is not None:
        stage = "master"
        preset = settings["preset"]
        master_file(staging / MIX_FILE, song_file, preset=preset,
                    target_lufs=None if preset else settings["target_lufs"],
                    true_peak_dbtp=None if preset else settings["true_peak_dbtp"], subtype=subtype,
                    mp3_quality=mp3_quality, config=config, job_id=job_id,
                    progress=lambda s, f: progress("master", f) if s == "master" else None)
    else:
        stage = "export"
        export_file(staging / MIX_FILE, song_file, subtype=subtype, mp3_quality=mp3_quality, job_id=job_id,
                    progress=lambda s, f: progress("export", f) if s == "write" else None)
    side = sidecar(song_file)
    result = json.loads(side.read_text(encoding="utf-8"))
    side.unlink()
    write_json_atomic(staging / DOCUMENT_FILE, song.to_dict())
    record = plan.record()
    data = base_manifest("song", job_id, {"arrangement": song.to_dict(), "format": fmt, "master": settings,
                                          "subtype": subtype, "mp3_quality": mp3_quality}, rendered)
    data.update({
        "backend": {"name": "arrange", "stretcher": "rubberband (pedalboard.time_stretch, faster engine)"},
        "requested": {"bpm": plan.bpm, "key": plan.key, "mode": plan.mode,
                      "time_signature": list(plan.time_signature)},
        "measured": measured, **record,
        "warnings": [w for w in (tempo_warning(plan.bpm, measured["bpm"]) if measured["bpm"] else None,) if w],
        "notes": notes + list(result.get("notes") or ()),
        "mix": MIX_FILE, "output": song_file.name, "arrangement": DOCUMENT_FILE,
        stage: {"file": song_file.name, **({k: settings[k] for k in ("target_lufs", "true_peak_dbtp", "preset")}
                                           if settings is not None else {}),
                "measured": result.get("measured"), "backend": result.get("backend")},
        "lineage": {"parent": None, "clips": [c["clip"] for c in record["clips"]]},
    })
    if stage == "export":
        data["master"] = None
    return data


def fill_gap(
    focus: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    role: str = "next",
    bars: int | None = None,
    duration_s: float | None = None,
    bpm: float | None = None,
    time_signature: Any = None,
    key: str | None = None,
    mode: str | None = None,
    seed: int | None = None,
    backend: str | None = None,
    overwrite: bool = False,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    job_id: str | None = None,
) -> Path:
    """Generate a ``role`` clip (intro, previous, next, outro) that fits the clip ``focus`` (its manifest or
    folder) into the clip folder ``out_dir``; returns its manifest.

    The clip is made at ``bpm``/``time_signature``/``key`` (default: the focus clip's) in the focus
    clip's genre and words (:func:`mage_bridge.arrange.fill.fill_request`), ``bars`` long (default:
    as many as the focus clip); its manifest's ``lineage`` names the focus clip and the role.
    """
    from mage_bridge.api.generate import generate
    from mage_bridge.arrange.document import parse_time_signature
    from mage_bridge.arrange.fill import fill_request

    path = Path(focus).expanduser().absolute()
    try:
        info = read_clip(path.parent.name if path.name == manifest.FILENAME else path.name, path)
    except MageError as e:
        raise InvalidInputError(f"the focus clip {str(focus)!r}: {e}") from None
    key, mode = split_key(key, mode)
    request = fill_request(info, role=role, bars=bars, duration_s=duration_s, bpm=bpm, key=key, mode=mode,
                           time_signature=None if time_signature is None else parse_time_signature(time_signature))
    return generate(request.prompt, out_dir, seed=seed, backend=backend, options=request.options, config=config,
                    progress=progress, job_id=job_id, overwrite=overwrite, lineage=request.lineage)


def song_fill(song_id: str, *, role: str = "next", clip_id: str | None = None, bars: int | None = None,
              duration_s: float | None = None, seed: int | None = None, backend: str | None = None,
              store: ArrangementStore | None = None, songs_dir: str | os.PathLike[str] | None = None,
              clips_dir: str | os.PathLike[str] | None = None, config: Config | None = None,
              progress: ProgressFn | None = None) -> Path:
    """Generate a ``role`` clip for song ``song_id`` at the song's tempo, metre and key, into the clip folder
    ``clip_id`` (default ``<song id>-<role>-<random>``) of ``clips_dir`` (default ``<data_dir>/clips``), and add
    it to the song: as ``clip_id`` when one is given, else by its library id when the library recorded it (else
    by its folder's name).

    Returns the new clip's manifest. The song is saved only once the clip is complete.
    """
    config = config or load_config()
    store = song_store(config, store, songs_dir)
    source = _clip_source(config, None, clips_dir)
    folders = source if isinstance(source, FolderClipSource) else FolderClipSource(config.data_dir / "clips")
    song = store.load(song_id)
    named = clip_id is not None
    clip_id = check_id("clip id", clip_id or f"{song_id}-{role}-{uuid.uuid4().hex[:6]}")
    song.with_slot(role, clip_id, replace_existing=False)  # refused now (a second intro...), before any work
    focus_path = source.manifest_path(song.focus.clip)
    if focus_path is None:
        raise InvalidInputError(f"slot focus (clip {song.focus.clip!r}): no clip {song.focus.clip!r} in "
                                f"{source!r} (deleted?)")
    path = fill_gap(focus_path, folders.folder(clip_id), role=role, bars=bars, duration_s=duration_s, bpm=song.bpm,
                    time_signature=song.time_signature, key=song.key, mode=song.mode, seed=seed, backend=backend,
                    config=config, progress=progress)
    library_id = source.library_id(path) if not named and hasattr(source, "library_id") else None
    store.save(song_id, song.with_slot(role, library_id or clip_id), overwrite=True)
    return path
