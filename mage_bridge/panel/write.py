"""The Write view: prompt, lyrics, the analysis as it is typed (editable), bars, seed, backend, where it goes.

The page asks ``/api/analyze`` as the user types (debounced) and shows genre, BPM, key, metre,
mood and vocals; what the user changes there is sent as the generate options of the same names,
which win over the prompt as on every door. ``/api/daw`` tells the DAWs that reported a context
(the page prefills BPM and metre from the one it sends to). ``/api/generate`` queues the job
through the daemon's own checks (:meth:`~mage_bridge.server.requests.JobRequests.submit_generate`):

* ``send_to`` a DAW client id (``"reaper"``, ``"ableton"``): the clip is made at that project's
  tempo and metre and placed on its next bar, as a controller's job is;
* ``send_to`` ``"library"``: the job is for no DAW (the result stays in the jobs folder and the
  clip library).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mage_bridge.errors import InvalidInputError
from mage_bridge.panel.http import BadRequest, View, error_response, json_response, read_json, text_field
from mage_bridge.panel.jobs import PANEL_CLIENT
from mage_bridge.server import osc

if TYPE_CHECKING:
    from mage_bridge.panel.app import Panel

VIEW = View(name="write", title="Write", script="views/write.js", key="w")

#: Options the Write view sends, as the generate options of the same names.
WRITE_OPTIONS = ("bpm", "key", "mode", "time_signature", "genre", "mood", "vocals", "bars", "lyrics_mode")
#: A request id the page makes per click (a second click of the same request is the same job).
REQ_ID = re.compile(r"panel-[A-Za-z0-9_-]{1,64}")
#: What each DAW client id is called on the page.
DAW_NAMES = {"reaper": "REAPER", "ableton": "Live"}
LIBRARY = "library"


def req_id_of(data: dict[str, Any]) -> str:
    """The request id a page sent with a job request (:data:`REQ_ID`): the same id again is the same job."""
    req_id = data.get("req_id")
    if not isinstance(req_id, str) or not REQ_ID.fullmatch(req_id):
        raise BadRequest("invalid_input", f"req_id must look like 'panel-<letters, digits>', got {req_id!r}"[:200])
    return req_id


def daw_clients_json(panel: Panel) -> list[dict[str, Any]]:
    """The DAWs that reported a context, the latest first: id, name, tempo, metre, cursor, age."""
    now = time.time()
    return [{"client_id": c.context.client_id, "name": DAW_NAMES.get(str(c.context.client_id), c.context.client_id),
             "bpm": c.context.bpm, "numerator": c.context.numerator, "denominator": c.context.denominator,
             "cursor_s": c.context.cursor_s, "project_id": c.context.project_id,
             "age_s": round(now - c.context.received, 1), "connected": c.addr is not None}
            for c in panel.host.daw_clients.known()]


class WriteRoutes:
    """``/api/analyze``, ``/api/daw``, ``/api/backends``, ``/api/generate``."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/api/analyze", self.analyze), web.get("/api/daw", self.daw),
                web.get("/api/backends", self.backends), web.post("/api/generate", self.generate)]

    async def analyze(self, request: web.Request) -> web.Response:
        """``POST /api/analyze {"prompt", "lyrics"}`` -> ``{"analysis": {...}}`` (the job's own analysis)."""
        data = await read_json(request)
        prompt = text_field(data, "prompt", limit=osc.MAX_PROMPT_CHARS)
        lyrics = text_field(data, "lyrics", limit=osc.MAX_LYRICS_CHARS, allow_empty=True)
        answer = await self.panel.helper.analyze(prompt, lyrics or None)
        if "error" in answer:
            return error_response(answer["error"]["code"], answer["error"]["message"])
        return json_response(answer)

    async def daw(self, request: web.Request) -> web.Response:
        """``GET /api/daw``: the DAWs to send to, with their tempo and metre, and the context reported last
        (by any DAW, with or without a client id)."""
        return json_response({"clients": daw_clients_json(self.panel), "context": self.panel.host.daw_context})

    async def backends(self, request: web.Request) -> web.Response:
        """``GET /api/backends``: the generators, which run here, and the config's choice."""
        return json_response({"backends": await self.panel.helper.backends(),
                              "configured": self.panel.host.config.backends.generate})

    async def generate(self, request: web.Request) -> web.Response:
        """``POST /api/generate``: ``{"req_id", "prompt", "lyrics", "options", "seed", "backend", "send_to"}``.

        ``201 {"job": ...}``; the same ``req_id`` again answers ``200`` with the job it made.
        """
        data = await read_json(request)
        req_id = req_id_of(data)
        prompt = text_field(data, "prompt", limit=osc.MAX_PROMPT_CHARS)
        lyrics = text_field(data, "lyrics", limit=osc.MAX_LYRICS_CHARS, allow_empty=True)
        options = self._options(data)
        # checked now, so the page says what is wrong at once rather than as a failed job; in a thread, since
        # the check's module loads the generate pipeline's (a fraction of a second the first time)
        await asyncio.get_running_loop().run_in_executor(None, _check_options, data.get("options") or {})
        # no await from here to the queue: a request sent twice at once is still one job
        earlier = self.panel.host.earlier_request(PANEL_CLIENT, req_id)
        if earlier is not None:
            return json_response({"job": self.panel.describe(earlier), "repeated": True})
        job = self.panel.host.submit_generate(prompt, lyrics, options, req_id, None, client=PANEL_CLIENT,
                                              source="panel")
        job = self.panel.host.store.get(job.id)  # a worker may have taken it meanwhile
        return json_response({"job": self.panel.describe(job)}, status=201)

    def _options(self, data: dict[str, Any]) -> dict[str, Any]:
        """The job's options: the edited analysis fields, bars, seed, backend, and the DAW it is for."""
        raw = data.get("options") or {}
        if not isinstance(raw, dict):
            raise BadRequest("invalid_input", f"options must be an object, got {type(raw).__name__}")
        unknown = sorted(set(raw) - set(WRITE_OPTIONS))
        if unknown:
            raise BadRequest("invalid_input", f"unknown option(s) {', '.join(unknown)}; known: "
                                              f"{', '.join(WRITE_OPTIONS)}")
        options = {k: v for k, v in raw.items() if v is not None}
        seed = data.get("seed")
        if seed is not None and seed != "":
            options["seed"] = seed  # checked by the daemon, as an OSC request's
        backend = data.get("backend")
        if backend not in (None, "", "auto"):
            if not isinstance(backend, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", backend):
                raise BadRequest("invalid_input", f"backend must be a backend name, got {backend!r}"[:200])
            options["backend"] = backend
        options["daw"] = self._for_daw(data.get("send_to", LIBRARY))
        return options

    def _for_daw(self, send_to: Any) -> dict[str, Any] | bool:
        """``False`` (for no DAW) or the ``"daw"`` option that tags the job for a DAW that reported a context."""
        if send_to in (None, "", LIBRARY):
            return False
        if not isinstance(send_to, str):
            raise BadRequest("invalid_input", f"send_to must be 'library' or a DAW client id, got {send_to!r}"[:200])
        known = self.panel.host.daw_clients.get(send_to)
        if known is None:
            name = DAW_NAMES.get(send_to, send_to)
            raise BadRequest("not_found", f"{name} has not reported to this daemon lately (its script is not "
                                          "running, or its project is closed); send to the library, or open it")
        c = known.context
        return {"client_id": send_to, "project_id": c.project_id, "project_path": c.project_path}


def _check_options(options: dict[str, Any]) -> None:
    """The generate options as the job will check them; :class:`BadRequest` in the same words."""
    from mage_bridge.api.generate import check_generate_options

    try:
        check_generate_options(options)
    except InvalidInputError as e:
        raise BadRequest("invalid_input", str(e)) from None


def routes(panel: Panel) -> list[web.RouteDef]:
    return WriteRoutes(panel).routes()

