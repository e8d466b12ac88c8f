"""Where the player's clips come from, and what it needs to know of each.

A clip is named by an id; a :class:`ClipSource` turns the id into the path of the clip's result
manifest (``docs/manifest.md``). :class:`LibraryFirst` answers it for library clips, then
:class:`FolderClipSource` for folders that hold ``<id>/manifest.json`` (a clips folder,
the daemon's job results, whose ids are job ids). :func:`read_clip` reads from the manifest what
the player loops: the stems, the tempo and metre they were made at, and the body — the whole bars
after the lead-in — which is what lands on the bar and repeats.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from mage_bridge import manifest
from mage_bridge.config import Config
from mage_bridge.errors import ClipNotFoundError, InvalidInputError
from mage_bridge.live.grid import MAX_BPM, MIN_BPM, bar_beats

#: What a clip id may be: a folder name that cannot climb out of its root.
CLIP_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
#: The largest manifest read (a clip's manifest with lyrics is tens of kB).
MAX_MANIFEST_BYTES = 4 << 20


def check_clip_id(clip_id: str) -> str:
    """``clip_id`` if it is 1-128 of ``A-Z a-z 0-9 . _ -`` not starting with a dot; else :class:`InvalidInputError`."""
    if not isinstance(clip_id, str) or not CLIP_ID.fullmatch(clip_id):
        raise InvalidInputError(f"a clip id is 1-128 of A-Z a-z 0-9 . _ - (not starting with '.' or '-'), "
                                f"got {str(clip_id)[:140]!r}")
    return clip_id


@runtime_checkable
class ClipSource(Protocol):
    """Turns a clip id into the path of its result manifest."""

    def manifest_path(self, clip_id: str) -> Path:
        """The clip's ``manifest.json``; :class:`ClipNotFoundError` when there is no such clip."""
        ...


class FolderClipSource:
    """Clips as folders: the id ``abc`` is ``<root>/abc/manifest.json`` in the first root that has it."""

    def __init__(self, *roots: Path) -> None:
        self.roots = tuple(Path(r).expanduser() for r in roots)

    def manifest_path(self, clip_id: str) -> Path:
        check_clip_id(clip_id)
        for root in self.roots:
            path = root / clip_id / manifest.FILENAME
            if path.is_file():
                return path
        where = ", ".join(repr(str(r)) for r in self.roots) or "no folders"
        raise ClipNotFoundError(f"no clip {clip_id!r}: no {clip_id}/{manifest.FILENAME} in {where}")


class LibraryFirst:
    """The clip library's clips by id (or a unique prefix of one) first, then the clips of ``folders``."""

    def __init__(self, config: Config, folders: FolderClipSource) -> None:
        self.config = config
        self.folders = folders

    def manifest_path(self, clip_id: str) -> Path:
        from mage_bridge.library.songs import LibraryClipSource

        check_clip_id(clip_id)
        path = LibraryClipSource(self.config).manifest_path(clip_id)
        return path if path is not None else self.folders.manifest_path(clip_id)


@dataclass(frozen=True)
class ClipInfo:
    """What the player reads from a clip's manifest.

    ``body_start_s`` is where the body's first downbeat is (the manifest's lead-in); the body is
    ``body_beats`` quarter-note beats long at ``bpm``, whole bars of ``time_signature``.
    """

    clip_id: str
    manifest: Path
    bpm: float
    time_signature: tuple[int, int]
    stems: dict[str, Path]
    body_start_s: float
    body_beats: float
    duration_s: float

    @property
    def body_s(self) -> float:
        return self.body_beats * 60.0 / self.bpm


def read_clip(clip_id: str, path: Path) -> ClipInfo:
    """Read a clip's manifest; :class:`InvalidInputError` names what a clip for the player lacks."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise InvalidInputError(f"clip {clip_id!r}: {path.name} is larger than {MAX_MANIFEST_BYTES} bytes")
        data = manifest.read(path)
    except OSError as e:
        raise ClipNotFoundError(f"clip {clip_id!r}: cannot read its manifest: {e.strerror or e}") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidInputError(f"clip {clip_id!r}: its manifest is not valid JSON: {e}") from e
    if not isinstance(data, dict) or data.get("schema") != manifest.SCHEMA:
        raise InvalidInputError(f"clip {clip_id!r}: not a MAGE manifest ({manifest.SCHEMA})")
    stems = data.get("stems")
    if not isinstance(stems, dict) or not stems or not all(isinstance(v, str) for v in stems.values()):
        raise InvalidInputError(f"clip {clip_id!r}: its manifest lists no stems")
    folder = path.parent
    stem_paths = {str(name): _inside(folder, rel, clip_id) for name, rel in stems.items()}
    bpm = _tempo(data, clip_id)
    metre = _metre(data)
    duration_s = _number(data.get("duration_s"), 0.0)
    if duration_s <= 0:
        raise InvalidInputError(f"clip {clip_id!r}: its manifest has no duration_s")
    backend = data.get("backend")
    if not isinstance(backend, dict):
        backend = {}
    lead_in_s = max(0.0, _number(backend.get("lead_in_s"), 0.0))
    lead_out_s = max(0.0, _number(backend.get("lead_out_s"), 0.0))
    beat_s = 60.0 / bpm
    per_bar = bar_beats(*metre)
    bars = math.floor((duration_s - lead_in_s - lead_out_s) / (per_bar * beat_s) + 1e-6)
    if bars < 1:  # no lead-in/lead-out timeline, or a body shorter than a bar: the whole clip, in whole beats
        lead_in_s = 0.0
        beats = math.floor(duration_s / beat_s + 1e-6)
        if beats < 1:
            raise InvalidInputError(f"clip {clip_id!r} is {duration_s:.3f} s: shorter than one beat at {bpm:g} BPM")
        body_beats = float(beats)
    else:
        body_beats = bars * per_bar
    return ClipInfo(clip_id, path, bpm, metre, stem_paths, lead_in_s, body_beats, duration_s)


def _inside(folder: Path, rel: str, clip_id: str) -> Path:
    """A stem path of the manifest, which must stay inside the clip's folder."""
    target = (folder / rel).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise InvalidInputError(f"clip {clip_id!r}: stem path {rel!r} leaves the clip's folder")
    return target


def _number(value: Any, default: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return default


def _tempo(data: dict[str, Any], clip_id: str) -> float:
    """The tempo the clip was made at: requested (the generator follows it), else measured."""
    for block in ("requested", "measured"):
        section = data.get(block)
        if isinstance(section, dict):
            bpm = _number(section.get("bpm"), 0.0)
            if MIN_BPM <= bpm <= MAX_BPM:
                return bpm
    raise InvalidInputError(f"clip {clip_id!r}: its manifest has no tempo (requested.bpm or measured.bpm)")


def _metre(data: dict[str, Any]) -> tuple[int, int]:
    section = data.get("requested")
    value = section.get("time_signature") if isinstance(section, dict) else None
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and v > 0 for v in value):
        return int(value[0]), int(value[1])
    return 4, 4


def clip_ids(text: str) -> list[str]:
    """An arrangement order sent as a JSON list of clip ids (``'["intro", "a", "b", "outro"]'``)."""
    try:
        value = json.loads(text)
    except ValueError as e:
        raise InvalidInputError(f"the order must be a JSON list of clip ids: {e}") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError("the order must be a JSON list of clip ids (strings)")
    return [check_clip_id(v) for v in value]
