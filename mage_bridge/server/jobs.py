"""The persistent job queue: one SQLite file (WAL) in the daemon's state folder.

A job moves ``queued -> running -> done | failed | cancelled``. Every state
change is committed before the daemon tells anyone about it, so an accepted job
survives a crash of the daemon: on the next start :meth:`JobStore.recover`
re-queues a job that was running once (``interrupted``) and fails it the
second time, with the reason.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mage_bridge.errors import InvalidInputError, MageError

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED_STATES = (DONE, FAILED, CANCELLED)

#: How many times a job may be started before an interruption fails it.
MAX_ATTEMPTS = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    req_id        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    params        TEXT NOT NULL,
    state         TEXT NOT NULL,
    source        TEXT NOT NULL DEFAULT 'osc',
    client_host   TEXT,
    client_port   INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created       REAL NOT NULL,
    started       REAL,
    finished      REAL,
    result        TEXT,
    error_code    TEXT,
    error_message TEXT,
    note          TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, seq);
CREATE INDEX IF NOT EXISTS jobs_req ON jobs(req_id);
-- Jobs that have ended but whose done/failed event has not been sent yet (an end recorded while the
-- daemon could not send, e.g. at start-up before its socket is open, or just before a kill -9).
CREATE TABLE IF NOT EXISTS unannounced (job_id TEXT PRIMARY KEY);
"""


class QueueFullError(MageError):
    """The queue holds ``server.max_queue`` waiting jobs already."""

    code = "queue_full"


class JobNotFoundError(MageError, KeyError):
    """No job has this id."""

    code = "not_found"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "job not found"


@dataclass(frozen=True)
class Job:
    """One row of the queue, as the daemon sees it."""

    id: str
    req_id: str
    kind: str
    params: dict[str, Any]
    state: str
    source: str
    client_host: str | None
    client_port: int | None
    attempts: int
    created: float
    started: float | None
    finished: float | None
    result: str | None
    error_code: str | None
    error_message: str | None
    note: str | None
    #: Who sent it (``daw:<id>``, ``osc:<host>:<port>``, ``midi``); None for jobs of an older queue file.
    client_key: str | None = None

    @property
    def client(self) -> tuple[str, int] | None:
        if self.client_host is None or self.client_port is None:
            return None
        return (self.client_host, self.client_port)

    @property
    def finished_state(self) -> bool:
        return self.state in FINISHED_STATES


#: Jobs, oldest first (an alias: inside :class:`JobStore`, ``list`` names its method).
JobList = list[Job]


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


class JobStore:
    """The queue on disk. Use from one thread (the daemon's event loop)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), isolation_level=None, timeout=10.0)
        self._db.row_factory = sqlite3.Row
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise MageError(f"cannot put the job database {str(self.path)!r} in WAL mode (got {mode!r})")
        # FULL: an accepted job is on disk before the client hears "accepted".
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring a queue file written by an older daemon up to this schema (columns are only ever added)."""
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(jobs)")}
        if "client_key" not in columns:
            # Who sent the job, for per-client limits and idempotent request ids: "daw:<client id>",
            # "osc:<host>:<port>", "midi", ... (NULL for jobs queued before the column existed).
            self._db.execute("ALTER TABLE jobs ADD COLUMN client_key TEXT")
        self._db.execute("CREATE INDEX IF NOT EXISTS jobs_client_req ON jobs(client_key, req_id)")

    def close(self) -> None:
        self._db.close()

    # -- reading -----------------------------------------------------------------------------
    def get(self, job_id: str) -> Job:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFoundError(f"no job with id {job_id!r}")
        return _job(row)

    def find_request(self, client_key: str, req_id: str, *, since: float = 0.0) -> Job | None:
        """The job this client already sent with this request id (created after ``since``), if any."""
        row = self._db.execute("SELECT * FROM jobs WHERE client_key = ? AND req_id = ? AND created >= ? "
                               "ORDER BY seq DESC LIMIT 1", (client_key, req_id, since)).fetchone()
        return _job(row) if row is not None else None

    def find_daw_request(self, client_id: str, req_id: str) -> Job | None:
        """The job a DAW client already sent with this request id, if any.

        DAW scripts retry a request through the spool when its OSC reply is late;
        the request id makes the retry the same job, not a second one.
        """
        for row in self._db.execute("SELECT * FROM jobs WHERE req_id = ? ORDER BY seq", (req_id,)):
            job = _job(row)
            tag = job.params.get("daw")
            if isinstance(tag, dict) and tag.get("client_id") == client_id:
                return job
        return None

    def count(self, state: str) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (state,)).fetchone()[0])

    def list(self, state: str | None = None) -> JobList:
        if state is None:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY seq").fetchall()
        else:
            rows = self._db.execute("SELECT * FROM jobs WHERE state = ? ORDER BY seq", (state,)).fetchall()
        return [_job(r) for r in rows]

    def recent(self, limit: int) -> JobList:
        """The ``limit`` most recent jobs, newest first."""
        rows = self._db.execute("SELECT * FROM jobs ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        return [_job(r) for r in rows]

    # -- writing -----------------------------------------------------------------------------
    def submit(
        self,
        kind: str,
        params: dict[str, Any],
        *,
        req_id: str,
        max_queue: int,
        max_per_client: int | None = None,
        client: tuple[str, int] | None = None,
        client_key: str | None = None,
        reserve: int = 0,
        source: str = "osc",
    ) -> Job:
        """Queue a job, or raise :class:`QueueFullError` when the queue is full for it.

        ``max_queue`` jobs may wait in all; a job without priority only while fewer than
        ``max_queue - reserve`` wait (the rest is kept for DAWs), and at most ``max_per_client`` of
        one ``client_key`` (who sent it: a DAW client id, an OSC app's address and port).
        """
        if not kind:
            raise InvalidInputError("job kind must be a non-empty string")
        text = json.dumps(params, sort_keys=True)
        job_id = new_job_id()
        with self._tx():
            waiting = self._db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (QUEUED,)).fetchone()[0]
            if waiting >= max_queue:
                raise QueueFullError(f"the queue is full ({waiting} jobs waiting, server.max_queue={max_queue})")
            if reserve and waiting >= max_queue - reserve:
                raise QueueFullError(f"the queue is full for requests that are not a DAW's ({waiting} jobs waiting; "
                                     f"the last {reserve} of server.max_queue={max_queue} places are kept for DAWs)")
            if client_key is not None and max_per_client is not None:
                mine = self._db.execute("SELECT COUNT(*) FROM jobs WHERE state = ? AND client_key = ?",
                                        (QUEUED, client_key)).fetchone()[0]
                if mine >= max_per_client:
                    raise QueueFullError(f"{client_key} already has {mine} jobs waiting "
                                         f"(server.max_queue_per_client={max_per_client})")
            self._db.execute(
                "INSERT INTO jobs (id, req_id, kind, params, state, source, client_host, client_port, client_key,"
                " created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, req_id, kind, text, QUEUED, source,
                 client[0] if client else None, client[1] if client else None, client_key, time.time()),
            )
        return self.get(job_id)

    def claim_next(self) -> Job | None:
        """Move the oldest queued job to ``running`` (one more attempt) and return it."""
        with self._tx():
            row = self._db.execute(
                "SELECT id FROM jobs WHERE state = ? ORDER BY seq LIMIT 1", (QUEUED,)
            ).fetchone()
            if row is None:
                return None
            self._db.execute(
                "UPDATE jobs SET state = ?, attempts = attempts + 1, started = ? WHERE id = ?",
                (RUNNING, time.time(), row["id"]),
            )
        return self.get(row["id"])

    def finish(self, job_id: str, result: str) -> Job:
        return self._end(job_id, DONE, result=result)

    def fail(self, job_id: str, code: str, message: str) -> Job:
        return self._end(job_id, FAILED, code=code, message=message)

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job; a finished one is returned unchanged."""
        job = self.get(job_id)
        if job.finished_state:
            return job
        return self._end(job_id, CANCELLED, code="cancelled", message="cancelled by request")

    def requeue(self, job_id: str, *, note: str, count_attempt: bool) -> Job:
        """Put a running job back in the queue (at its original place)."""
        with self._tx():
            self._db.execute(
                "UPDATE jobs SET state = ?, note = ?, started = NULL,"
                " attempts = CASE WHEN ? THEN attempts ELSE MAX(attempts - 1, 0) END"
                " WHERE id = ? AND state = ?",
                (QUEUED, note, 1 if count_attempt else 0, job_id, RUNNING),
            )
        return self.get(job_id)

    def unannounced(self) -> JobList:
        """Ended jobs whose done/failed event has not been sent yet, oldest first."""
        rows = self._db.execute("SELECT jobs.* FROM jobs JOIN unannounced ON unannounced.job_id = jobs.id"
                                " ORDER BY jobs.seq").fetchall()
        return [_job(r) for r in rows]

    def announced(self, job_id: str) -> None:
        """The end event of ``job_id`` has been sent (to its client, its DAW's outbox and the subscribers)."""
        self._db.execute("DELETE FROM unannounced WHERE job_id = ?", (job_id,))

    def recover(self) -> tuple[JobList, JobList]:
        """After a crash: re-queue interrupted jobs once, fail the rest. Returns (requeued, failed)."""
        requeued: JobList = []
        failed: JobList = []
        for job in self.list(RUNNING):
            if job.attempts < MAX_ATTEMPTS:
                requeued.append(self.requeue(
                    job.id, note="interrupted: the daemon stopped while this job ran; re-queued once",
                    count_attempt=True))
            else:
                failed.append(self.fail(
                    job.id, "interrupted",
                    f"the daemon stopped while this job ran, {job.attempts} times; not retried again"))
        return requeued, failed

    def _end(self, job_id: str, state: str, *, result: str | None = None,
             code: str | None = None, message: str | None = None) -> Job:
        with self._tx():
            cur = self._db.execute(
                "UPDATE jobs SET state = ?, finished = ?, result = ?, error_code = ?, error_message = ?"
                " WHERE id = ? AND state IN (?, ?)",
                (state, time.time(), result, code, message, job_id, QUEUED, RUNNING),
            )
            if cur.rowcount == 0:
                self.get(job_id)  # raises JobNotFoundError for an unknown id
            else:  # in the same transaction: an end is never recorded without its event to send
                self._db.execute("INSERT OR IGNORE INTO unannounced (job_id) VALUES (?)", (job_id,))
        return self.get(job_id)

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._db.execute("ROLLBACK")
            return
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error:
            # A commit that failed (a full disk) leaves the transaction open: end it, or every
            # later BEGIN fails with "cannot start a transaction within a transaction".
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"], req_id=row["req_id"], kind=row["kind"], params=json.loads(row["params"]),
        state=row["state"], source=row["source"], client_host=row["client_host"],
        client_port=row["client_port"], attempts=row["attempts"], created=row["created"],
        started=row["started"], finished=row["finished"], result=row["result"],
        error_code=row["error_code"], error_message=row["error_message"], note=row["note"],
        client_key=row["client_key"],
    )
