"""``library check``: rows without files and files without rows, found, repaired, and reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mage_bridge import audio as audio_io
from mage_bridge.errors import ClipDeletedError
from mage_bridge.library import Library, check_library, import_audio
from tests.library.conftest import write_clip
from tests.signals import sine


def _imported(library: Library, tmp_path: Path, name: str = "take.wav") -> str:
    audio_io.save(sine(440.0, 1.0), tmp_path / name, overwrite=True)
    return import_audio(library, tmp_path / name).id


def _problems(report: object) -> list[tuple[str, str]]:
    return sorted((f.problem, f.action) for f in report.findings)  # type: ignore[attr-defined]


def test_a_library_whose_files_and_rows_agree_is_clean(library: Library, tmp_path: Path) -> None:
    library.register(write_clip(tmp_path / "a"))
    _imported(library, tmp_path)
    report = check_library(library)
    assert report.clean and report.checked == 2 and report.findings == []


def test_a_clip_whose_audio_is_gone_becomes_a_tombstone_naming_the_files(library: Library, tmp_path: Path) -> None:
    clip = library.register(write_clip(tmp_path / "a"))
    moved = library.register(write_clip(tmp_path / "b"))
    assert clip is not None and moved is not None
    (tmp_path / "a" / "mix.wav").unlink()
    (tmp_path / "a" / "bass.wav").unlink()
    shutil.rmtree(tmp_path / "b")
    report = check_library(library)
    assert _problems(report) == [("missing", "marked deleted"), ("missing", "marked deleted")]
    assert {f.clip_id: f.files for f in report.findings}[clip.id] == ["mix.wav", "bass.wav"]
    with pytest.raises(ClipDeletedError, match="files missing: mix.wav, bass.wav"):
        library.get(clip.id)
    assert library.list().total == 0
    assert check_library(library).clean  # nothing left to do


def test_optional_files_that_are_gone_are_dropped_and_the_clip_stays(library: Library, tmp_path: Path) -> None:
    clip = library.register(write_clip(tmp_path / "a", lyrics="la la"))
    assert clip is not None
    (tmp_path / "a" / "parts.mid").unlink()
    (tmp_path / "a" / "lyrics.txt").unlink()
    report = check_library(library)
    assert _problems(report) == [("trimmed", "forgot the optional files")]
    kept = library.get(clip.id)
    assert "parts.mid" not in kept.files and kept.midi == [] and "mix.wav" in kept.files
    assert check_library(library).clean


def test_orphans_in_the_library_folder(library: Library, tmp_path: Path) -> None:
    unrecorded = _imported(library, tmp_path, "one.wav")  # an import killed between its rename and its commit:
    library.db.execute("DELETE FROM clip_tags")
    library.db.execute("DELETE FROM clips WHERE id = ?", (unrecorded,))
    deleted = _imported(library, tmp_path, "two.wav")  # a delete cut short after its row became a tombstone
    library.forget(deleted, "deleted")
    junk = library.clips_dir / "0123456789ab"  # a folder without a manifest
    junk.mkdir()
    (junk / "noise.wav").write_bytes(b"x")
    stale = library.clips_dir / ".abcdefabcdef.partial-abcdefabcdef"  # an import killed half-way
    stale.mkdir()
    (stale / "take.wav").write_bytes(b"x")
    report = check_library(library)
    assert _problems(report) == [("orphan", "recorded from its manifest"), ("orphan", "removed (its clip was deleted)"),
                                 ("orphan", "removed (no whole clip in it)"), ("staging", "removed")]
    assert library.get(unrecorded).kind == "import"  # the same id again
    assert sorted(p.name for p in library.clips_dir.iterdir()) == [unrecorded]
    assert check_library(library).clean


def test_an_import_in_progress_is_left_alone(library: Library) -> None:
    staging = library.clips_dir / ".feedfeedfeed.partial-feedfeedfeed"
    with library.import_lock("feedfeedfeed"):
        staging.mkdir(parents=True)
        with Library(library.root) as other:  # another process's view
            report = check_library(other)
        assert _problems(report) == [("busy", "left alone: an import is writing it")]
        assert report.clean and staging.is_dir()
    assert _problems(check_library(library)) == [("staging", "removed")]


def test_unrecorded_results_in_the_jobs_folder_are_recorded(library: Library, tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    write_clip(jobs / "job1")
    write_clip(jobs / "job2", kind="lyrics")  # not a clip
    half = write_clip(jobs / "job3")
    half.unlink()  # a delete cut short: no manifest, not a result any more
    (jobs / "job4").mkdir()
    report = check_library(library, results_dirs=[jobs])
    assert _problems(report) == [("unrecorded", "recorded")]
    assert library.list().clips[0].folder == jobs / "job1"
    assert check_library(library, results_dirs=[jobs]).clean


def test_a_dry_run_reports_the_same_and_changes_nothing(library: Library, tmp_path: Path,
                                                        rng: np.random.Generator) -> None:
    clip = library.register(write_clip(tmp_path / "a"))
    assert clip is not None
    (tmp_path / "a" / "mix.wav").unlink()
    stale = library.clips_dir / ".abcdefabcdef.partial-abcdefabcdef"
    stale.mkdir(parents=True)
    write_clip(tmp_path / "jobs" / "j")
    dry = check_library(library, dry_run=True, results_dirs=[tmp_path / "jobs"])
    assert _problems(dry) == [("missing", "would mark deleted"), ("staging", "would remove"),
                              ("unrecorded", "would record")]
    assert library.get(clip.id).deleted is None and stale.is_dir() and library.list().total == 1
    real = check_library(library, results_dirs=[tmp_path / "jobs"])
    assert [(f.problem, f.path) for f in real.findings] == [(f.problem, f.path) for f in dry.findings]
