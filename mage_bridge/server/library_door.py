"""The daemon's clip-library requests: search, show, tag, rate and delete answered at once; import as a job.

A search, a look-up or a tag change is a quick read or write of the library's SQLite file (WAL:
workers recording results never hold it long), answered in the loop like a job's status. An import
decodes and measures a whole song, so it is a job (kind ``library_import``) that a worker runs.

Replies stay small: a search answers one page (``offset``, ``limit``) in one datagram of at most
:data:`MAX_REPLY_BYTES`, holding as many of the page's clips as fit (``count`` says how many; ask again
from ``offset + count``); a clip's record drops its analysis and lyrics text (its manifest has them) and
shortens what would not fit. A delete over OSC removes files only inside the folders the daemon may
read (the path guard) or the library's own folder. The contract is ``docs/osc.md``.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mage_bridge.config import Config
from mage_bridge.errors import InvalidInputError
from mage_bridge.server import osc
from mage_bridge.server.jobs import Job
from mage_bridge.server.osc import ACCEPTED, OPTIONS, REQ_ID, Addr, Arg, Request
from mage_bridge.server.security import PathGuard

if TYPE_CHECKING:
    from mage_bridge.library import Library

log = logging.getLogger("mage_bridge.server")

#: Largest reply datagram a library request gets (well under the 8 KB many OSC apps read at most).
MAX_REPLY_BYTES = 6000
#: Clips a search page holds when ``limit`` is not given, and at most.
DEFAULT_PAGE, MAX_OSC_PAGE = 20, 50
#: How long a request in the daemon's loop waits for another process's write to the library (they take
#: milliseconds; a library held longer answers ``library_busy`` rather than stalling every door).
LOOP_TIMEOUT_S = 2.0
#: Strings shorter than this are not shortened further to make a record fit.
_SHORTEST = 16

RESULTS = "/mage/library/results s:req_id i:offset i:count i:total s:clips_json"


def fit_json(record: dict[str, Any], budget: int) -> dict[str, Any]:
    """``record`` made to fit ``budget`` bytes of JSON: its longest strings halved (ending in "…"), then its
    largest fields dropped, until it does. ``id`` is never shortened."""
    record = json.loads(json.dumps(record))
    while len(json.dumps(record, ensure_ascii=False).encode("utf-8")) > budget:
        holder, key, text = _longest_string(record)
        if holder is not None and len(text) >= _SHORTEST:
            holder[key] = text[: len(text) // 2] + "…"
            continue
        droppable = [k for k in record if k != "id"]
        if not droppable:
            break
        del record[max(droppable, key=lambda k: len(json.dumps(record[k])))]
    return record


def _longest_string(value: Any) -> tuple[Any, Any, str]:
    """The longest string inside ``value`` (dicts and lists, any depth) and where it is: (container, key, text)."""
    best: tuple[Any, Any, str] = (None, None, "")
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(item, str) and len(item) > len(best[2]) and not (isinstance(value, dict) and key == "id"):
            best = (value, key, item)
        elif isinstance(item, (dict, list)):
            found = _longest_string(item)
            if len(found[2]) > len(best[2]):
                best = found
    return best


def page_reply(req_id: str, offset: int, total: int, items: list[dict[str, Any]]) -> bytes:
    """``/mage/library/results``: as many of ``items`` as fit in :data:`MAX_REPLY_BYTES`, in order."""
    def encode(chosen: list[dict[str, Any]]) -> bytes:
        return osc.encode("/mage/library/results", req_id, offset, len(chosen), total,
                          json.dumps(chosen, ensure_ascii=False))

    chosen: list[dict[str, Any]] = []
    room = MAX_REPLY_BYTES - len(encode([])) - 8
    for item in items:
        item = fit_json(item, room)
        if len(encode([*chosen, item])) > MAX_REPLY_BYTES:
            break
        chosen.append(item)
    return encode(chosen)


def clip_record(clip: Any) -> dict[str, Any]:
    """What ``/mage/library/show`` tells of a clip: its record without the analysis and lyrics text."""
    record = clip.to_dict()
    for name in ("analysis", "lyrics"):
        record.pop(name, None)
    return record


class LibraryDoor:
    """The ``/mage/library/...`` requests; mixed into the daemon, which provides the attributes below."""

    config: Config
    guard: PathGuard

    if TYPE_CHECKING:  # provided by the daemon
        def _send(self, addr: Addr, data: bytes) -> None: ...
        def submit_audio(self, kind: str, path_text: str, options: dict[str, Any], req_id: str, addr: Addr | None,
                         *, client: str, source: str = "osc", daw_tag: dict[str, Any] | None = None) -> Job: ...

    def _library(self) -> Library:
        from mage_bridge.library import Library

        return Library.open(self.config, timeout_s=LOOP_TIMEOUT_S)

    @osc.handles("/mage/library/search", REQ_ID, Arg("query_json", "s", optional=True), answer=RESULTS)
    def _library_search(self, req: Request, addr: Addr) -> None:
        from mage_bridge.library import Query, search

        values = osc.parse_options(req.args.get("query_json"), req.req_id)
        values.setdefault("limit", DEFAULT_PAGE)
        limit = values["limit"]
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_OSC_PAGE:
            raise InvalidInputError(f"limit must be an int from 1 to {MAX_OSC_PAGE} over OSC, got {limit!r}")
        query = Query.from_mapping(values)
        with self._library() as library:
            page = search(library, query)
        self._send(addr, page_reply(req.req_id, page.offset, page.total, [c.summary() for c in page.clips]))

    @osc.handles("/mage/library/show", REQ_ID, osc.CLIP_ID, answer="/mage/library/clip s:req_id s:clip_json")
    def _library_show(self, req: Request, addr: Addr) -> None:
        with self._library() as library:
            clip = library.get(req.args["clip_id"])
        reply = self._fitted("/mage/library/clip", req.req_id, clip_record(clip))
        self._send(addr, reply)

    @osc.handles("/mage/library/tag", REQ_ID, osc.CLIP_ID, Arg("add", "s"), Arg("remove", "s", optional=True),
                 answer="/mage/library/tagged s:req_id s:clip_id s:tags")
    def _library_tag(self, req: Request, addr: Addr) -> None:
        def split(text: str) -> list[str]:
            return [t for t in text.split(",") if t.strip()]

        with self._library() as library:
            clip = library.tag(req.args["clip_id"], split(req.args["add"]), split(req.args.get("remove", "")))
        self._send(addr, osc.encode("/mage/library/tagged", req.req_id, clip.id, ",".join(clip.tags)))

    @osc.handles("/mage/library/rate", REQ_ID, osc.CLIP_ID, Arg("rating", "i"),
                 answer="/mage/library/rated s:req_id s:clip_id i:rating")
    def _library_rate(self, req: Request, addr: Addr) -> None:
        with self._library() as library:
            clip = library.rate(req.args["clip_id"], req.args["rating"])
        self._send(addr, osc.encode("/mage/library/rated", req.req_id, clip.id, clip.rating))

    @osc.handles("/mage/library/delete", REQ_ID, osc.CLIP_ID, answer="/mage/library/deleted s:req_id s:clip_id i:files")
    def _library_delete(self, req: Request, addr: Addr) -> None:
        def allowed(path: Path) -> bool:
            return self.guard.contains(Path(os.path.realpath(path)))

        with self._library() as library:
            done = library.delete(req.args["clip_id"], may_remove=allowed)
        log.info("clip %s deleted over OSC by %s:%d (%d files)", done.clip.id, addr[0], addr[1], len(done.removed))
        self._send(addr, osc.encode("/mage/library/deleted", req.req_id, done.clip.id, len(done.removed)))

    @osc.handles("/mage/library/import", REQ_ID, Arg("audio_path", "s"), OPTIONS, job=True, answer=ACCEPTED)
    def _library_import(self, req: Request, addr: Addr, options: dict[str, Any], client: str) -> None:
        self.submit_audio("library_import", req.args["audio_path"], options, req.req_id, addr, client=client)

    @staticmethod
    def _fitted(address: str, req_id: str, record: dict[str, Any]) -> bytes:
        room = MAX_REPLY_BYTES - len(osc.encode(address, req_id, "")) - 8
        return osc.encode(address, req_id, json.dumps(fit_json(record, room), ensure_ascii=False))
