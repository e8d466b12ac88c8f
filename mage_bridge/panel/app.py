"""The panel's web server: aiohttp on the daemon's own loop, on 127.0.0.1 only.

:class:`Panel` assembles the views (:data:`VIEW_MODULES`, each a module with ``routes(panel)`` and
usually a ``VIEW`` tab), the one event stream (``/api/events``), the static files shipped in the
package (``static/``: HTML, CSS and ES modules, nothing from the network) and the guard every
request passes (:mod:`.guard`). Errors of the daemon (a refused request, an unknown job) become
``{"error": {"code", "message"}}`` with the status the code calls for; a bug costs one answer.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from mage_bridge.errors import MageError, failure_code, failure_message
from mage_bridge.panel.events import EventStream
from mage_bridge.panel.guard import PanelGuard, add_security_headers
from mage_bridge.panel.helper import Helper
from mage_bridge.panel.host import PanelHost
from mage_bridge.panel.http import View, error_of, error_response, json_response
from mage_bridge.panel.jobs import JOB_ID, job_json
from mage_bridge.panel.peaks import PeakCache
from mage_bridge.server.jobs import Job, JobNotFoundError

log = logging.getLogger("mage_bridge.panel")

#: The modules that serve the panel, in the order their tabs appear: each has ``routes(panel)`` and,
#: for a tab, ``VIEW``. A view is one more module here and one more script under ``static/js/views/``.
VIEW_MODULES: tuple[str, ...] = (
    "mage_bridge.panel.write",
    "mage_bridge.panel.jobs",
    "mage_bridge.panel.library",
    "mage_bridge.panel.arrange",
    "mage_bridge.panel.live",
    "mage_bridge.panel.audition",
    "mage_bridge.panel.library_jobs",
)
STATIC_DIR = Path(__file__).with_name("static")
#: The panel's own folder in the daemon's state folder (the peaks cache).
PANEL_DIR = "panel"


class Panel:
    """The panel of one daemon: ``await start(port)``, then ``await close()``."""

    def __init__(self, host: PanelHost) -> None:
        self.host = host
        self.port: int | None = None
        self.helper = Helper(host.config)
        self.peaks = PeakCache(host.state_dir / PANEL_DIR / "peaks")
        self.events = EventStream(host.job_events, self.describe)
        self.views: list[View] = []
        #: Made once the port is known (:meth:`start`): the Host and Origin it accepts name the port.
        self.guard: PanelGuard | None = None
        self._runner: web.AppRunner | None = None
        self.app = self._build()

    # -- what the views share ------------------------------------------------------------------------
    def describe(self, job: Job) -> dict[str, Any]:
        """A job as every view shows it (:func:`~mage_bridge.panel.jobs.job_json`)."""
        return job_json(job, self.host.progress_of(job.id), self.events.stages(job.id))

    def job(self, job_id: str) -> Job:
        """The job ``job_id`` names; ``not_found`` for an unknown or malformed id."""
        if not JOB_ID.fullmatch(job_id):
            raise JobNotFoundError(f"no job with id {job_id[:80]!r}")
        return self.host.store.get(job_id)

    # -- the application -----------------------------------------------------------------------------
    def _build(self) -> web.Application:
        app = web.Application(middlewares=[self._guarded, _errors], client_max_size=1 << 20)
        app.on_response_prepare.append(add_security_headers)
        for name in VIEW_MODULES:
            module = importlib.import_module(name)
            app.router.add_routes(module.routes(self))
            view = getattr(module, "VIEW", None)
            if isinstance(view, View):
                self.views.append(view)
        app.router.add_get("/api/events", self.events.handle)
        app.router.add_get("/api/session", self._session)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC_DIR, show_index=False, follow_symlinks=False)
        return app

    @web.middleware
    async def _guarded(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.guard is None:
            raise web.HTTPServiceUnavailable(text="the panel is starting")
        return await self.guard.middleware(request, handler)

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def _session(self, request: web.Request) -> web.Response:
        """``GET /api/session``: the views to show, the daemon's version and ports."""
        from mage_bridge import __version__

        return json_response({"views": [v.to_dict() for v in self.views], "version": __version__,
                              "osc_port": getattr(self.host, "port", None), "panel_port": self.port})

    # -- life cycle ----------------------------------------------------------------------------------
    async def start(self, port: int) -> None:
        """Listen on ``127.0.0.1:port`` (0: a free port); :class:`MageError` when it cannot."""
        runner = web.AppRunner(self.app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, shutdown_timeout=2.0)
        try:
            await site.start()
        except OSError as e:
            await runner.cleanup()
            raise MageError(f"panel: cannot listen on 127.0.0.1:{port}: {e.strerror or e} (set server.panel_port, "
                            "or serve --panel-port; server.panel = false turns the panel off)") from e
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self.guard = PanelGuard(self.host.panel_token, self.port)

    async def close(self) -> None:
        """End the pages' event streams, stop listening, stop the helper process."""
        self.events.close()
        self.helper.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """The daemon's refusals as JSON in words; a bug costs this one answer, logged."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except MageError as e:
        return error_of(e)
    except Exception as e:
        log.exception("panel: %s %s failed", request.method, request.path[:200])
        code = failure_code(e)
        text = ("internal error; the daemon's log has the details" if code == "internal"
                else failure_message(e, name_file=False))
        return error_response(code, text)
