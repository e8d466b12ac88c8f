"""Where arrangement documents are kept, by song id.

:class:`ArrangementStore` is what the API needs of a store, which a clip library can implement with
a table; :class:`FolderArrangementStore` keeps one JSON file per song in a folder
(``<root>/<song id>.json``), each written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from mage_bridge.arrange.document import MAX_DOCUMENT_BYTES, Arrangement, check_id, loads
from mage_bridge.errors import InvalidInputError, OutputExistsError
from mage_bridge.files import write_atomic


@runtime_checkable
class ArrangementStore(Protocol):
    """Songs by id: read one, write one, ask whether one exists, say where one is (for messages)."""

    def load(self, song_id: str) -> Arrangement: ...
    def save(self, song_id: str, song: Arrangement, *, overwrite: bool = False) -> str: ...
    def exists(self, song_id: str) -> bool: ...
    def location(self, song_id: str) -> str: ...


class FolderArrangementStore:
    """One ``<song id>.json`` per song in ``root``; ids are plain names, so nothing is written outside it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()

    def __repr__(self) -> str:
        return f"FolderArrangementStore({str(self.root)!r})"

    def path(self, song_id: str) -> Path:
        return self.root / f"{check_id('song id', song_id)}.json"

    def location(self, song_id: str) -> str:
        return str(self.path(song_id))

    def exists(self, song_id: str) -> bool:
        return self.path(song_id).is_file()

    def load(self, song_id: str) -> Arrangement:
        path = self.path(song_id)
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_DOCUMENT_BYTES + 1)
        except FileNotFoundError:
            raise InvalidInputError(f"no song {song_id!r} in {str(self.root)!r}") from None
        except OSError as e:
            raise InvalidInputError(f"song {song_id!r} cannot be read from {str(path)!r}: {e.strerror or e}") \
                from None
        return loads(raw, where=f"song {song_id!r} ({str(path)!r})")

    def save(self, song_id: str, song: Arrangement, *, overwrite: bool = False) -> str:
        path = self.path(song_id)
        if path.exists() and not overwrite:
            raise OutputExistsError(f"song {song_id!r} exists ({str(path)!r}); choose another id or overwrite it")
        data = song.to_json().encode("utf-8")

        def write(f: IO[bytes]) -> None:
            f.write(data)

        write_atomic(path, write)
        return str(path)
