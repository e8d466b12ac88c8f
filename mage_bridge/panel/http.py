"""What every view of the panel shares: how a view declares itself, JSON in and out, errors in words.

A view is one module: ``VIEW`` (its tab: name, title, the ES module under ``static/js/views/`` that
draws it) and ``routes(panel)`` (its API under ``/api/``). A module with only routes (the
audition's stems, peaks and audio) leaves ``VIEW`` out. :data:`mage_bridge.panel.app.VIEW_MODULES`
lists them; a new view is a module added there and a script beside the others.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mage_bridge.errors import MageError

#: Largest JSON body a request may send (a prompt and lyrics fit many times over).
MAX_BODY_BYTES = 256 * 1024

#: HTTP status per error code; any other code is a 400 (the request was wrong).
STATUS_OF_CODE = {
    "not_found": 404, "not_owner": 403, "not_allowed": 403, "path_not_allowed": 403,
    "not_cancellable": 409, "not_retryable": 409, "not_done": 409, "version_conflict": 409, "clip_deleted": 410,
    "rate_limited": 429, "queue_full": 429, "too_many_subscribers": 429,
    "shutting_down": 503, "not_available": 503, "backend_unavailable": 503,
    "library_busy": 503, "library_unavailable": 503,
    "internal": 500,
}


@dataclass(frozen=True)
class View:
    """A tab of the panel: ``name`` (its id and ``#name`` in the address), ``title`` on the tab, ``script``
    (the ES module under ``static/js/`` that exports ``mount(root, panel)``) and ``key``, the key that
    shows it (with Alt)."""

    name: str
    title: str
    script: str
    key: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "title": self.title, "script": self.script, "key": self.key}


def json_response(data: Any, *, status: int = 200) -> web.Response:
    """``data`` as JSON, never cached (job states change)."""
    return web.json_response(data, status=status, headers={"Cache-Control": "no-store"})


def error_response(code: str, message: str, *, status: int | None = None) -> web.Response:
    """``{"error": {"code", "message"}}`` with the status the code calls for."""
    return json_response({"error": {"code": code, "message": message}},
                         status=status if status is not None else STATUS_OF_CODE.get(code, 400))


def error_of(e: MageError) -> web.Response:
    """A refused request as the page shows it: the error's code and message."""
    return error_response(getattr(e, "code", "error"), str(e))


async def read_json(request: web.Request) -> dict[str, Any]:
    """The JSON object a POST carries; :class:`BadRequest` for anything else (too large, not an object)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BadRequest("bad_json", f"the request body is {request.content_length} bytes, more than "
                                     f"{MAX_BODY_BYTES}")
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest("bad_json", f"the request body is more than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, ValueError) as e:
        raise BadRequest("bad_json", f"the request body is not UTF-8 JSON: {e}") from None
    if not isinstance(data, dict):
        raise BadRequest("bad_json", f"the request body must be a JSON object, got {type(data).__name__}")
    return data


class BadRequest(MageError):
    """A request the panel refuses before it reaches the daemon (its body, an argument): a 400 in words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def text_field(data: Mapping[str, Any], name: str, *, limit: int, allow_empty: bool = False) -> str:
    """A string field of a request body, at most ``limit`` characters."""
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadRequest("invalid_input", f"{name} must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise BadRequest("invalid_input", f"{name} is {len(value)} characters, more than {limit}")
    if not allow_empty and not value.strip():
        raise BadRequest("invalid_input", f"{name} must not be empty")
    return value
