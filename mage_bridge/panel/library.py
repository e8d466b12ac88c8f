"""The Library view: the clip library searched and paged on the server, auditioned and edited by clip id.

The page holds one screen of rows; it asks ``/api/library`` for the pages it scrolls to, with the
filters of the library's own search (:class:`~mage_bridge.library.Query`: tempo range, key with its
Camelot neighbours, genre, tags, rating, kind, words), so 10 000 clips cost the page no more than
a hundred. Everything is asked for by clip id: a clip's stems, their peaks and audio come from the
files its library row lists, inside its own folder (:func:`~.audition.stem_files`), and their peaks
from the panel's :class:`~.peaks.PeakCache` (one entry per file, shared with the job that made the
clip). A value that is not a clip id (a path, ``..``) is refused before the library is opened.

Renaming, tagging, rating and deleting write the library as the CLI and the OSC door do; a delete
removes files only where the daemon's path guard allows, as ``/mage/library/delete`` does. The jobs
a clip starts (variation, extend, repaint) are in :mod:`.library_jobs`.

SQLite is read and written in a thread (one connection per call, as the library wants one per
thread), never on the loop that answers OSC pings.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from mage_bridge.errors import ClipNotFoundError
from mage_bridge.library import Clip, Library, Query, search
from mage_bridge.library.records import LINEAGE_COLUMNS
from mage_bridge.panel.audition import NotServedError, serve_stem, stem_files
from mage_bridge.panel.http import BadRequest, View, json_response, read_json
from mage_bridge.panel.peaks import column_count
from mage_bridge.server.library_door import LOOP_TIMEOUT_S

if TYPE_CHECKING:
    from mage_bridge.panel.app import Panel

VIEW = View(name="library", title="Library", script="views/library.js", key="l")

#: A clip id from the page: hex digits, the whole id (12) or a unique prefix of at least 4.
CLIP_ID = re.compile(r"[0-9a-fA-F]{4,12}")
#: Rows a page of the list holds when the page does not say how many.
DEFAULT_PAGE = 100
#: The search's filters as ``/api/library`` takes them (the library's own names), besides offset and limit.
FILTERS = ("text", "bpm", "key", "compatible", "genre", "tags", "min_rating", "kind")
#: Fields a clip's edit may carry.
EDITS = ("title", "add_tags", "remove_tags", "rating")
#: How each lineage column reads on the page.
RELATION_WORDS = {"variation_of": "variation of", "extension_of": "extension of",
                  "separated_from": "stems of", "mastered_from": "master of"}

T = TypeVar("T")


def check_clip_id(value: str) -> str:
    """``value`` when it looks like a clip id; a path or anything else is refused, naming what ids are."""
    if not isinstance(value, str) or not CLIP_ID.fullmatch(value):
        raise BadRequest("invalid_input", f"clips are named by their library id (4 to 12 hex digits), got "
                                          f"{str(value)[:60]!r}; the panel takes no paths")
    return value.lower()


def clip_row(clip: Clip) -> dict[str, Any]:
    """A clip as a row of the list shows it: no paths, the lineage as library ids by relation."""
    metre = [int(n) for n in clip.time_signature.split("/")] if clip.time_signature else None
    return {"id": clip.id, "kind": clip.kind, "title": clip.title, "bpm": clip.bpm, "key": clip.key,
            "camelot": clip.camelot, "genre": clip.genre, "bars": clip.bars, "time_signature": metre,
            "duration_s": clip.duration_s, "rating": clip.rating, "tags": list(clip.tags), "created": clip.created,
            "backend": clip.backend, "seed": clip.seed, "stems": list(clip.stems), "has_audio": bool(clip.audio),
            "lineage": clip.lineage(), "job_id": clip.job_id}


def clip_detail(clip: Clip, library: Library) -> dict[str, Any]:
    """A clip as its detail shows it: the row, what was asked and measured, and the clips it came from and
    that came from it (each with its title; one deleted since says when)."""
    made_from = []
    for column in LINEAGE_COLUMNS:
        source_id = getattr(clip, column)
        if not source_id:
            continue
        entry: dict[str, Any] = {"relation": column, "words": RELATION_WORDS[column], "id": source_id}
        try:
            source = library.get(source_id, deleted=True)
            gone = None if source.deleted is None else (source.deleted_reason or "deleted")
            entry.update(title=source.title, kind=source.kind, deleted=gone)
        except ClipNotFoundError:
            entry.update(title=None, kind=None, deleted="not in the library")
        made_from.append(entry)
    made = [{"id": c.id, "title": c.title, "kind": c.kind,
             "relation": next(col for col in LINEAGE_COLUMNS if getattr(c, col) == clip.id)}
            for c in library.derived(clip.id)]
    return {**clip_row(clip), "prompt": clip.prompt, "lyrics": clip.lyrics,
            "requested": {"bpm": clip.requested_bpm, "key": clip.requested_key},
            "measured": {"bpm": clip.measured_bpm, "key": clip.measured_key, "key_confidence": clip.key_confidence,
                         "loudness_lufs": clip.loudness_lufs, "true_peak_dbtp": clip.true_peak_dbtp},
            "sample_rate": clip.sample_rate, "backend_version": clip.backend_version,
            "made_from": made_from, "made": made}


def clip_files(clip: Clip) -> dict[str, Path]:
    """Stem name -> file of a clip's stems and main audio (``mix``), each a regular audio file inside the
    clip's own folder (resolved); anything its row names elsewhere is left out."""
    return stem_files({"stems": dict(clip.stems), "mix": clip.audio}, Path(os.path.realpath(clip.folder)))


def query_of(values: dict[str, str]) -> Query:
    """The library's :class:`Query` for ``/api/library``'s query string; every value checked by the library."""
    unknown = sorted(set(values) - {*FILTERS, "offset", "limit"})
    if unknown:
        raise BadRequest("invalid_input", f"unknown filter(s) {', '.join(unknown)}; known: {', '.join(FILTERS)}, "
                                          "offset, limit")
    given: dict[str, Any] = {k: v for k, v in values.items() if v.strip()}
    for name, default in (("offset", 0), ("limit", DEFAULT_PAGE), ("min_rating", None)):
        raw = given.pop(name, None)
        if raw is not None:
            try:
                given[name] = int(raw)
            except ValueError:
                raise BadRequest("invalid_input", f"{name} must be a whole number, got {raw[:40]!r}") from None
        elif default is not None:
            given[name] = default
    if "compatible" in given:
        flag = given["compatible"].lower()
        if flag not in ("1", "0", "true", "false"):
            raise BadRequest("invalid_input", f"compatible must be 1 or 0, got {flag[:20]!r}")
        given["compatible"] = flag in ("1", "true")
    return Query.build(**given)


async def with_library(panel: Panel, work: Callable[[Library], T]) -> T:
    """``work(library)`` in a thread, on a connection of its own that waits at most
    :data:`~mage_bridge.server.library_door.LOOP_TIMEOUT_S` for another writer (then ``library_busy``)."""
    def run() -> T:
        with Library.open(panel.host.config, timeout_s=LOOP_TIMEOUT_S) as library:
            return work(library)

    return await asyncio.get_running_loop().run_in_executor(None, run)


async def live_clip(panel: Panel, clip_id: str) -> Clip:
    """The live clip ``clip_id`` names: ``invalid_input`` for what is not an id, ``not_found`` for an id the
    library never had, ``clip_deleted`` (saying when and why) for a deleted one."""
    checked = check_clip_id(clip_id)
    return await with_library(panel, lambda library: library.get(checked))


class LibraryRoutes:
    """``/api/library`` (search pages) and ``/api/library/clips/{id}`` (detail, edit, delete, stems)."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel

    def routes(self) -> list[web.RouteDef]:
        clip = "/api/library/clips/{clip_id}"
        return [web.get("/api/library", self.search), web.get(clip, self.detail), web.post(clip, self.edit),
                web.post(f"{clip}/delete", self.delete), web.get(f"{clip}/stems", self.stems),
                web.get(clip + "/stems/{stem}/peaks", self.peaks), web.get(clip + "/stems/{stem}/audio", self.audio)]

    async def with_library(self, work: Callable[[Library], T]) -> T:
        return await with_library(self.panel, work)

    async def clip(self, clip_id: str) -> Clip:
        return await live_clip(self.panel, clip_id)

    async def search(self, request: web.Request) -> web.Response:
        """``GET /api/library?text=&bpm=120-128&key=A minor&compatible=1&genre=&tags=a,b&min_rating=&kind=
        &offset=&limit=``: ``{"total", "offset", "clips": [row...]}``, newest first."""
        query = query_of(dict(request.query))
        page = await self.with_library(lambda library: search(library, query))
        return json_response({"total": page.total, "offset": page.offset, "limit": query.limit,
                              "keys": [k.name for k in query.keys()], "clips": [clip_row(c) for c in page.clips]})

    async def detail(self, request: web.Request) -> web.Response:
        """``GET /api/library/clips/{id}``: the clip's detail and lineage."""
        checked = check_clip_id(request.match_info["clip_id"])
        data = await self.with_library(lambda library: clip_detail(library.get(checked), library))
        return json_response({"clip": data})

    async def edit(self, request: web.Request) -> web.Response:
        """``POST /api/library/clips/{id} {"title", "add_tags", "remove_tags", "rating"}`` (any of them):
        ``{"clip"}`` as it is now; other pages hear a ``library`` event."""
        checked = check_clip_id(request.match_info["clip_id"])
        data = await read_json(request)
        unknown = sorted(set(data) - set(EDITS))
        if unknown or not data:
            raise BadRequest("invalid_input", f"an edit takes {', '.join(EDITS)}; got "
                                              f"{', '.join(unknown) or 'nothing'}"[:200])
        for name in ("add_tags", "remove_tags"):
            if not isinstance(data.get(name, []), list):
                raise BadRequest("invalid_input", f"{name} must be a list of tags, got {data[name]!r}"[:200])

        def change(library: Library) -> dict[str, Any]:
            clip = library.get(checked)
            if "title" in data:
                clip = library.retitle(clip.id, data["title"])
            if data.get("add_tags") or data.get("remove_tags"):
                clip = library.tag(clip.id, data.get("add_tags", []), data.get("remove_tags", []))
            if "rating" in data:
                clip = library.rate(clip.id, data["rating"])
            return clip_detail(clip, library)

        clip = await self.with_library(change)
        self.panel.events.publish({"type": "library", "change": "edited", "clip": clip_row_of(clip)})
        return json_response({"clip": clip})

    async def delete(self, request: web.Request) -> web.Response:
        """``POST /api/library/clips/{id}/delete``: its files go (where the daemon may change them) and its row
        stays as a tombstone; its peaks leave the cache."""
        checked = check_clip_id(request.match_info["clip_id"])
        guard = self.panel.host.guard

        def remove(library: Library) -> tuple[dict[str, Any], list[Path], int]:
            clip = library.get(checked)
            files = list(clip_files(clip).values())
            done = library.delete(clip.id, may_remove=lambda p: guard.contains(Path(os.path.realpath(p))))
            return clip_row(done.clip), files, len(done.removed)

        row, files, removed = await self.with_library(remove)
        self.panel.peaks.forget(files)
        self.panel.events.publish({"type": "library", "change": "deleted", "clip": row})
        return json_response({"deleted": row["id"], "files": removed})

    def _files(self, clip: Clip) -> dict[str, Path]:
        files = clip_files(clip)
        if not files:
            raise NotServedError(f"clip {clip.id}'s audio is not in its folder (moved or deleted by hand?); "
                                 "`mage-bridge library check` finds what is missing")
        return files

    async def _stem(self, request: web.Request) -> Path:
        clip = await self.clip(request.match_info["clip_id"])
        files, name = self._files(clip), request.match_info["stem"]
        if name not in files:
            raise NotServedError(f"clip {clip.id} has no stem {name[:40]!r}; it has {', '.join(files)}")
        return files[name]

    async def stems(self, request: web.Request) -> web.Response:
        """``GET .../stems``: what :class:`Audition` plays, as ``/api/jobs/{id}/stems`` answers it."""
        clip = await self.clip(request.match_info["clip_id"])
        files = self._files(clip)
        base = f"/api/library/clips/{clip.id}/stems"
        key, _, mode = (clip.key or "").partition(" ")
        row = clip_row(clip)
        return json_response({
            "clip_id": clip.id, "sample_rate": clip.sample_rate, "duration_s": clip.duration_s, "bars": clip.bars,
            "bpm": clip.bpm, "key": key or None, "mode": mode or None, "time_signature": row["time_signature"],
            "stems": [{"name": name, "audio": f"{base}/{name}/audio", "peaks": f"{base}/{name}/peaks"}
                      for name in files],
        })

    async def peaks(self, request: web.Request) -> web.Response:
        """``GET .../stems/{stem}/peaks?columns=N``: computed once per file, then from the cache."""
        path = await self._stem(request)
        data = await self.panel.peaks.get(path, column_count(request.query.get("columns")))
        return json_response({k: v for k, v in data.items() if k != "source"})

    async def audio(self, request: web.Request) -> web.StreamResponse:
        return serve_stem(await self._stem(request))


def clip_row_of(detail: dict[str, Any]) -> dict[str, Any]:
    """The row's fields of a clip's detail (what an event carries)."""
    return {k: v for k, v in detail.items() if k not in ("prompt", "lyrics", "made_from", "made")}


def routes(panel: Panel) -> list[web.RouteDef]:
    return LibraryRoutes(panel).routes()
