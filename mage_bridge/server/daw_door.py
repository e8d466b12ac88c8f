"""The daemon's DAW door: DAW clients and their context, the spool folder, the outbox, placement.

A DAW (REAPER's scripts, Live's remote script) reaches the daemon through OSC requests tagged with
``"daw"`` options and through spool files, reports its tempo, metre, cursor and project, and gets each
result once through the outbox (files) or OSC events it acknowledges; the daemon's heartbeat file tells
the scripts it runs. :class:`DawDoor` is the part of :class:`~mage_bridge.server.daemon.Daemon` that
does this, its OSC addresses declared beside their handlers; the pure rules (placement, checks,
atomic files) are in :mod:`.daw` and :mod:`.outbox`. The contract is ``docs/daw.md``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mage_bridge import __version__
from mage_bridge.config import Config
from mage_bridge.errors import MageError, PathNotAllowedError
from mage_bridge.files import write_json_atomic
from mage_bridge.server import daw, osc
from mage_bridge.server.daw import DawClients, DawContext, SpoolRequest
from mage_bridge.server.jobs import Job, JobStore
from mage_bridge.server.kinds import TEST_JOB_KINDS
from mage_bridge.server.osc import Addr, Arg, Request, RequestError
from mage_bridge.server.outbox import Outbox
from mage_bridge.server.security import PathGuard, RateLimiter

log = logging.getLogger("mage_bridge.server")

#: Seconds between two sweeps of the outbox for expired records.
OUTBOX_EXPIRY_EVERY_S = 600.0

_CLIENT_ID = Arg("client_id", "s")
_PROJECT_ID = Arg("project_id", "s", optional=True)


class DawDoor:
    """DAW requests, context, spool and outbox; mixed into the daemon, which provides the attributes below."""

    config: Config
    port: int | None
    state_dir: Path
    jobs_dir: Path
    guard: PathGuard
    limiter: RateLimiter
    spool_dir: Path
    outbox: Outbox
    daw_clients: DawClients
    daw_context: dict[str, float] | None
    _store: JobStore | None
    _spool_stuck: set[str]
    _next_heartbeat: float
    _next_expiry: float

    if TYPE_CHECKING:  # provided by the daemon
        def _send(self, addr: Addr, data: bytes) -> None: ...
        def _job_params(self, options: dict[str, Any], req_id: str, *, daw_tag: dict[str, Any] | None = None,
                        **params: Any) -> dict[str, Any]: ...
        def _submit(self, kind: str, params: dict[str, Any], req_id: str, addr: Addr | None, *, client: str,
                    source: str = "osc", slot: int | None = None) -> Job: ...
        def _live_tempo(self, bpm: float, numerator: int, denominator: int) -> None: ...
        def submit_generate(self, prompt: str, lyrics: str, options: dict[str, Any], req_id: str, addr: Addr | None,
                            *, client: str, source: str = "osc", daw_tag: dict[str, Any] | None = None) -> Job: ...
        def submit_audio(self, kind: str, path_text: str, options: dict[str, Any], req_id: str, addr: Addr | None,
                         *, client: str, source: str = "osc", daw_tag: dict[str, Any] | None = None) -> Job: ...

    # -- DAW clients and their context ----------------------------------------------------------
    def set_daw_context(self, bpm: Any, numerator: Any, denominator: Any, cursor_s: Any, *,
                        client_id: str | None = None, project_id: str | None = None,
                        project_path: str | None = None, addr: Addr | None = None, req_id: str = "") -> DawContext:
        """Record a DAW's tempo, metre and cursor (OSC ``/mage/daw/context`` or a spool ``context``)."""
        bpm, numerator, denominator, cursor_s = daw.check_context(bpm, numerator, denominator, cursor_s, req_id)
        ctx = DawContext(bpm, numerator, denominator, cursor_s, time.time(), client_id, project_id, project_path)
        self.daw_context = {**ctx.to_dict()}
        self._live_tempo(ctx.bpm, ctx.numerator, ctx.denominator)
        if client_id is not None:
            self.daw_clients.report(ctx, addr, req_id)
        return ctx

    @osc.handles("/mage/daw/context", Arg("bpm", "f"), Arg("numerator", "i"), Arg("denominator", "i"),
                 Arg("cursor_s", "f"), Arg("client_id", "s", optional=True), _PROJECT_ID,
                 Arg("project_path", "s", optional=True), id_arg=None,
                 answer="/mage/daw/context/ack f:bpm i:numerator i:denominator f:cursor_s")
    def _daw_context(self, req: Request, addr: Addr) -> None:
        a = req.args
        client_id = a.get("client_id") or None
        if client_id is not None:
            client_id = daw.check_client_id(client_id)
        ctx = self.set_daw_context(a["bpm"], a["numerator"], a["denominator"], a["cursor_s"], client_id=client_id,
                                   project_id=daw.check_project(a.get("project_id"), "project_id"),
                                   project_path=daw.check_project(a.get("project_path"), "project_path"), addr=addr)
        self._send(addr, osc.encode("/mage/daw/context/ack", ctx.bpm, ctx.numerator, ctx.denominator, ctx.cursor_s))

    @osc.handles("/mage/daw/replay", _CLIENT_ID, _PROJECT_ID, id_arg=None,
                 answer="/mage/daw/replayed s:client_id i:count")
    def _daw_replay(self, req: Request, addr: Addr) -> None:
        """Send a (re)connecting DAW the results it has not acknowledged, oldest first."""
        client_id = daw.check_client_id(req.args["client_id"])
        project_id = daw.check_project(req.args.get("project_id"), "project_id")
        self.daw_clients.set_addr(client_id, addr, time.time())
        records = self.outbox.pending(client_id, project_id)
        for record in records:
            job_id = str(record.get("job_id") or record.get("req_id") or "")
            if record.get("event") == "done":
                tag = {"client_id": client_id, "project_id": record.get("project_id")}
                self._send(addr, osc.encode("/mage/job/done", job_id, str(record.get("manifest") or ""),
                                            daw.placement_json(tag, record.get("placement"))))
            else:
                self._send(addr, osc.encode("/mage/job/failed", job_id, str(record.get("code") or record.get("event")),
                                            str(record.get("message") or "")))
        log.log(logging.INFO if records else logging.DEBUG, "DAW client %s (project %r) caught up: %d result(s) "
                "replayed", client_id, project_id, len(records))
        self._send(addr, osc.encode("/mage/daw/replayed", client_id, len(records)))

    @osc.handles("/mage/daw/bye", _CLIENT_ID, id_arg=None, answer="/mage/daw/released s:client_id")
    def _daw_bye(self, req: Request, addr: Addr) -> None:
        """A DAW script that stops (Listener off, script reloaded, Live closing) gives its client id back."""
        client_id = daw.check_client_id(req.args["client_id"])
        if self.daw_clients.release(client_id, addr):
            log.info("DAW client %s said goodbye: its address is released", client_id)
        self._send(addr, osc.encode("/mage/daw/released", client_id))

    @osc.handles("/mage/daw/command", _CLIENT_ID, Arg("command", "s"), Arg("options_json", "s", optional=True),
                 id_arg=None, answer="/mage/daw/command/sent s:client_id s:command")
    def _daw_command(self, req: Request, addr: Addr) -> None:
        """Ask a DAW script to act on what is selected in the DAW (see :meth:`relay_daw_command`)."""
        client_id = daw.check_client_id(req.args["client_id"])
        command = req.args["command"]
        self.relay_daw_command(client_id, command, req.args.get("options_json") or "{}")
        self._send(addr, osc.encode("/mage/daw/command/sent", client_id, command))

    def relay_daw_command(self, client_id: str, command: str, options_json: str = "{}") -> None:
        """Send ``/mage/daw/command s:command s:options_json`` to the address DAW ``client_id`` reports its
        context from: an OSC app or a controller cannot see the DAW's selection (Live: repaint the selected
        clip's loop, extend the clip, add a track to it), so the DAW script sends the job itself.
        ``invalid_input`` for a command not in :data:`daw.DAW_COMMANDS`, ``bad_json`` for options that are
        not a JSON object, ``not_found`` when that DAW is not connected over OSC."""
        if command not in daw.DAW_COMMANDS:
            raise RequestError("invalid_input", f"command must be one of {', '.join(daw.DAW_COMMANDS)}, "
                               f"got {command!r}"[:300])
        osc.parse_options(options_json, "")  # a JSON object, or bad_json here rather than in the DAW
        known = self.daw_clients.get(client_id)
        if known is None or known.addr is None:
            raise RequestError("not_found", f"DAW client {client_id!r} is not connected over OSC (its script "
                                            "reports no context to this daemon)")
        self._send(known.addr, osc.encode("/mage/daw/command", command, options_json))
        log.info("command %s relayed to DAW client %s", command, client_id)

    @osc.handles("/mage/daw/ack", _CLIENT_ID, Arg("job_id", "s"), id_arg="job_id", answer="/mage/daw/acked s:job_id")
    def _daw_ack(self, req: Request, addr: Addr) -> None:
        """A DAW has a result: its outbox record is delivered and will not be replayed again."""
        client_id = daw.check_client_id(req.args["client_id"], req.req_id)
        job_id = req.args["job_id"]
        self.daw_clients.check_bound(client_id, addr, time.time(), job_id)
        if not self.outbox.ack(client_id, job_id):
            raise RequestError("not_found", f"no undelivered result {job_id!r} for DAW client {client_id!r}", job_id)
        self._send(addr, osc.encode("/mage/daw/acked", job_id))

    def _context_from_request(self, ctx: Any, client_id: str, project_id: str | None, project_path: str | None,
                              req_id: str) -> None:
        """A ``context`` object that came with a request (spool file or OSC ``daw`` options).

        The client's OSC address, if it reported one with ``/mage/daw/context``, is kept: a one-shot
        request socket is not where a DAW listens for events.
        """
        if not isinstance(ctx, dict):
            raise RequestError("invalid_input", f"context must be an object, got {ctx!r}"[:300], req_id)
        self.set_daw_context(ctx.get("bpm"), ctx.get("numerator"), ctx.get("denominator"), ctx.get("cursor_s"),
                             client_id=client_id, project_id=project_id, project_path=project_path,
                             req_id=req_id)

    def _daw_tag(self, req_id: str, client_id: str, project_id: str | None, project_path: str | None,
                 position: Any) -> dict[str, Any]:
        """Tag a job with the DAW project it belongs to and where its result goes in the timeline."""
        known = self.daw_clients.get(client_id)
        ctx = known.context if known is not None else None
        if position is not None:
            placement = daw.requested(position, ctx, req_id)
        elif ctx is not None:
            placement = daw.next_bar(ctx)
        else:
            placement = {"mode": "cursor", "seconds": None, "beats": None, "bar": None}
        return {"client_id": client_id, "project_id": project_id, "project_path": project_path,
                "placement": placement}

    def _daw_tag_from_options(self, value: Any, req_id: str) -> dict[str, Any]:
        """The ``"daw"`` key of ``options_json``: the fields of a spool request, so a DAW script may send
        a job over OSC or through the spool folder and get the same outbox record either way."""
        if not isinstance(value, dict):
            raise RequestError("invalid_input", f'options "daw" must be an object, got {value!r}'[:300], req_id)
        client_id = daw.check_client_id(value.get("client_id"), req_id)
        project_id = daw.check_project(value.get("project_id"), "project_id", req_id)
        project_path = daw.check_project(value.get("project_path"), "project_path", req_id)
        ctx = value.get("context")
        if ctx is not None:
            self._context_from_request(ctx, client_id, project_id, project_path, req_id)
        tag = self._daw_tag(req_id, client_id, project_id, project_path, value.get("position"))
        daw.add_trim(tag["placement"], value, req_id)
        return tag

    # -- jobs for a DAW ----------------------------------------------------------------------------
    def _daw_params(self, options: dict[str, Any], daw_tag: dict[str, Any] | None, req_id: str) -> dict[str, Any]:
        """The parameters that say which DAW a job is for: ``daw_tag`` (a spool request's), the ``"daw"``
        of ``options`` (taken out of them), or for a job no DAW sent (MIDI, OSC, CLI), the DAW that
        reported last, on its next bar; and the context a DAW reported last. ``"daw": false`` in the
        options: the job is for no DAW (the panel's "library only")."""
        for_no_daw = options.get("daw") is False
        if for_no_daw:
            del options["daw"]
        elif "daw" in options:  # an OSC DAW client tags its own job: {"client_id", "project_id", "position"}
            daw_tag = self._daw_tag_from_options(options.pop("daw"), req_id)
        params: dict[str, Any] = {}
        if self.daw_context is not None:
            params["daw_context"] = dict(self.daw_context)
        ctx = self.daw_clients.latest() if daw_tag is None and not for_no_daw else None
        if ctx is not None:
            daw_tag = {"client_id": ctx.client_id, "project_id": ctx.project_id, "project_path": ctx.project_path,
                       "placement": daw.next_bar(ctx)}
        if daw_tag is not None:
            params["daw"] = daw_tag
        return params

    def _for_project(self, params: dict[str, Any]) -> None:
        """A generate job for a DAW is made at its project's tempo and metre, in whole bars."""
        tag = params.get("daw")
        known = self.daw_clients.get(tag.get("client_id")) if isinstance(tag, dict) else None
        if known is not None:
            params["project"] = known.context.project()

    def _resolve_audio(self, path_text: str, tag: Any) -> tuple[Path, Path | None]:
        """An input file under the allowed roots or, for a DAW's job, an audio file of its own project folder.

        Returns the resolved file and the project folder it was allowed from (``None``: the roots).
        """
        try:
            return self.guard.resolve_file(path_text), None
        except MageError as refused:
            folder = daw.project_media_folder(tag.get("project_path")) if isinstance(tag, dict) else None
            if folder is None:
                raise
            try:
                path = PathGuard((folder,)).resolve_file(path_text)
            except MageError:
                raise refused from None
            if path.suffix.lower() not in daw.MEDIA_SUFFIXES:
                raise PathNotAllowedError(
                    f"{path_text!r} is in the project folder {str(folder)!r} but is not an audio file "
                    f"({', '.join(sorted(daw.MEDIA_SUFFIXES))})") from None
            return path, folder

    # -- the spool folder in, the outbox out, the heartbeat -----------------------------------------
    def _daw_tick(self) -> None:
        """Every tick: the heartbeat file and stale clients (each :data:`daw.HEARTBEAT_S`), expired
        outbox records (each :data:`OUTBOX_EXPIRY_EVERY_S`), and the spool folder."""
        try:
            now = time.monotonic()
            if now >= self._next_heartbeat:
                self._next_heartbeat = now + daw.HEARTBEAT_S
                write_json_atomic(self.state_dir / daw.HEARTBEAT_NAME, daw.heartbeat(
                    pid=os.getpid(), port=self.port, version=__version__, state_dir=self.state_dir,
                    jobs_dir=self.jobs_dir))
                for ctx in self.daw_clients.forget_stale(time.time()):
                    log.info("DAW client %s (project %r) sent nothing for %d s: forgotten, jobs from controllers "
                             "no longer go to it", ctx.client_id, ctx.project_id,
                             self.config.server.daw_client_timeout_s)
            if now >= self._next_expiry:
                self._next_expiry = now + OUTBOX_EXPIRY_EVERY_S
                self.outbox.expire()
            self.poll_spool()
        except Exception:  # the door must keep turning: log and try again next tick
            log.exception("spool/heartbeat tick failed")

    def _remove_heartbeat(self) -> None:
        try:
            (self.state_dir / daw.HEARTBEAT_NAME).unlink()
        except OSError:
            pass

    def poll_spool(self) -> int:
        """Take up to :data:`daw.MAX_SPOOL_PER_POLL` spool files, oldest first; returns how many.

        An entry that is not a regular file (a FIFO, a folder, a device) is never opened: it is
        moved to ``rejected/`` with the reason, like a bad request.
        """
        entries: list[tuple[float, str, Path]] = []
        try:
            for e in os.scandir(self.spool_dir):
                if not e.name.endswith(".json") or e.name.startswith(".") or e.name in self._spool_stuck:
                    continue
                try:
                    regular = e.is_file(follow_symlinks=False)
                    mtime = e.stat(follow_symlinks=False).st_mtime
                except OSError:  # gone between the listing and the look: the next poll knows
                    continue
                if not regular:
                    self._reject_spool(Path(e.path), None, "bad_arguments",
                                       f"spool entry {e.name!r} is {daw.describe_entry(e)}, not a regular file", "")
                    continue
                entries.append((mtime, e.name, Path(e.path)))
        except OSError as e:
            log.warning("cannot read the spool folder %s: %s", self.spool_dir, e)
            return 0
        entries.sort()
        for mtime, _, path in entries[:daw.MAX_SPOOL_PER_POLL]:
            self._spool_file(path, mtime)
        return min(len(entries), daw.MAX_SPOOL_PER_POLL)

    def _spool_file(self, path: Path, mtime: float) -> None:
        data: Any = None
        try:
            data = daw.read_spool_file(path)
            req = daw.parse_spool(path, data)
            self._spool_request(req)
        except RequestError as e:
            if e.code == "bad_json" and time.time() - mtime < daw.SPOOL_WRITE_GRACE_S:
                return  # a writer that does not rename into place may still be writing: look again
            self._reject_spool(path, data, e.code, str(e), e.req_id)
            return
        except MageError as e:
            self._reject_spool(path, data, e.code, str(e), "")
            return
        except Exception as e:  # a bug costs one rejected file, never the daemon
            log.exception("spool file %s failed", path.name)
            self._reject_spool(path, data, "internal", f"{type(e).__name__}: {e}", "")
            return
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            log.error("cannot remove the spool file %s after queueing it: %s", path, e)
            self._spool_stuck.add(path.name)

    def _spool_request(self, req: SpoolRequest) -> None:
        d = req.data
        ctx = d.get("context")
        if ctx is not None:
            self._context_from_request(ctx, req.client_id, req.project_id, req.project_path, req.req_id)
        if req.kind == "context":
            return
        assert self._store is not None
        earlier = self._store.find_daw_request(req.client_id, req.req_id)
        if earlier is not None:  # the script's OSC send got through after all: one request, one job
            log.info("spool %s from %s repeats req %r: already job %s, not queued again", req.path.name,
                     req.client_id, req.req_id, earlier.id)
            return
        client = f"daw:{req.client_id}"
        options = d.get("options", {})
        if not isinstance(options, dict):
            raise RequestError("bad_json", f"options must be a JSON object, got {type(options).__name__}", req.req_id)
        tag = self._daw_tag(req.req_id, req.client_id, req.project_id, req.project_path, d.get("position"))
        daw.add_trim(tag["placement"], d, req.req_id)
        source = f"spool:{req.client_id}"
        if req.kind == "generate":
            prompt, lyrics = d.get("prompt"), d.get("lyrics") or ""
            if not isinstance(prompt, str) or not isinstance(lyrics, str):
                raise RequestError("bad_arguments", "prompt and lyrics must be strings", req.req_id)
            job = self.submit_generate(prompt, lyrics, options, req.req_id, None, client=client, source=source,
                                       daw_tag=tag)
        elif req.kind in TEST_JOB_KINDS:  # only with MAGE_TEST_JOBS=1 (checked by parse_spool)
            job = self._submit(req.kind, self._job_params(options, req.req_id, daw_tag=tag), req.req_id, None,
                               client=client, source=source)
        else:
            audio_path = d.get("audio_path")
            if not isinstance(audio_path, str):
                raise RequestError("bad_arguments", f"audio_path must be a string, got {audio_path!r}"[:300],
                                   req.req_id)
            job = self.submit_audio(req.kind, audio_path, options, req.req_id, None, client=client, source=source,
                                    daw_tag=tag)
        log.info("spool %s from %s: job %s (%s)", req.path.name, req.client_id, job.id, req.kind)

    def _reject_spool(self, path: Path, data: Any, code: str, message: str, req_id: str) -> None:
        log.warning("spool file %s rejected: %s: %s", path.name, code, message)
        try:
            daw.reject_spool_file(path, code, message)
        except OSError as e:
            log.error("cannot move the rejected spool file %s: %s", path, e)
            self._spool_stuck.add(path.name)
        client_id = daw.client_id_of(data)
        if client_id is None:
            return
        if not req_id and isinstance(data, dict) and isinstance(data.get("req_id"), str):
            req_id = data["req_id"][:osc.MAX_ID_CHARS]
        req_id = req_id or path.stem
        record = daw.outbox_event(
            "rejected", client_id=client_id, req_id=req_id, kind=data.get("kind") if isinstance(
                data.get("kind"), str) else None,
            project_id=data.get("project_id") if isinstance(data.get("project_id"), str) else None,
            code=code, message=message)
        self.outbox.write(client_id, f"req-{daw.safe_name(req_id)}.json", record)

    def _to_outbox(self, job: Job, placement: dict[str, Any] | None = None) -> None:
        """A DAW-tagged job has ended: tell its DAW through ``outbox/<client_id>/<job_id>.json``."""
        tag = job.params.get("daw")
        if not isinstance(tag, dict) or not job.finished_state:
            return
        client_id = daw.client_id_of(tag)
        if client_id is None:
            return
        record = daw.outbox_event(
            job.state, client_id=client_id, req_id=job.req_id, job_id=job.id, kind=job.kind,
            project_id=tag.get("project_id"), project_path=tag.get("project_path"),
            manifest=job.result if job.state == "done" else None,
            placement=placement if placement is not None else tag.get("placement"),
            code=job.error_code, message=job.error_message)
        self.outbox.write(client_id, f"{daw.safe_name(job.id)}.json", record)

    def _done_placement(self, job: Job) -> dict[str, Any] | None:
        """Where a finished DAW job's result goes, now that its manifest tells the lead-in and tempo."""
        tag = job.params.get("daw")
        if not isinstance(tag, dict) or not isinstance(tag.get("placement"), dict):
            return None
        manifest: Any = None
        try:
            manifest = json.loads(Path(job.result or "").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            log.warning("job %s: cannot read its manifest for the placement: %s", job.id, e)
        return daw.final_placement(tag["placement"], job.kind, manifest if isinstance(manifest, dict) else None)
