"""The clip library: one SQLite file and a folder of imported clips, shared by every process that opens it.

``Library(root)`` opens ``<root>/library.sqlite3`` (:mod:`.schema`); imported clips live in
``<root>/clips/<id>/``. Generated, separated and mastered clips stay where their job wrote them
(a ``--out`` folder, the daemon's jobs folder) and the row points there.

Nothing is ever forgotten silently: a deleted clip (or one whose files went missing) keeps its row
as a *tombstone* with the time and the reason, so a song that refers to it gets
:class:`~mage_bridge.errors.ClipDeletedError` saying what happened instead of "not found".
Ids are 12 hex digits; anywhere an id is taken, a unique prefix of 4 or more digits will do.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mage_bridge import manifest
from mage_bridge.config import Config, load_config
from mage_bridge.errors import ClipDeletedError, ClipNotFoundError, InvalidInputError, PathNotAllowedError
from mage_bridge.library.records import (
    DERIVED_NAMES,
    FOLDER,
    LINEAGE_OF,
    MAX_TITLE_CHARS,
    Clip,
    clip_from_row,
    fields_from_manifest,
)
from mage_bridge.library.schema import DEFAULT_TIMEOUT_S, connect, transaction

DB_NAME = "library.sqlite3"
#: Imported clips, one folder each, named by the clip's id.
CLIPS_DIR = "clips"
#: A lock per clip being imported, held while its folder is built (``library check`` leaves those alone).
LOCKS_DIR = "locks"
MIN_PREFIX = 4
MAX_TAGS = 32
MAX_TAG_CHARS = 40
MAX_RATING = 5
#: Most clips one page of a listing or search returns.
MAX_PAGE = 500

#: Names and files, as plain lists (inside :class:`Library`, ``list`` names its method).
Names = list[str]
ClipList = list[Clip]


def new_clip_id() -> str:
    return uuid.uuid4().hex[:12]


def normalize_tag(text: str) -> str:
    """A tag as stored: trimmed, lower case, inner spaces as ``-``; letters, digits and ``- _ . & + #``."""
    if not isinstance(text, str):
        raise InvalidInputError(f"a tag must be a string, got {type(text).__name__}")
    tag = "-".join(text.strip().lower().split())
    if not 1 <= len(tag) <= MAX_TAG_CHARS or not all(c.isalnum() or c in "-_.&+#" for c in tag):
        raise InvalidInputError(f"a tag must be 1 to {MAX_TAG_CHARS} letters, digits or - _ . & + #, got {text!r}")
    return tag


def check_rating(rating: object) -> int:
    """A rating: an int from 0 (none) to 5."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating <= MAX_RATING:
        raise InvalidInputError(f"rating must be an int from 0 (none) to {MAX_RATING}, got {rating!r}")
    return rating


def check_page(offset: object, limit: object) -> tuple[int, int]:
    """``offset`` >= 0 and ``limit`` from 1 to :data:`MAX_PAGE`."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidInputError(f"offset must be an int >= 0, got {offset!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError(f"limit must be an int from 1 to {MAX_PAGE}, got {limit!r}")
    return offset, limit


@dataclass(frozen=True)
class Page:
    """One page of a listing: ``clips`` from ``offset`` on, out of ``total`` that match."""

    clips: list[Clip]
    total: int
    offset: int


@dataclass(frozen=True)
class Deleted:
    """A deleted clip and the files that went with it."""

    clip: Clip
    removed: list[Path]


class Library:
    """The library at ``root``. One instance per thread; any number of processes may open the same root."""

    def __init__(self, root: str | os.PathLike[str], *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.root = Path(root).expanduser().absolute()
        self.clips_dir = self.root / CLIPS_DIR
        self.locks_dir = self.root / LOCKS_DIR
        self.db = connect(self.root / DB_NAME, timeout_s=timeout_s)

    @classmethod
    def open(cls, config: Config | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> Library:
        """The library of ``config`` (default: the user's): ``library.dir``, else ``<data_dir>/library``."""
        config = config or load_config()
        return cls(config.resolved_library_dir, timeout_s=timeout_s)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self.root / DB_NAME

    def transaction(self) -> Any:
        """A write transaction (``BEGIN IMMEDIATE``) on this library's connection."""
        return transaction(self.db)

    # -- ids and reading ----------------------------------------------------------------------------
    def resolve(self, ref: str) -> str:
        """The id ``ref`` names: itself, or the one id (deleted ones included) that starts with it."""
        if not isinstance(ref, str) or not ref.strip():
            raise InvalidInputError(f"a clip id must be a non-empty string, got {ref!r}")
        ref = ref.strip().lower()
        if self.db.execute("SELECT 1 FROM clips WHERE id = ?", (ref,)).fetchone():
            return ref
        if len(ref) >= MIN_PREFIX and all(c in "0123456789abcdef" for c in ref):
            rows = self.db.execute("SELECT id FROM clips WHERE id >= ? AND id < ? ORDER BY deleted IS NOT NULL LIMIT 3",
                                   (ref, ref + "g")).fetchall()
            if len(rows) == 1:
                return str(rows[0]["id"])
            if rows:
                raise ClipNotFoundError(f"clip id {ref!r} is ambiguous: it starts {', '.join(r['id'] for r in rows)}"
                                        f"{' and more' if len(rows) > 2 else ''}; give more digits")
        raise ClipNotFoundError(f"no clip {ref!r} in the library")

    def get(self, ref: str, *, deleted: bool = False) -> Clip:
        """The live clip ``ref`` names; :class:`ClipDeletedError` (when and why) for a deleted one unless
        ``deleted`` is set, :class:`ClipNotFoundError` for an id the library never had."""
        clip = self._row(self.resolve(ref))
        if clip.deleted is not None and not deleted:
            when = datetime.fromtimestamp(clip.deleted).strftime("%Y-%m-%d %H:%M")
            raise ClipDeletedError(f"clip {clip.id} ({clip.title or clip.kind!r}) was deleted on {when}: "
                                   f"{clip.deleted_reason or 'deleted'}")
        return clip

    def clips(self, refs: Iterable[str]) -> ClipList:
        """The live clips ``refs`` name, in order (what a song refers to): the first deleted or unknown one raises."""
        return [self.get(ref) for ref in refs]

    def _row(self, clip_id: str) -> Clip:
        row = self.db.execute("SELECT * FROM clips WHERE id = ?", (clip_id,)).fetchone()
        if row is None:
            raise ClipNotFoundError(f"no clip {clip_id!r} in the library")
        return clip_from_row(row, self.root)

    def list(self, *, offset: int = 0, limit: int = 50, deleted: bool = False) -> Page:
        """Live clips (or, with ``deleted``, the tombstones), newest first."""
        offset, limit = check_page(offset, limit)
        where = "deleted IS NOT NULL" if deleted else "deleted IS NULL"
        total = int(self.db.execute(f"SELECT COUNT(*) FROM clips WHERE {where}").fetchone()[0])
        rows = self.db.execute(f"SELECT * FROM clips WHERE {where} ORDER BY created DESC, seq DESC "
                               "LIMIT ? OFFSET ?", (limit, offset)).fetchall()
        return Page([clip_from_row(r, self.root) for r in rows], total, offset)

    def live_rows(self) -> Iterator[Clip]:
        """Every live clip, oldest first (for ``library check``)."""
        for row in self.db.execute("SELECT * FROM clips WHERE deleted IS NULL ORDER BY seq").fetchall():
            yield clip_from_row(row, self.root)

    def stored_folder(self, folder: Path) -> str:
        """How a folder is stored: relative to the library's root when inside it (the library can move), else
        absolute."""
        folder = Path(folder).absolute()
        return folder.relative_to(self.root).as_posix() if folder.is_relative_to(self.root) else str(folder)

    # -- writing ------------------------------------------------------------------------------------
    def register(self, manifest_path: str | os.PathLike[str], *, clip_id: str | None = None,
                 tags: Iterable[str] = (), rating: int = 0) -> Clip | None:
        """Record the clip the manifest at ``manifest_path`` describes; ``None`` for a result that is not a clip.

        The same result registered again (a job run again after a crash, ``library check``) keeps its id, tags
        and rating; a folder written again by another job replaces the clip that was there (left as a tombstone).
        """
        path = Path(manifest_path).expanduser().absolute()
        data = read_manifest(path)
        fields = fields_from_manifest(path, data)
        if fields is None:
            return None
        tag_list = sorted({normalize_tag(t) for t in tags})
        check_rating(rating)
        fields["folder"] = self.stored_folder(path.parent)
        fields["created"] = fields["created"] or time.time()
        with self.transaction():
            clip_id = self.upsert(fields, clip_id=clip_id, tags=tag_list, rating=rating)
        return self._row(clip_id)

    def upsert(self, fields: dict[str, Any], *, clip_id: str | None, tags: Names, rating: int) -> str:
        """Insert (or update in place) one clip's row from ``fields`` (:func:`.records.fields_from_manifest`), inside
        the caller's transaction (:meth:`transaction`); returns its id."""
        now = time.time()
        same = self.db.execute("SELECT id, job_id FROM clips WHERE folder = ? AND manifest = ? AND deleted IS NULL",
                               (fields["folder"], fields["manifest"])).fetchone()
        self._lineage(fields)
        if same is not None and (same["job_id"] == fields["job_id"] or same["id"] == clip_id):
            names = ", ".join(f"{k} = ?" for k in fields)
            self.db.execute(f"UPDATE clips SET {names} WHERE id = ?", (*fields.values(), same["id"]))
            return str(same["id"])
        clip_id = clip_id or new_clip_id()
        if same is not None:
            self.db.execute("UPDATE clips SET deleted = ?, deleted_reason = ? WHERE id = ?",
                            (now, f"replaced by clip {clip_id}: its folder was written again", same["id"]))
        values = {**fields, "id": clip_id, "tags": " ".join(tags), "rating": rating, "registered": now}
        self.db.execute(f"INSERT INTO clips ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})",
                        tuple(values.values()))
        self.db.executemany("INSERT INTO clip_tags (clip_id, tag) VALUES (?, ?)", [(clip_id, t) for t in tags])
        return clip_id

    def _lineage(self, fields: dict[str, Any]) -> None:
        """Fill the lineage column of ``fields``' kind with its source clip's id, and give a separation or a
        master without a tempo or key of its own its source's."""
        column = LINEAGE_OF.get(fields["kind"])
        if column is None:
            return
        source = self._source_clip(fields.get("parent_job"), fields.get("parent"))
        if source is None:
            return
        fields[column] = source["id"]
        if fields["kind"] in DERIVED_NAMES:
            fields["title"] = f"{source['title']} ({DERIVED_NAMES[fields['kind']]})"[:MAX_TITLE_CHARS]
        if fields["bpm"] is None and fields["key"] is None:
            for name in ("bpm", "key", "camelot", "time_signature", "genre"):
                fields[name] = source[name]

    def _source_clip(self, parent_job: str | None, parent: str | None) -> sqlite3.Row | None:
        """The live clip a result came from: the one its job made, else the one that holds the file it names."""
        if parent_job:
            row = self.db.execute("SELECT * FROM clips WHERE job_id = ? AND deleted IS NULL ORDER BY seq DESC LIMIT 1",
                                  (parent_job,)).fetchone()
            if row is not None:
                return row
        if not parent or not os.path.isabs(parent):
            return None
        path = Path(parent)
        for row in self.db.execute("SELECT * FROM clips WHERE folder = ? AND deleted IS NULL ORDER BY seq DESC",
                                   (self.stored_folder(path.parent),)):
            if path.name in json.loads(row["files"]):
                return row
        return None

    def tag(self, ref: str, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Clip:
        """Add and remove tags of a live clip; returns the clip with its tags now."""
        adding = {normalize_tag(t) for t in add}
        removing = {normalize_tag(t) for t in remove}
        with self.transaction():
            clip = self.get(ref)
            tags = (set(clip.tags) | adding) - removing
            if len(tags) > MAX_TAGS:
                raise InvalidInputError(f"a clip has at most {MAX_TAGS} tags; {clip.id} would have {len(tags)}")
            self.db.execute("DELETE FROM clip_tags WHERE clip_id = ?", (clip.id,))
            self.db.executemany("INSERT INTO clip_tags (clip_id, tag) VALUES (?, ?)", [(clip.id, t) for t in tags])
            self.db.execute("UPDATE clips SET tags = ? WHERE id = ?", (" ".join(sorted(tags)), clip.id))
        return self._row(clip.id)

    def retitle(self, ref: str, title: str) -> Clip:
        """Rename a live clip: ``title`` (1 to :data:`MAX_TITLE_CHARS` characters, spaces folded) is what lists
        show and what words find; the prompt stays as it was."""
        if not isinstance(title, str) or not 1 <= len(" ".join(title.split())) <= MAX_TITLE_CHARS:
            raise InvalidInputError(f"title must be 1 to {MAX_TITLE_CHARS} characters, got {title!r}"[:200])
        with self.transaction():
            clip = self.get(ref)
            self.db.execute("UPDATE clips SET title = ? WHERE id = ?", (" ".join(title.split()), clip.id))
        return self._row(clip.id)

    def derived(self, clip_id: str) -> ClipList:
        """The live clips made from clip ``clip_id`` (its variations, extensions, stems, masters), newest first."""
        rows = self.db.execute(
            "SELECT * FROM clips WHERE deleted IS NULL AND ? IN (variation_of, extension_of, separated_from, "
            "mastered_from) ORDER BY created DESC, seq DESC LIMIT ?", (clip_id, MAX_PAGE)).fetchall()
        return [clip_from_row(r, self.root) for r in rows]

    def rate(self, ref: str, rating: int) -> Clip:
        """Set a live clip's rating, 0 (none) to 5."""
        check_rating(rating)
        with self.transaction():
            clip = self.get(ref)
            self.db.execute("UPDATE clips SET rating = ? WHERE id = ?", (rating, clip.id))
        return self._row(clip.id)

    def delete(self, ref: str, *, may_remove: Callable[[Path], bool] | None = None) -> Deleted:
        """Delete a live clip: its files go (its folder, or a master's file and manifest), then its row becomes a
        tombstone. ``may_remove(path)`` (the daemon's path guard) must allow each path first.

        The manifest goes first, so a folder whose removal is cut short is never taken for a result again; a
        cut between the files and the row leaves a live row without files, which ``library check`` ends.
        """
        clip = self.get(ref)
        targets = [clip.folder] if clip.layout == FOLDER else [clip.folder / name for name in clip.files]
        if clip.layout == FOLDER and self.clips_dir in clip.folder.parents:
            may_remove = None  # the library's own folder
        if may_remove is not None:
            refused = [p for p in targets if not may_remove(p)]
            if refused:
                raise PathNotAllowedError(f"clip {clip.id}'s files lie outside the folders this daemon may change; "
                                          "delete it with `mage-bridge library delete` on that machine")
        removed = remove_clip_files(clip)
        self.forget(clip.id, "deleted")
        return Deleted(clip, removed)

    def forget(self, clip_id: str, reason: str) -> bool:
        """Make a live clip's row a tombstone (``reason`` kept); ``False`` if it was not live."""
        with self.transaction():
            cur = self.db.execute("UPDATE clips SET deleted = ?, deleted_reason = ? WHERE id = ? AND deleted IS NULL",
                                  (time.time(), reason, clip_id))
        return cur.rowcount > 0

    def update_files(self, clip_id: str, files: Names, midi: Names) -> None:
        """Record that a clip holds only ``files`` (``library check`` drops the optional ones that are gone)."""
        with self.transaction():
            self.db.execute("UPDATE clips SET files = ?, midi = ? WHERE id = ?",
                            (json.dumps(files), json.dumps(midi), clip_id))

    @contextmanager
    def import_lock(self, clip_id: str) -> Iterator[None]:
        """Held while clip ``clip_id``'s folder is built and recorded (an OS lock: a killed importer drops it)."""
        from filelock import FileLock

        self.locks_dir.mkdir(parents=True, exist_ok=True)
        path = self.locks_dir / f"{clip_id}.lock"
        with FileLock(path):
            yield
        path.unlink(missing_ok=True)

    def import_locked(self, clip_id: str) -> bool:
        """Whether a live process is importing clip ``clip_id`` right now."""
        from filelock import FileLock, Timeout

        path = self.locks_dir / f"{clip_id}.lock"
        if not path.exists():
            return False
        lock = FileLock(path)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return True
        lock.release()
        return False


def read_manifest(path: Path) -> dict[str, Any]:
    """A result manifest, or :class:`InvalidInputError` saying why it is not one."""
    try:
        data = manifest.read(path)
    except FileNotFoundError:
        raise InvalidInputError(f"no manifest at {str(path)!r}") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise InvalidInputError(f"cannot read the manifest {str(path)!r}: {e}") from None
    if not isinstance(data, dict) or data.get("schema") != manifest.SCHEMA:
        raise InvalidInputError(f"{str(path)!r} is not a MAGE Bridge result manifest (schema {manifest.SCHEMA})")
    return data


def remove_clip_files(clip: Clip) -> list[Path]:
    """Remove a clip's files: the manifest first, then the rest (its whole folder when it owns one)."""
    removed: list[Path] = []
    first = clip.manifest_path
    if first.exists():
        first.unlink()
        removed.append(first)
    if clip.layout == FOLDER:
        if clip.folder.is_dir():
            removed += [p for p in clip.folder.rglob("*") if p.is_file()]
            shutil.rmtree(clip.folder)
        return removed
    for name in clip.files:
        path = clip.folder / name
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed
