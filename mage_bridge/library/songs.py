"""The library as the arranger's clip source and song store.

:class:`LibraryClipSource` finds an arrangement's clips by library id (or a unique prefix of one), and,
for an id the library does not know, as a clip folder of ``<data_dir>/clips`` (clips made there by hand or
before the library recorded them). :class:`LibrarySongStore` keeps arrangement documents in the
library's ``arrangements`` table (:mod:`.arrangements`), by song id, each save a new version.
Both open the library per call, so one instance serves any thread.
"""

from __future__ import annotations

import json
from pathlib import Path

from mage_bridge.arrange.clips import FolderClipSource
from mage_bridge.arrange.document import Arrangement, check_id, loads
from mage_bridge.config import Config, load_config
from mage_bridge.errors import ClipDeletedError, ClipNotFoundError, InvalidInputError, OutputExistsError
from mage_bridge.library.arrangements import load_arrangement, save_arrangement
from mage_bridge.library.store import Library


class LibraryClipSource:
    """Clip id -> its manifest: a library clip first, else the clip folder ``<data_dir>/clips/<id>``."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or load_config()
        self.folders = FolderClipSource(self.config.data_dir / "clips")

    def __repr__(self) -> str:
        return f"LibraryClipSource({str(self.config.resolved_library_dir)!r}, then {str(self.folders.root)!r})"

    def manifest_path(self, clip_id: str) -> Path | None:
        with Library.open(self.config) as library:
            try:
                clip = library.get(clip_id)
            except ClipDeletedError:
                return None  # deleted: not the folder of the same name either
            except (ClipNotFoundError, InvalidInputError):
                return self.folders.manifest_path(clip_id)
        path = clip.folder / clip.manifest
        return path if path.is_file() else None

    def library_id(self, manifest_path: Path) -> str | None:
        """The library id of the clip recorded from ``manifest_path``, ``None`` when it is not recorded."""
        with Library.open(self.config) as library:
            row = library.db.execute("SELECT id FROM clips WHERE folder = ? AND manifest = ? AND deleted IS NULL",
                                     (library.stored_folder(manifest_path.parent), manifest_path.name)).fetchone()
        return None if row is None else str(row["id"])


class LibrarySongStore:
    """Songs in the library's ``arrangements`` table; the song id is the row's id."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or load_config()

    def __repr__(self) -> str:
        return f"LibrarySongStore({str(self.config.resolved_library_dir)!r})"

    def location(self, song_id: str) -> str:
        return f"song {song_id!r} of the library {str(self.config.resolved_library_dir)!r}"

    def exists(self, song_id: str) -> bool:
        with Library.open(self.config) as library:
            return library.db.execute("SELECT 1 FROM arrangements WHERE id = ?",
                                      (check_id("song id", song_id),)).fetchone() is not None

    def load(self, song_id: str) -> Arrangement:
        with Library.open(self.config) as library:
            stored = load_arrangement(library, check_id("song id", song_id))
        return loads(json.dumps(stored.document), where=self.location(song_id))

    def save(self, song_id: str, song: Arrangement, *, overwrite: bool = False) -> str:
        check_id("song id", song_id)
        with Library.open(self.config) as library:
            known = library.db.execute("SELECT 1 FROM arrangements WHERE id = ?", (song_id,)).fetchone() is not None
            if known and not overwrite:
                raise OutputExistsError(f"{self.location(song_id)} exists; add to it, or replace it with overwrite")
            save_arrangement(library, song.to_dict(), name=song.name or song_id, arrangement_id=song_id,
                             create=not known)
        return self.location(song_id)


__all__ = ["LibraryClipSource", "LibrarySongStore"]
