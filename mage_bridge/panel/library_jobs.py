"""The jobs a library clip starts from the panel: a variation, an extension, a repaint of a range.

Each is the daemon's own edit job on the clip's manifest, queued through the checks every door uses
(:meth:`~mage_bridge.panel.host.PanelHost.submit_audio`, as ``/mage/retake``, ``/mage/extend`` and
``/mage/repaint`` are): the page names the clip by id and the panel finds its manifest in the
library, so no path comes from the page. The result is a new clip, recorded in the library with
its lineage (``variation_of``, ``extension_of``) by the job itself.

- **variation** — ``retake``: the clip's request again with a new seed, on the backend that made it;
- **extend** — ``extend``: bars that continue the clip (or lead into it);
- **repaint** — ``repaint``: a range of the clip generated again, the rest kept.

Extending and repainting need a generator that does those tasks (ACE-Step); where none can run here,
``/api/library/actions`` says why and a request is refused with the same words, before anything
is queued. ``/api/jobs/{id}/clip`` is the clip a finished job recorded (the page follows a job it
started to the clip it made).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mage_bridge.library.songs import LibraryClipSource
from mage_bridge.panel.audition import NotServedError
from mage_bridge.panel.http import BadRequest, error_response, json_response, read_json
from mage_bridge.panel.jobs import PANEL_CLIENT
from mage_bridge.panel.library import clip_row, live_clip, with_library
from mage_bridge.panel.write import req_id_of
from mage_bridge.server.jobs import DONE, Job

if TYPE_CHECKING:
    from mage_bridge.panel.app import Panel

#: Action -> the job kind it queues and the options the page may give it.
ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "variation": ("retake", ("seed",)),
    "extend": ("extend", ("side", "bars", "seed")),
    "repaint": ("repaint", ("start_s", "end_s", "seed")),
}


def action_states(backends: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Whether each action can run here: ``{"available", "backend"}``, or why not (``short`` for a button, ``reason``
    in full); an edit task needs a generator that offers it and can run."""
    states: dict[str, dict[str, Any]] = {"variation": {"available": True, "reason": None, "backend": None}}
    for action in ("extend", "repaint"):
        able = [b for b in backends if action in b.get("tasks", ())]
        ready = [b for b in able if b["available"]]
        if ready:
            states[action] = {"available": True, "reason": None, "backend": ready[0]["name"]}
            continue
        why = "; ".join(f"{b['name']} cannot run here: {b['reason']}" for b in able)
        names = " or ".join(b["name"] for b in able)
        states[action] = {"available": False, "backend": None,
                          "short": f"needs {names}, which cannot run here" if able else
                          f"no generator installed here can {action}",
                          "reason": f"{action} needs a generator that can {action} ({why})" if able else
                          f"no generator installed here can {action}"}
    return states


def queue_once(panel: Panel, req_id: str, submit: Callable[[], Job]) -> web.Response:
    """``201 {"job"}`` for the job ``submit()`` queues, or ``200`` with the job this ``req_id`` already made.

    Called with no ``await`` between the look-up and the queue, so a request sent twice at once is one job.
    """
    earlier = panel.host.earlier_request(PANEL_CLIENT, req_id)
    if earlier is not None:
        return json_response({"job": panel.describe(earlier), "repeated": True})
    job = submit()
    return json_response({"job": panel.describe(panel.host.store.get(job.id))}, status=201)


class LibraryJobRoutes:
    """``/api/library/actions``, ``POST /api/library/clips/{id}/jobs``, ``/api/jobs/{id}/clip``."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/library/actions", self.actions),
                web.post("/api/library/clips/{clip_id}/jobs", self.submit),
                web.get("/api/jobs/{job_id}/clip", self.job_clip)]

    async def actions(self, request: web.Request) -> web.Response:
        """``GET /api/library/actions``: ``{"variation": {...}, "extend": {...}, "repaint": {...}}``."""
        return json_response({"actions": action_states(await self.panel.helper.backends())})

    async def submit(self, request: web.Request) -> web.Response:
        """``POST /api/library/clips/{id}/jobs {"req_id", "action", ...its options}``: ``201 {"job"}`` (the same
        ``req_id`` again: ``200`` with that job)."""
        data = await read_json(request)
        req_id, action = req_id_of(data), data.get("action")
        if action not in ACTIONS:
            raise BadRequest("invalid_input", f"action must be one of {', '.join(ACTIONS)}, got {action!r}"[:200])
        kind, allowed = ACTIONS[action]
        unknown = sorted(set(data) - {"req_id", "action", *allowed})
        if unknown:
            raise BadRequest("invalid_input", f"{action} takes {', '.join(allowed)}; got {', '.join(unknown)}"[:200])
        options = {k: data[k] for k in allowed if data.get(k) is not None}
        state = action_states(await self.panel.helper.backends())[action]
        if not state["available"]:
            return error_response("not_available", state["reason"])
        if state["backend"] is not None:
            options["backend"] = state["backend"]
        clip = await live_clip(self.panel, request.match_info["clip_id"])
        return queue_once(self.panel, req_id, lambda: self.panel.host.submit_audio(
            kind, str(clip.manifest_path), options, req_id, None, client=PANEL_CLIENT, source="panel"))

    async def job_clip(self, request: web.Request) -> web.Response:
        """``GET /api/jobs/{id}/clip``: ``{"clip"}``, the library clip a finished job recorded."""
        job = self.panel.job(request.match_info["job_id"])
        if job.state != DONE or not job.result:
            raise NotServedError(f"job {job.id} is {job.state}: it has made no clip yet")
        result = Path(job.result)

        def find(library: Any) -> dict[str, Any]:
            clip_id = LibraryClipSource(self.panel.host.config).library_id(result)
            if clip_id is None:
                raise NotServedError(f"job {job.id}'s result is not in the clip library (library.register is "
                                     "off, or it could not be written: `mage-bridge library check` records it)")
            return clip_row(library.get(clip_id))

        return json_response({"clip": await with_library(self.panel, find)})


def routes(panel: Panel) -> list[web.RouteDef]:
    return LibraryJobRoutes(panel).routes()
