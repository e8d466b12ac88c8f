"""Running the queue: queued jobs to idle workers, and each job's end recorded, then told once.

A job's end is committed to the queue before anyone hears of it, and marked as told once its
events went out (its DAW's outbox record, ``done`` / ``failed`` to its client, its DAW and the
subscribers). What a full disk holds up (an end that cannot be recorded, a mark that cannot be
written, the next job that cannot start) is tried again on every tick; what a stop or a ``kill
-9`` leaves untold is told at the next start.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mage_bridge.errors import failure_code, failure_message
from mage_bridge.files import remove_staging, staging_targets
from mage_bridge.server import daw
from mage_bridge.server.jobs import DONE, FAILED, Job, JobNotFoundError, JobStore
from mage_bridge.server.osc import Addr
from mage_bridge.server.security import PathGuard
from mage_bridge.server.workers import WorkerHandle, WorkerPool, describe_exit

log = logging.getLogger("mage_bridge.server")


class Scheduler:
    """Workers and job ends; mixed into the daemon, which provides the attributes below."""

    guard: PathGuard
    jobs_dir: Path
    _store: JobStore | None
    _pool: WorkerPool | None
    _progress: dict[str, tuple[str, float]]
    _stopping: bool
    #: Jobs whose end could not be committed (a full disk): job id -> (code, message) to fail it with.
    _unrecorded: dict[str, tuple[str, str]]
    #: Jobs whose end was told but could not be marked as told (retried, or told again at the next start).
    _unmarked: set[str]
    #: The next job could not be started: try again on the next tick.
    _pump_due: bool

    if TYPE_CHECKING:  # provided by the daemon
        def _event(self, job: Job, address: str, *args: str | int | float, extra: Addr | None = None,
                   placement: dict[str, Any] | None = None) -> None: ...
        def _led(self, job_id: str, state: str) -> None: ...
        def _to_outbox(self, job: Job, placement: dict[str, Any] | None = None) -> None: ...
        def _done_placement(self, job: Job) -> dict[str, Any] | None: ...

    # -- start-up: what a stopped or killed daemon left --------------------------------------------
    def _sweep_staging(self) -> None:
        """Remove the staging folders of this queue's jobs from the jobs folder (a killed worker cannot).

        Runs before any worker starts and after the workers of an earlier daemon are gone, so nothing
        writes into them. Folders whose target is not one of this queue's jobs are left alone.
        """
        assert self._store is not None
        removed = 0
        for target in staging_targets(self.jobs_dir):
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

    # -- workers -----------------------------------------------------------------------------------
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
            if handle.cancelling:
                return  # the job was cancelled and told so; its worker is stopping it
            stage, fraction = str(msg[2])[:64], float(msg[3])
            self._progress[job_id] = (stage, fraction)
            try:
                self._event(self._store.get(job_id), "/mage/job/progress", job_id, stage, fraction)
            except Exception as e:
                log.warning("job %s: progress not told: %s", job_id, failure_message(e))
            return
        handle.job_id = None
        handle.cancelling = False
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

    # -- job ends ----------------------------------------------------------------------------------
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

    def _retry_held_up(self) -> None:
        """Try again what a full disk held up: job ends to record or mark as told, the next job to start."""
        for job_id, (code, message) in list(self._unrecorded.items()):
            self._fail_unrecorded(job_id, code, message)
        for job_id in list(self._unmarked):
            self._mark_announced(job_id)
        if self._pump_due:
            self._pump()

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
