"""The Arrange view: a song of library clips around a focus clip, saved in the library, rendered as a job.

The page builds the arrangement document (:mod:`mage_bridge.arrange.document`: Intro, Previous, the
focus, Next, Outro, a crossfade per junction) from library clip ids and saves it under a song id in
the library's ``arrangements`` table (:class:`~mage_bridge.library.songs.LibrarySongStore`, as
``mage-bridge song`` does), each save a new version. Every slot's clip is checked when the song is
saved: an id the library never had, a deleted clip (when and why) or a clip without a tempo is
refused, naming the slot.

Two jobs come from here, queued through the daemon's own checks:

- **fill the gap** — ``song_fill`` on the focus clip's manifest (found by its library id): a clip
  made to fit the focus for a role; the page follows the job to the clip it recorded
  (``/api/jobs/{id}/clip``) and puts it in the slot;
- **render** — ``song_render`` of the saved song by its id: render, master (or only convert), export
  in the chosen format. The song is served by the job's id only: ``/api/songs/renders/{job}`` (to
  play it, as :class:`Audition` plays stems) and ``.../download``, from that job's own folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mage_bridge.arrange.clips import resolve_clips
from mage_bridge.arrange.document import check_id, parse
from mage_bridge.arrange.fill import ROLE_WORDS
from mage_bridge.errors import InvalidInputError, MageError
from mage_bridge.library import Library
from mage_bridge.library.arrangements import list_arrangements, load_arrangement
from mage_bridge.library.songs import LibrarySongStore
from mage_bridge.panel.audition import NotServedError, job_result, serve_stem, stem_files
from mage_bridge.panel.http import BadRequest, View, json_response, read_json
from mage_bridge.panel.jobs import PANEL_CLIENT
from mage_bridge.panel.library import check_clip_id, clip_row, live_clip, with_library
from mage_bridge.panel.library_jobs import queue_once
from mage_bridge.panel.peaks import column_count
from mage_bridge.panel.write import req_id_of
from mage_bridge.server.security import OUTPUT_FORMATS

if TYPE_CHECKING:
    from mage_bridge.panel.app import Panel

VIEW = View(name="arrange", title="Arrange", script="views/arrange.js", key="a")

#: The rendered song's name among its "stems" (what the page plays and draws).
SONG = "song"
#: What a fill may be asked for besides its role (the song's tempo, metre, key, the clip's length, a seed).
FILL_OPTIONS = ("bars", "bpm", "time_signature", "key", "mode", "seed")


class LibraryClips:
    """The arranger's clip source over one open library: slots name live library clips, by id only."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def manifest_path(self, clip_id: str) -> Path:
        """The clip's manifest; ``not_found`` or ``clip_deleted`` (when and why) otherwise."""
        return self.library.get(check_clip_id(clip_id)).manifest_path


def song_json(song_id: str, library: Library) -> dict[str, Any]:
    """A saved song: its id, name, version, document, and each slot's clip as a row (or why it is gone)."""
    try:
        stored = load_arrangement(library, song_id)
    except InvalidInputError:
        raise NotServedError(f"no song {song_id!r} in the library") from None
    clips: dict[str, Any] = {}
    for slot in stored.document.get("slots") or []:
        clip_id = str(slot.get("clip"))
        try:
            clips[clip_id] = clip_row(library.get(check_clip_id(clip_id)))
        except MageError as e:
            clips[clip_id] = {"id": clip_id, "error": str(e)}
    return {"id": stored.id, "name": stored.name, "version": stored.version, "document": stored.document,
            "updated": stored.updated, "clips": clips}


def save_song(song_id: str, document: Any, library: Library, store: LibrarySongStore) -> dict[str, Any]:
    """Check ``document`` (every field, every slot's clip in the library) and save it as song ``song_id``."""
    song = parse(document, where="the song")
    if not song.name.strip():
        raise InvalidInputError("the song needs a name")
    resolve_clips(song, LibraryClips(library))
    store.save(song_id, song, overwrite=True)
    return song_json(song_id, library)


class ArrangeRoutes:
    """``/api/songs`` (list, one, save, render), ``/api/songs/fill``, ``/api/songs/renders/{job}``."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self.store = LibrarySongStore(panel.host.config)

    def routes(self) -> list[web.RouteDef]:
        render = "/api/songs/renders/{job_id}"
        return [web.get("/api/songs", self.list), web.post("/api/songs/fill", self.fill),
                web.get("/api/songs/{song_id}", self.one), web.post("/api/songs/{song_id}", self.save),
                web.post("/api/songs/{song_id}/render", self.render), web.get(render, self.rendered),
                web.get(render + "/download", self.download), web.get(render + "/{stem}/audio", self.audio),
                web.get(render + "/{stem}/peaks", self.peaks)]

    async def list(self, request: web.Request) -> web.Response:
        """``GET /api/songs``: the saved songs, the one saved last first."""
        def songs(library: Library) -> list[dict[str, Any]]:
            return [{"id": s.id, "name": s.name, "version": s.version, "updated": s.updated,
                     "slots": len(s.document.get("slots") or [])} for s in list_arrangements(library)]

        return json_response({"songs": await with_library(self.panel, songs)})

    async def one(self, request: web.Request) -> web.Response:
        song_id = _song_id(request)
        return json_response({"song": await with_library(self.panel, lambda library: song_json(song_id, library))})

    async def save(self, request: web.Request) -> web.Response:
        """``POST /api/songs/{id} {"document"}``: saved as that song's next version (or its first)."""
        song_id = _song_id(request)
        data = await read_json(request)
        if set(data) != {"document"}:
            raise BadRequest("invalid_input", f"a song is saved as {{\"document\": {{...}}}}, got fields "
                                              f"{', '.join(sorted(data)) or 'none'}"[:200])
        song = await with_library(self.panel, lambda library: save_song(song_id, data["document"], library,
                                                                         self.store))
        return json_response({"song": song})

    async def render(self, request: web.Request) -> web.Response:
        """``POST /api/songs/{id}/render {"req_id", "format", "master"}``: ``201 {"job"}``, a ``song_render`` job
        of the saved song (render, master or convert, export)."""
        song_id = _song_id(request)
        data = await read_json(request)
        req_id = req_id_of(data)
        fmt, master = data.get("format", "wav"), data.get("master", True)
        unknown = sorted(set(data) - {"req_id", "format", "master"})
        if unknown or fmt not in OUTPUT_FORMATS or not isinstance(master, bool):
            raise BadRequest("invalid_input", f"a render takes format ({', '.join(OUTPUT_FORMATS)}) and master "
                                              f"(true or false); got {data!r}"[:200])
        return queue_once(self.panel, req_id, lambda: self.panel.host.submit_song_render(
            song_id, {"format": fmt, "master": master}, req_id, None, client=PANEL_CLIENT, source="panel"))

    async def fill(self, request: web.Request) -> web.Response:
        """``POST /api/songs/fill {"req_id", "focus", "role", "bars", ...}``: ``201 {"job"}``, a ``song_fill`` job
        that generates a ``role`` clip fitting the focus clip (the library records it)."""
        data = await read_json(request)
        req_id = req_id_of(data)
        role = data.get("role")
        if role not in ROLE_WORDS:
            raise BadRequest("invalid_input", f"role must be one of {', '.join(ROLE_WORDS)}, got {role!r}"[:200])
        unknown = sorted(set(data) - {"req_id", "focus", "role", *FILL_OPTIONS})
        if unknown:
            raise BadRequest("invalid_input", f"a fill takes focus, role, {', '.join(FILL_OPTIONS)}; got "
                                              f"{', '.join(unknown)}"[:200])
        focus = await live_clip(self.panel, str(data.get("focus") or ""))
        options = {"role": role, **{k: data[k] for k in FILL_OPTIONS if data.get(k) is not None}}
        return queue_once(self.panel, req_id, lambda: self.panel.host.submit_audio(
            "song_fill", str(focus.manifest_path), options, req_id, None, client=PANEL_CLIENT, source="panel"))

    def _song_file(self, job_id: str) -> tuple[dict[str, Any], Path]:
        job, manifest, folder = job_result(self.panel, job_id)
        if job.kind != "song_render":
            raise NotServedError(f"job {job.id} is a {job.kind} job, not a song's render")
        files = stem_files({"stems": {SONG: manifest.get("output")}}, folder)
        if SONG not in files:
            raise NotServedError(f"job {job.id}'s song file is not in its folder")
        return manifest, files[SONG]

    async def rendered(self, request: web.Request) -> web.Response:
        """``GET /api/songs/renders/{job}``: the rendered song as :class:`Audition` plays it, and its download."""
        job_id = request.match_info["job_id"]
        manifest, path = self._song_file(job_id)
        base = f"/api/songs/renders/{job_id}"
        document = _arrangement(manifest)
        measured: dict[str, Any] = manifest.get("measured") or {}
        requested: dict[str, Any] = manifest.get("requested") or {}
        return json_response({
            "job_id": job_id, "name": document.get("name"), "format": path.suffix.lstrip("."),
            "sample_rate": manifest.get("sample_rate"), "duration_s": manifest.get("duration_s"),
            "bpm": requested.get("bpm"), "loudness_lufs": measured.get("loudness_lufs"), "download": f"{base}/download",
            "stems": [{"name": SONG, "audio": f"{base}/{SONG}/audio", "peaks": f"{base}/{SONG}/peaks"}],
        })

    def _stem(self, request: web.Request) -> Path:
        if request.match_info["stem"] != SONG:
            raise NotServedError(f"a render has one file to play, {SONG!r}")
        return self._song_file(request.match_info["job_id"])[1]

    async def audio(self, request: web.Request) -> web.StreamResponse:
        return serve_stem(self._stem(request))

    async def peaks(self, request: web.Request) -> web.Response:
        data = await self.panel.peaks.get(self._stem(request), column_count(request.query.get("columns")))
        return json_response({k: v for k, v in data.items() if k != "source"})

    async def download(self, request: web.Request) -> web.StreamResponse:
        """The song's file as an attachment, named after the song."""
        manifest, path = self._song_file(request.match_info["job_id"])
        name = _arrangement(manifest).get("name") or "song"
        safe = "".join(c if c.isalnum() or c in " -_." else "-" for c in str(name)).strip(" .") or "song"
        response = serve_stem(path)
        response.headers["Content-Disposition"] = f'attachment; filename="{safe[:80]}{path.suffix}"'
        return response


def _arrangement(manifest: dict[str, Any]) -> dict[str, Any]:
    """The document a render's manifest records (its request's ``arrangement``), or ``{}``."""
    request = manifest.get("request")
    document = request.get("arrangement") if isinstance(request, dict) else None
    return document if isinstance(document, dict) else {}


def _song_id(request: web.Request) -> str:
    try:
        return check_id("song id", request.match_info["song_id"])
    except InvalidInputError as e:
        raise BadRequest("invalid_input", f"{e}; the panel takes no paths") from None


def routes(panel: Panel) -> list[web.RouteDef]:
    return ArrangeRoutes(panel).routes()


