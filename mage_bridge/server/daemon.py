"""The daemon: one asyncio loop serving OSC (and MIDI), a SQLite queue, worker processes.

The loop only parses, checks, answers and bookkeeps; heavy work runs in
:mod:`.workers`. A ping never waits for a model. Replies go to the sender;
job events (accepted, progress, done, failed) go to the client that submitted
the job and to every ``/mage/subscribe``-d port. The contract is ``docs/osc.md``.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mage_bridge import __version__
from mage_bridge.config import Config
from mage_bridge.errors import ConfigError, MageError, failure_code, failure_message
from mage_bridge.server import daw, osc
from mage_bridge.server.jobs import DONE, FAILED, RUNNING, Job, JobNotFoundError, JobStore
from mage_bridge.server.kinds import TEST_JOB_KINDS, test_jobs_enabled
from mage_bridge.server.midi import Action, MidiDoor, MidiMap, MidiUnavailableError
from mage_bridge.server.osc import Request, RequestError
from mage_bridge.server.daw_door import DawDoor
from mage_bridge.server.handshake import AddressCheck, fits
from mage_bridge.server.outbox import Outbox
from mage_bridge.server.subscribers import MAX_SUBSCRIBERS, Subscribers
from mage_bridge.server.security import ClientAllowlist, PathGuard, RateLimiter, RequestPolicy, is_loopback_host
from mage_bridge.server.workers import WorkerHandle, WorkerPool, describe_exit, wait_for_orphans
from mage_bridge.files import remove_staging, staging_targets, write_json_atomic

log = logging.getLogger("mage_bridge.server")

DB_NAME = "jobs.sqlite3"
INFO_NAME = "daemon.json"
#: The subscribers' leases, kept so that a restarted daemon still tells them how jobs ended.
SUBSCRIBERS_NAME = "subscribers.json"
#: Every worker holds this lock (shared) while it lives; a starting daemon waits for it.
WORKERS_LOCK_NAME = "workers.lock"
#: An OSC app's request id names one job for this long (seconds): a retry within it gets that job.
REQUEST_ID_MEMORY_S = 600.0
#: DAW requests have ``max_queue // DAW_RESERVE_PART`` queue places no other client may take.
DAW_RESERVE_PART = 8
#: Seconds between two sweeps of the outbox for expired records.
OUTBOX_EXPIRY_EVERY_S = 600.0

Addr = tuple[str, int]


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


class Daemon(DawDoor):
    """``Daemon(config).run()`` serves until SIGINT/SIGTERM, then stops cleanly."""

    def __init__(self, config: Config, *, midi_map: MidiMap | None = None) -> None:
        self.config = config
        sc = config.server
        if not is_loopback_host(sc.host) and not (sc.allow_remote and sc.allow_clients):
            raise ConfigError(
                f"refusing to listen on {sc.host!r}: a non-loopback address needs server.allow_remote = true "
                "(serve --allow-remote) and a non-empty server.allow_clients allowlist"
            )
        if not 0 <= sc.port <= 65535:
            raise ConfigError(f"server.port must be from 0 to 65535, got {sc.port!r}")
        if sc.max_queue < 1:
            raise ConfigError(f"server.max_queue must be at least 1, got {sc.max_queue!r}")
        self.state_dir = Path(config.resolved_state_dir).expanduser().absolute()
        self.jobs_dir = Path(sc.jobs_dir or self.state_dir / "jobs").expanduser().absolute()
        self.spool_dir = self.state_dir / daw.SPOOL_DIR
        self.outbox_dir = self.state_dir / daw.OUTBOX_DIR
        self.guard = PathGuard((config.data_dir, *config.allowed_roots, self.jobs_dir))
        self.policy = RequestPolicy.from_config(config, self.guard.roots)
        self.allowlist = ClientAllowlist(sc.allow_clients)
        self.limiter = RateLimiter(per_minute=sc.rate_per_minute, burst=sc.rate_burst)
        if midi_map is None and sc.midi_map is not None:
            midi_map = MidiMap.load(sc.midi_map)
        self.midi_map = midi_map
        self.port: int | None = None
        #: Proves the user's own CLI (it reads ``daemon.json``): it may act on any job.
        self.token = secrets.token_hex(16)
        self._specs = {**osc.SPECS, **(osc.TEST_SPECS if test_jobs_enabled() else {})}
        self._handlers: dict[str, Callable[[Request, Addr], None]] = {
            "/mage/ping": self._ping,
            "/mage/generate": self._generate,
            "/mage/separate": self._audio_job,
            "/mage/enhance": self._audio_job,
            "/mage/master": self._audio_job,
            "/mage/job/cancel": self._cancel,
            "/mage/job/status": self._status,
            "/mage/subscribe": self._subscribe,
            "/mage/unsubscribe": self._unsubscribe,
            "/mage/trigger": self._trigger,
            "/mage/daw/context": self._daw_context,
            "/mage/daw/replay": self._daw_replay,
            "/mage/daw/ack": self._daw_ack,
            "/mage/daw/bye": self._daw_bye,
            "/mage/verify": self._verify,
            "/mage/test/job": self._test_job,
        }
        self._subscribers = Subscribers(self.state_dir / SUBSCRIBERS_NAME, lease_s=sc.subscription_lease_s,
                                        allows=self.allowlist.allows)
        self._progress: dict[str, tuple[str, float]] = {}
        self._leds: dict[str, int] = {}
        self._slot_jobs: list[tuple[str, int]] = []
        self.daw_context: dict[str, float] | None = None
        for key in ("daw_client_timeout_s", "outbox_keep_days", "subscription_lease_s"):
            if getattr(sc, key) < 1:
                raise ConfigError(f"server.{key} must be at least 1, got {getattr(sc, key)!r}")
        #: DAW clients that reported a context with a client id: their context and OSC address (if any).
        #: The one that reported last gets the jobs no DAW sent (MIDI, OSC, CLI), on its next bar.
        self.daw_clients = daw.DawClients(limit=MAX_SUBSCRIBERS, stale_s=sc.daw_client_timeout_s)
        self.outbox = Outbox(self.outbox_dir, keep_s=sc.outbox_keep_days * 86400.0)
        self._next_expiry = 0.0
        self._spool_stuck: set[str] = set()
        self._tick_handle: asyncio.TimerHandle | None = None
        self._next_heartbeat = 0.0
        self._stopping = False
        self._grace_deadline = 0.0
        self._dropped: dict[str, int] = {}
        self.handshake = AddressCheck()
        self._sock: socket.socket | None = None
        self._store: JobStore | None = None
        self._pool: WorkerPool | None = None
        self._door: MidiDoor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._lock_fd: int | None = None
        #: Jobs whose end could not be committed (a full disk): job id -> (code, message) to fail it with.
        self._unrecorded: dict[str, tuple[str, str]] = {}
        #: Jobs whose end was told but could not be marked as told (retried, or told again at the next start).
        self._unmarked: set[str] = set()
        self._pump_due = False

    # -- life cycle --------------------------------------------------------------------------
    def run(self) -> int:
        """Serve until a stop signal; returns the process exit status."""
        asyncio.run(self._main())
        return 0

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        (self.spool_dir / daw.REJECTED_DIR).mkdir(parents=True, exist_ok=True)
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._store = JobStore(self.state_dir / DB_NAME)
            workers_lock = self.state_dir / WORKERS_LOCK_NAME
            if not wait_for_orphans(workers_lock):
                raise MageError(f"workers of an earlier daemon still hold {str(workers_lock)!r}; "
                                "end them (they leave within a second of their daemon) and start again")
            requeued, failed = self._store.recover()
            for job in requeued:
                log.warning("job %s was interrupted by a daemon stop; re-queued once", job.id)
            for job in failed:
                log.error("job %s failed: %s", job.id, job.error_message)
            self._sweep_staging()
            self._subscribers.load()
            waiting = self._store.count("queued")
            self._open_socket()
            self._announce_unannounced()  # ends recorded while no socket was open (recovery, a kill -9)
            self._open_midi()
            self._pool = WorkerPool(size=self.config.server.workers, config=self.config, loop=self._loop,
                                    on_message=self._worker_message, on_exit=self._worker_exit,
                                    on_ready=self._pump, lock_path=workers_lock)
            self._pool.start()
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._loop.add_signal_handler(sig, self._request_stop, sig)
            self._write_info()
            self._tick()
            log.info("MAGE Bridge %s listening on %s:%d (OSC/UDP); %d worker(s); %d job(s) waiting; state in %s",
                     __version__, self.config.server.host, self.port, self.config.server.workers, waiting,
                     self.state_dir)
            self._pump()
            await self._stop.wait()
            await self._shutdown()
        finally:
            self._close()

    # -- start-up: what a stopped or killed daemon left -------------------------------------------
    def _sweep_staging(self) -> None:
        """Remove the staging folders of this queue's jobs from the jobs folder (a killed worker cannot).

        Runs before any worker starts and after the workers of an earlier daemon are gone, so nothing
        writes into them. Folders whose target is not one of this queue's jobs are left alone.
        """
        assert self._store is not None
        removed = 0
        for target, paths in staging_targets(self.jobs_dir).items():
            try:
                self._store.get(target)
            except JobNotFoundError:
                continue
            removed += len(remove_staging(self.jobs_dir / target))
        if removed:
            log.info("removed %d staging folder(s) that stopped or killed jobs left in %s", removed, self.jobs_dir)

    def _announce_unannounced(self) -> None:
        """Tell how the jobs ended whose end was recorded while no one could be told."""
        assert self._store is not None
        jobs = self._store.unannounced()
        for job in jobs:
            self._announce_end(job)
        if jobs:
            log.info("told %d job end(s) recorded while the daemon was not listening", len(jobs))

    def _take_lock(self) -> None:
        fd = os.open(self.state_dir / "daemon.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise MageError(f"another mage-bridge daemon is using the state folder {str(self.state_dir)!r}") from None
        self._lock_fd = fd

    def _open_socket(self) -> None:
        sc = self.config.server
        family = socket.AF_INET6 if ":" in sc.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            sock.bind((sc.host, sc.port))
        except OSError as e:
            sock.close()
            raise MageError(f"cannot listen on {sc.host}:{sc.port}: {e.strerror or e}") from e
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]
        assert self._loop is not None
        self._loop.add_reader(sock.fileno(), self._readable)

    def _open_midi(self) -> None:
        if self.midi_map is None:
            log.info("MIDI: no mapping file (server.midi_map / serve --midi-map); the MIDI door stays closed")
            return
        door = MidiDoor(self.midi_map, self._midi_from_thread)
        try:
            log.info("MIDI: %s", door.open())
            self._door = door
        except MidiUnavailableError as e:
            log.warning("%s; the daemon runs without MIDI (OSC /mage/trigger still runs presets)", e)

    def _write_info(self) -> None:
        """``daemon.json``: where the daemon listens, and the token the user's own CLI proves itself with.

        Only the user can read it (0600): a program that can is the user, and may act on any job.
        """
        info = {"pid": os.getpid(), "host": self.config.server.host, "port": self.port,
                "version": __version__, "jobs_dir": str(self.jobs_dir), "token": self.token}
        write_json_atomic(self.state_dir / INFO_NAME, info, indent=None, private=True)

    def _request_stop(self, sig: int) -> None:
        assert self._stop is not None
        if self._stop.is_set():
            log.warning("second %s: stopping now", signal.Signals(sig).name)
            self._grace_deadline = 0.0
            return
        log.info("%s received: stopping", signal.Signals(sig).name)
        self._stopping = True
        self._stop.set()

    async def _shutdown(self) -> None:
        assert self._pool is not None and self._store is not None
        self._stopping = True
        grace = float(self.config.server.shutdown_grace_s)
        self._grace_deadline = time.monotonic() + grace
        busy = [h for h in self._pool.handles if h.job_id]
        if busy:
            log.info("waiting up to %.0f s for %d running job(s) to finish", grace, len(busy))
        while any(h.job_id for h in self._pool.handles) and time.monotonic() < self._grace_deadline:
            await asyncio.sleep(0.05)
        for h in self._pool.handles:
            if h.job_id:
                log.info("job %s still running: it goes back to the queue", h.job_id)
                self._pool.end(h, "requeue")
        await self._pool.close()
        log.info("stopped; %d job(s) wait in the queue for the next start", self._store.count("queued"))

    def _close(self) -> None:
        if self._tick_handle is not None:
            self._tick_handle.cancel()
        try:
            (self.state_dir / daw.HEARTBEAT_NAME).unlink()
        except OSError:
            pass
        if self._door is not None:
            self._door.close()
        if self._sock is not None:
            if self._loop is not None:
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
        if self._store is not None:
            self._store.close()
        try:
            (self.state_dir / INFO_NAME).unlink()
        except OSError:
            pass
        if self._lock_fd is not None:
            os.close(self._lock_fd)

    # -- OSC in ------------------------------------------------------------------------------
    def _readable(self) -> None:
        assert self._sock is not None
        for _ in range(256):  # bounded so one flood cannot starve the workers' pipes
            try:
                data, addr = self._sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                log.debug("recvfrom: %s", e)
                continue
            self.datagram(data, (addr[0], addr[1]))

    def datagram(self, data: bytes, addr: Addr) -> None:
        """Handle one datagram from ``addr``: every message in it gets its reply."""
        if not self.allowlist.allows(addr[0]):
            n = self._dropped[addr[0]] = self._dropped.get(addr[0], 0) + 1
            if n == 1 or n % 1000 == 0:
                log.warning("dropped %d datagram(s) from %s: not in server.allow_clients", n, addr[0])
            return
        if not is_loopback_host(addr[0]):
            if not self.handshake.verified(addr):
                self._unverified(data, addr)
                return
            self.handshake.heard(addr)
        try:
            messages = osc.decode(data)
        except RequestError as e:
            self._send(addr, osc.error(e.req_id, e.code, str(e)))
            return
        for msg in messages:
            self._message(msg.address, msg.params, addr)

    def _unverified(self, data: bytes, addr: Addr) -> None:
        """A remote sender that has not proven its address: only ``/mage/verify`` is acted on, and
        no reply is larger than ``data`` (``handshake.py``), so a forged source gains nothing."""
        def reply(out: bytes) -> None:
            if fits(out, data):
                self._send(addr, out)

        try:
            messages = osc.decode(data)
        except RequestError as e:
            reply(osc.error("", e.code, str(e)))
            return
        for msg in messages:
            params = msg.params
            if msg.address != "/mage/verify" or len(params) != 1 or not isinstance(params[0], str):
                req_id = params[0] if params and isinstance(params[0], str) else ""
                reply(osc.error(req_id[:osc.MAX_ID_CHARS], "unverified", "send /mage/verify first"))
            elif self.handshake.verify(addr, params[0]):
                log.info("%s:%d proved its address", *addr)
                reply(osc.encode("/mage/verified", int(self.handshake.ttl_s)))
                return  # the next datagram is served; the rest of this one was sent unproven
            else:
                reply(osc.encode("/mage/cookie", self.handshake.cookie(addr)))

    def _message(self, address: str, params: list[Any], addr: Addr) -> None:
        if address in osc.REPLY_ADDRESSES:
            log.debug("ignored reply-address message %s from %s:%d", address[:100], *addr)
            return
        req_id = ""
        try:
            req = osc.check(address, params, self._specs)
            req_id = req.req_id
            self._handlers[req.address](req, addr)
        except RequestError as e:
            self._send(addr, osc.error(e.req_id or req_id, e.code, str(e)))
        except MageError as e:
            self._send(addr, osc.error(req_id, e.code, str(e)))
        except Exception as e:  # a full disk or a bug here must cost one reply, not the daemon
            log.exception("request %s from %s:%d failed", address[:100], *addr)
            code = failure_code(e)
            text = ("internal error; the daemon's log has the details" if code == "internal"
                    else failure_message(e, name_file=False))
            self._send(addr, osc.error(req_id, code, text))

    # -- OSC out -----------------------------------------------------------------------------
    def _send(self, addr: Addr, data: bytes) -> None:
        if self._sock is None:
            return
        try:
            self._sock.sendto(data, addr)
        except (BlockingIOError, InterruptedError):
            log.debug("send buffer full; a reply to %s:%d was dropped", *addr)
        except OSError as e:
            log.debug("cannot send to %s:%d: %s", addr[0], addr[1], e)

    def _event(self, job: Job, address: str, *args: str | int | float, extra: Addr | None = None,
               placement: dict[str, Any] | None = None) -> None:
        """Send a job event to its client, its DAW, the subscribers and ``extra`` (each once).

        A DAW-tagged job's ``done`` event carries a third argument: its placement as JSON.
        """
        tag = job.params.get("daw") if isinstance(job.params.get("daw"), dict) else None
        if tag is not None and address == "/mage/job/done":
            args = (*args, daw.placement_json(tag, placement))
        data = osc.encode(address, *args)
        targets: dict[Addr, None] = {}
        if job.client is not None:
            targets[job.client] = None
        if extra is not None:
            targets[extra] = None
        if tag is not None:
            known = self.daw_clients.get(str(tag.get("client_id")))
            if known is not None and known.addr is not None:
                targets[known.addr] = None
        targets.update(dict.fromkeys(self._subscribers))
        for addr in targets:
            self._send(addr, data)

    def _announce_end(self, job: Job, *, extra: Addr | None = None,
                      placement: dict[str, Any] | None = None) -> None:
        """Tell how ``job`` ended, once that is committed: its DAW's outbox record, then ``done`` or
        ``failed`` to its client, its DAW, the subscribers and ``extra``; then mark it told, so a
        restart tells only the ends it never told."""
        assert self._store is not None
        try:
            self._led(job.id, "done" if job.state == DONE else "failed")
            if job.state == DONE:
                if placement is None:
                    placement = self._done_placement(job)
                self._to_outbox(job, placement)
                self._event(job, "/mage/job/done", job.id, job.result or "", extra=extra, placement=placement)
            else:
                self._to_outbox(job)
                self._event(job, "/mage/job/failed", job.id, job.error_code or job.state, job.error_message or "",
                            extra=extra)
        except Exception:  # telling must never stop the daemon; the end itself is on disk
            log.exception("job %s: telling how it ended failed", job.id)
        self._mark_announced(job.id)

    def _mark_announced(self, job_id: str) -> None:
        assert self._store is not None
        try:
            self._store.announced(job_id)
            self._unmarked.discard(job_id)
        except Exception as e:
            if job_id not in self._unmarked:
                log.error("job %s: cannot record that its end was told (%s); trying again", job_id,
                          failure_message(e))
            self._unmarked.add(job_id)

    # -- request handlers --------------------------------------------------------------------
    def _ping(self, req: Request, addr: Addr) -> None:
        self._send(addr, osc.encode("/mage/pong", req.req_id, __version__))

    def _generate(self, req: Request, addr: Addr) -> None:
        a = req.args
        options = osc.parse_options(a.get("options_json"), req.req_id)
        key = client_key(addr, options)
        if not self._repeated_request(key, req.req_id, addr):
            self.submit_generate(a["prompt"], a.get("lyrics", ""), options, req.req_id, addr, client=key)

    def _repeated_request(self, key: str, req_id: str, addr: Addr) -> bool:
        """A request this client already sent: answer with that job and its state, queue nothing.

        A client that heard no ``accepted`` in time (a late reply, a daemon killed right after it
        queued the job) sends the same request again; the request id makes it the same job. A DAW's
        request ids name one request for good (it may also come through the spool, in either
        order); an OSC app's are kept for :data:`REQUEST_ID_MEMORY_S`, since many apps reuse them.
        """
        assert self._store is not None
        if key.startswith("daw:"):
            earlier = self._store.find_daw_request(key[4:], req_id)
        else:
            earlier = self._store.find_request(key, req_id, since=time.time() - REQUEST_ID_MEMORY_S)
        if earlier is None:
            return False
        log.info("request %r from %s repeats job %s (%s): not queued again", req_id, key, earlier.id, earlier.state)
        self._send(addr, osc.encode("/mage/job/accepted", req_id, earlier.id, earlier.state))
        return True

    def submit_generate(self, prompt: str, lyrics: str, options: dict[str, Any], req_id: str, addr: Addr | None,
                        *, client: str, source: str = "osc", daw_tag: dict[str, Any] | None = None) -> Job:
        """Check and queue a generate job (the OSC and spool doors both come here)."""
        prompt = osc.check_text("prompt", prompt, osc.MAX_PROMPT_CHARS, req_id)
        lyrics = osc.check_text("lyrics", lyrics, osc.MAX_LYRICS_CHARS, req_id, allow_empty=True)
        params = self._job_params(options, req_id, daw_tag=daw_tag, prompt=prompt, lyrics=lyrics or None)
        self._for_project(params)
        return self._submit("generate", params, req_id, addr, client=client, source=source)

    def _audio_job(self, req: Request, addr: Addr) -> None:
        kind = req.address.rsplit("/", 1)[1]
        options = osc.parse_options(req.args.get("options_json"), req.req_id)
        key = client_key(addr, options)
        if not self._repeated_request(key, req.req_id, addr):
            self.submit_audio(kind, req.args["audio_path"], options, req.req_id, addr, client=key)

    def submit_audio(self, kind: str, path_text: str, options: dict[str, Any], req_id: str, addr: Addr | None,
                     *, client: str, source: str = "osc", daw_tag: dict[str, Any] | None = None) -> Job:
        """Check (path confinement included) and queue a separate/enhance/master job."""
        path_text = osc.check_text("audio_path", path_text, osc.MAX_PATH_CHARS, req_id)
        sent_by_daw = daw_tag is not None or "daw" in options  # not a controller job sent to the last DAW
        params = self._job_params(options, req_id, daw_tag=daw_tag)
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

    def _test_job(self, req: Request, addr: Addr) -> None:
        options = osc.parse_options(req.args.get("options_json"), req.req_id)
        kind = req.args["kind"]
        if kind not in ("sleep", "burn", "crash"):
            raise RequestError("invalid_input", f"test job kind must be sleep, burn or crash, got {kind!r}",
                               req.req_id)
        key = client_key(addr, options)
        if not self._repeated_request(key, req.req_id, addr):
            self._submit(kind, self._job_params(options, req.req_id), req.req_id, addr, client=key)

    def _job_params(self, options: dict[str, Any], req_id: str, *, daw_tag: dict[str, Any] | None = None,
                    **params: Any) -> dict[str, Any]:
        options = dict(options)
        if "daw" in options:  # an OSC DAW client tags its own job: {"client_id", "project_id", "position"}
            daw_tag = self._daw_tag_from_options(options.pop("daw"), req_id)
        seed = options.pop("seed", None)
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
                raise RequestError("invalid_input", f"seed must be an int from 0 to 2**32-1, got {seed!r}", req_id)
            params["seed"] = seed
        params["options"] = options
        if self.daw_context is not None:
            params["daw_context"] = dict(self.daw_context)
        ctx = self.daw_clients.latest() if daw_tag is None else None
        if ctx is not None:
            # Not sent by a DAW (MIDI, OSC, CLI): the DAW that reported last gets it, on its next bar.
            daw_tag = {"client_id": ctx.client_id, "project_id": ctx.project_id, "project_path": ctx.project_path,
                       "placement": daw.next_bar(ctx)}
        if daw_tag is not None:
            params["daw"] = daw_tag
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
            self._slot_jobs = [*self._slot_jobs[-255:], (job.id, slot)]
            note = self.midi_map.led_note(slot) if self.midi_map else None
            if note is not None:
                self._leds[job.id] = note
                self._led(job.id, "queued")
        self._event(job, "/mage/job/accepted", req_id, job.id)
        self._pump()
        return job

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
                self._pool.end(handle, "cancel")
        self._progress.pop(job_id, None)
        log.info("job %s cancelled", job_id)
        self._announce_end(job, extra=addr)  # its staging folder goes when its worker has exited
        return job

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

    def _subscribe(self, req: Request, addr: Addr) -> None:
        port = req.args["port"]
        if not 1 <= port <= 65535:
            raise RequestError("bad_arguments", f"port must be from 1 to 65535, got {port}")
        target = (addr[0], port)
        if port == self.port and is_loopback_host(addr[0]):
            raise RequestError("bad_arguments", f"port {port} is the daemon's own port")
        if not self._subscribers.add(target):
            raise RequestError("too_many_subscribers", f"already {MAX_SUBSCRIBERS} subscribers; unsubscribe one")
        self._send(addr, osc.encode("/mage/subscribed", port, int(self._subscribers.lease_s)))

    def _verify(self, req: Request, addr: Addr) -> None:
        """A verified or local sender asking again: a new cookie, or a renewal with the right one."""
        if is_loopback_host(addr[0]) or self.handshake.verify(addr, req.args["cookie"]):
            self._send(addr, osc.encode("/mage/verified", int(self.handshake.ttl_s)))
        else:
            self._send(addr, osc.encode("/mage/cookie", self.handshake.cookie(addr)))

    def _unsubscribe(self, req: Request, addr: Addr) -> None:
        port = req.args["port"]
        self._subscribers.remove((addr[0], port))
        self._send(addr, osc.encode("/mage/unsubscribed", port))

    def _trigger(self, req: Request, addr: Addr) -> None:
        self.trigger(req.args["slot"], addr, source="osc")

    def trigger(self, slot: int, addr: Addr | None, *, source: str) -> Job:
        """Run the preset of ``slot`` from the mapping file."""
        req_id = f"trigger:{slot}"
        preset = self.midi_map.presets.get(slot) if self.midi_map else None
        if preset is None:
            where = "no mapping file is loaded" if self.midi_map is None else \
                f"the mapping file has slots {sorted(self.midi_map.presets) or 'none'}"
            raise RequestError("not_found", f"no preset in slot {slot}: {where}", req_id)
        options = dict(preset.options)
        if preset.kind == "generate":
            params = self._job_params(options, req_id, prompt=preset.prompt, lyrics=preset.lyrics)
            self._for_project(params)
        elif preset.kind in TEST_JOB_KINDS and test_jobs_enabled():
            params = self._job_params(options, req_id)
        else:
            raise RequestError("not_available", f"preset kind {preset.kind!r} cannot be triggered yet", req_id)
        return self._submit(preset.kind, params, req_id, addr, client=client_key(addr) if addr else source,
                            source=source, slot=slot)

    # -- the DAW door: spool in, outbox out, heartbeat ---------------------------------------
    def _tick(self) -> None:
        """Every :data:`daw.SPOOL_POLL_S`: take spool files; every second: the heartbeat."""
        assert self._loop is not None
        try:  # what a full disk held up: job ends to record, the next job to start, the subscribers' file
            for job_id, (code, message) in list(self._unrecorded.items()):
                self._fail_unrecorded(job_id, code, message)
            for job_id in list(self._unmarked):
                self._mark_announced(job_id)
            if self._pump_due:
                self._pump()
            for host, port in self._subscribers.expire():
                log.info("subscription of %s:%d ended: not renewed within %d s", host, port,
                         self.config.server.subscription_lease_s)
                self._send((host, port), osc.encode("/mage/unsubscribed", port))
            self._subscribers.save()
        except Exception as e:
            log.debug("retry on tick failed: %s", e)
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
        self._tick_handle = self._loop.call_later(daw.SPOOL_POLL_S, self._tick)

    # -- workers -----------------------------------------------------------------------------
    def _pump(self) -> None:
        """Give queued jobs to idle workers (on an error, e.g. a full disk, again on the next tick)."""
        if self._stopping or self._store is None or self._pool is None:
            return
        try:
            while (handle := self._pool.idle()) is not None:
                job = self._store.claim_next()
                if job is None:
                    break
                roots = [str(r) for r in self.guard.roots]
                if job.params.get("media_root"):  # a DAW's own project folder, for this job's input only
                    roots.append(str(job.params["media_root"]))
                self._pool.assign(handle, {
                    "id": job.id, "kind": job.kind, "params": job.params,
                    "out_dir": str(self.jobs_dir / job.id), "roots": roots,
                })
                self._progress[job.id] = ("started", 0.0)
                log.info("job %s (%s) running in worker %d (pid %s), attempt %d",
                         job.id, job.kind, handle.index, handle.pid, job.attempts)
                self._led(job.id, "running")
                self._event(job, "/mage/job/progress", job.id, "started", 0.0)
        except Exception as e:
            if not self._pump_due:
                log.error("cannot start the next job (%s: %s); trying again every %.1f s", failure_code(e),
                          failure_message(e), daw.SPOOL_POLL_S)
            self._pump_due = True
            return
        self._pump_due = False

    def _worker_message(self, handle: WorkerHandle, msg: tuple[Any, ...]) -> None:
        assert self._store is not None
        what, job_id = msg[0], msg[1]
        if job_id != handle.job_id:
            return  # a late word from a job that was cancelled
        if what == "progress":
            stage, fraction = str(msg[2])[:64], float(msg[3])
            self._progress[job_id] = (stage, fraction)
            try:
                self._event(self._store.get(job_id), "/mage/job/progress", job_id, stage, fraction)
            except Exception as e:
                log.warning("job %s: progress not told: %s", job_id, failure_message(e))
            return
        handle.job_id = None
        self._progress.pop(job_id, None)
        if what == "done":
            self._end_job(job_id, result=str(msg[2]))
        else:
            self._end_job(job_id, code=str(msg[2]), message=str(msg[3]))
        self._pump()

    def _worker_exit(self, handle: WorkerHandle, code: int | None) -> None:
        assert self._store is not None
        how = describe_exit(code)
        job_id = handle.job_id
        if job_id is None:
            if handle.ending is None and not self._stopping:
                log.warning("worker %d (pid %s) died while idle: %s", handle.index, handle.pid, how)
            return
        self._progress.pop(job_id, None)
        remove_staging(self.jobs_dir / job_id)  # its writer is dead: what it staged is nobody's
        if handle.ending == "cancel":
            return
        if handle.ending in ("requeue", "stop"):
            try:
                self._store.requeue(job_id, note="re-queued: the daemon stopped while this job ran",
                                    count_attempt=False)
            except Exception as e:  # still `running` on disk: the next start re-queues it as interrupted
                log.error("job %s: cannot put it back in the queue (%s); the next start will", job_id,
                          failure_message(e))
            return
        message = f"the worker process {how} while running this job"  # its pid stays in the log
        log.error("job %s failed: worker %d (pid %s): %s", job_id, handle.index, handle.pid, message)
        self._end_job(job_id, code="worker_crashed", message=message)

    def _end_job(self, job_id: str, *, result: str | None = None, code: str = "failed", message: str = "") -> None:
        """Record that a running job ended (done with ``result``, else failed with ``code``) and tell it.

        Nothing that goes wrong here may leave the job ``running``: an error while recording the end
        (a full disk, a permission lost) fails the job with that error's code (``disk_full``,
        ``permission_denied``, ...), and if even that cannot be written, it is tried again on every tick
        until it can; only a recorded end is told.
        """
        assert self._store is not None
        try:
            if result is not None:
                job = self._store.finish(job_id, result)
            else:
                job = self._store.fail(job_id, code, message)
        except Exception as e:
            reason = failure_code(e)
            text = f"the job ended but its end could not be recorded: {failure_message(e)}"
            log.error("job %s: %s (%s)", job_id, text, reason)
            self._fail_unrecorded(job_id, reason, text)
            return
        if result is None:
            remove_staging(self.jobs_dir / job_id)  # the job is over; its worker takes the next one
        if job.state == (DONE if result is not None else FAILED):  # not a job cancelled meanwhile
            self._announce_end(job)

    def _fail_unrecorded(self, job_id: str, code: str, message: str) -> None:
        assert self._store is not None
        try:
            job = self._store.fail(job_id, code, message)
        except Exception as e:
            if job_id not in self._unrecorded:
                log.error("job %s: cannot record its failure either (%s); trying again every %.1f s", job_id,
                          failure_message(e), daw.SPOOL_POLL_S)
            self._unrecorded[job_id] = (code, message)
            return
        self._unrecorded.pop(job_id, None)
        log.info("job %s failed: %s: %s", job_id, code, message)
        if job.state == FAILED:
            self._announce_end(job)

    # -- MIDI --------------------------------------------------------------------------------
    def _midi_from_thread(self, action: Action) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.midi_action, action)

    def midi_action(self, action: Action) -> None:
        """Run a MIDI action; problems are logged and told to subscribers as ``/mage/error``."""
        req_id = f"midi:{action.name}" + (f":{action.slot}" if action.slot is not None else "")
        try:
            if action.name == "trigger" and action.slot is not None:
                self.trigger(action.slot, None, source="midi")
            elif action.name == "cancel":
                self._midi_cancel(action)
            else:
                raise RequestError("not_available", f"MIDI action {action.name!r} ({action.control}) "
                                   "is reserved for the live player, which this daemon does not run", req_id)
        except MageError as e:
            code = getattr(e, "code", "error")
            log.warning("MIDI %s: %s: %s", action.control, code, e)
            data = osc.error(req_id, code, str(e))
            for addr in self._subscribers:
                self._send(addr, data)
            if action.name == "trigger" and action.note is not None and self._door is not None:
                self._door.led(action.note, "failed")

    def _midi_cancel(self, action: Action) -> None:
        assert self._store is not None
        for job_id, slot in reversed(self._slot_jobs):
            if action.slot is not None and slot != action.slot:
                continue
            if not self._store.get(job_id).finished_state:
                self.cancel(job_id, None)
                return
        raise RequestError("not_found", "no queued or running triggered job to cancel")

    def _led(self, job_id: str, state: str) -> None:
        note = self._leds.get(job_id)
        if note is not None and self._door is not None:
            self._door.led(note, state)
        if state in ("done", "failed"):
            self._leds.pop(job_id, None)
