"""What the library records of a clip, read from its result manifest, and the :class:`Clip` it hands back.

A clip is a finished job's result (``generate``, ``retake``, the edit tasks, ``separate``,
``master``) or an imported audio file (``import``), described by its manifest
(``docs/manifest.md``). Its row holds what searches and DAW scripts need without opening the
manifest: tempo and key as asked and as measured, loudness, length, the files, the lineage.

**The tempo and key a clip is searched by** (``bpm``, ``key``, ``camelot``): the requested tempo,
unless the measurement says the clip is off it (``measured.tempo_off``: a model that drifted to half
time is found at the tempo it plays); the requested key. A clip asked for neither (an import) is
searched by what was measured. A separation or a master has no tempo of its own: it takes its
source clip's when that clip is in the library.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mage_bridge.library.keys import Key, key_of

#: Kinds of result that are clips, and the lineage column each fills with its source clip's id.
LINEAGE_OF: dict[str, str | None] = {
    "generate": None, "import": None,
    "retake": "variation_of", "repaint": "variation_of", "cover": "variation_of", "lego": "variation_of",
    "extract": "variation_of", "extend": "extension_of",
    "separate": "separated_from", "master": "mastered_from",
}
CLIP_KINDS = tuple(LINEAGE_OF)
LINEAGE_COLUMNS = ("variation_of", "extension_of", "separated_from", "mastered_from")
#: ``"folder"``: the clip owns its folder (deleting it removes the folder); ``"file"``: an output file and
#: its ``.json`` manifest in a folder it shares (a master).
FOLDER, FILE = "folder", "file"
#: What a separation and a master are called after their source: "<source title> (stems)".
DERIVED_NAMES = {"separate": "stems", "master": "master"}
#: Longest title kept (a prompt may be 2 000 characters; the whole prompt is kept in ``prompt``).
MAX_TITLE_CHARS = 120


def _created(text: object) -> float | None:
    """A manifest's ``created`` (``2026-12-03T15:10:14+0000``) as seconds since the epoch."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    return float(value)


def _title(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TITLE_CHARS else text[:MAX_TITLE_CHARS - 1] + "…"


def fields_from_manifest(manifest_path: Path, data: dict[str, Any]) -> dict[str, Any] | None:
    """The row's columns for the clip ``data`` (the manifest at ``manifest_path``) describes, or ``None`` for
    a result that is not a clip (lyrics, an export). Ids, tags, rating and lineage ids are the store's."""
    kind = data.get("kind")
    if kind not in LINEAGE_OF:
        return None
    folder = manifest_path.parent
    request, analysis, requested = _obj(data, "request"), _obj(data, "analysis"), _obj(data, "requested")
    measured, backend, lineage = _obj(data, "measured"), _obj(data, "backend"), _obj(data, "lineage")
    if kind == "separate":  # measured per stem; the input's loudness is the clip's
        measured = _obj(measured, "mix")

    layout = FILE if manifest_path.name != "manifest.json" else FOLDER
    audio = data.get("output") if kind == "master" else data.get("audio") if kind == "import" else data.get("mix")
    stems = {str(k): str(v) for k, v in _obj(data, "stems").items()}
    midi = _midi_files(data.get("midi"))
    lyrics = _obj(data, "lyrics")
    extra = [lyrics[k] for k in ("file", "lrc", "elrc") if isinstance(lyrics.get(k), str)]
    if isinstance(_obj(data, "master").get("file"), str):
        extra.append(_obj(data, "master")["file"])
    files = list(dict.fromkeys([manifest_path.name, *([audio] if isinstance(audio, str) else []),
                                *stems.values(), *midi, *extra]))

    requested_key = key_of(requested.get("key"), requested.get("mode"))
    measured_key = key_of(measured.get("key"), measured.get("mode")) if _number(measured.get("key_confidence")) \
        else None
    requested_bpm = _number(requested.get("bpm"))
    measured_bpm = _number(measured.get("bpm")) or None  # 0: silence, nothing measured
    bpm = measured_bpm if requested_bpm is None or measured.get("tempo_off") else requested_bpm
    key: Key | None = requested_key or measured_key
    metre = requested.get("time_signature") or analysis.get("time_signature")
    prompt = request.get("prompt") or analysis.get("prompt") or None
    title = request.get("title") if kind == "import" else prompt
    if kind in ("separate", "master"):  # the store names it after its source clip when that is in the library
        title = f"{Path(str(lineage.get('parent') or '?')).name} ({DERIVED_NAMES[kind]})"
    return {
        "kind": kind,
        "title": _title(str(title or "")),
        "prompt": prompt,
        "lyrics": lyrics.get("text") or None,
        "genre": analysis.get("genre") or None,
        "analysis": json.dumps(analysis) if analysis else None,
        "requested_bpm": requested_bpm, "measured_bpm": measured_bpm, "bpm": bpm,
        "requested_key": requested_key.name if requested_key else None,
        "measured_key": measured_key.name if measured_key else None,
        "key": key.name if key else None, "camelot": key.camelot if key else None,
        "key_confidence": _number(measured.get("key_confidence")),
        "time_signature": f"{metre[0]}/{metre[1]}" if isinstance(metre, list) and len(metre) == 2 else None,
        "bars": data.get("bars") if isinstance(data.get("bars"), int) else None,
        "lead_in_s": _number(backend.get("lead_in_s")), "lead_out_s": _number(backend.get("lead_out_s")),
        "loudness_lufs": _number(measured.get("loudness_lufs")),
        "true_peak_dbtp": _number(measured.get("true_peak_dbtp")),
        "duration_s": _number(data.get("duration_s")), "sample_rate": data.get("sample_rate"),
        "channels": data.get("channels"), "frames": data.get("frames"),
        "folder": str(folder), "manifest": manifest_path.name, "layout": layout,
        "audio": audio if isinstance(audio, str) else None,
        "stems": json.dumps(stems), "midi": json.dumps(midi), "files": json.dumps(files),
        "backend": backend.get("name"), "seed": backend.get("seed", request.get("seed")),
        "backend_version": backend.get("backend_version") or backend.get("version"),
        "job_id": data.get("job_id"),
        "parent": lineage.get("parent") if isinstance(lineage.get("parent"), str) else None,
        "parent_job": lineage.get("parent_job") if isinstance(lineage.get("parent_job"), str) else None,
        "created": _created(data.get("created")),
    }


def _obj(data: dict[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` when it is a JSON object, else an empty one (a field a kind of manifest does not have)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _midi_files(midi: object) -> list[str]:
    """Every MIDI file a manifest's ``midi`` names: ``parts.mid`` and each part's file."""
    if not isinstance(midi, dict):
        return []
    files = [midi["file"]] if isinstance(midi.get("file"), str) else []
    for part in midi.get("parts") or []:
        if isinstance(part, dict) and isinstance(part.get("file"), str):
            files.append(part["file"])
    return files


@dataclass(frozen=True)
class Clip:
    """One clip of the library, as its row holds it. Paths inside are relative to :attr:`folder`."""

    id: str
    kind: str
    title: str
    folder: Path
    manifest: str
    layout: str
    created: float
    prompt: str | None = None
    lyrics: str | None = None
    genre: str | None = None
    analysis: dict[str, Any] | None = None
    requested_bpm: float | None = None
    measured_bpm: float | None = None
    bpm: float | None = None
    requested_key: str | None = None
    measured_key: str | None = None
    key: str | None = None
    camelot: str | None = None
    key_confidence: float | None = None
    time_signature: str | None = None
    bars: int | None = None
    lead_in_s: float | None = None
    lead_out_s: float | None = None
    loudness_lufs: float | None = None
    true_peak_dbtp: float | None = None
    duration_s: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    frames: int | None = None
    audio: str | None = None
    stems: dict[str, str] = field(default_factory=dict)
    midi: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    backend: str | None = None
    backend_version: str | None = None
    seed: int | None = None
    job_id: str | None = None
    parent: str | None = None
    parent_job: str | None = None
    variation_of: str | None = None
    extension_of: str | None = None
    separated_from: str | None = None
    mastered_from: str | None = None
    tags: tuple[str, ...] = ()
    rating: int = 0
    registered: float = 0.0
    deleted: float | None = None
    deleted_reason: str | None = None

    @property
    def manifest_path(self) -> Path:
        return self.folder / self.manifest

    @property
    def audio_path(self) -> Path | None:
        """The clip's main audio file (the mix, the mastered file, the imported file); ``None`` for stems only."""
        return self.folder / self.audio if self.audio else None

    def required_files(self) -> list[str]:
        """The files without which the clip is gone: its manifest, its main audio and its stems."""
        return list(dict.fromkeys([self.manifest, *([self.audio] if self.audio else []), *self.stems.values()]))

    def lineage(self) -> dict[str, str]:
        """The library ids of the clips this one came from, by relation (``variation_of``, ``extension_of``...)."""
        return {name: value for name in LINEAGE_COLUMNS if (value := getattr(self, name))}

    def summary(self) -> dict[str, Any]:
        """The fields a listing shows: id, kind, title, tempo, key, length, loudness, rating, tags, main audio."""
        return {"id": self.id, "kind": self.kind, "title": self.title, "bpm": self.bpm, "key": self.key,
                "camelot": self.camelot, "duration_s": self.duration_s, "loudness_lufs": self.loudness_lufs,
                "genre": self.genre, "rating": self.rating, "tags": list(self.tags),
                "audio": os.fspath(self.audio_path) if self.audio_path else None,
                "created": _iso(self.created)}

    def to_dict(self) -> dict[str, Any]:
        """Everything the row holds, paths made absolute, times as ISO 8601 (``library show --json``)."""
        return {
            **self.summary(), "prompt": self.prompt, "lyrics": self.lyrics,
            "requested": {"bpm": self.requested_bpm, "key": self.requested_key},
            "measured": {"bpm": self.measured_bpm, "key": self.measured_key, "key_confidence": self.key_confidence,
                         "loudness_lufs": self.loudness_lufs, "true_peak_dbtp": self.true_peak_dbtp},
            "time_signature": self.time_signature, "bars": self.bars, "lead_in_s": self.lead_in_s,
            "lead_out_s": self.lead_out_s, "sample_rate": self.sample_rate, "channels": self.channels,
            "frames": self.frames, "folder": os.fspath(self.folder), "manifest": os.fspath(self.manifest_path),
            "layout": self.layout, "stems": {k: os.fspath(self.folder / v) for k, v in self.stems.items()},
            "midi": [os.fspath(self.folder / m) for m in self.midi],
            "backend": {"name": self.backend, "version": self.backend_version, "seed": self.seed},
            "job_id": self.job_id, "lineage": {"parent": self.parent, "parent_job": self.parent_job, **self.lineage()},
            "registered": _iso(self.registered), "deleted": _iso(self.deleted) if self.deleted else None,
            "deleted_reason": self.deleted_reason, "analysis": self.analysis,
        }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


def clip_from_row(row: Any, root: Path) -> Clip:
    """A :class:`Clip` from a ``clips`` row; a folder stored relative to the library's ``root`` is made absolute."""
    values = {name: row[name] for name in row.keys() if name in Clip.__dataclass_fields__}
    folder = Path(row["folder"])
    values["folder"] = folder if folder.is_absolute() else root / folder
    values["analysis"] = json.loads(row["analysis"]) if row["analysis"] else None
    values["stems"] = json.loads(row["stems"] or "{}")
    values["midi"] = json.loads(row["midi"] or "[]")
    values["files"] = json.loads(row["files"] or "[]")
    values["tags"] = tuple(t for t in (row["tags"] or "").split() if t)
    return Clip(**values)
