"""Job requests: checking one, queueing it for its client, and acting on it later (cancel, status).

Every door ends here: an OSC request (its handler below, declared with :func:`~.osc.handles`), a
spool file of a DAW (:mod:`.daw_door`), a preset run by ``/mage/trigger`` or a MIDI control
(:mod:`.midi`). A job belongs to its client (:func:`client_key`): rate limits, queue places and
request ids are per client, and only that client (or the user's own CLI) may cancel a job or ask
about it. The contract is ``docs/osc.md``.
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mage_bridge.config import Config
from mage_bridge.edits import EDIT_KINDS
from mage_bridge.errors import MageError
from mage_bridge.server import daw, osc
from mage_bridge.server.daw import DawClients
from mage_bridge.server.jobs import CANCELLED, FAILED, RUNNING, Job, JobStore
from mage_bridge.server.kinds import TEST_JOB_KINDS
from mage_bridge.server.osc import ACCEPTED, OPTIONS, REQ_ID, Addr, Arg, Request, RequestError, Route
from mage_bridge.server.security import PathGuard, RateLimiter, RequestPolicy
from mage_bridge.server.workers import WorkerPool

log = logging.getLogger("mage_bridge.server")

#: An OSC app's request id names one job for this long (seconds): a retry within it gets that job.
REQUEST_ID_MEMORY_S = 600.0
#: DAW requests have ``max_queue // DAW_RESERVE_PART`` queue places no other client may take.
DAW_RESERVE_PART = 8

_AUDIO_PATH = Arg("audio_path", "s")
_JOB_ID = Arg("job_id", "s")
_TOKEN = Arg("token", "s", optional=True)


def client_key(addr: Addr | None, options: dict[str, Any] | None = None) -> str:
    """Who sent a request: ``daw:<client id>`` for a DAW's request, ``osc:<host>:<port>`` for an OSC app.

    Rate limits, queue places and request ids are per client, so one app cannot lock out another
    (or the DAW) running on the same machine.
    """
    tag = (options or {}).get("daw")
    client_id = daw.client_id_of(tag)
    if client_id is not None:
        return f"daw:{client_id}"
    return f"osc:{addr[0]}:{addr[1]}" if addr is not None else "local"


class JobRequests:
    """Queueing and owning jobs; mixed into the daemon, which provides the attributes below."""

    config: Config
    guard: PathGuard
    policy: RequestPolicy
    limiter: RateLimiter
    token: str
    daw_clients: DawClients
    _store: JobStore | None
    _pool: WorkerPool | None
    _progress: dict[str, tuple[str, float]]
    _stopping: bool

    if TYPE_CHECKING:  # provided by the daemon
        def _send(self, addr: Addr, data: bytes) -> None: ...
        def _event(self, job: Job, address: str, *args: str | int | float, extra: Addr | None = None,
                   placement: dict[str, Any] | None = None) -> None: ...
        def _announce_end(self, job: Job, *, extra: Addr | None = None,
                          placement: dict[str, Any] | None = None) -> None: ...
        def _pump(self) -> None: ...
        def _slot_job_queued(self, job_id: str, slot: int) -> None: ...
        def _for_project(self, params: dict[str, Any]) -> None: ...
        def _resolve_audio(self, path_text: str, tag: Any) -> tuple[Path, Path | None]: ...
        def _daw_params(self, options: dict[str, Any], daw_tag: dict[str, Any] | None,
                        req_id: str) -> dict[str, Any]: ...

    # -- OSC job requests --------------------------------------------------------------------------
    def _job_request(self, route: Route, req: Request, addr: Addr) -> None:
        """A job request over OSC: its options read, its client found, and a request id that client
        used before answered with that job; otherwise its handler queues it."""
        options = osc.parse_options(req.args.get("options_json"), req.req_id)
        key = client_key(addr, options)
        if not self._repeated_request(key, req.req_id, addr):
            route.handler(req, addr, options, key)

    def _repeated_request(self, key: str, req_id: str, addr: Addr) -> bool:
        """A request this client already sent: answer with that job and its state, queue nothing.

        A client that heard no ``accepted`` in time (a late reply, a daemon killed right after it
        queued the job) sends the same request again; the request id makes it the same job. A DAW's
        request ids name one request for good (it may also come through the spool, in either
        order); an OSC app's are kept for :data:`REQUEST_ID_MEMORY_S`, since many apps reuse them.
        """
        earlier = self.earlier_request(key, req_id)
        if earlier is None:
            return False
        log.info("request %r from %s repeats job %s (%s): not queued again", req_id, key, earlier.id, earlier.state)
        self._send(addr, osc.encode("/mage/job/accepted", req_id, earlier.id, earlier.state))
        return True

    def earlier_request(self, key: str, req_id: str) -> Job | None:
        """The job client ``key`` already sent with ``req_id``: for good for a DAW, else within
        :data:`REQUEST_ID_MEMORY_S`."""
        assert self._store is not None
        if key.startswith("daw:"):
            return self._store.find_daw_request(key[4:], req_id)
        return self._store.find_request(key, req_id, since=time.time() - REQUEST_ID_MEMORY_S)

    @osc.handles("/mage/generate", REQ_ID, Arg("prompt", "s"), Arg("lyrics", "s", optional=True), OPTIONS,
                 job=True, answer=ACCEPTED)
    def _generate(self, req: Request, addr: Addr, options: dict[str, Any], client: str) -> None:
        a = req.args
        self.submit_generate(a["prompt"], a.get("lyrics", ""), options, req.req_id, addr, client=client)

    @osc.handles("/mage/lyrics", REQ_ID, Arg("prompt", "s"), Arg("lyrics", "s", optional=True), OPTIONS,
                 job=True, answer=ACCEPTED)
    def _lyrics(self, req: Request, addr: Addr, options: dict[str, Any], client: str) -> None:
        a = req.args
        self.submit_lyrics(a["prompt"], a.get("lyrics", ""), options, req.req_id, addr, client=client)

    @osc.handles("/mage/separate", REQ_ID, _AUDIO_PATH, OPTIONS, job=True, answer=ACCEPTED)
    @osc.handles("/mage/enhance", REQ_ID, _AUDIO_PATH, OPTIONS, job=True, answer=ACCEPTED)
    @osc.handles("/mage/master", REQ_ID, _AUDIO_PATH, OPTIONS, job=True, answer=ACCEPTED)
    @osc.handles("/mage/repaint", REQ_ID, _AUDIO_PATH, OPTIONS, job=True, answer=ACCEPTED)
    @osc.handles("/mage/extend", REQ_ID, _AUDIO_PATH, OPTIONS, job=True, answer=ACCEPTED)
    @osc.handles("/mage/cover", REQ_ID, _AUDIO_PATH, OPTIONS, job=True, answer=ACCEPTED)
    @osc.handles("/mage/lego", REQ_ID, _AUDIO_PATH, OPTIONS, job=True, answer=ACCEPTED)
    @osc.handles("/mage/extract", REQ_ID, _AUDIO_PATH, OPTIONS, job=True, answer=ACCEPTED)
    @osc.handles("/mage/retake", REQ_ID, _AUDIO_PATH, OPTIONS, job=True, answer=ACCEPTED)
    def _audio_job(self, req: Request, addr: Addr, options: dict[str, Any], client: str) -> None:
        kind = req.address.rsplit("/", 1)[1]
        self.submit_audio(kind, req.args["audio_path"], options, req.req_id, addr, client=client)

    @osc.handles("/mage/song/render", REQ_ID, Arg("arrangement", "s"), OPTIONS, job=True, answer=ACCEPTED)
    def _song_render(self, req: Request, addr: Addr, options: dict[str, Any], client: str) -> None:
        self.submit_song_render(req.args["arrangement"], options, req.req_id, addr, client=client)

    @osc.handles("/mage/song/fill", REQ_ID, Arg("focus_path", "s"), OPTIONS, job=True, answer=ACCEPTED)
    def _song_fill(self, req: Request, addr: Addr, options: dict[str, Any], client: str) -> None:
        from mage_bridge.arrange.fill import ROLE_WORDS

        role = options.get("role", "next")
        if role not in ROLE_WORDS:
            raise RequestError("invalid_input", f"role must be one of {', '.join(ROLE_WORDS)}, got {role!r}"[:300],
                               req.req_id)
        self.submit_audio("song_fill", req.args["focus_path"], options, req.req_id, addr, client=client)

    @osc.handles("/mage/test/job", REQ_ID, Arg("kind", "s"), OPTIONS, job=True, test_only=True, answer=ACCEPTED)
    def _test_job(self, req: Request, addr: Addr, options: dict[str, Any], client: str) -> None:
        kind = req.args["kind"]
        if kind not in TEST_JOB_KINDS:
            raise RequestError("invalid_input", f"test job kind must be sleep, burn or crash, got {kind!r}",
                               req.req_id)
        self._submit(kind, self._job_params(options, req.req_id), req.req_id, addr, client=client)

    # -- queueing, from every door -----------------------------------------------------------------
    def submit_generate(self, prompt: str, lyrics: str, options: dict[str, Any], req_id: str, addr: Addr | None,
                        *, client: str, source: str = "osc", daw_tag: dict[str, Any] | None = None) -> Job:
        """Check and queue a generate job (the OSC and spool doors both come here)."""
        prompt = osc.check_text("prompt", prompt, osc.MAX_PROMPT_CHARS, req_id)
        lyrics = osc.check_text("lyrics", lyrics, osc.MAX_LYRICS_CHARS, req_id, allow_empty=True)
        params = self._job_params(options, req_id, daw_tag=daw_tag, prompt=prompt, lyrics=lyrics or None)
        self._for_project(params)
        return self._submit("generate", params, req_id, addr, client=client, source=source)

    def submit_lyrics(self, prompt: str, lyrics: str, options: dict[str, Any], req_id: str, addr: Addr | None,
                      *, client: str, source: str = "osc") -> Job:
        """Check and queue a lyrics job: the prompt and the user's lyrics (``""`` for none) as generate's;
        ``lyrics_mode`` and the clip's options travel in ``options``."""
        prompt = osc.check_text("prompt", prompt, osc.MAX_PROMPT_CHARS, req_id)
        lyrics = osc.check_text("lyrics", lyrics, osc.MAX_LYRICS_CHARS, req_id, allow_empty=True)
        params = self._job_params(options, req_id, prompt=prompt, lyrics=lyrics or None)
        return self._submit("lyrics", params, req_id, addr, client=client, source=source)

    def submit_audio(self, kind: str, path_text: str, options: dict[str, Any], req_id: str, addr: Addr | None,
                     *, client: str, source: str = "osc", daw_tag: dict[str, Any] | None = None) -> Job:
        """Check (path confinement included) and queue a job on an audio file or a clip: separate, enhance,
        master, or one of the edit kinds (:data:`~.kinds.EDIT_KINDS`), whose options are checked here."""
        path_text = osc.check_text("audio_path", path_text, osc.MAX_PATH_CHARS, req_id)
        sent_by_daw = daw_tag is not None or "daw" in options  # not a controller job sent to the last DAW
        params = self._job_params(options, req_id, daw_tag=daw_tag)
        if kind in EDIT_KINDS:
            _edit_params(kind, params, req_id)
        try:
            audio_path, media_root = self._resolve_audio(path_text, params.get("daw") if sent_by_daw else None)
        except MageError as e:
            log.warning("refused /mage/%s from %s: %s", kind, f"{addr[0]}:{addr[1]}" if addr else source, e)
            raise RequestError(e.code, str(e), req_id) from None
        params["audio_path"] = str(audio_path)
        params["audio_path_sent"] = path_text  # what a failure message names, never the resolved path
        if media_root is not None:
            params["media_root"] = str(media_root)
        return self._submit(kind, params, req_id, addr, client=client, source=source)

    def submit_song_render(self, text: str, options: dict[str, Any], req_id: str, addr: Addr | None, *,
                           client: str, source: str = "osc") -> Job:
        """Check and queue a song render: ``text`` is the arrangement's JSON, the id of a song kept in the clip
        library, or the path of a JSON file under the allowed folders. The document is read and checked here,
        so a corrupt one is refused at once; the job carries the document itself, and its clips are found in
        the library (or as folders of ``clips_dir``)."""
        from mage_bridge.arrange.document import ID_PATTERN, MAX_DOCUMENT_BYTES, loads

        inline = text.lstrip().startswith("{")
        text = osc.check_text("arrangement", text, osc.MAX_OPTIONS_CHARS if inline else osc.MAX_PATH_CHARS, req_id)
        try:
            if not inline and ID_PATTERN.fullmatch(text) and not text.lower().endswith(".json"):
                from mage_bridge.library.songs import LibrarySongStore

                song = LibrarySongStore(self.config).load(text)
            else:
                raw = text if inline else self.guard.read_file(text, max_bytes=MAX_DOCUMENT_BYTES)[1]
                song = loads(raw, where="the arrangement" if inline else f"the arrangement {text!r}")
        except MageError as e:
            raise RequestError(e.code, str(e)[:500], req_id) from None
        params = self._job_params(options, req_id, arrangement=song.to_dict())
        return self._submit("song_render", params, req_id, addr, client=client, source=source)

    def _job_params(self, options: dict[str, Any], req_id: str, *, daw_tag: dict[str, Any] | None = None,
                    **params: Any) -> dict[str, Any]:
        """A job's parameters: ``params``, the seed and the other options, and the DAW it is for."""
        options = dict(options)
        for_daw = self._daw_params(options, daw_tag, req_id)
        seed = options.pop("seed", None)
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
                raise RequestError("invalid_input", f"seed must be an int from 0 to 2**32-1, got {seed!r}", req_id)
            params["seed"] = seed
        params["options"] = options
        params.update(for_daw)
        return params

    def _submit(self, kind: str, params: dict[str, Any], req_id: str, addr: Addr | None,
                *, client: str, source: str = "osc", slot: int | None = None) -> Job:
        """Queue a checked job for ``client`` (see :func:`client_key`): rate limit and queue places are per client.

        A DAW's requests have the last eighth of the queue to themselves, so a flood from another
        app cannot keep the DAW out.
        """
        assert self._store is not None
        sc = self.config.server
        if self._stopping:
            raise RequestError("shutting_down", "the daemon is stopping; send the job again after restart", req_id)
        if not self.limiter.allow(client):
            raise RequestError("rate_limited", f"too many job requests from {client} "
                               f"(server.rate_burst={sc.rate_burst}, server.rate_per_minute={sc.rate_per_minute})",
                               req_id)
        if slot is not None:  # a mapping-file preset: the user's own config names these options
            params["options_from"] = "mapping file"
        try:  # every path the request names, on every door; the worker checks again before reading
            self.policy.check_request(params)
        except MageError as e:
            log.warning("refused %s request %r from %s: %s: %s", kind, req_id, client, e.code, e)
            raise RequestError(e.code, str(e), req_id) from None
        try:
            job = self._store.submit(kind, params, req_id=req_id, client=addr, client_key=client, source=source,
                                     max_queue=sc.max_queue, max_per_client=sc.max_queue_per_client,
                                     reserve=0 if client.startswith("daw:") else sc.max_queue // DAW_RESERVE_PART)
        except MageError as e:
            raise RequestError(e.code, str(e), req_id) from None
        log.info("job %s (%s) accepted from %s, req %r", job.id, kind,
                 f"{addr[0]}:{addr[1]}" if addr else source, req_id)
        if slot is not None:
            self._slot_job_queued(job.id, slot)
        self._event(job, "/mage/job/accepted", req_id, job.id)
        self._pump()
        return job

    # -- acting on a job ---------------------------------------------------------------------------
    @osc.handles("/mage/job/cancel", _JOB_ID, _TOKEN, id_arg="job_id",
                 answer='/mage/job/failed s:job_id s:"cancelled" s:message')
    def _cancel(self, req: Request, addr: Addr) -> None:
        assert self._store is not None
        self._check_owner(self._store.get(req.req_id), addr, req.args.get("token"))
        self.cancel(req.req_id, addr)

    def _check_owner(self, job: Job, addr: Addr, token: str | None) -> None:
        """Only the client that sent a job (or the user's own CLI, with the token) may cancel it or ask about it.

        The client is the same OSC app (address and port), or the DAW whose id the job was sent
        under, from the address that holds that id. Subscribers see every event, but act on none.
        """
        if token is not None and secrets.compare_digest(token, self.token):
            return
        key = job.client_key
        if key is not None and key == client_key(addr):
            return
        if key is not None and key.startswith("daw:"):
            known = self.daw_clients.get(key[4:])
            if known is not None and known.addr == addr:
                return
        if key is None and job.client == addr:  # a job queued by an older daemon
            return
        raise RequestError("not_owner", f"job {job.id} was sent by another client; only that client may act on "
                                        "it, or `mage-bridge status` run by this user (with --state-dir if the "
                                        "daemon has one)", job.id)

    def cancel(self, job_id: str, addr: Addr | None) -> Job:
        """Cancel a queued or running job; the event goes to its client, subscribers and ``addr``."""
        assert self._store is not None and self._pool is not None
        job = self._store.get(job_id)
        if job.finished_state:
            raise RequestError("not_cancellable", f"job {job_id} is already {job.state}", job_id)
        was_running = job.state == RUNNING
        job = self._store.cancel(job_id)
        if was_running:
            handle = self._pool.handle_for(job_id)
            if handle is not None:
                self._pool.cancel(handle)
        self._progress.pop(job_id, None)
        log.info("job %s cancelled", job_id)
        # Told once, now: the worker's "cancelled" answer (or its exit after the grace time) frees it
        # and removes the job's staging folder without telling anyone again.
        self._announce_end(job, extra=addr)
        return job

    def resubmit(self, job_id: str, req_id: str, *, client: str, source: str) -> Job:
        """Queue a failed or cancelled job again as it was asked: its kind and parameters (prompt, options,
        seed, the DAW and bar it was for), checked again as a new request of ``client``."""
        assert self._store is not None
        job = self._store.get(job_id)
        if job.state not in (FAILED, CANCELLED):
            raise RequestError("not_retryable", f"job {job_id} is {job.state}; only a failed or cancelled job "
                                                "is tried again", job_id)
        return self._submit(job.kind, dict(job.params), req_id, None, client=client, source=source)

    @osc.handles("/mage/job/status", _JOB_ID, _TOKEN, id_arg="job_id",
                 answer="/mage/job/status s:job_id s:state s:stage f:fraction s:detail")
    def _status(self, req: Request, addr: Addr) -> None:
        assert self._store is not None
        job = self._store.get(req.req_id)
        self._check_owner(job, addr, req.args.get("token"))
        stage, fraction = self._progress.get(job.id, ("", 0.0))
        if job.state == "done":
            stage, fraction, detail = "done", 1.0, job.result or ""
        elif job.finished_state:
            detail = f"{job.error_code}: {job.error_message}"
        else:
            detail = job.note or ""
        self._send(addr, osc.encode("/mage/job/status", job.id, job.state, stage, float(fraction), detail))


def _edit_params(kind: str, params: dict[str, Any], req_id: str) -> None:
    """An edit job's options checked as far as they can be without reading its source (its function
    checks the rest); ``prompt`` and ``lyrics`` move from the options into the job's parameters."""
    from mage_bridge.api.edit import check_edit_options

    options = params["options"]
    for name, limit in (("prompt", osc.MAX_PROMPT_CHARS), ("lyrics", osc.MAX_LYRICS_CHARS)):
        value = options.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise RequestError("invalid_input", f"{name} must be a string, got {type(value).__name__}", req_id)
            osc.check_text(name, value, limit, req_id, allow_empty=name == "lyrics")
    try:
        check_edit_options(kind, {**options, "seed": params.get("seed")})
    except MageError as e:
        raise RequestError(e.code, str(e)[:300], req_id) from None
    for name in ("prompt", "lyrics"):
        value = options.pop(name, None)
        if value is not None:
            params[name] = value
