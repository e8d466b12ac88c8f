"""The song arranger: clips placed around a focus clip (Intro, Previous..., focus, Next..., Outro),
conformed to the song's tempo (and optionally key), crossfaded on its bar lines.

One module per concern:

* :mod:`.document` - the arrangement as a versioned JSON document, checked field by field;
* :mod:`.clips` - :class:`ClipSource` (clip id -> its manifest, what a clip library implements;
  :class:`FolderClipSource` reads a folder of clip folders) and what a clip's manifest says;
* :mod:`.store` - :class:`ArrangementStore` (song id -> document) and a folder of JSON files;
* :mod:`.conform` - time-stretch and pitch-shift (Rubber Band) to the song's tempo and key;
* :mod:`.timeline` - the plan: where each clip starts, each junction on a bar line, each fade's kind;
* :mod:`.crossfade` - the fade curves and the sum of the placed clips;
* :mod:`.render` - the plan applied to the clips' audio;
* :mod:`.fill` - the generate request for a clip that fits the song ("fill the gap").

Mastering, export and the result folder are :mod:`mage_bridge.api.song`'s. This package imports
nothing heavy: the modules that process audio load numpy (and pedalboard, on first use) themselves.
"""

from __future__ import annotations

from mage_bridge.arrange.clips import ClipInfo, ClipSource, FolderClipSource, read_clip, resolve_clips
from mage_bridge.arrange.document import (
    FADE_KINDS,
    ROLES,
    SCHEMA,
    Arrangement,
    JunctionSettings,
    Slot,
    loads,
    new,
    parse,
)
from mage_bridge.arrange.store import ArrangementStore, FolderArrangementStore

__all__ = [
    "FADE_KINDS", "ROLES", "SCHEMA", "Arrangement", "ArrangementStore", "ClipInfo", "ClipSource",
    "FolderArrangementStore", "FolderClipSource", "JunctionSettings", "Slot", "loads", "new", "parse", "read_clip",
    "resolve_clips",
]
