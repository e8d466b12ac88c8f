"""The clip library: every generated, reworked, separated, mastered or imported clip, in one SQLite file.

One module per concern:

* :mod:`.schema` - the SQLite file (WAL), its schema and the migrations between versions;
* :mod:`.records` - what a clip's row holds, read from its result manifest; :class:`Clip`;
* :mod:`.store` - :class:`Library`: registering results, ids, tags, ratings, delete (tombstones);
* :mod:`.keys` - keys, Camelot codes and the keys that mix with each other;
* :mod:`.search` - tempo range, key (compatible keys too), genre, tags, rating, kind, free text (FTS5);
* :mod:`.importer` - the user's own audio, copied in and analysed;
* :mod:`.check` - rows without files and files without rows, found and repaired;
* :mod:`.arrangements` - songs, stored as versioned JSON documents.

Jobs register their results through :func:`mage_bridge.api.results.register_result`, whichever
door sent them (CLI, OSC, the daemon's spool). ``docs/library.md`` describes it for users.
"""

from __future__ import annotations

from mage_bridge.library.arrangements import Arrangement, VersionConflictError, load_arrangement, save_arrangement
from mage_bridge.library.check import CheckReport, check_library
from mage_bridge.library.importer import import_audio
from mage_bridge.library.keys import Key, parse_key
from mage_bridge.library.records import CLIP_KINDS, Clip
from mage_bridge.library.search import Query, parse_bpm_range, search
from mage_bridge.library.store import Deleted, Library, Page

__all__ = [
    "CLIP_KINDS", "Arrangement", "CheckReport", "Clip", "Deleted", "Key", "Library", "Page", "Query",
    "VersionConflictError", "check_library", "import_audio", "load_arrangement", "parse_bpm_range", "parse_key",
    "save_arrangement", "search",
]
