"""Searching the library: tempo range, key (and the keys that mix with it), genre, tags, rating, kind, free text.

Every filter given must hold; results come newest first. The free text goes to SQLite's FTS5 index
over title, prompt, genre, tags, lyrics and kind: each word must appear, as a word or the start of one
("hous" finds "house"), accents ignored. The tempo and key a clip
is found by are described in :mod:`.records`. With ``compatible`` a key also finds the keys next to it
on the Camelot wheel and its relative major or minor (:meth:`.keys.Key.compatible`).

A range, a key or a rating that is not one is an :class:`~mage_bridge.errors.InvalidInputError`
naming the value, before anything is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mage_bridge.errors import InvalidInputError
from mage_bridge.library.keys import Key, parse_key
from mage_bridge.library.records import CLIP_KINDS, clip_from_row
from mage_bridge.library.store import Library, Page, check_page, check_rating, normalize_tag

MIN_BPM, MAX_BPM = 1.0, 999.0
#: A single tempo (``--bpm 124``) finds clips within this many BPM of it.
SINGLE_BPM_TOLERANCE = 0.5
_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:(?:-|–|\.\.|to)\s*(\d+(?:\.\d+)?))?\s*$")
_WORD = re.compile(r"\w+", re.UNICODE)
#: What a search may be given over OSC (``query_json``) and in Python (:meth:`Query.from_mapping`).
QUERY_KEYS = ("text", "bpm", "key", "compatible", "genre", "tags", "min_rating", "kind", "offset", "limit")


def parse_bpm_range(value: object) -> tuple[float, float]:
    """``"120-128"``, ``"120..128"``, ``"124"`` (±0.5), ``[120, 128]`` or ``(120, 128)`` as ``(low, high)`` BPM."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        low, high = float(value[0]), float(value[1])
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = float(value) - SINGLE_BPM_TOLERANCE, float(value) + SINGLE_BPM_TOLERANCE
    elif isinstance(value, str) and (m := _RANGE.match(value)):
        low = float(m.group(1))
        high = float(m.group(2)) if m.group(2) else low
        if m.group(2) is None:
            low, high = low - SINGLE_BPM_TOLERANCE, high + SINGLE_BPM_TOLERANCE
    else:
        raise InvalidInputError(f"bpm must be a tempo or a range such as 120-128, got {value!r}")
    if not (MIN_BPM - SINGLE_BPM_TOLERANCE <= low <= high <= MAX_BPM + SINGLE_BPM_TOLERANCE):
        raise InvalidInputError(f"bpm range must run upwards within {MIN_BPM:g}-{MAX_BPM:g}, got {value!r}")
    return low, high


def fts_query(text: str) -> str:
    """The FTS5 query for a user's words: each word quoted (no operator syntax gets through) and a prefix."""
    words = _WORD.findall(text)
    if not words:
        raise InvalidInputError(f"text must hold at least one word, got {text!r}")
    return " ".join(f'"{w}"*' for w in words)


@dataclass(frozen=True)
class Query:
    """A search; every field left ``None`` (or empty) matches everything."""

    text: str | None = None
    bpm: tuple[float, float] | None = None
    key: Key | None = None
    compatible: bool = False
    genre: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    min_rating: int | None = None
    kind: str | None = None
    offset: int = 0
    limit: int = 50

    @classmethod
    def build(cls, *, text: str | None = None, bpm: object = None, key: str | Key | None = None,
              compatible: bool = False, genre: str | None = None, tags: Iterable[str] | str = (),
              min_rating: int | None = None, kind: str | None = None, offset: int = 0, limit: int = 50) -> Query:
        """A query from what a user typed, every value checked: ``bpm`` as :func:`parse_bpm_range` takes it, ``key``
        as :func:`~.keys.parse_key` does, ``tags`` a list or a comma-separated string."""
        if text is not None and not isinstance(text, str):
            raise InvalidInputError(f"text must be a string, got {type(text).__name__}")
        if text is not None and text.strip():
            fts_query(text)
        if isinstance(tags, str):
            tags = [t for t in tags.split(",") if t.strip()]
        elif not isinstance(tags, (list, tuple)):
            raise InvalidInputError(f"tags must be a list of tags or a comma-separated string, got {tags!r}")
        if kind is not None and kind not in CLIP_KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(CLIP_KINDS)}, got {kind!r}")
        if genre is not None and (not isinstance(genre, str) or not genre.strip()):
            raise InvalidInputError(f"genre must be a non-empty string, got {genre!r}")
        if not isinstance(compatible, bool) and compatible not in (0, 1):
            raise InvalidInputError(f"compatible must be true or false, got {compatible!r}")
        if compatible and key is None:
            raise InvalidInputError("compatible needs a key to be compatible with")
        check_page(offset, limit)
        return cls(
            text=text.strip() if text and text.strip() else None,
            bpm=parse_bpm_range(bpm) if bpm is not None else None,
            key=key if isinstance(key, Key) or key is None else parse_key(key),
            compatible=bool(compatible), genre=genre.strip() if genre else None,
            tags=tuple(sorted({normalize_tag(t) for t in tags})),
            min_rating=check_rating(min_rating) if min_rating is not None else None,
            kind=kind, offset=offset, limit=limit)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Query:
        """A query from a JSON object (OSC's ``query_json``): the keys of :data:`QUERY_KEYS`, checked."""
        unknown = sorted(set(values) - set(QUERY_KEYS))
        if unknown:
            raise InvalidInputError(f"unknown search key(s) {', '.join(unknown)}; known: {', '.join(QUERY_KEYS)}")
        return cls.build(**dict(values))

    def keys(self) -> list[Key]:
        if self.key is None:
            return []
        return list(self.key.compatible()) if self.compatible else [self.key]

    def where(self) -> tuple[list[str], list[Any]]:
        """The SQL conditions on ``clips`` (and their parameters) that this query asks for."""
        conditions: list[str] = ["clips.deleted IS NULL"]
        params: list[Any] = []
        if self.bpm is not None:
            conditions.append("clips.bpm BETWEEN ? AND ?")
            params += list(self.bpm)
        codes = [k.camelot for k in self.keys()]
        if codes:
            conditions.append(f"clips.camelot IN ({', '.join('?' for _ in codes)})")
            params += codes
        if self.genre is not None:
            conditions.append("clips.genre = ? COLLATE NOCASE")
            params.append(self.genre)
        for tag in self.tags:
            conditions.append("clips.id IN (SELECT clip_id FROM clip_tags WHERE tag = ?)")
            params.append(tag)
        if self.min_rating is not None:
            conditions.append("clips.rating >= ?")
            params.append(self.min_rating)
        if self.kind is not None:
            conditions.append("clips.kind = ?")
            params.append(self.kind)
        return conditions, params


def search(library: Library, query: Query) -> Page:
    """The clips that match ``query``, newest first, one page of them, and how many match in all.

    The words are a filter like the others (``seq IN`` the FTS5 matches), not a join: SQLite then
    starts from the tempo-and-key index when there is one to use, and asks FTS5 once, not per row.
    """
    conditions, params = query.where()
    if query.text is not None:
        conditions.append("clips.seq IN (SELECT rowid FROM clips_fts WHERE clips_fts MATCH ?)")
        params.append(fts_query(query.text))
    where = " AND ".join(conditions)
    total = int(library.db.execute(f"SELECT COUNT(*) FROM clips WHERE {where}", params).fetchone()[0])
    rows = library.db.execute(f"SELECT * FROM clips WHERE {where} ORDER BY clips.created DESC, clips.seq DESC "
                              "LIMIT ? OFFSET ?", (*params, query.limit, query.offset)).fetchall()
    return Page([clip_from_row(r, library.root) for r in rows], total, query.offset)
