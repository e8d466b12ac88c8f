"""The daemon: one asyncio loop serving OSC (and MIDI), a SQLite queue, worker processes.

The loop only parses, checks, answers and bookkeeps; heavy work runs in
:mod:`.workers`. A ping never waits for a model. Replies go to the sender;
job events (accepted, progress, done, failed) go to the client that submitted
the job and to every ``/mage/subscribe``-d port. The contract is ``docs/osc.md``.

This module is the daemon's life cycle (start-up, recovery, stop) and the wiring of
its parts, each mixed into :class:`Daemon`: the OSC door (:mod:`.osc_door`), job
requests (:mod:`.requests`), the workers and job ends (:mod:`.scheduler`), the DAW
door (:mod:`.daw_door`), the MIDI door (:mod:`.midi`), the clip library's requests
(:mod:`.library_door`) and the live player (:mod:`.live_door`); the web panel (:mod:`mage_bridge.panel`) is
served from the same loop and hears the same job events (:mod:`.events`). It runs on macOS, Linux
and Windows: the locks are :mod:`.locks`', the event loop is a selector loop
everywhere, and stop signals reach it however the platform delivers them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mage_bridge import __version__
from mage_bridge.config import Config
from mage_bridge.errors import ConfigError, MageError
from mage_bridge.files import write_json_atomic
from mage_bridge.server import daw, osc
from mage_bridge.server.daw_door import DawDoor
from mage_bridge.server.events import JobEvents
from mage_bridge.server.handshake import AddressCheck
from mage_bridge.server.jobs import JobStore
from mage_bridge.server.kinds import test_jobs_enabled
from mage_bridge.server.library_door import LibraryDoor
from mage_bridge.server.live_door import LiveDoor
from mage_bridge.server.locks import WORKER_LOCKS_DIR, take_daemon_lock, wait_for_orphans
from mage_bridge.server.midi import MidiActions, MidiDoor, MidiMap
from mage_bridge.server.osc_door import OscDoor
from mage_bridge.server.outbox import Outbox
from mage_bridge.server.requests import JobRequests
from mage_bridge.server.scheduler import Scheduler
from mage_bridge.server.security import ClientAllowlist, PathGuard, RateLimiter, RequestPolicy, is_loopback_host
from mage_bridge.server.subscribers import MAX_SUBSCRIBERS, Subscribers
from mage_bridge.server.workers import WorkerPool

if TYPE_CHECKING:
    from filelock import BaseFileLock

    from mage_bridge.panel import Panel

log = logging.getLogger("mage_bridge.server")

DB_NAME = "jobs.sqlite3"
INFO_NAME = "daemon.json"
#: The subscribers' leases, kept so that a restarted daemon still tells them how jobs ended.
SUBSCRIBERS_NAME = "subscribers.json"
#: The signals that stop the daemon, those of them this platform has (SIGBREAK: Ctrl-Break on Windows).
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGBREAK") if hasattr(signal, name))


def on_stop_signals(loop: asyncio.AbstractEventLoop, callback: Callable[[int], None]) -> None:
    """Run ``callback(signum)`` in ``loop`` when a :data:`STOP_SIGNALS` signal arrives.

    The loop catches them itself where it can (macOS, Linux); where it cannot (``add_signal_handler``
    raises ``NotImplementedError`` on Windows) Python's own handler hands them to the loop.
    """
    def handler(signum: int, frame: object) -> None:
        loop.call_soon_threadsafe(callback, signum)

    for sig in STOP_SIGNALS:
        try:
            loop.add_signal_handler(sig, callback, sig)
        except NotImplementedError:
            signal.signal(sig, handler)


class Daemon(OscDoor, JobRequests, Scheduler, DawDoor, MidiActions, LibraryDoor, LiveDoor):
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
        if not 0 <= sc.panel_port <= 65535:
            raise ConfigError(f"server.panel_port must be from 0 to 65535, got {sc.panel_port!r}")
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
        #: Opens the web panel (``?token=`` in its URL); a secret of its own, since a URL is shown and kept.
        self.panel_token = secrets.token_urlsafe(32)
        self.panel: Panel | None = None
        #: Every job event, once: the OSC door sends it, the panel pushes it to its pages.
        self.job_events = JobEvents()
        self.job_events.listen(self._send_job_event)
        #: Every request address, declared beside its handler (:func:`.osc.handles`).
        self._routes = osc.routes(self, test_jobs=test_jobs_enabled())
        self._specs = {address: route.spec for address, route in self._routes.items()}
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
        self.live = None
        self._live_led = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._lock: BaseFileLock | None = None
        self._unrecorded: dict[str, tuple[str, str]] = {}
        self._unmarked: set[str] = set()
        self._pump_due = False

    # -- life cycle --------------------------------------------------------------------------
    def run(self, *, on_ready: Callable[[Daemon], None] | None = None) -> int:
        """Serve until a stop signal; returns the process exit status.

        ``on_ready`` is called once every door is open (the CLI prints the panel's URL then).
        The loop is a selector loop on every platform: the socket is watched with ``add_reader``,
        which Windows' default (proactor) loop does not have.
        """
        with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
            runner.run(self._main(on_ready))
        return 0

    @property
    def panel_url(self) -> str | None:
        """The address that opens the panel, its token included; ``None`` while no panel is served."""
        if self.panel is None or self.panel.port is None:
            return None
        return f"http://127.0.0.1:{self.panel.port}/?token={self.panel_token}"

    @property
    def store(self) -> JobStore:
        """The job queue, while the daemon runs (the panel reads it)."""
        if self._store is None:
            raise MageError("the daemon is not running: it has no job queue open")
        return self._store

    def progress_of(self, job_id: str) -> tuple[str, float] | None:
        """The stage a running job reported last and its fraction, if it reported any."""
        return self._progress.get(job_id)

    async def _main(self, on_ready: Callable[[Daemon], None] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self._lock = take_daemon_lock(self.state_dir)
        (self.spool_dir / daw.REJECTED_DIR).mkdir(parents=True, exist_ok=True)
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._store = JobStore(self.state_dir / DB_NAME)
            worker_locks = self.state_dir / WORKER_LOCKS_DIR
            held = wait_for_orphans(worker_locks)
            if held:
                raise MageError(f"workers of an earlier daemon still hold {', '.join(repr(str(p)) for p in held)}; "
                                "end them (they leave within a second of their daemon) and start again")
            requeued, failed = self._store.recover()
            for job in requeued:
                log.warning("job %s was interrupted by a daemon stop; re-queued once", job.id)
            for job in failed:
                log.error("job %s failed: %s", job.id, job.error_message)
            self._sweep_staging()
            self._subscribers.load()
            waiting = self._store.count("queued")
            # the panel first: nothing can reach it before daemon.json publishes its token, and the OSC socket,
            # once open, answers at once, so no await may come between it and daemon.json
            await self._open_panel()
            self._open_socket()
            self._announce_unannounced()  # ends recorded while no socket was open (recovery, a kill -9)
            self._open_midi()
            self._open_live()
            self._pool = WorkerPool(size=self.config.server.workers, config=self.config, loop=self._loop,
                                    on_message=self._worker_message, on_exit=self._worker_exit,
                                    on_ready=self._pump, lock_dir=worker_locks)
            self._pool.start()
            on_stop_signals(self._loop, self._request_stop)
            self._write_info()
            self._tick()
            log.info("MAGE Bridge %s listening on %s:%d (OSC/UDP); %d worker(s); %d job(s) waiting; state in %s",
                     __version__, self.config.server.host, self.port, self.config.server.workers, waiting,
                     self.state_dir)
            if on_ready is not None:
                on_ready(self)
            self._pump()
            await self._stop.wait()
            await self._shutdown()
        finally:
            if self.panel is not None:
                await self.panel.close()
            self._close()

    async def _open_panel(self) -> None:
        """Serve the web panel on 127.0.0.1 (``server.panel``); a port that cannot be had leaves the daemon
        running without it, as a missing MIDI port does, and says so."""
        sc = self.config.server
        if not sc.panel:
            log.info("panel: off (server.panel = false)")
            return
        from mage_bridge.panel import Panel

        panel = Panel(self)
        try:
            await panel.start(sc.panel_port)
        except MageError as e:
            log.error("%s; the daemon runs without its panel", e)
            await panel.close()
            return
        self.panel = panel
        log.info("panel on http://127.0.0.1:%d/ (mage-bridge panel opens it with its token)", panel.port)

    def _write_info(self) -> None:
        """``daemon.json``: where the daemon listens, the token the user's own CLI proves itself with, and
        the panel's URL with its token (what ``mage-bridge panel`` opens).

        Only the user can read it (0600): a program that can is the user, and may act on any job.
        """
        info = {"pid": os.getpid(), "host": self.config.server.host, "port": self.port,
                "version": __version__, "jobs_dir": str(self.jobs_dir), "token": self.token,
                "panel_url": self.panel_url}
        write_json_atomic(self.state_dir / INFO_NAME, info, indent=None, private=True)

    def _tick(self) -> None:
        """Every :data:`daw.SPOOL_POLL_S`: what a full disk held up, subscriptions that ended, the DAW door."""
        assert self._loop is not None
        try:
            self._retry_held_up()
            for host, port in self._subscribers.expire():
                log.info("subscription of %s:%d ended: not renewed within %d s", host, port,
                         self.config.server.subscription_lease_s)
                self._send((host, port), osc.encode("/mage/unsubscribed", port))
            self._subscribers.save()
        except Exception as e:
            log.debug("retry on tick failed: %s", e)
        self._daw_tick()
        self._tick_handle = self._loop.call_later(daw.SPOOL_POLL_S, self._tick)

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
        self._remove_heartbeat()
        self._close_live()
        if self._door is not None:
            self._door.close()
        self._close_socket()
        if self._store is not None:
            self._store.close()
        try:
            (self.state_dir / INFO_NAME).unlink()
        except OSError:
            pass
        if self._lock is not None:
            self._lock.release()
