"""Importing the user's own audio: copied, measured, recorded; corrupt or bad input leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from mage_bridge import api
from mage_bridge import audio as audio_io
from mage_bridge.config import load_config
from mage_bridge.errors import InvalidAudioError, InvalidInputError
from mage_bridge.library import Library, import_audio
from tests.library.conftest import write_clip
from tests.measure.synth import chord_clip


def _nothing_written(library: Library) -> None:
    assert library.list().total == 0 and library.list(deleted=True).total == 0
    assert not library.clips_dir.exists() or list(library.clips_dir.iterdir()) == []


def test_an_imported_file_is_copied_and_measured(library: Library, tmp_path: Path, rng: np.random.Generator) -> None:
    source = tmp_path / "my loop (final).flac"
    audio_io.save(chord_clip(9, "minor", rng=rng, bpm=120.0, cycles=2), source)
    clip = import_audio(library, source, tags=["Mine"], rating=4)
    assert clip.kind == "import" and clip.title == "my loop (final)"
    assert clip.folder == library.clips_dir / clip.id
    assert clip.audio_path is not None and clip.audio_path.read_bytes() == source.read_bytes()
    assert clip.key == "A minor" and clip.requested_key is None
    assert clip.bpm is not None and abs(clip.bpm - 120.0) <= 2.4
    assert clip.loudness_lufs is not None and clip.duration_s is not None
    assert (clip.tags, clip.rating) == (("mine",), 4)
    assert sorted(p.name for p in clip.folder.iterdir()) == sorted(clip.files)
    os.remove(source)  # the library keeps its own copy
    assert library.get(clip.id).audio_path.is_file()  # type: ignore[union-attr]


CORRUPT = [
    pytest.param(b"RIFF\x10\x00\x00\x00WAVEfmt garbage garbage garbage", "song.wav", id="broken-wav-header"),
    pytest.param(os.urandom(4096), "song.flac", id="random-bytes-flac"),
    pytest.param(b"this is a text file, not audio\n" * 20, "song.mp3", id="text-as-mp3"),
    pytest.param(b"", "empty.wav", id="empty"),
]


@pytest.mark.parametrize("content,name", CORRUPT)
def test_corrupt_audio_is_a_clear_error_and_nothing_is_written(library: Library, tmp_path: Path, content: bytes,
                                                               name: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises((InvalidAudioError, InvalidInputError)) as e:
        import_audio(library, tmp_path / name)
    assert name in str(e.value)
    _nothing_written(library)


@pytest.mark.parametrize("suffix", ["flac", "mp3"])
def test_a_file_cut_short_is_refused_without_leaving_a_half_clip(library: Library, tmp_path: Path,
                                                                 rng: np.random.Generator, suffix: str) -> None:
    whole = tmp_path / f"whole.{suffix}"
    audio = chord_clip(0, "major", rng=rng, cycles=1)
    audio_io.save(audio, whole) if suffix == "flac" else audio_io.save_mp3(audio, whole)
    cut = tmp_path / f"cut.{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    with pytest.raises(InvalidAudioError, match=rf"cut.{suffix}' is cut short or damaged: its header promises 14.00 s"):
        import_audio(library, cut)
    _nothing_written(library)


@pytest.mark.parametrize("kwargs,message", [
    ({"tags": ["a,b"]}, "a tag must be"), ({"rating": 7}, "rating"), ({"title": ""}, "title"),
], ids=["tag", "rating", "title"])
def test_bad_arguments_are_refused_before_anything_is_read(library: Library, tmp_path: Path,
                                                           kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        import_audio(library, tmp_path / "does-not-matter.wav", **kwargs)  # type: ignore[arg-type]
    _nothing_written(library)


def test_a_missing_file_is_named(library: Library, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no audio file at .*nowhere.wav"):
        import_audio(library, tmp_path / "nowhere.wav")


def test_a_clip_manifest_is_recorded_where_it_lies(library: Library, tmp_path: Path) -> None:
    path = write_clip(tmp_path / "made")
    clip = import_audio(library, tmp_path / "made", tags=["kept"])
    assert clip.manifest_path == path and clip.tags == ("kept",)
    assert not library.clips_dir.exists()
    with pytest.raises(InvalidInputError, match="does not keep"):
        import_audio(library, write_clip(tmp_path / "words", kind="lyrics"))


def test_the_import_job_function_takes_its_options_as_the_daemon_sends_them(tmp_path: Path,
                                                                             rng: np.random.Generator) -> None:
    source = tmp_path / "take.wav"
    audio_io.save(chord_clip(2, "major", rng=rng, cycles=1), source)
    config = load_config(data_dir=str(tmp_path / "data"))
    path = api.library_import(source, tags="one, two", rating=2, title="Take one", config=config)
    with Library.open(config) as library:
        clip = library.list().clips[0]
    assert clip.manifest_path == path and clip.title == "Take one" and clip.tags == ("one", "two")
    with pytest.raises(InvalidInputError, match="tags must be"):
        api.library_import(source, tags=5, config=config)  # type: ignore[arg-type]
