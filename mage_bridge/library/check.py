"""``library check``: make the rows and the files agree again, and say what was done.

What it looks for, and what it does (with ``dry_run`` it only says what it would do):

- **Missing files**: a live clip whose manifest, main audio or a stem is gone (deleted by hand, a
  folder moved, a delete cut short) becomes a tombstone whose reason names the missing files, so a
  song that uses it says so. Optional files that are gone (MIDI, lyrics, the mastered mix) are
  dropped from the row.
- **Orphans** in the library's own folder: a clip folder without a row (an import killed between
  its rename and its commit) is recorded again from its manifest when its files are whole, else
  removed; a folder whose row is a tombstone (a delete cut short) is removed; a staging folder
  that no live import holds (an import killed half-way) is removed. Imports in progress are left alone.
- **Unrecorded results** in the result folders given (the daemon's jobs folder): a finished clip
  whose registration failed (logged by its job) is recorded.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mage_bridge import manifest
from mage_bridge.errors import InvalidInputError
from mage_bridge.library.records import fields_from_manifest
from mage_bridge.library.store import Library, read_manifest

_PARTIAL = ".partial-"
_BUSY = ("left alone: an import is writing it", "leave it alone: an import is writing it")


@dataclass
class Finding:
    """One thing found: what (``missing``, ``trimmed``, ``orphan``, ``staging``, ``unrecorded``, ``busy``), where,
    and what was (or with ``dry_run`` would be) done."""

    problem: str
    path: str
    action: str
    clip_id: str | None = None
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"problem": self.problem, "path": self.path, "action": self.action, "clip_id": self.clip_id,
                "files": self.files}


@dataclass
class CheckReport:
    """What ``library check`` found and did; ``clean`` when rows and files already agreed."""

    dry_run: bool
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not [f for f in self.findings if f.problem != "busy"]

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "checked": self.checked, "clean": self.clean,
                "findings": [f.to_dict() for f in self.findings]}


def check_library(library: Library, *, dry_run: bool = False, results_dirs: Iterable[Path] = ()) -> CheckReport:
    """Find rows without files and files without rows in ``library`` (and unrecorded results in ``results_dirs``);
    repair them unless ``dry_run``."""
    report = CheckReport(dry_run=dry_run)
    _check_rows(library, report)
    _check_clips_folder(library, report)
    for folder in results_dirs:
        _check_results(library, Path(folder), report)
    return report


def _found(report: CheckReport, problem: str, path: Path, done: str, todo: str, clip_id: str | None = None,
           files: list[str] | None = None) -> None:
    """Report a finding and what was done (``done``), or in a dry run what would be (``would <todo>``)."""
    action = f"would {todo}" if report.dry_run else done
    report.findings.append(Finding(problem, str(path), action, clip_id, files or []))


def _check_rows(library: Library, report: CheckReport) -> None:
    for clip in library.live_rows():
        report.checked += 1
        gone = [name for name in clip.files if not (clip.folder / name).exists()]
        if not gone:
            continue
        required = [name for name in gone if name in clip.required_files()]
        if required:
            reason = f"files missing: {', '.join(required)} (found by library check)"
            if not report.dry_run:
                library.forget(clip.id, reason)
            _found(report, "missing", clip.folder, "marked deleted", "mark deleted", clip.id, required)
        else:
            if not report.dry_run:
                library.update_files(clip.id, [f for f in clip.files if f not in gone],
                                     [m for m in clip.midi if m not in gone])
            _found(report, "trimmed", clip.folder, "forgot the optional files", "forget the optional files", clip.id,
                   gone)


def _check_clips_folder(library: Library, report: CheckReport) -> None:
    if not library.clips_dir.is_dir():
        return
    for entry in sorted(library.clips_dir.iterdir()):
        name = entry.name
        if name.startswith(".") and _PARTIAL in name:
            clip_id = name[name.rindex(_PARTIAL) + len(_PARTIAL):]
            if library.import_locked(clip_id):
                _found(report, "busy", entry, *_BUSY, clip_id)
                continue
            if not report.dry_run:
                _remove(entry)
            _found(report, "staging", entry, "removed", "remove", clip_id)
            continue
        if not entry.is_dir():
            continue
        row = library.db.execute("SELECT deleted FROM clips WHERE id = ?", (name,)).fetchone()
        if row is not None and row["deleted"] is None:
            continue
        if library.import_locked(name):
            _found(report, "busy", entry, *_BUSY, name)
        elif row is not None:
            if not report.dry_run:
                _remove(entry)
            _found(report, "orphan", entry, "removed (its clip was deleted)", "remove (its clip was deleted)", name)
        else:
            _adopt_or_remove(library, entry, report)


def _adopt_or_remove(library: Library, folder: Path, report: CheckReport) -> None:
    """A clip folder without a row: recorded again from its manifest when whole, else removed."""
    try:
        data = read_manifest(folder / manifest.FILENAME)
        fields = fields_from_manifest(folder / manifest.FILENAME, data)
    except InvalidInputError:
        fields = None
    whole = fields is not None and not _missing(folder, fields)
    if not whole:
        if not report.dry_run:
            _remove(folder)
        _found(report, "orphan", folder, "removed (no whole clip in it)", "remove (no whole clip in it)")
        return
    if not report.dry_run:
        try:
            library.register(folder / manifest.FILENAME, clip_id=folder.name)
        except sqlite3.IntegrityError:  # recorded by its importer meanwhile
            return
    _found(report, "orphan", folder, "recorded from its manifest", "record from its manifest", folder.name)


def _missing(folder: Path, fields: dict[str, Any]) -> list[str]:
    """The required files (manifest, main audio, stems) of a clip's ``fields`` that are not in ``folder``."""
    names = [fields["manifest"], *([fields["audio"]] if fields["audio"] else []), *json.loads(fields["stems"]).values()]
    return [n for n in names if not (folder / n).is_file()]


def _check_results(library: Library, folder: Path, report: CheckReport) -> None:
    """Finished clips in a result folder (one sub-folder per job) that the library has no live row for."""
    if not folder.is_dir():
        return
    for job in sorted(folder.iterdir()):
        if not job.is_dir() or job.name.startswith("."):
            continue
        candidates = [job / manifest.FILENAME] + [p for p in job.glob("*.json")
                                                  if p.name != manifest.FILENAME and p.with_suffix("").is_file()]
        for path in candidates:
            if not path.is_file() or _recorded(library, path):
                continue
            try:
                fields = fields_from_manifest(path, read_manifest(path))
            except InvalidInputError:
                continue
            if fields is None or _missing(job, fields):
                continue
            clip_id = None
            if not report.dry_run:
                clip = library.register(path)
                clip_id = clip.id if clip is not None else None
            _found(report, "unrecorded", path, "recorded", "record", clip_id)


def _recorded(library: Library, path: Path) -> bool:
    row = library.db.execute("SELECT 1 FROM clips WHERE folder = ? AND manifest = ? AND deleted IS NULL",
                             (library.stored_folder(path.parent), path.name)).fetchone()
    return row is not None


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
