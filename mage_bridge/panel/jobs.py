"""The Jobs view: the queue as the page shows it, with progress per stage, cancel, retry, errors in words.

Every job of the daemon is listed, whichever door it came through (OSC, MIDI, a DAW, the CLI, the
panel); the page keeps it current from the event stream. The panel acts as the user's own CLI
(its token proves the user), so it may cancel or retry any job, as ``mage-bridge status`` with
the daemon's token may ask about any.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mage_bridge.panel.http import View, error_response, json_response
from mage_bridge.server.jobs import DONE, Job

if TYPE_CHECKING:
    from mage_bridge.panel.app import Panel

VIEW = View(name="jobs", title="Jobs", script="views/jobs.js", key="j")

#: The client the panel's jobs belong to (rate limit, queue places, request ids).
PANEL_CLIENT = "panel"
#: Jobs listed at most.
MAX_LISTED = 200
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: What each failure code means, said to a person; the message after it says the rest.
ERROR_WORDS = {
    "cancelled": "Cancelled.",
    "interrupted": "The daemon stopped while this job ran.",
    "worker_crashed": "The process running this job crashed.",
    "disk_full": "The disk is full.",
    "permission_denied": "A file could not be written (permission denied).",
    "invalid_input": "The request was not valid:",
    "invalid_audio": "The audio could not be read:",
    "audio_file": "An audio file could not be read or written:",
    "not_available": "Not available here:",
    "backend_unavailable": "The backend cannot run here:",
    "not_supported": "The backend cannot do this:",
    "path_not_allowed": "A file is outside the folders the daemon may read:",
    "out_of_memory": "Out of memory:",
    "internal": "Something went wrong inside MAGE Bridge (the daemon's log has the details):",
}


def error_words(code: str, message: str) -> str:
    """A failure as one sentence for the page: what the code means, then the message."""
    lead = ERROR_WORDS.get(code, f"Failed ({code}):")
    if code == "cancelled" or not message or message == "cancelled by request":
        return lead
    return f"{lead} {message}"


def job_json(job: Job, progress: tuple[str, float] | None, stages: dict[str, float]) -> dict[str, Any]:
    """A job as the page shows it: no paths (results are fetched by job id), the error in words."""
    params = job.params
    tag = params.get("daw") if isinstance(params.get("daw"), dict) else None
    placement = tag.get("placement") if tag is not None and isinstance(tag.get("placement"), dict) else {}
    sent = params.get("audio_path_sent")
    title = params.get("prompt") or (Path(sent).name if isinstance(sent, str) else "") or job.kind
    stage, fraction = progress if progress is not None else ("", 0.0)
    if job.state == DONE:
        stage, fraction = "done", 1.0
    error = None
    if job.error_code is not None:
        error = {"code": job.error_code, "message": job.error_message or "",
                 "words": error_words(job.error_code, job.error_message or "")}
    return {
        "id": job.id, "req_id": job.req_id, "kind": job.kind, "state": job.state, "source": job.source,
        "title": str(title)[:200], "prompt": params.get("prompt"), "lyrics": params.get("lyrics"),
        "seed": params.get("seed"), "options": params.get("options") or {},
        "daw": {"client_id": tag.get("client_id"), "bar": placement.get("bar")} if tag is not None else None,
        "created": job.created, "started": job.started, "finished": job.finished,
        "stage": stage, "fraction": fraction, "stages": [[s, f] for s, f in stages.items()],
        "error": error, "note": job.note, "has_result": job.state == DONE and bool(job.result),
    }


class JobsRoutes:
    """``/api/jobs``: list, one job, cancel, retry."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/jobs", self.list), web.get("/api/jobs/{job_id}", self.one),
                web.post("/api/jobs/{job_id}/cancel", self.cancel), web.post("/api/jobs/{job_id}/retry", self.retry)]

    async def list(self, request: web.Request) -> web.Response:
        """``GET /api/jobs[?limit=N]``: the most recent jobs, newest first."""
        try:
            limit = min(max(int(request.query.get("limit", "100")), 1), MAX_LISTED)
        except ValueError:
            return error_response("invalid_input", f"limit must be a number, got {request.query['limit']!r}")
        jobs = self.panel.host.store.recent(limit)
        return json_response({"jobs": [self.panel.describe(j) for j in jobs]})

    async def one(self, request: web.Request) -> web.Response:
        return json_response({"job": self.panel.describe(self.panel.job(request.match_info["job_id"]))})

    async def cancel(self, request: web.Request) -> web.Response:
        """``POST /api/jobs/{id}/cancel``: the ``failed ... cancelled`` event follows on the stream."""
        job = self.panel.job(request.match_info["job_id"])
        job = self.panel.host.cancel(job.id, None)
        return json_response({"job": self.panel.describe(job)})

    async def retry(self, request: web.Request) -> web.Response:
        """``POST /api/jobs/{id}/retry``: a failed or cancelled job queued again as a new job."""
        job = self.panel.job(request.match_info["job_id"])
        new = self.panel.host.resubmit(job.id, f"panel-retry-{uuid.uuid4().hex[:12]}", client=PANEL_CLIENT,
                                       source="panel")
        return json_response({"job": self.panel.describe(new)}, status=201)


def routes(panel: Panel) -> list[web.RouteDef]:
    return JobsRoutes(panel).routes()
