"""Where an arrangement's clips come from, and what the renderer needs to know of each.

A :class:`ClipSource` (an interface a clip library can implement) turns a clip id into the path of
that clip's result manifest (``manifest.json``, docs/manifest.md); :class:`FolderClipSource` is one
over a folder of clip folders (``<root>/<clip id>/manifest.json``).
:func:`resolve_clips` reads every slot's manifest into a :class:`ClipInfo` (its audio file, tempo,
metre, key and where its bars start) and refuses, in one message naming every slot and id at
fault, clips that are missing, deleted, or without a tempo. Nothing is decoded here.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from mage_bridge import manifest
from mage_bridge.arrange.document import Arrangement, check_id, parse_time_signature
from mage_bridge.errors import InvalidInputError, MageError
from mage_bridge.music import bar_seconds, pitch_class

#: Largest manifest read (bytes).
MAX_MANIFEST_BYTES = 4 << 20
#: A lead-in within this much of a whole number of bars counts as whole: the clip starts on a bar line.
_BAR_TOLERANCE_S = 0.002


@runtime_checkable
class ClipSource(Protocol):
    """Clip id -> the path of its result manifest, or ``None`` when no such clip is known (never made, or deleted)."""

    def manifest_path(self, clip_id: str) -> Path | None: ...


class FolderClipSource:
    """Clips kept as folders of one root: clip ``abc`` is ``<root>/abc/manifest.json``.

    An id is a plain name (:func:`~mage_bridge.arrange.document.check_id`), and a folder whose real
    path (symlinks followed) lies outside the root is not a clip of this source, so nothing outside
    the root is ever read through it.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()

    def __repr__(self) -> str:
        return f"FolderClipSource({str(self.root)!r})"

    def folder(self, clip_id: str) -> Path:
        """Where clip ``clip_id`` is (or a new one goes)."""
        return self.root / check_id("clip id", clip_id)

    def manifest_path(self, clip_id: str) -> Path | None:
        path = self.folder(clip_id) / manifest.FILENAME
        try:
            real, root = path.resolve(strict=True), self.root.resolve(strict=True)
        except OSError:
            return None
        if not real.is_file() or not real.is_relative_to(root):
            return None
        return path


@dataclass(frozen=True)
class ClipInfo:
    """What the renderer needs of one clip, read from its manifest.

    ``bpm`` is quarter-note BPM; ``tempo_from`` says where it came from: ``"generator"`` (the grid
    the generator rendered every note on, ``backend.bpm``), ``"requested"`` (what a model was asked
    for and, as measured, held to) or ``"measured"`` (a clip whose requested tempo is unknown or that
    drifted off it). ``downbeat_s`` is where its first bar line is, from its first frame (0.0 for a
    clip that starts on a bar line), known from the generator's timeline (``backend.lead_in_s``);
    ``None`` when its bars are not known. ``key``/``mode`` are ``None`` when unknown.
    """

    clip_id: str
    manifest_path: Path
    audio_path: Path
    bpm: float
    tempo_from: str
    time_signature: tuple[int, int]
    key: str | None
    mode: str | None
    downbeat_s: float | None
    data: dict[str, Any]

    @property
    def bar_s(self) -> float:
        return bar_seconds(self.bpm, self.time_signature)


def resolve_clips(song: Arrangement, source: ClipSource) -> list[ClipInfo]:
    """Every slot's clip, read through ``source``; all faults in one :class:`InvalidInputError`."""
    infos: list[ClipInfo] = []
    faults: list[str] = []
    for label, slot in zip(song.labels(), song.slots):
        try:
            path = source.manifest_path(slot.clip)
            if path is None:
                raise InvalidInputError(f"no clip {slot.clip!r} in {_describe(source)} (deleted?)")
            infos.append(read_clip(slot.clip, path))
        except MageError as e:
            faults.append(f"slot {label} (clip {slot.clip!r}): {e}")
    if faults:
        raise InvalidInputError("; ".join(faults) if len(faults) > 1 else faults[0])
    return infos


def read_clip(clip_id: str, path: str | os.PathLike[str]) -> ClipInfo:
    """A clip's manifest read into a :class:`ClipInfo`; its audio file must exist in the manifest's folder."""
    path = Path(path)
    if path.is_dir():
        path = path / manifest.FILENAME
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_MANIFEST_BYTES + 1)
    except OSError as e:
        raise InvalidInputError(f"its manifest {str(path)!r} cannot be read: {e.strerror or e}") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise InvalidInputError(f"its manifest {str(path)!r} is over {MAX_MANIFEST_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise InvalidInputError(f"its manifest {str(path)!r} is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"its manifest {str(path)!r} is not a JSON object")
    audio = _audio_path(data, path)
    bpm, tempo_from = clip_tempo(data)
    ts = _time_signature(data)
    key, mode = _key(data)
    downbeat = None
    lead_in = _dig(data, "backend", "lead_in_s")
    if tempo_from == "generator" and (lead_in == 0 or _positive(lead_in) is not None):
        bar = bar_seconds(bpm, ts)
        downbeat = math.fmod(float(lead_in), bar)
        if downbeat < _BAR_TOLERANCE_S or bar - downbeat < _BAR_TOLERANCE_S:
            downbeat = 0.0
    return ClipInfo(clip_id=clip_id, manifest_path=path, audio_path=audio, bpm=bpm, tempo_from=tempo_from,
                    time_signature=ts, key=key, mode=mode, downbeat_s=downbeat, data=data)


def clip_tempo(data: dict[str, Any]) -> tuple[float, str]:
    """The clip's tempo and where it came from (see :class:`ClipInfo`); a clip without one is refused.

    The generator's own grid (``backend.bpm``: it rendered every note on it) first; else the
    requested tempo, unless the measurement says the clip drifted off it (``measured.tempo_off``: a
    model that went half time), then the measured one.
    """
    grid = _positive(_dig(data, "backend", "bpm"))
    if grid is not None:
        return grid, "generator"
    measured = _positive(_dig(data, "measured", "bpm"))
    requested = _positive(_dig(data, "requested", "bpm"))
    if requested is not None and not (_dig(data, "measured", "tempo_off") is True and measured is not None):
        return requested, "requested"
    if measured is not None:
        return measured, "measured"
    raise InvalidInputError("it has no tempo: its manifest gives neither a requested nor a measured BPM "
                            "(a clip must have a tempo to be placed on the song's bars)")


def _audio_path(data: dict[str, Any], path: Path) -> Path:
    """The clip's mix (``mix``; ``output`` for a master or export result), inside the manifest's folder."""
    name = data.get("mix") or data.get("output")
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"its manifest {str(path)!r} names no audio file (no 'mix' or 'output')")
    folder = path.parent.resolve()
    audio = path.parent / name
    if not audio.resolve().is_relative_to(folder):
        raise InvalidInputError(f"its audio file {name!r} lies outside the clip's folder")
    if not audio.is_file():
        raise InvalidInputError(f"its audio file {str(audio)!r} is missing (deleted?)")
    return audio


def _time_signature(data: dict[str, Any]) -> tuple[int, int]:
    for section in ("requested", "backend", "analysis"):
        value = _dig(data, section, "time_signature")
        if value is not None:
            return parse_time_signature(value, f"its {section}.time_signature")
    return (4, 4)


def _key(data: dict[str, Any]) -> tuple[str | None, str | None]:
    for section in ("requested", "measured"):
        key, mode = _dig(data, section, "key"), _dig(data, section, "mode")
        if isinstance(key, str) and mode in ("major", "minor"):
            try:
                pitch_class(key)
            except InvalidInputError:
                continue
            return key, str(mode)
    return None, None


def _dig(data: dict[str, Any], section: str, name: str) -> Any:
    part = data.get(section)
    return part.get(name) if isinstance(part, dict) else None


def _positive(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return None
    return float(value)


def _describe(source: ClipSource) -> str:
    root = getattr(source, "root", None)
    return f"{str(root)!r}" if isinstance(root, Path) else type(source).__name__
