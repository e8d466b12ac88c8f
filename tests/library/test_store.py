"""The store over a real SQLite file: registering results, lineage, ids, tags, ratings, delete, tombstones, schema."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from mage_bridge.api.results import register_result
from mage_bridge.config import load_config
from mage_bridge.errors import ClipDeletedError, ClipNotFoundError, InvalidInputError, PathNotAllowedError
from mage_bridge.library import Library, Query, VersionConflictError, load_arrangement, save_arrangement, search
from mage_bridge.library.arrangements import list_arrangements
from mage_bridge.library.schema import MIGRATIONS, SCHEMA_VERSION, LibraryDatabaseError
from tests.library.conftest import write_clip, write_master


def test_a_new_library_is_wal_at_the_current_schema(library: Library) -> None:
    assert library.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert library.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert library.path.is_file()


def test_a_registered_clip_holds_what_its_manifest_says(library: Library, tmp_path: Path) -> None:
    path = write_clip(tmp_path / "house", bpm=122.0, key="G", mode="minor", measured_bpm=121.9,
                      lyrics="city lights")
    clip = library.register(path)
    assert clip is not None
    assert (clip.kind, clip.title, clip.genre) == ("generate", "deep house groove", "deep house")
    assert (clip.requested_bpm, clip.measured_bpm, clip.bpm) == (122.0, 121.9, 122.0)
    assert (clip.requested_key, clip.key, clip.camelot) == ("G minor", "G minor", "6A")
    assert clip.stems == {"drums": "drums.wav", "bass": "bass.wav"}
    assert clip.audio_path == tmp_path / "house" / "mix.wav"
    assert clip.midi == ["parts.mid"]
    assert clip.lyrics == "city lights"
    assert (clip.backend, clip.seed, clip.lead_in_s, clip.bars) == ("procedural", 7, 2.0, 8)
    assert set(clip.files) == {"manifest.json", "mix.wav", "drums.wav", "bass.wav", "parts.mid", "lyrics.txt"}
    assert library.get(clip.id) == clip


def test_a_result_that_is_not_a_clip_is_not_recorded(library: Library, tmp_path: Path) -> None:
    path = write_clip(tmp_path / "words", kind="lyrics")
    assert library.register(path) is None
    assert library.list().total == 0


def test_registering_a_result_again_keeps_its_id_tags_and_rating(library: Library, tmp_path: Path) -> None:
    path = write_clip(tmp_path / "a", job_id="job1")
    first = library.register(path)
    assert first is not None
    library.tag(first.id, ["keep"])
    library.rate(first.id, 3)
    again = library.register(path)  # the daemon ran the job again after a crash, or library check
    assert again is not None and again.id == first.id
    assert (again.tags, again.rating) == (("keep",), 3)
    assert library.list().total == 1


def test_a_folder_written_again_replaces_its_clip_with_a_tombstone(library: Library, tmp_path: Path) -> None:
    old = library.register(write_clip(tmp_path / "a", job_id="job1", prompt="first"))
    new = library.register(write_clip(tmp_path / "a", job_id="job2", prompt="second"))
    assert old is not None and new is not None and old.id != new.id
    with pytest.raises(ClipDeletedError, match=f"replaced by clip {new.id}"):
        library.get(old.id)
    assert [c.title for c in library.list().clips] == ["second"]


def test_lineage_names_the_source_clip_and_derived_clips_take_its_tempo(library: Library, tmp_path: Path) -> None:
    source = library.register(write_clip(tmp_path / "src", job_id="srcjob", bpm=100.0, key="E", mode="minor"))
    assert source is not None
    extension = library.register(write_clip(tmp_path / "ext", kind="extend", parent=str(source.manifest_path),
                                            parent_job="srcjob"))
    retake = library.register(write_clip(tmp_path / "retake", kind="retake", parent=str(source.manifest_path)))
    master = library.register(write_master(tmp_path / "m.flac", tmp_path / "src" / "mix.wav"))
    assert extension is not None and retake is not None and master is not None
    assert extension.lineage() == {"extension_of": source.id}
    assert retake.lineage() == {"variation_of": source.id}
    assert master.lineage() == {"mastered_from": source.id}
    assert (master.bpm, master.key, master.title) == (100.0, "E minor", "deep house groove (master)")
    assert (master.layout, master.audio) == ("file", "m.flac")
    assert [c.id for c in library.derived(source.id)] == [master.id, retake.id, extension.id]
    library.delete(retake.id)
    assert [c.id for c in library.derived(source.id)] == [master.id, extension.id]  # the live ones only
    assert library.derived(extension.id) == []


def test_a_clip_is_renamed_and_found_by_its_new_title(library: Library, tmp_path: Path) -> None:
    clip = library.register(write_clip(tmp_path / "a", prompt="deep house groove"))
    assert clip is not None
    renamed = library.retitle(clip.id[:6], "  Warehouse\n opener ")
    assert (renamed.title, renamed.prompt) == ("Warehouse opener", "deep house groove")
    assert [c.id for c in search(library, Query.build(text="warehouse")).clips] == [clip.id]
    assert search(library, Query.build(text="groove")).total == 1  # the prompt is still searched
    for bad in ("", "   ", "x" * 121, 7):
        with pytest.raises(InvalidInputError, match="title must be 1 to 120"):
            library.retitle(clip.id, bad)  # type: ignore[arg-type]
    library.delete(clip.id)
    with pytest.raises(ClipDeletedError):
        library.retitle(clip.id, "gone")


def test_ids_resolve_by_unique_prefix(library: Library, tmp_path: Path) -> None:
    clip = library.register(write_clip(tmp_path / "a"))
    assert clip is not None
    assert library.get(clip.id[:5]).id == clip.id
    assert library.get(clip.id.upper()).id == clip.id
    with pytest.raises(ClipNotFoundError, match="no clip 'ffffffffffff'"):
        library.get("ffffffffffff")
    with pytest.raises(InvalidInputError):
        library.get("  ")


def test_an_ambiguous_prefix_names_the_candidates(library: Library, tmp_path: Path) -> None:
    for i, clip_id in enumerate(("abcd00000001", "abcd00000002")):
        library.register(write_clip(tmp_path / str(i)), clip_id=clip_id)
    with pytest.raises(ClipNotFoundError, match="ambiguous.*abcd00000001, abcd00000002"):
        library.get("abcd")


def test_tags_are_normalised_and_bad_ones_refused(library: Library, tmp_path: Path) -> None:
    clip = library.register(write_clip(tmp_path / "a"))
    assert clip is not None
    assert library.tag(clip.id, [" Late  Night ", "dark", "DARK"]).tags == ("dark", "late-night")
    assert library.tag(clip.id, remove=["Dark"]).tags == ("late-night",)
    for bad in ("", "a,b", "x" * 41, "semi;colon"):
        with pytest.raises(InvalidInputError, match="a tag must be"):
            library.tag(clip.id, [bad])
    with pytest.raises(InvalidInputError, match="at most 32 tags"):
        library.tag(clip.id, [f"t{i}" for i in range(40)])
    assert library.get(clip.id).tags == ("late-night",)  # a refused change changes nothing


@pytest.mark.parametrize("rating", [-1, 6, 2.5, True, "3"], ids=["neg", "six", "float", "bool", "str"])
def test_bad_ratings_are_refused(library: Library, tmp_path: Path, rating: object) -> None:
    clip = library.register(write_clip(tmp_path / "a"))
    assert clip is not None
    with pytest.raises(InvalidInputError, match="rating must be an int from 0"):
        library.rate(clip.id, rating)  # type: ignore[arg-type]


def test_delete_removes_the_folder_and_leaves_a_tombstone(library: Library, tmp_path: Path) -> None:
    clip = library.register(write_clip(tmp_path / "a", prompt="doomed loop"))
    assert clip is not None
    done = library.delete(clip.id)
    assert not (tmp_path / "a").exists()
    assert {p.name for p in done.removed} == set(clip.files)
    with pytest.raises(ClipDeletedError, match=rf"clip {clip.id} \('doomed loop'\) was deleted on .*: deleted"):
        library.get(clip.id)
    with pytest.raises(ClipDeletedError):
        library.tag(clip.id, ["x"])
    with pytest.raises(ClipDeletedError):
        library.clips([clip.id])  # what a song that uses it gets
    assert library.get(clip.id, deleted=True).deleted is not None
    assert library.list().total == 0 and library.list(deleted=True).total == 1


def test_delete_of_a_master_removes_its_file_and_manifest_only(library: Library, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "other.txt").write_text("not the clip's")
    clip = library.register(write_master(tmp_path / "out" / "song.wav", tmp_path / "in.wav"))
    assert clip is not None
    library.delete(clip.id)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["other.txt"]


def test_delete_refuses_paths_its_guard_refuses(library: Library, tmp_path: Path) -> None:
    clip = library.register(write_clip(tmp_path / "a"))
    assert clip is not None
    with pytest.raises(PathNotAllowedError):
        library.delete(clip.id, may_remove=lambda path: False)
    assert (tmp_path / "a" / "mix.wav").is_file() and library.get(clip.id).deleted is None


def test_a_library_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    Library(tmp_path / "lib").close()
    db = sqlite3.connect(tmp_path / "lib" / "library.sqlite3")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LibraryDatabaseError, match="newer than this MAGE Bridge knows"):
        Library(tmp_path / "lib")


def test_an_older_library_is_migrated_and_keeps_its_clips(tmp_path: Path) -> None:
    folder = tmp_path / "lib"
    folder.mkdir()
    db = sqlite3.connect(folder / "library.sqlite3", isolation_level=None)
    db.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")  # a file of the first version
    db.close()
    with Library(folder) as library:
        clip = library.register(write_clip(tmp_path / "a"))
        assert clip is not None
        assert library.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        saved = save_arrangement(library, {"focus": clip.id}, name="song")
        assert saved.version == 1


def test_arrangements_count_their_versions_and_refuse_a_stale_save(library: Library) -> None:
    first = save_arrangement(library, {"clips": ["a"]}, name="song")
    second = save_arrangement(library, {"clips": ["a", "b"]}, name="song", arrangement_id=first.id,
                              expected_version=1)
    assert (second.version, second.document) == (2, {"clips": ["a", "b"]})
    with pytest.raises(VersionConflictError, match="at version 2, not 1"):
        save_arrangement(library, {"clips": []}, name="song", arrangement_id=first.id, expected_version=1)
    assert load_arrangement(library, first.id).document == {"clips": ["a", "b"]}
    other = save_arrangement(library, {"clips": ["c"]}, name="other")
    assert [(a.id, a.version) for a in list_arrangements(library)] == [(other.id, 1), (first.id, 2)]
    assert [a.id for a in list_arrangements(library, limit=1)] == [other.id]


def test_a_job_records_its_result_and_a_broken_library_does_not_fail_it(tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    path = write_clip(tmp_path / "a")
    config = load_config(data_dir=str(tmp_path / "data"))
    assert register_result(path, config) == path
    with Library.open(config) as library:
        assert library.list().clips[0].manifest_path == path
    (tmp_path / "blocked").write_text("a file where the library's folder should be")
    broken = load_config(data_dir=str(tmp_path / "data"), **{"library.dir": str(tmp_path / "blocked")})
    with caplog.at_level(logging.WARNING, logger="mage_bridge.api"):
        assert register_result(path, broken) == path
    assert "could not record" in caplog.text and "library check" in caplog.text
    off = load_config(data_dir=str(tmp_path / "off"), **{"library.register": False})
    register_result(path, off)
    assert not (tmp_path / "off" / "library").exists()


def test_a_write_that_cannot_get_the_lock_in_time_is_library_busy(tmp_path: Path) -> None:
    from mage_bridge.library.schema import LibraryBusyError

    with Library(tmp_path / "lib") as holder, Library(tmp_path / "lib", timeout_s=0.2) as waiter:
        clip = holder.register(write_clip(tmp_path / "a"))
        assert clip is not None
        with holder.transaction():  # another process in the middle of a write
            assert waiter.get(clip.id).id == clip.id  # reading never waits (WAL)
            with pytest.raises(LibraryBusyError, match="the library is busy"):
                waiter.rate(clip.id, 3)
        assert waiter.rate(clip.id, 3).rating == 3
