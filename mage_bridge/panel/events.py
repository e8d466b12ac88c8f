"""The panel's one event stream: the daemon's job events, pushed to every open page (server-sent events).

:class:`EventStream` listens to the daemon's :class:`~mage_bridge.server.events.JobEvents`, the
source the OSC door sends from, so a page hears every event an OSC subscriber hears (accepted,
progress per stage, done, failed), whichever door the job came through. Other views publish their
own events on the same stream (:meth:`EventStream.publish`), so a page holds one connection.

Each page has a bounded queue; a page that does not read (a tab asleep) loses its connection
rather than growing the daemon's memory, and reloads the state when it reconnects. The stream also
keeps the stages each job reported while the daemon ran, so a page opened mid-job shows them too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from typing import Any

from aiohttp import web

from mage_bridge.server.events import JobEvent, JobEvents

log = logging.getLogger("mage_bridge.panel")

#: Events waiting for one page before it is cut off (it reloads the state on reconnect).
MAX_QUEUED_EVENTS = 1_000
#: Pages listening at once.
MAX_PAGES = 32
#: Jobs whose stage history is kept (the most recent).
MAX_JOBS_REMEMBERED = 500
#: A comment line this often keeps proxies and the browser from calling the stream dead.
KEEPALIVE_S = 15.0


class EventStream:
    """Fan-out of events to the pages; stage history per job."""

    def __init__(self, job_events: JobEvents, describe: Any) -> None:
        """``describe(job)`` is the job as the page shows it (:func:`mage_bridge.panel.jobs.job_json`)."""
        self._describe = describe
        self._pages: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._stages: OrderedDict[str, dict[str, float]] = OrderedDict()
        self._closing = False
        self._stop_listening = job_events.listen(self._on_job_event)

    @property
    def pages(self) -> int:
        return len(self._pages)

    def stages(self, job_id: str) -> dict[str, float]:
        """The stages ``job_id`` reported while this daemon ran, in order, with their last fraction."""
        return dict(self._stages.get(job_id, {}))

    def _on_job_event(self, event: JobEvent) -> None:
        job = event.job
        data: dict[str, Any] = {"type": event.name}
        if event.name == "progress":
            stage, fraction = str(event.args[1]), float(event.args[2])
            history = self._stages.setdefault(job.id, {})
            history[stage] = fraction
            self._stages.move_to_end(job.id)
            while len(self._stages) > MAX_JOBS_REMEMBERED:
                self._stages.popitem(last=False)
            data.update(stage=stage, fraction=fraction)
        elif event.name == "failed":
            data.update(code=str(event.args[1]), message=str(event.args[2]))
        data["job"] = self._describe(job)
        self.publish(data)

    def publish(self, data: dict[str, Any]) -> None:
        """Send ``data`` (a JSON object with a ``type``) to every page."""
        for queue in list(self._pages):
            try:
                queue.put_nowait(data)
            except asyncio.QueueFull:
                log.warning("panel: a page read no events for a while (%d waiting): its stream is cut; it "
                            "reloads the state when it reconnects", MAX_QUEUED_EVENTS)
                self._pages.discard(queue)
                _end(queue)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """``GET /api/events``: ``text/event-stream``, one ``data:`` line of JSON per event."""
        if self._closing:
            raise web.HTTPServiceUnavailable(text="the daemon is stopping")
        if len(self._pages) >= MAX_PAGES:
            raise web.HTTPTooManyRequests(text=f"already {MAX_PAGES} pages listen to the panel's events")
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(MAX_QUEUED_EVENTS)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        self._pages.add(queue)
        try:
            await response.write(b"retry: 2000\n\n" + _frame({"type": "hello"}))
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if item is None:
                    break
                await response.write(_frame(item))
        except ConnectionResetError:  # the page went away
            pass
        finally:
            self._pages.discard(queue)
        return response

    def close(self) -> None:
        """End every page's stream (the daemon stops) and stop listening."""
        self._closing = True
        self._stop_listening()
        for queue in list(self._pages):
            _end(queue)
        self._pages.clear()


def _end(queue: asyncio.Queue[dict[str, Any] | None]) -> None:
    """Put the end mark in a page's queue, dropping what it did not read to make room."""
    while queue.full():
        queue.get_nowait()
    queue.put_nowait(None)


def _frame(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, separators=(",", ":")).encode("utf-8") + b"\n\n"
