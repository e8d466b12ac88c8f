"""``library_import``: the user's own audio file (or a clip's manifest) into the clip library, as a job.

The daemon runs it in a worker (``/mage/library/import``), since decoding and measuring a song takes
seconds; the CLI's ``library import`` calls the same. The other library requests (search, show, tag,
rate, delete) are quick reads and writes of :class:`~mage_bridge.library.Library`, answered at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from mage_bridge.config import Config, load_config
from mage_bridge.errors import InvalidInputError
from mage_bridge.progress import ProgressFn


def library_import(
    audio_path: str | os.PathLike[str],
    *,
    title: str | None = None,
    tags: Iterable[str] | str | None = None,
    rating: int = 0,
    config: Config | None = None,
    progress: ProgressFn | None = None,
) -> Path:
    """Import ``audio_path`` into the library of ``config`` and return the clip's manifest path.

    An audio file is copied into the library's folder and its tempo, key and loudness measured
    (:func:`mage_bridge.library.import_audio`); a clip's ``manifest.json`` (or its folder) is recorded where
    it lies. ``tags`` is a list or a comma-separated string; ``rating`` 0 (none) to 5; ``title`` defaults to
    the file's name.
    """
    from mage_bridge.library import Library, import_audio

    if isinstance(tags, str):
        tags = [t for t in tags.split(",") if t.strip()]
    elif tags is not None and (isinstance(tags, (bytes, dict)) or not isinstance(tags, Iterable)):
        raise InvalidInputError(f"tags must be a list of strings or a comma-separated string, got {tags!r}")
    config = config or load_config()
    with Library.open(config) as library:
        clip = import_audio(library, audio_path, title=title, tags=list(tags or ()), rating=rating, progress=progress)
    return clip.manifest_path
