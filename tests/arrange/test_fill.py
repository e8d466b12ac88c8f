""""Fill the gap": a generated clip that fits the focus clip's tempo, key and style, and joins the song."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mage_bridge.api.song import fill_gap, song_fill, song_new, song_render
from mage_bridge.arrange.clips import read_clip
from mage_bridge.arrange.fill import fill_request
from mage_bridge.arrange.store import FolderArrangementStore
from mage_bridge.errors import InvalidInputError
from tests.arrange.clipfolders import procedural_clip


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clips")
    procedural_clip(root, "focus", "dark deep house with electric piano at 118 BPM in F minor", seed=8, bars=5)
    return root


def test_the_request_asks_for_the_focus_clips_tempo_key_metre_genre_and_words(clips: Path) -> None:
    focus = read_clip("focus", clips / "focus" / "manifest.json")
    req = fill_request(focus, role="intro")
    assert req.options == {"bpm": 118.0, "time_signature": [4, 4], "bars": 5, "key": "F", "mode": "minor",
                           "genre": "deep house"}
    assert req.prompt.startswith("dark deep house with electric piano at 118 BPM in F minor; intro")
    assert req.lineage == {"parent": str(clips / "focus" / "manifest.json"), "parent_job": focus.data["job_id"],
                           "parent_clip": "focus", "fill": "intro"}
    song = fill_request(focus, role="next", bpm=124.0, key="G", mode="major", duration_s=20.0)
    assert (song.options["bpm"], song.options["key"], song.options["mode"], song.options["bars"]) == \
        (124.0, "G", "major", 10)  # 20 s at 124 BPM is 10.3 bars
    with pytest.raises(InvalidInputError, match="role must be one of intro, previous, next, outro"):
        fill_request(focus, role="chorus")
    with pytest.raises(InvalidInputError, match="bars must be a whole number from 2 to 59 at 118 BPM"):
        fill_request(focus, bars=200)


def test_fill_gap_generates_a_next_clip_that_measures_like_the_focus(clips: Path, tmp_path: Path) -> None:
    path = fill_gap(clips / "focus", tmp_path / "next", role="next", seed=3, backend="procedural")
    m = json.loads(path.read_text(encoding="utf-8"))
    focus = json.loads((clips / "focus" / "manifest.json").read_text(encoding="utf-8"))
    assert m["requested"] == focus["requested"] and m["analysis"]["genre"] == focus["analysis"]["genre"]
    assert m["frames"] == focus["frames"] and m["kind"] == "generate"
    assert m["lineage"]["fill"] == "next" and m["lineage"]["parent_clip"] == "focus"
    assert m["measured"]["bpm"] == pytest.approx(118.0, rel=0.02)
    assert (m["measured"]["key"], m["measured"]["mode"]) == ("F", "minor")
    with pytest.raises(InvalidInputError, match="the focus clip .*: its manifest .* cannot be read"):
        fill_gap(tmp_path / "nowhere", tmp_path / "x", backend="procedural")
    assert not (tmp_path / "x").exists()


def test_song_fill_makes_a_clip_at_the_songs_tempo_and_adds_it(clips: Path, tmp_path: Path) -> None:
    songs, own = tmp_path / "songs", tmp_path / "clips"
    shutil.copytree(clips / "focus", own / "focus")  # a link out of the clips folder would not count
    song_new("night", "focus", bpm=122, songs_dir=songs, clips_dir=own)
    path = song_fill("night", role="outro", clip_id="night-outro", bars=4, seed=1, backend="procedural",
                     songs_dir=songs, clips_dir=own)
    assert path == own / "night-outro" / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    assert m["requested"]["bpm"] == 122.0 and m["bars"] == 4
    song = FolderArrangementStore(songs).load("night")
    assert [(s.role, s.clip) for s in song.slots] == [("focus", "focus"), ("outro", "night-outro")]
    with pytest.raises(InvalidInputError, match="already has an outro"):
        song_fill("night", role="outro", backend="procedural", songs_dir=songs, clips_dir=own)
    rendered = json.loads(song_render(song, tmp_path / "out", clips_dir=own, master=False).read_text())
    (j,) = rendered["junctions"]
    assert j["fade_kind"] == "constant-gain" and j["to_clip"] == "night-outro"
