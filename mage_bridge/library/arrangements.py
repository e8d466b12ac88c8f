"""Songs kept in the library: JSON documents with a version that counts their saves.

An arrangement places library clips around a focus clip; its document is whatever the arranger
writes (JSON). Saving with ``expected_version`` refuses to overwrite a save the writer has not seen
(two editors of one song), instead of losing one of them. The clips a document names are looked up
with :meth:`~mage_bridge.library.store.Library.clips`, which names a deleted clip and why.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mage_bridge.errors import InvalidInputError, MageError
from mage_bridge.library.store import Library, new_clip_id

MAX_DOCUMENT_BYTES = 1 << 20


class VersionConflictError(MageError):
    """An arrangement was saved by someone else since this writer read it."""

    code = "version_conflict"


@dataclass(frozen=True)
class Arrangement:
    """A saved song: its id, name, version (1 for the first save) and document."""

    id: str
    name: str
    version: int
    document: dict[str, Any]
    created: float
    updated: float


def save_arrangement(library: Library, document: Mapping[str, Any], *, name: str, arrangement_id: str | None = None,
                     expected_version: int | None = None, create: bool = False) -> Arrangement:
    """Save ``document`` as a new arrangement, or as the next version of ``arrangement_id``.

    ``expected_version`` (the version the writer read) must still be the stored one, else
    :class:`VersionConflictError`. With ``create``, ``arrangement_id`` names a new arrangement (the
    arranger's song id) instead of an existing one.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"an arrangement needs a name, got {name!r}")
    text = json.dumps(dict(document), ensure_ascii=False, allow_nan=False, sort_keys=True)
    if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise InvalidInputError(f"an arrangement document may hold at most {MAX_DOCUMENT_BYTES} bytes of JSON")
    now = time.time()
    with library.transaction():
        if arrangement_id is None or create:
            arrangement_id = arrangement_id or new_clip_id()
            library.db.execute("INSERT INTO arrangements (id, name, version, document, created, updated) "
                               "VALUES (?, ?, 1, ?, ?, ?)", (arrangement_id, name.strip(), text, now, now))
        else:
            row = library.db.execute("SELECT version FROM arrangements WHERE id = ?", (arrangement_id,)).fetchone()
            if row is None:
                raise InvalidInputError(f"no arrangement {arrangement_id!r} in the library")
            if expected_version is not None and row["version"] != expected_version:
                raise VersionConflictError(f"arrangement {arrangement_id} is at version {row['version']}, not "
                                           f"{expected_version}: it was saved meanwhile; load it again")
            library.db.execute("UPDATE arrangements SET name = ?, version = version + 1, document = ?, updated = ? "
                               "WHERE id = ?", (name.strip(), text, now, arrangement_id))
    return load_arrangement(library, arrangement_id)


def load_arrangement(library: Library, arrangement_id: str) -> Arrangement:
    """The stored arrangement, or :class:`InvalidInputError` for an unknown id."""
    row = library.db.execute("SELECT * FROM arrangements WHERE id = ?", (arrangement_id,)).fetchone()
    if row is None:
        raise InvalidInputError(f"no arrangement {arrangement_id!r} in the library")
    return _from_row(row)


def list_arrangements(library: Library, *, limit: int = 200) -> list[Arrangement]:
    """The stored arrangements, the one saved last first (at most ``limit``)."""
    rows = library.db.execute("SELECT * FROM arrangements ORDER BY updated DESC LIMIT ?", (limit,)).fetchall()
    return [_from_row(r) for r in rows]


def _from_row(row: Any) -> Arrangement:
    return Arrangement(row["id"], row["name"], row["version"], json.loads(row["document"]), row["created"],
                       row["updated"])
