"""Worker processes: heavy work runs here, never in the daemon's event loop.

Each worker is a ``spawn``-ed process holding one end of a pipe. The daemon
sends it one job at a time; it answers with ``("progress", id, stage,
fraction)`` messages and one ``("done", id, manifest_path)`` or ``("failed",
id, code, message)``. A cancel is cooperative first: the daemon sets the
worker's cancel event, the job's next progress call raises
:class:`~mage_bridge.errors.CancelledError`, the worker answers ``("failed",
id, "cancelled", message)`` and stays alive, with whatever model it keeps warm,
for the next job; a worker that has not answered within :data:`CANCEL_GRACE_S`
(its job never reports progress) is ended and replaced. A worker that dies (a
crash, ``kill -9``, the OOM killer) is noticed through its process sentinel: its job fails with the reason and a
fresh worker takes its place. Workers run at a lower CPU priority (nice, or the
below-normal priority class on Windows) so the daemon's OSC loop stays responsive
while a model runs. Where the event loop can watch pipes (macOS, Linux) the pool
reads each worker's pipe and sentinel in the loop; elsewhere (Windows) one thread
per worker waits on both and hands what comes to the loop.
"""

from __future__ import annotations

import asyncio
import ctypes
import inspect
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Protocol

from mage_bridge.config import Config
from mage_bridge.errors import CancelledError, InvalidInputError, MageError, failure_code, failure_message
from mage_bridge.files import remove_staging
from mage_bridge.server.locks import hold_worker_lock
from mage_bridge.server.security import OUTPUT_FORMATS

log = logging.getLogger("mage_bridge.server.workers")

#: Seconds after which a progress message of the same stage goes through whatever its fraction.
PROGRESS_INTERVAL_S = 0.1
#: A move of the fraction this large goes through at once, so a job of up to 100 steps (a diffusion
#: model's) reports every step; stage changes and the end of a stage always go through.
PROGRESS_STEP = 0.01
#: How long a cancelled job has to stop at its next progress call before its worker is ended.
CANCEL_GRACE_S = 5.0
#: How long a worker gets after SIGTERM before SIGKILL.
TERMINATE_GRACE_S = 2.0
#: Niceness added to worker processes.
WORKER_NICE = 10
#: Windows' BELOW_NORMAL_PRIORITY_CLASS, its counterpart of a positive niceness.
_BELOW_NORMAL_PRIORITY_CLASS = 0x4000


# -- the worker side ---------------------------------------------------------------------------
def worker_main(conn: Connection, config: Config, index: int, lock_dir: str | None = None,
                cancel: EventLike | None = None) -> None:
    """Entry point of a worker process: run jobs from ``conn`` until told to stop.

    ``cancel`` is the event the daemon sets to cancel the running job (see :class:`_Reporter`).
    While it lives the worker holds its lock in ``lock_dir`` (:mod:`.locks`): a daemon that starts
    waits until no such lock is held, so no worker of a killed daemon is still writing into the jobs
    folder when the new one sweeps it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the daemon's to handle
    _die_with_parent()
    # Held until this process ends, however it ends: the system drops it then.
    lock = hold_worker_lock(Path(lock_dir), index) if lock_dir is not None else None  # noqa: F841
    _lower_priority()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format=f"%(asctime)s worker-{index}[%(process)d] %(levelname)s %(message)s")
    _exit_with_parent()
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        _run_job(conn, msg, config, cancel)


def helper_start() -> None:
    """Start of the daemon's other helper processes (the panel's prompt analyser), as a worker starts:
    Ctrl-C is the daemon's, they run below it and end with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    _lower_priority()
    _exit_with_parent()


def _lower_priority() -> None:
    """Run below the daemon: ``nice`` where there is one, the below-normal class on Windows."""
    nice = getattr(os, "nice", None)
    try:
        if nice is not None:
            nice(WORKER_NICE)
        elif sys.platform == "win32":
            kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined,unused-ignore]
            kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), _BELOW_NORMAL_PRIORITY_CLASS)
    except (OSError, AttributeError):
        pass


def _die_with_parent() -> None:
    """On Linux, ask the kernel to SIGKILL this worker the moment the daemon dies (``PR_SET_PDEATHSIG``)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return


def _exit_with_parent() -> None:
    """Leave when the daemon is gone (``kill -9`` of the daemon must not leave orphans running).

    A new parent id says so on macOS and Linux; on Windows a process keeps its parent's id, so the
    parent's process sentinel (from :mod:`multiprocessing`) is asked too.
    """
    parent = os.getppid()
    parent_process = multiprocessing.parent_process() if sys.platform == "win32" else None

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent or (parent_process is not None and not parent_process.is_alive()):
                os._exit(70)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class EventLike(Protocol):
    """What a worker needs of its cancel event (a :func:`multiprocessing.Event`)."""

    def is_set(self) -> bool: ...
    def set(self) -> None: ...
    def clear(self) -> None: ...


class _Reporter:
    """``progress(stage, fraction)`` for a job, sent to the daemon; raises when the job is cancelled.

    A message goes through when the stage changes, the stage ends (1.0), the fraction moved by
    :data:`PROGRESS_STEP` since the last one sent, or :data:`PROGRESS_INTERVAL_S` passed; the rest
    are dropped, so a tight loop cannot flood the pipe. When ``cancel`` is set the call raises
    :class:`~mage_bridge.errors.CancelledError`, so the job stops between two of its steps.
    """

    def __init__(self, conn: Connection, job_id: str, cancel: EventLike | None = None) -> None:
        self._conn = conn
        self._job_id = job_id
        self._cancel = cancel
        self._stage: str | None = None
        self._last = 0.0
        self._fraction = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise CancelledError("cancelled by request")
        try:
            fraction = min(1.0, max(0.0, float(fraction)))
        except (TypeError, ValueError):
            fraction = 0.0
        if fraction != fraction:  # NaN
            fraction = 0.0
        now = time.monotonic()
        stage = str(stage)
        if (stage == self._stage and fraction < 1.0 and now - self._last < PROGRESS_INTERVAL_S
                and abs(fraction - self._fraction) < PROGRESS_STEP - 1e-9):
            return
        self._stage, self._last, self._fraction = stage, now, fraction
        self._conn.send(("progress", self._job_id, stage, fraction))


def _run_job(conn: Connection, msg: dict[str, Any], config: Config, cancel: EventLike | None = None) -> None:
    """Run one job and answer how it ended; a job that stops because it was cancelled answers ``cancelled``."""
    from mage_bridge.server.kinds import job_kind
    from mage_bridge.server.security import PathGuard, RequestPolicy

    job_id = msg["id"]
    try:
        kind = job_kind(msg["kind"])
        func = kind.load()
        params = msg["params"]
        out_dir = Path(msg["out_dir"])
        _clear_leftovers(out_dir, job_id)
        # Every path is checked again right before anything is read: inputs against the allowed
        # folders (a DAW job's project folder included), options against the allowed folders only.
        media_root = params.get("media_root")
        policy = RequestPolicy.from_config(config, [r for r in msg["roots"] if r != media_root])
        guard = PathGuard(Path(r) for r in msg["roots"])
        args: list[Any] = []
        for name in kind.inputs:
            value = params[name]
            if name.endswith("_path"):
                value = policy.check_input(value, guard)
            args.append(value)
        options = policy.check_options(params.get("options") or {},
                                       from_config=params.get("options_from") == "mapping file")
        targets = [] if kind.output == "none" else [_output_target(kind.output, args[0] if args else None, out_dir,
                                                                    options)]
        kwargs = {k: params[k] for k in kind.keywords if params.get(k) is not None}
        kwargs.update(_split_options(func, options))
        if _accepts(func, "job_id"):
            kwargs["job_id"] = job_id
        log.info("job %s (%s) starting", job_id, kind.name)
        result = func(*args, *targets, config=config, progress=_Reporter(conn, job_id, cancel), **kwargs)
        manifest = Path(result)
        if not manifest.is_file():
            raise MageError(f"job {kind.name} returned {str(manifest)!r}, which is not a file")
        conn.send(("done", job_id, str(manifest)))
        log.info("job %s done: %s", job_id, manifest)
    except Exception as e:  # a bug in a stage (or a full disk) must fail its job, not the worker
        code = failure_code(e)
        if cancel is not None and cancel.is_set():  # whatever a stage made of the CancelledError it raised
            code, text = "cancelled", "cancelled by request"
            log.info("job %s stopped: cancelled", job_id)
        elif code == "internal":
            text = failure_message(e)
            log.exception("job %s crashed", job_id)
        else:
            text = failure_message(e)
            log.warning("job %s failed: %s: %s", job_id, code, text)
        conn.send(("failed", job_id, code, _as_sent(text, msg)))
    finally:
        if cancel is not None:
            cancel.clear()  # a cancel that came as the job ended is not the next job's


def _as_sent(message: str, msg: dict[str, Any]) -> str:
    """A failure message for the client: the input named as the client sent it, not where it resolved to.

    The resolved path (a symlink's target, the allowed folder it lies in) stays in the log.
    """
    params = msg.get("params") or {}
    resolved, sent = params.get("audio_path"), params.get("audio_path_sent")
    if isinstance(resolved, str) and isinstance(sent, str) and resolved and resolved != sent:
        message = message.replace(resolved, sent)
    return message


_RESERVED_KWARGS = frozenset({"config", "progress", "job_id", "overwrite", "options", "out_dir", "out_path",
                               "audio_path", "prompt", "lyrics", "seed", "project", "lineage"})


def _output_target(output: str, source: Any, out_dir: Path, options: dict[str, Any]) -> Path:
    """The job folder itself, or a file in it named after the input (``format`` picks its type)."""
    if output == "dir" or (output == "enhance" and Path(str(source)).name == "manifest.json"):
        return out_dir
    fmt = str(options.pop("format", "wav")).lower().lstrip(".")
    if fmt not in OUTPUT_FORMATS:
        raise InvalidInputError(f"format must be one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    name = Path(str(source)).stem or "audio"
    return out_dir / f"{name}-{'master' if output == 'file' else 'enhanced'}.{fmt}"


def _split_options(func: Callable[..., Any], options: dict[str, Any]) -> dict[str, Any]:
    """Options that name a keyword parameter of ``func`` become that keyword; the rest go in ``options``."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return {"options": options}
    out: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for key, value in options.items():
        p = params.get(key)
        if p is not None and key not in _RESERVED_KWARGS and p.kind is inspect.Parameter.KEYWORD_ONLY:
            out[key] = value
        else:
            rest[key] = value
    if "options" in params:
        out["options"] = rest
    elif rest:
        known = sorted(k for k, p in params.items()
                       if p.kind is inspect.Parameter.KEYWORD_ONLY and k not in _RESERVED_KWARGS)
        raise InvalidInputError(f"unknown option(s) {', '.join(sorted(rest))}; known: {', '.join(known)}")
    return out


def _accepts(func: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _clear_leftovers(out_dir: Path, job_id: str) -> None:
    """Remove what an interrupted earlier attempt of this job left in its own job folder."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    remove_staging(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)


# -- the daemon side ---------------------------------------------------------------------------
@dataclass
class WorkerHandle:
    """The daemon's view of one worker process."""

    index: int
    process: BaseProcess
    conn: Connection
    job_id: str | None = None
    #: Why the daemon is ending this worker: "cancel", "requeue" or "stop"; ``None`` if it is not.
    ending: str | None = None
    started: float = field(default_factory=time.monotonic)
    #: Set by the daemon to stop the running job at its next progress call (shared with the worker).
    cancel_event: EventLike | None = None
    #: The running job was cancelled: the worker is stopping it (its progress is no longer told).
    cancelling: bool = False

    @property
    def pid(self) -> int | None:
        return self.process.pid


MessageFn = Callable[[WorkerHandle, tuple[Any, ...]], None]
ExitFn = Callable[[WorkerHandle, int | None], None]


class WorkerPool:
    """``size`` worker processes wired into an asyncio loop through their pipes and sentinels.

    ``watch_in_loop``: whether the loop itself watches them (the default where it can, see
    :func:`loop_watches_pipes`), else one thread per worker does.
    """

    def __init__(self, *, size: int, config: Config, loop: asyncio.AbstractEventLoop,
                 on_message: MessageFn, on_exit: ExitFn, on_ready: Callable[[], None],
                 lock_dir: Path | None = None, watch_in_loop: bool | None = None) -> None:
        if size < 1:
            raise MageError(f"server.workers must be at least 1, got {size!r}")
        self.size = size
        self._config = config
        self._loop = loop
        self._on_message = on_message
        self._on_exit = on_exit
        self._on_ready = on_ready
        self._lock_dir = None if lock_dir is None else str(lock_dir)
        self._watch_in_loop = loop_watches_pipes() if watch_in_loop is None else watch_in_loop
        self._ctx = multiprocessing.get_context("spawn")
        self._workers: dict[int, WorkerHandle] = {}
        self._recent_deaths: list[float] = []
        self._closing = False

    def start(self) -> None:
        for i in range(self.size):
            self._spawn(i)

    @property
    def handles(self) -> list[WorkerHandle]:
        return list(self._workers.values())

    def idle(self) -> WorkerHandle | None:
        for h in self._workers.values():
            if h.job_id is None and h.ending is None and h.process.is_alive():
                return h
        return None

    def handle_for(self, job_id: str) -> WorkerHandle | None:
        for h in self._workers.values():
            if h.job_id == job_id:
                return h
        return None

    def assign(self, handle: WorkerHandle, payload: dict[str, Any]) -> None:
        handle.job_id = payload["id"]
        handle.cancelling = False
        if handle.cancel_event is not None:  # idle now: a cancel set after its last job ended is stale
            handle.cancel_event.clear()
        handle.conn.send(payload)

    def cancel(self, handle: WorkerHandle) -> None:
        """Stop ``handle``'s running job and keep the worker: its next progress call raises, it answers
        ``cancelled`` and takes the next job. One that has not answered within :data:`CANCEL_GRACE_S`
        is ended (:meth:`end` with ``"cancel"``)."""
        job_id = handle.job_id
        if job_id is None or handle.ending is not None:
            return
        handle.cancelling = True
        if handle.cancel_event is None:
            self.end(handle, "cancel")
            return
        handle.cancel_event.set()
        self._loop.call_later(CANCEL_GRACE_S, self._cancel_overdue, handle, job_id)

    def _cancel_overdue(self, handle: WorkerHandle, job_id: str) -> None:
        if handle.job_id == job_id and handle.ending is None and self._workers.get(handle.index) is handle:
            log.warning("job %s did not stop within %.0f s of its cancel; ending worker %d (pid %s)", job_id,
                        CANCEL_GRACE_S, handle.index, handle.pid)
            self.end(handle, "cancel")

    def end(self, handle: WorkerHandle, reason: str) -> None:
        """Stop ``handle``'s process (SIGTERM, then SIGKILL); its exit is reported as usual."""
        handle.ending = reason
        if handle.process.is_alive():
            handle.process.terminate()
            self._loop.call_later(TERMINATE_GRACE_S, self._kill_if_alive, handle)

    def _kill_if_alive(self, handle: WorkerHandle) -> None:
        if handle.process.is_alive():
            handle.process.kill()

    def _spawn(self, index: int) -> None:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        cancel = self._ctx.Event()
        proc = self._ctx.Process(target=worker_main,
                                 args=(child_conn, self._config, index, self._lock_dir, cancel),
                                 name=f"mage-worker-{index}", daemon=True)
        proc.start()
        child_conn.close()
        handle = WorkerHandle(index, proc, parent_conn, cancel_event=cancel)
        self._workers[index] = handle
        if self._watch_in_loop:
            self._loop.add_reader(parent_conn.fileno(), self._readable, handle)
            self._loop.add_reader(proc.sentinel, self._exited, handle)
        else:
            threading.Thread(target=self._watch, args=(handle,), name=f"mage-worker-{index}-watch",
                             daemon=True).start()
        log.info("worker %d started (pid %s)", index, proc.pid)

    def _watch(self, handle: WorkerHandle) -> None:
        """In a thread: hand each message of ``handle`` to the loop, then its exit, in that order."""
        conn, sentinel = handle.conn, handle.process.sentinel
        try:
            while True:
                if conn in wait([conn, sentinel]):  # what it said before it died still counts
                    try:
                        msg = conn.recv()
                    except (EOFError, OSError):  # its end of the pipe is closed: it is leaving
                        wait([sentinel])
                    else:
                        self._loop.call_soon_threadsafe(self._on_message, handle, msg)
                        continue
                self._loop.call_soon_threadsafe(self._exited, handle)
                return
        except RuntimeError:  # the loop is closed: nobody is listening any more
            return

    def _readable(self, handle: WorkerHandle) -> None:
        try:
            while handle.conn.poll():
                self._on_message(handle, handle.conn.recv())
        except (EOFError, OSError):
            self._loop.remove_reader(handle.conn.fileno())

    def _exited(self, handle: WorkerHandle) -> None:
        try:
            if self._watch_in_loop:
                self._loop.remove_reader(handle.process.sentinel)
                self._loop.remove_reader(handle.conn.fileno())
            while handle.conn.poll():  # what it said before it died still counts
                self._on_message(handle, handle.conn.recv())
        except (EOFError, OSError):
            pass
        handle.process.join(timeout=1.0)
        code = handle.process.exitcode
        handle.conn.close()
        if self._workers.get(handle.index) is handle:
            del self._workers[handle.index]
        self._on_exit(handle, code)
        if self._closing:
            return
        now = time.monotonic()
        self._recent_deaths = [t for t in self._recent_deaths if now - t < 10.0] + [now]
        delay = 0.0 if len(self._recent_deaths) <= 3 else min(5.0, 0.5 * len(self._recent_deaths))
        if delay:
            log.warning("workers keep dying (%d in 10 s); next one in %.1f s", len(self._recent_deaths), delay)
        self._loop.call_later(delay, self._respawn, handle.index)

    def _respawn(self, index: int) -> None:
        if self._closing or index in self._workers:
            return
        self._spawn(index)
        self._on_ready()

    async def close(self, timeout_s: float = 5.0) -> None:
        """Ask idle workers to leave, end busy ones; wait for all of them."""
        self._closing = True
        for h in list(self._workers.values()):
            if h.job_id is None and h.ending is None:
                try:
                    h.conn.send(None)
                except OSError:
                    pass
            elif h.ending is None:
                self.end(h, "stop")
        deadline = time.monotonic() + timeout_s
        while self._workers and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for h in list(self._workers.values()):
            h.process.kill()
        while self._workers and time.monotonic() < deadline + 1.0:
            await asyncio.sleep(0.02)


def loop_watches_pipes() -> bool:
    """Whether an asyncio loop here can wait on a pipe and a process sentinel.

    Not on Windows, where the selector loop takes sockets only and the proactor loop no readers.
    """
    return os.name == "posix"


def describe_exit(code: int | None) -> str:
    """``'killed by signal 9 (SIGKILL)'`` or ``'exit code 3'``."""
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {-code} ({name})"
    return f"exit code {code}"
