"""Songs made of library clips: clips found by library id, the document kept in the library, a deleted clip
refused by name, a filled gap added by its library id — all through the API's defaults, as the CLI and the
daemon use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mage_bridge import api
from mage_bridge.api.song import song_add, song_fill, song_new, song_render, song_store
from mage_bridge.config import Config, load_config
from mage_bridge.errors import InvalidInputError, OutputExistsError
from mage_bridge.library import Library, load_arrangement
from mage_bridge.library.songs import LibraryClipSource, LibrarySongStore


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, dict[str, str]]:
    """A data folder whose library holds two real 4-bar clips, made by generate (which records them)."""
    root = tmp_path_factory.mktemp("data")
    config = load_config(data_dir=str(root))
    ids = {}
    for name, prompt, seed in (("house", "deep house at 122 BPM in A minor", 1),
                               ("techno", "driving techno at 126 BPM in A minor", 2)):
        path = api.generate(prompt, root / "out" / name, seed=seed, backend="procedural", options={"bars": 4},
                            config=config)
        clip_id = LibraryClipSource(config).library_id(path)
        assert clip_id is not None, f"{name} was not recorded in the library"
        ids[name] = clip_id
    return config, ids


def test_a_song_of_library_clips_is_kept_in_the_library_and_renders(made: tuple[Config, dict[str, str]],
                                                                     tmp_path: Path) -> None:
    config, ids = made
    assert isinstance(song_store(config), LibrarySongStore)
    song_new("night", ids["house"][:6], bpm=124, config=config)  # a unique prefix of the id names the clip
    song_add("night", ids["techno"], role="next", config=config)
    with Library.open(config) as library:
        stored = load_arrangement(library, "night")
    assert stored.version == 2  # created, then the next clip added
    assert [s["clip"] for s in stored.document["slots"]] == [ids["house"][:6], ids["techno"]]
    with pytest.raises(OutputExistsError):
        song_new("night", ids["house"], config=config)
    path = song_render(song_store(config).load("night"), tmp_path / "song", master=False, config=config)
    m = json.loads(path.read_text(encoding="utf-8"))
    assert [c["clip"] for c in m["clips"]] == [ids["house"][:6], ids["techno"]]
    assert all(c["conform"]["to_bpm"] == 124.0 for c in m["clips"])
    assert m["frames"] == sum(c["frames"] for c in m["clips"]) - sum(j["fade_frames"] for j in m["junctions"])


def test_a_deleted_library_clip_is_refused_by_slot_and_id(tmp_path: Path) -> None:
    config = load_config(data_dir=str(tmp_path / "data"))
    a = api.generate("lofi hip hop at 80 BPM", tmp_path / "a", seed=1, backend="procedural", options={"bars": 3},
                     config=config)
    b = api.generate("lofi hip hop at 84 BPM", tmp_path / "b", seed=2, backend="procedural", options={"bars": 3},
                     config=config)
    source = LibraryClipSource(config)
    first, second = source.library_id(a), source.library_id(b)
    assert first and second
    song = song_new("s", first, config=config)
    song = song_add("s", second, role="outro", config=config)
    with Library.open(config) as library:
        library.delete(second)
    assert source.manifest_path(second) is None and not (tmp_path / "b").exists()
    with pytest.raises(InvalidInputError, match=f"outro.*{second}"):
        song_render(song, tmp_path / "out", master=False, config=config)
    assert not (tmp_path / "out").exists()


def test_a_filled_gap_joins_the_song_by_its_library_id(made: tuple[Config, dict[str, str]]) -> None:
    config, ids = made
    song_new("fill", ids["house"], config=config)
    path = song_fill("fill", role="intro", bars=4, seed=5, backend="procedural", config=config)
    assert path.parent.parent == config.data_dir / "clips"
    new_id = LibraryClipSource(config).library_id(path)
    assert new_id is not None
    song = song_store(config).load("fill")
    assert [(s.role, s.clip) for s in song.slots] == [("intro", new_id), ("focus", ids["house"])]


def test_a_clip_folder_of_the_data_folder_is_found_when_the_library_does_not_know_the_id(
        made: tuple[Config, dict[str, str]]) -> None:
    config, _ = made
    source = LibraryClipSource(config)
    assert source.manifest_path("no-such-clip") is None
    folder = config.data_dir / "clips" / "by-hand"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    assert source.manifest_path("by-hand") == folder / "manifest.json"
