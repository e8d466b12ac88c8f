"""The DAW door: spool folder in, outbox folder out, placement on bars, heartbeat.

Stock REAPER Lua has no sockets, so DAW scripts talk to the daemon through files:

- ``<state_dir>/spool/*.json`` — job requests and context reports, written atomically (temp name, then
  rename). The daemon polls the folder, checks each file like an OSC request and deletes it once the
  job is queued; a file it cannot accept moves to ``spool/rejected/`` with ``<name>.error.json`` beside it.
- ``<state_dir>/outbox/<client_id>/<name>.json`` — how a DAW-tagged job ended (``done`` with the
  manifest path and the placement, ``failed``/``cancelled`` with code and message) or why a spool
  request was ``rejected``. The DAW script deletes (or moves) a file once it has handled it.
- ``<state_dir>/heartbeat.json`` — rewritten every second while the daemon runs, removed when it stops.

Pure helpers here (parsing, placement, atomic writes); the daemon wires them into its loop.
The contract is ``docs/daw.md``.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mage_bridge.edits import EDIT_KINDS
from mage_bridge.files import write_json_atomic
from mage_bridge.server.kinds import TEST_JOB_KINDS, test_jobs_enabled
from mage_bridge.server.osc import MAX_ID_CHARS, RequestError

SPOOL_DIR = "spool"
REJECTED_DIR = "rejected"
OUTBOX_DIR = "outbox"
HEARTBEAT_NAME = "heartbeat.json"
SPOOL_SCHEMA = "mage-bridge/spool@1"
OUTBOX_SCHEMA = "mage-bridge/outbox@1"
HEARTBEAT_SCHEMA = "mage-bridge/heartbeat@1"

#: Seconds between two looks at the spool folder, and between two heartbeats.
SPOOL_POLL_S = 0.1
HEARTBEAT_S = 1.0
#: A DAW client that reported no context for this long is forgotten: its project may be closed, so
#: jobs from a controller no longer go there. DAW scripts re-send their context at least every 5 s.
CLIENT_STALE_S = 30.0
#: A DAW script calls the daemon "not running" when the heartbeat is older than this.
HEARTBEAT_STALE_S = 5.0
#: A spool file that is not (yet) valid JSON is looked at again for this long (seconds) after it was last
#: written before it is rejected: a writer that writes in place rather than renaming may not be done.
SPOOL_WRITE_GRACE_S = 2.0
#: Spool files larger than this are rejected unread.
MAX_SPOOL_BYTES = 256 * 1024
#: At most this many spool files are taken per poll, so a flood cannot stall the loop.
MAX_SPOOL_PER_POLL = 32
#: A bar line this close (in seconds) before the cursor still counts as "at the cursor".
BAR_TOLERANCE_S = 1e-3

#: What a spool file may ask for. The edit kinds (:data:`~mage_bridge.edits.EDIT_KINDS`) rework a MAGE clip
#: (``audio_path`` = its manifest.json, times in seconds from its start); their result lines up with the source
#: clip in the DAW (see :func:`add_trim` and :func:`final_placement`).
SPOOL_KINDS = ("generate", "separate", "enhance", "master", *EDIT_KINDS, "context")
#: What ``/mage/daw/command`` may ask of a DAW script: an edit of the clip selected in the DAW.
DAW_COMMANDS = ("repaint", "extend", "lego")
#: How a result lines up with its anchor: its start on it, or (``"end"``: an extension before a clip) its end.
ALIGNS = ("start", "end")
MAX_LABEL_CHARS = 200
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_PROJECT_CHARS = 4_096


#: Audio files a DAW may hand over from its own project folder (separate / enhance / master).
MEDIA_SUFFIXES = frozenset({".wav", ".wave", ".bwf", ".aif", ".aiff", ".aifc", ".flac", ".mp3", ".ogg", ".oga",
                            ".opus", ".m4a", ".caf", ".w64", ".rf64"})


@dataclass(frozen=True)
class DawContext:
    """What a DAW last said about itself: quarter-note tempo, metre and edit cursor."""

    bpm: float
    numerator: int
    denominator: int
    cursor_s: float
    received: float
    client_id: str | None = None
    project_id: str | None = None
    project_path: str | None = None

    @property
    def bar_quarters(self) -> float:
        """Quarter notes per bar: ``numerator * 4 / denominator``."""
        return self.numerator * 4.0 / self.denominator

    def to_dict(self) -> dict[str, Any]:
        return {"bpm": self.bpm, "numerator": self.numerator, "denominator": self.denominator,
                "cursor_s": self.cursor_s, "received": self.received}

    def project(self) -> dict[str, Any]:
        """The tempo and metre a clip for this DAW is made at (``api.generate(project=...)``)."""
        return {"bpm": self.bpm, "numerator": self.numerator, "denominator": self.denominator}


@dataclass
class DawClient:
    """A DAW that reported its context: the latest one and where it listens for OSC events."""

    context: DawContext
    addr: tuple[str, int] | None


class DawClients:
    """The DAWs the daemon knows, by client id; one that falls silent for :data:`CLIENT_STALE_S` is forgotten."""

    def __init__(self, *, limit: int, stale_s: float = CLIENT_STALE_S) -> None:
        self._clients: dict[str, DawClient] = {}
        self._limit = limit
        self._stale_s = stale_s

    def get(self, client_id: str | None) -> DawClient | None:
        return self._clients.get(client_id) if client_id is not None else None

    def report(self, ctx: DawContext, addr: tuple[str, int] | None, req_id: str = "") -> None:
        """Record a context; ``addr`` ``None`` (a spool file, a request's own context) keeps the address
        the client reported before.

        A client id is bound to the OSC address that reported it first while that client keeps
        reporting: another program claiming "reaper" gets ``client_id_taken`` instead of its events.
        """
        assert ctx.client_id is not None
        known = self._clients.get(ctx.client_id)
        if known is None and len(self._clients) >= self._limit:
            raise RequestError("too_many_subscribers", f"already {self._limit} DAW clients", req_id)
        if addr is not None:
            self.check_bound(ctx.client_id, addr, ctx.received, req_id)
        self._clients[ctx.client_id] = DawClient(ctx, addr if addr is not None else known.addr if known else None)

    def check_bound(self, client_id: str, addr: tuple[str, int], now: float, req_id: str = "") -> None:
        """Refuse ``addr`` speaking for ``client_id`` while another address holds it (``client_id_taken``)."""
        known = self._clients.get(client_id)
        if known is None or known.addr is None or known.addr == addr:
            return
        quiet_s = now - known.context.received
        if quiet_s <= self._stale_s:
            raise RequestError("client_id_taken", f"DAW client id {client_id!r} is in use by another program, "
                               f"which reported {quiet_s:.0f} s ago; it is free once that program says "
                               f"/mage/daw/bye or has been quiet for {self._stale_s:.0f} s", req_id)

    def set_addr(self, client_id: str, addr: tuple[str, int], now: float) -> None:
        known = self._clients.get(client_id)
        if known is not None:
            self.check_bound(client_id, addr, now)
            known.addr = addr

    def release(self, client_id: str, addr: tuple[str, int]) -> bool:
        """``/mage/daw/bye`` from the address that holds ``client_id``: the address is free for the next
        instance of the script at once. The client stays a DAW jobs go to until its timeout: a result of
        a job triggered while its script reloads waits in the outbox for it."""
        known = self._clients.get(client_id)
        if known is None or known.addr != addr:
            return False
        known.addr = None
        return True

    def known(self) -> list[DawClient]:
        """Every DAW known now, the one that reported last first."""
        return sorted(self._clients.values(), key=lambda c: c.context.received, reverse=True)

    def latest(self) -> DawContext | None:
        """The context of the DAW that reported last (jobs no DAW sent are placed there)."""
        newest = max(self._clients.values(), key=lambda c: c.context.received, default=None)
        return newest.context if newest is not None else None

    def latest_connected(self) -> DawContext | None:
        """The context of the DAW that reported last among those with an OSC address: where a command for
        the DAW (``/mage/daw/command`` from a MIDI binding) can go."""
        connected = [c for c in self._clients.values() if c.addr is not None]
        newest = max(connected, key=lambda c: c.context.received, default=None)
        return newest.context if newest is not None else None

    def forget_stale(self, now: float) -> list[DawContext]:
        """Drop the clients silent for longer than :data:`CLIENT_STALE_S`; returns their last contexts."""
        gone = [c.context for c in self._clients.values() if now - c.context.received > self._stale_s]
        for ctx in gone:
            del self._clients[ctx.client_id]  # type: ignore[arg-type]
        return gone


def project_media_folder(project_path: str | None) -> Path | None:
    """The folder whose audio a DAW project may hand over: the project file's folder (or the folder given).

    ``None`` for no path, a relative one, or one too broad to be a project folder (a filesystem
    root or the home folder itself).
    """
    if not project_path:
        return None
    path = Path(project_path).expanduser()
    if not path.is_absolute():
        return None
    folder = path if path.is_dir() else path.parent
    folder = Path(os.path.realpath(folder))
    if folder == folder.parent or folder == Path(os.path.realpath(Path.home())):
        return None
    return folder


def check_context(bpm: Any, numerator: Any, denominator: Any, cursor_s: Any, req_id: str = "") -> tuple[
        float, int, int, float]:
    """The checks of ``/mage/daw/context``: bpm 20–999, metre 1–32 over a power of two, cursor ≥ 0 s."""
    if isinstance(bpm, bool) or not isinstance(bpm, (int, float)) or not (
            math.isfinite(bpm) and 20.0 <= bpm <= 999.0):
        raise RequestError("invalid_input", f"bpm must be from 20 to 999, got {bpm!r}", req_id)
    if (isinstance(numerator, bool) or isinstance(denominator, bool) or not isinstance(numerator, int)
            or not isinstance(denominator, int) or not 1 <= numerator <= 32
            or denominator not in (1, 2, 4, 8, 16, 32)):
        raise RequestError("invalid_input",
                           f"metre must be 1-32 over 1, 2, 4, 8, 16 or 32, got {numerator!r}/{denominator!r}", req_id)
    if isinstance(cursor_s, bool) or not isinstance(cursor_s, (int, float)) or not (
            math.isfinite(cursor_s) and cursor_s >= 0.0):
        raise RequestError("invalid_input", f"cursor_s must be a finite number >= 0, got {cursor_s!r}", req_id)
    return float(bpm), numerator, denominator, float(cursor_s)


def check_client_id(value: Any, req_id: str = "") -> str:
    """A DAW client id: 1–64 of ``A-Z a-z 0-9 . _ -`` (it names the outbox folder)."""
    if not isinstance(value, str) or not _CLIENT_ID.match(value) or value in (".", ".."):
        raise RequestError("invalid_input",
                           f"client_id must be 1-64 characters of A-Z a-z 0-9 . _ -, got {value!r}", req_id)
    return value


def check_project(value: Any, name: str, req_id: str = "") -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_PROJECT_CHARS or "\x00" in value:
        raise RequestError("invalid_input", f"{name} must be a string of at most {MAX_PROJECT_CHARS} "
                                            f"characters, got {type(value).__name__}", req_id)
    return value


# -- placement ---------------------------------------------------------------------------------
def next_bar(ctx: DawContext) -> dict[str, Any]:
    """The first bar line at or after the DAW's cursor, at its reported (constant) tempo and metre.

    Beats are quarter notes from the project start; a bar is ``numerator * 4 / denominator`` of them.
    """
    beat_s = 60.0 / ctx.bpm
    bar_s = ctx.bar_quarters * beat_s
    index = math.ceil((ctx.cursor_s - BAR_TOLERANCE_S) / bar_s)
    index = max(0, index)
    return {"mode": "next_bar", "seconds": index * bar_s, "beats": index * ctx.bar_quarters,
            "bar": index + 1, **_ctx_fields(ctx)}


def requested(position: Any, ctx: DawContext | None, req_id: str = "") -> dict[str, Any]:
    """A position the DAW asked for: ``{"seconds": s}`` or ``{"beats": quarter notes}``.

    The other unit is filled in from the DAW's tempo when it is known (``null`` otherwise).
    """
    if not isinstance(position, dict) or len(position) != 1 or not set(position) <= {"seconds", "beats"}:
        raise RequestError("invalid_input",
                           f'position must be {{"seconds": s}} or {{"beats": quarter notes}}, got {position!r}', req_id)
    unit, value = next(iter(position.items()))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and 0.0 <= value <= 1e7):
        raise RequestError("invalid_input", f"position {unit} must be a number from 0 to 1e7, got {value!r}", req_id)
    value = float(value)
    out: dict[str, Any] = {"mode": "requested", "seconds": None, "beats": None, "bar": None}
    out[unit] = value
    if ctx is not None:
        beat_s = 60.0 / ctx.bpm
        if unit == "seconds":
            out["beats"] = value / beat_s
        else:
            out["seconds"] = value * beat_s
        out["bar"] = int(math.floor(out["beats"] / ctx.bar_quarters + 1e-9)) + 1
        out.update(_ctx_fields(ctx))
    return out


def add_trim(placement: dict[str, Any], request: dict[str, Any], req_id: str = "") -> None:
    """Copy how the DAW lines the result up into a placement (all optional):

    - ``take_offset_s`` and ``length_s``: trim the result like the item it came from (separate, master,
      repaint, lego: the result has the source's timeline);
    - ``play_rate``: play it at the source item's rate (a stretched source stays aligned);
    - ``align``: ``"start"`` (the result starts at the position) or ``"end"`` (it ends there: an
      extension before a clip);
    - ``label``: what the DAW names the result's folder ("repaint 12.0-16.0 s").
    """
    for key in ("take_offset_s", "length_s"):
        if key in request:
            value = request[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and value >= 0.0):
                raise RequestError("invalid_input", f"{key} must be a number >= 0, got {value!r}", req_id)
            placement[key] = float(value)
    if request.get("play_rate") is not None:
        rate = request["play_rate"]
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not (
                math.isfinite(rate) and 0.01 <= rate <= 100.0):
            raise RequestError("invalid_input", f"play_rate must be a number from 0.01 to 100, got {rate!r}", req_id)
        placement["play_rate"] = float(rate)
    if request.get("align") is not None:
        align = request["align"]
        if align not in ALIGNS:
            raise RequestError("invalid_input", f"align must be one of {', '.join(ALIGNS)}, got {align!r}"[:300],
                               req_id)
        if placement.get("mode") != "requested":
            raise RequestError("invalid_input", f"align {align!r} needs a position to align to", req_id)
        placement["align"] = align
    if request.get("label") is not None:
        label = request["label"]
        if not isinstance(label, str) or len(label) > MAX_LABEL_CHARS or "\x00" in label:
            raise RequestError("invalid_input", f"label must be a string of at most {MAX_LABEL_CHARS} characters",
                               req_id)
        placement["label"] = label


def final_placement(placement: dict[str, Any], kind: str, manifest: dict[str, Any] | None) -> dict[str, Any]:
    """The placement a finished job's result goes to: anchor, alignment, lead-in and item start.

    A generate job placed on a bar (``next_bar``) is aligned by its *body*: beat 1 after the
    lead-in falls on the bar, so the item starts ``lead_in_s`` earlier; when that would be before
    the project start, the anchor moves on by whole bars. Any other result starts at its anchor, or
    (``align`` ``"end"``, an extension before its source clip) ends there: it starts its length earlier
    (``length_s``, else the manifest's ``duration_s`` at ``play_rate``). ``clip_bpm`` is the tempo the
    clip was rendered at, so the DAW can tell when its tempo changed since the request.
    """
    out = dict(placement)
    backend = (manifest or {}).get("backend") if isinstance(manifest, dict) else None
    lead_in_s = 0.0
    if kind == "generate" and isinstance(backend, dict):
        value = backend.get("lead_in_s")
        if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
            lead_in_s = float(value)
        requested_bpm = (manifest or {}).get("requested", {}).get("bpm")
        if isinstance(requested_bpm, (int, float)):
            out["clip_bpm"] = float(requested_bpm)
    align = "body" if kind == "generate" and out.get("mode") == "next_bar" else "start"
    if placement.get("align") == "end" and out.get("mode") == "requested":
        align = "end"
    out["align"] = align
    out["lead_in_s"] = lead_in_s
    seconds, beats, bpm = out.get("seconds"), out.get("beats"), out.get("bpm")
    if seconds is None:
        out["start_s"] = out["start_beats"] = None
        return out
    if align == "end":  # the result ends at the anchor: where it starts depends on its length
        out["start_s"] = out["start_beats"] = None
        duration_s = (manifest or {}).get("duration_s")
        if isinstance(duration_s, (int, float)) and math.isfinite(duration_s) and duration_s > 0:
            length_s = float(out.get("length_s") or duration_s / float(out.get("play_rate") or 1.0))
            out["start_s"] = max(0.0, seconds - length_s)
            if beats is not None and bpm:
                out["start_beats"] = max(0.0, beats - length_s * bpm / 60.0)
        return out
    if align == "body" and lead_in_s > 0 and bpm:
        bar_beats = out["numerator"] * 4.0 / out["denominator"]
        bar_s = bar_beats * 60.0 / bpm
        lead_in_beats = lead_in_s * bpm / 60.0
        while seconds - lead_in_s < -1e-9:
            seconds, beats = seconds + bar_s, beats + bar_beats
            out["bar"] = (out.get("bar") or 1) + 1
        out["seconds"], out["beats"] = seconds, beats
        out["start_s"], out["start_beats"] = max(0.0, seconds - lead_in_s), max(0.0, beats - lead_in_beats)
    else:
        out["start_s"], out["start_beats"] = seconds, beats
    return out


def placement_json(tag: dict[str, Any], placement: dict[str, Any] | None) -> str:
    """The third argument of a DAW job's ``/mage/job/done``: its placement with client and project ids."""
    return json.dumps({"client_id": tag.get("client_id"), "project_id": tag.get("project_id"),
                       **(placement if placement is not None else tag.get("placement") or {})})


def _ctx_fields(ctx: DawContext) -> dict[str, Any]:
    return {"bpm": ctx.bpm, "numerator": ctx.numerator, "denominator": ctx.denominator, "cursor_s": ctx.cursor_s}


# -- spool -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpoolRequest:
    """One checked spool file (the fields a job needs are checked again by the daemon's handlers)."""

    path: Path
    kind: str
    req_id: str
    client_id: str
    project_id: str | None
    project_path: str | None
    data: dict[str, Any]


def read_spool_file(path: Path) -> dict[str, Any]:
    """The JSON object in a spool file; :class:`RequestError` (``bad_json``) if it is not one."""
    try:
        size = path.stat().st_size
        if size > MAX_SPOOL_BYTES:
            raise RequestError("bad_json", f"spool file is {size} bytes, more than {MAX_SPOOL_BYTES}")
        text = path.read_bytes().decode("utf-8")
        data = json.loads(text)
    except RequestError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise RequestError("bad_json", f"spool file is not valid UTF-8 JSON: {e}") from None
    if not isinstance(data, dict):
        raise RequestError("bad_json", f"spool file must hold a JSON object, got {type(data).__name__}")
    return data


def parse_spool(path: Path, data: dict[str, Any]) -> SpoolRequest:
    """Check the envelope of a spool request: schema, kind, req_id, client and project."""
    req_id = data.get("req_id")
    if not isinstance(req_id, str) or not 1 <= len(req_id) <= MAX_ID_CHARS:
        raise RequestError("bad_arguments", f"req_id must be a string of 1 to {MAX_ID_CHARS} characters, "
                                            f"got {req_id!r}"[:300])
    schema = data.get("schema", SPOOL_SCHEMA)
    if schema != SPOOL_SCHEMA:
        raise RequestError("bad_arguments", f"schema must be {SPOOL_SCHEMA!r}, got {schema!r}"[:300], req_id)
    kind = data.get("kind")
    kinds = SPOOL_KINDS + (tuple(TEST_JOB_KINDS) if test_jobs_enabled() else ())
    if kind not in kinds:
        raise RequestError("bad_arguments", f"kind must be one of {', '.join(kinds)}, got {kind!r}"[:300], req_id)
    client_id = check_client_id(data.get("client_id"), req_id)
    project_id = check_project(data.get("project_id"), "project_id", req_id)
    project_path = check_project(data.get("project_path"), "project_path", req_id)
    return SpoolRequest(path, kind, req_id, client_id, project_id, project_path, data)


def describe_entry(entry: os.DirEntry[str]) -> str:
    """What a folder entry is, in words ("a folder", "a FIFO", ...), without opening it."""
    import stat

    try:
        mode = entry.stat(follow_symlinks=False).st_mode
    except OSError:
        return "unreadable"
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISLNK, "a symbolic link"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def client_id_of(data: Any) -> str | None:
    """The client id of a (possibly broken) request, if it has a usable one: where to report a rejection."""
    if isinstance(data, dict):
        value = data.get("client_id")
        if isinstance(value, str) and _CLIENT_ID.match(value) and value not in (".", ".."):
            return value
    return None


def reject_spool_file(path: Path, code: str, message: str) -> Path:
    """Move a spool file to ``spool/rejected/`` and write ``<name>.error.json`` beside it."""
    rejected = path.parent / REJECTED_DIR
    rejected.mkdir(exist_ok=True)
    target = rejected / path.name
    if target.exists():
        target = rejected / f"{path.stem}-{time.time_ns()}{path.suffix}"
    os.replace(path, target)
    write_json_atomic(target.with_name(target.name + ".error.json"),
                      {"file": path.name, "code": code, "message": message, "time": time.time()})
    return target


# -- outbox and heartbeat ----------------------------------------------------------------------
def safe_name(text: str) -> str:
    """A file-name-safe form of an id (anything outside ``A-Z a-z 0-9 . _ -`` becomes ``_``)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", text)[:100].lstrip(".")
    return cleaned or "_"


def outbox_event(event: str, *, client_id: str, req_id: str, job_id: str | None = None, kind: str | None = None,
                 project_id: str | None = None, project_path: str | None = None, manifest: str | None = None,
                 placement: dict[str, Any] | None = None, code: str | None = None,
                 message: str | None = None) -> dict[str, Any]:
    """One outbox record (see ``docs/daw.md``)."""
    return {"schema": OUTBOX_SCHEMA, "event": event, "job_id": job_id, "req_id": req_id, "kind": kind,
            "client_id": client_id, "project_id": project_id, "project_path": project_path,
            "manifest": manifest, "placement": placement, "code": code, "message": message, "time": time.time()}


def heartbeat(*, pid: int, port: int | None, version: str, state_dir: Path, jobs_dir: Path) -> dict[str, Any]:
    return {"schema": HEARTBEAT_SCHEMA, "pid": pid, "port": port, "version": version, "time": time.time(),
            "interval_s": HEARTBEAT_S, "stale_after_s": HEARTBEAT_STALE_S, "state_dir": str(state_dir),
            "spool_dir": str(state_dir / SPOOL_DIR), "outbox_dir": str(state_dir / OUTBOX_DIR),
            "jobs_dir": str(jobs_dir)}
