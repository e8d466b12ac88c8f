"""The library's SQLite file: how it is opened, its schema and the migrations between versions.

One file, ``library.sqlite3``, in WAL mode: readers never wait for a writer, and many processes
(the daemon, its workers, the CLI) write to it at once, each write in a ``BEGIN IMMEDIATE``
transaction that waits up to ``timeout_s`` for the write lock instead of failing. In WAL mode
``synchronous=NORMAL`` keeps every commit across a crash of the process (``kill -9``); a power cut
may roll back the last commits, never corrupt the file (and ``library check`` finds the results whose
rows were lost).

The schema's version is ``PRAGMA user_version``. :data:`MIGRATIONS` lists the steps from each
version to the next; opening a file runs the steps it lacks, in one transaction, so a file is at one
version or the next, never half-way. A file from a newer MAGE Bridge (a higher version) is refused
rather than written in a shape its own version would not understand.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mage_bridge.errors import MageError

#: Seconds a write waits for another process's write to end before it fails.
DEFAULT_TIMEOUT_S = 30.0

_CLIPS = """
CREATE TABLE clips (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    title           TEXT NOT NULL,
    prompt          TEXT,
    lyrics          TEXT,
    genre           TEXT,
    analysis        TEXT,
    requested_bpm   REAL,
    measured_bpm    REAL,
    bpm             REAL,
    requested_key   TEXT,
    measured_key    TEXT,
    key             TEXT,
    camelot         TEXT,
    key_confidence  REAL,
    time_signature  TEXT,
    bars            INTEGER,
    lead_in_s       REAL,
    lead_out_s      REAL,
    loudness_lufs   REAL,
    true_peak_dbtp  REAL,
    duration_s      REAL,
    sample_rate     INTEGER,
    channels        INTEGER,
    frames          INTEGER,
    folder          TEXT NOT NULL,
    manifest        TEXT NOT NULL,
    layout          TEXT NOT NULL,
    audio           TEXT,
    stems           TEXT NOT NULL DEFAULT '{}',
    midi            TEXT NOT NULL DEFAULT '[]',
    files           TEXT NOT NULL DEFAULT '[]',
    backend         TEXT,
    backend_version TEXT,
    seed            INTEGER,
    job_id          TEXT,
    parent          TEXT,
    parent_job      TEXT,
    variation_of    TEXT,
    extension_of    TEXT,
    separated_from  TEXT,
    mastered_from   TEXT,
    tags            TEXT NOT NULL DEFAULT '',
    rating          INTEGER NOT NULL DEFAULT 0,
    created         REAL NOT NULL,
    registered      REAL NOT NULL,
    deleted         REAL,
    deleted_reason  TEXT
);
CREATE TABLE clip_tags (
    clip_id TEXT NOT NULL REFERENCES clips(id),
    tag     TEXT NOT NULL,
    PRIMARY KEY (clip_id, tag)
) WITHOUT ROWID;
CREATE INDEX clip_tags_tag ON clip_tags(tag, clip_id);
CREATE INDEX clips_live_created ON clips(created DESC, seq DESC) WHERE deleted IS NULL;
CREATE INDEX clips_live_bpm ON clips(bpm) WHERE deleted IS NULL;
CREATE INDEX clips_live_camelot_bpm ON clips(camelot, bpm) WHERE deleted IS NULL;
CREATE INDEX clips_job ON clips(job_id);
-- One live clip per manifest: a folder written again (overwrite, a job run again) replaces its row.
CREATE UNIQUE INDEX clips_live_manifest ON clips(folder, manifest) WHERE deleted IS NULL;
CREATE INDEX clips_folder ON clips(folder);
CREATE VIRTUAL TABLE clips_fts USING fts5(
    title, prompt, genre, tags, lyrics, kind,
    content='clips', content_rowid='seq', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER clips_fts_insert AFTER INSERT ON clips BEGIN
    INSERT INTO clips_fts(rowid, title, prompt, genre, tags, lyrics, kind)
    VALUES (new.seq, new.title, new.prompt, new.genre, new.tags, new.lyrics, new.kind);
END;
CREATE TRIGGER clips_fts_delete AFTER DELETE ON clips BEGIN
    INSERT INTO clips_fts(clips_fts, rowid, title, prompt, genre, tags, lyrics, kind)
    VALUES ('delete', old.seq, old.title, old.prompt, old.genre, old.tags, old.lyrics, old.kind);
END;
CREATE TRIGGER clips_fts_update AFTER UPDATE OF title, prompt, genre, tags, lyrics, kind ON clips BEGIN
    INSERT INTO clips_fts(clips_fts, rowid, title, prompt, genre, tags, lyrics, kind)
    VALUES ('delete', old.seq, old.title, old.prompt, old.genre, old.tags, old.lyrics, old.kind);
    INSERT INTO clips_fts(rowid, title, prompt, genre, tags, lyrics, kind)
    VALUES (new.seq, new.title, new.prompt, new.genre, new.tags, new.lyrics, new.kind);
END;
"""

_ARRANGEMENTS = """
-- Songs: JSON documents that place library clips around a focus clip. ``version`` counts the
-- saves, so a writer that read version N can refuse to overwrite a save it has not seen.
CREATE TABLE arrangements (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    version  INTEGER NOT NULL,
    document TEXT NOT NULL,
    created  REAL NOT NULL,
    updated  REAL NOT NULL
);
"""

#: ``MIGRATIONS[n]`` takes a file from version ``n`` to ``n + 1``. Steps are only ever appended.
MIGRATIONS: tuple[str, ...] = (_CLIPS, _ARRANGEMENTS)
#: The version this code writes.
SCHEMA_VERSION = len(MIGRATIONS)


class LibraryDatabaseError(MageError):
    """The library's database cannot be opened or used: another version's file, not WAL-capable, locked."""

    code = "library_unavailable"


class LibraryBusyError(MageError):
    """Another process held the library's write lock longer than this one would wait."""

    code = "library_busy"


def connect(path: Path, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> sqlite3.Connection:
    """Open (creating it if need be) the library file at ``path``, in WAL mode, at :data:`SCHEMA_VERSION`.

    The connection is in autocommit mode: every write goes through :func:`transaction`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), isolation_level=None, timeout=timeout_s)
    try:
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
        mode = _wal(db, timeout_s)
        if mode != "wal":
            raise LibraryDatabaseError(f"cannot put the library database {str(path)!r} in WAL mode (got {mode!r})")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        migrate(db, path)
    except BaseException:
        db.close()
        raise
    return db


def _wal(db: sqlite3.Connection, timeout_s: float) -> str:
    """Switch to WAL (a no-op once the file is WAL). A new file being switched by another process at the
    same moment answers "locked" without waiting for the busy timeout: wait and ask again."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return str(db.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def migrate(db: sqlite3.Connection, path: Path) -> int:
    """Run the migrations ``db`` lacks, all in one transaction; returns the version it is at."""
    version = _version(db)
    if version == SCHEMA_VERSION:
        return version
    with transaction(db):
        version = _version(db)  # another process may have migrated it while this one waited
        if version > SCHEMA_VERSION:
            raise LibraryDatabaseError(
                f"the library {str(path)!r} is at schema version {version}, newer than this MAGE Bridge knows "
                f"({SCHEMA_VERSION}); update mage-bridge to use it")
        for step in MIGRATIONS[version:]:
            for statement in _statements(step):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return SCHEMA_VERSION


def _version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _statements(script: str) -> list[str]:
    """The statements of ``script``, one by one (``executescript`` would commit the open transaction)."""
    out: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not current.strip():
            continue
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        raise LibraryDatabaseError(f"incomplete statement in a migration: {current.strip()[:80]!r}")
    return out


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``: the write lock is taken first (waiting up to the busy timeout), so
    two writers never both read and then fail to upgrade; an error rolls everything back."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as e:
        if "locked" not in str(e) and "busy" not in str(e):
            raise
        raise LibraryBusyError("the library is busy: another process held its write lock past the wait; "
                               "try again") from e
    try:
        yield db
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    try:
        db.execute("COMMIT")
    except sqlite3.Error:
        # A commit that failed (a full disk) leaves the transaction open: end it, or every later
        # BEGIN fails with "cannot start a transaction within a transaction".
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
