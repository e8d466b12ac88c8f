"""``api.song_render`` on real clips: exact lengths, junctions on bar lines, beats that meet, determinism,
and bad input refused with nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mage_bridge import audio as audio_io
from mage_bridge.api.song import song_add, song_new, song_render
from mage_bridge.arrange import document
from mage_bridge.arrange.store import FolderArrangementStore
from mage_bridge.audio import Audio
from mage_bridge.effects.loudness import integrated_loudness, short_term_loudness
from mage_bridge.errors import InvalidInputError
from mage_bridge.measure import measure_tempo
from tests.arrange.clipfolders import beat_peaks, click_track, procedural_clip, write_clip
from tests.signals import RATE, noise, sine


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real procedural clips, whole bars: two at 120 BPM, one at 126; click tracks with exact manifests."""
    root = tmp_path_factory.mktemp("clips")
    procedural_clip(root, "house", "deep house at 120 BPM in A minor", seed=1, bars=4)
    procedural_clip(root, "house2", "deep house at 120 BPM in A minor", seed=2, bars=4)
    procedural_clip(root, "techno", "techno at 126 BPM in A minor", seed=3, bars=5)
    write_clip(root, "click120", click_track(120.0, 4), bpm=120.0)
    write_clip(root, "click126", click_track(126.0, 4, freq_hz=2000.0), bpm=126.0)
    write_clip(root, "loose", click_track(120.0, 4, freq_hz=500.0), bpm=120.0, grid=False)
    write_clip(root, "notempo", sine(220.0, 4.0), bpm=None)
    return root


def _render(song: document.Arrangement | dict[str, Any] | str | Path, out: Path, clips: Path,
            **kwargs: Any) -> dict[str, Any]:
    path = song_render(song, out, clips_dir=clips, **kwargs)
    assert path == out / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _song(*slots: tuple[str, str], **settings: Any) -> document.Arrangement:
    return document.parse({"schema": document.SCHEMA, "slots": [{"role": r, "clip": c} for r, c in slots],
                           **settings})


def test_two_clips_at_the_songs_tempo_are_a_plus_b_minus_the_fade(clips: Path, tmp_path: Path) -> None:
    m = _render(_song(("focus", "house"), ("next", "house2")), tmp_path / "song", clips)
    a = audio_io.load(clips / "house" / "mix.wav")
    b = audio_io.load(clips / "house2" / "mix.wav")
    mix = audio_io.load(tmp_path / "song" / "mix.wav")
    (j,) = m["junctions"]
    assert (a.frames, b.frames, j["fade_frames"]) == (384_000, 384_000, 96_000)  # 4 bars, 4 bars, 2 s
    assert mix.frames == m["frames"] == a.frames + b.frames - j["fade_frames"] == 672_000
    assert (j["frame"], j["bar"], j["fade_kind"], j["kind_chosen"]) == (288_000, 3, "constant-gain", "auto")
    assert "beat-matched" in j["why"]
    np.testing.assert_array_equal(mix.samples[:, :288_000], a.samples[:, :288_000])  # untouched up to the fade
    np.testing.assert_array_equal(mix.samples[:, 384_000:], b.samples[:, 96_000:])
    song = audio_io.load(tmp_path / "song" / "song.wav")
    assert song.frames == mix.frames and m["master"]["measured"]["loudness_lufs"] == pytest.approx(-14.0, abs=0.5)
    assert [c["conform"]["length_ratio"] for c in m["clips"]] == [1.0, 1.0] and m["warnings"] == []
    assert sorted(p.name for p in (tmp_path / "song").iterdir()) == ["arrangement.json", "manifest.json", "mix.wav",
                                                                    "song.wav"]
    assert document.loads((tmp_path / "song" / "arrangement.json").read_text()) == _song(("focus", "house"),
                                                                                       ("next", "house2"))


def test_clips_conformed_to_128_meet_on_bar_lines_and_the_song_measures_128(clips: Path, tmp_path: Path) -> None:
    song = _song(("intro", "house2"), ("focus", "house"), ("next", "techno"), bpm=128)
    m = _render(song, tmp_path / "song", clips, master=False, format="flac")
    bar = m["song"]["bar_s"] * RATE
    assert bar == pytest.approx(90_000)  # 1.875 s
    frames = [c["frames"] for c in m["clips"]]
    assert [c["conform"]["frames_in"] for c in m["clips"]] == [384_000, 384_000, 457_143]  # 5 bars at 126
    assert frames == [360_000, 360_000, 450_000]  # each exactly round(frames * clip_bpm / 128)
    for j in m["junctions"]:
        assert j["frame"] == m["song"]["grid_origin_frame"] + round(j["bar"] * bar), j  # on a bar line
        assert j["fade_frames"] == 90_000 and j["fade_kind"] == "constant-gain"  # 2 s snapped to one bar
    assert m["frames"] == sum(frames) - sum(j["fade_frames"] for j in m["junctions"])
    for before, after, j in zip(m["clips"], m["clips"][1:], m["junctions"]):
        assert after["start_frame"] == j["frame"] and before["start_frame"] + before["frames"] == j["end_frame"]
    rendered = audio_io.load(tmp_path / "song" / "mix.wav")
    assert rendered.frames == m["frames"]
    assert measure_tempo(rendered).bpm == pytest.approx(128.0, rel=0.01)
    assert m["master"] is None and m["export"]["file"] == "song.flac" == m["output"]
    assert audio_io.load(tmp_path / "song" / "song.flac").frames == m["frames"]


def test_beat_matched_clicks_land_on_the_songs_beats_through_every_junction(clips: Path, tmp_path: Path) -> None:
    song = _song(("focus", "click120"), ("next", "click126"), ("next", "click120"), bpm=124,
                 junction={"fade_s": 4.0})
    m = _render(song, tmp_path / "song", clips, master=False)
    rendered = audio_io.load(tmp_path / "song" / "mix.wav")
    beat = 60.0 / 124.0 * RATE
    where, height = beat_peaks(rendered, beat)
    assert len(where) == round(m["frames"] / beat) == 32 and np.all(height > 0.25)  # a click on every beat
    expected = np.round(np.arange(len(where)) * beat)
    assert np.max(np.abs(where - expected)) < 0.002 * RATE, where - expected
    assert [j["fade_kind"] for j in m["junctions"]] == ["constant-gain", "constant-gain"]
    # 4 s snaps to 2 bars at 124 BPM (the clip ends on its 4th bar line, rounded to a frame)
    assert all(abs(j["fade_frames"] - 2 * 4 * beat) <= 1 for j in m["junctions"]), m["junctions"]


def test_a_clip_whose_bars_are_unknown_gets_an_equal_power_fade_saying_why(clips: Path, tmp_path: Path) -> None:
    m = _render(_song(("focus", "click120"), ("next", "loose"), ("next", "click120")), tmp_path / "song", clips,
                master=False)
    assert [j["fade_kind"] for j in m["junctions"]] == ["equal-power", "equal-power"]
    assert all("slot next 1 (clip 'loose') has a requested tempo but no known bar lines" in j["why"]
               for j in m["junctions"])
    forced = _song(("focus", "click120"), ("next", "loose"), junction={"kind": "constant-gain"})
    (j,) = _render(forced, tmp_path / "forced", clips, master=False)["junctions"]
    assert (j["fade_kind"], j["kind_chosen"]) == ("constant-gain", "document")


def test_unrelated_noises_cross_at_equal_loudness_through_the_render(tmp_path: Path,
                                                                      rng: np.random.Generator) -> None:
    """Two uncorrelated noises of equal loudness whose bars are unknown: the renderer picks equal-power, and the
    song's short-term loudness stays within ±1 LU of theirs through the junction."""
    root = tmp_path / "clips"
    write_clip(root, "hiss", noise(8.0, rng), bpm=120.0, grid=False)
    write_clip(root, "rain", noise(8.0, rng), bpm=120.0, grid=False)
    m = _render(_song(("focus", "hiss"), ("next", "rain")), tmp_path / "song", root, master=False)
    (j,) = m["junctions"]
    assert (j["fade_kind"], j["kind_chosen"], j["fade_frames"]) == ("equal-power", "auto", 96_000)
    mix = audio_io.load(tmp_path / "song" / "mix.wav")
    level = integrated_loudness(audio_io.load(root / "hiss" / "mix.wav"))
    s = short_term_loudness(Audio(mix.samples[:, RATE:-RATE], RATE))  # clear of the noises' 10 ms edge fades
    assert np.all(np.abs(s - level) <= 1.0), (s.min() - level, s.max() - level)


def test_the_same_document_renders_the_same_samples(clips: Path, tmp_path: Path) -> None:
    song = _song(("focus", "house"), ("next", "techno"), bpm=124, key="C", mode="minor", conform_key=True)
    first = _render(song, tmp_path / "one", clips, format="mp3")
    second = _render(song.to_dict(), tmp_path / "two", clips, format="mp3")
    for name in ("mix.wav", "song.mp3"):
        np.testing.assert_array_equal(audio_io.load(tmp_path / "one" / name).samples,
                                      audio_io.load(tmp_path / "two" / name).samples)
    assert [c["conform"]["pitch_shift_semitones"] for c in first["clips"]] == [3, 3]
    assert [c["conform"]["to_key"] for c in first["clips"]] == ["C minor", "C minor"]
    assert first["junctions"] == second["junctions"] and first["clips"] == second["clips"]


def _nothing_written(out: Path) -> None:
    assert not out.exists()
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith(".")], list(out.parent.iterdir())


def test_a_missing_clip_is_named_with_its_slot_and_nothing_is_written(clips: Path, tmp_path: Path) -> None:
    song = _song(("focus", "house"), ("next", "ghost"), ("next", "notempo"))
    with pytest.raises(InvalidInputError) as e:
        song_render(song, tmp_path / "out", clips_dir=clips)
    assert "slot next 1 (clip 'ghost'): no clip 'ghost' in" in str(e.value)
    assert "slot next 2 (clip 'notempo'): it has no tempo" in str(e.value)  # every fault, in one message
    _nothing_written(tmp_path / "out")


def test_a_song_whose_clip_was_deleted_is_refused_and_nothing_is_written(clips: Path, tmp_path: Path) -> None:
    own = tmp_path / "clips"
    shutil.copytree(clips, own)
    songs = tmp_path / "songs"
    song_new("night", "house", songs_dir=songs, clips_dir=own)
    song_add("night", "techno", role="next", songs_dir=songs, clips_dir=own)
    with pytest.raises(InvalidInputError, match="slot focus \\(clip 'notempo'\\): it has no tempo"):
        song_new("bad", "notempo", songs_dir=songs, clips_dir=own)
    with pytest.raises(InvalidInputError, match="slot intro \\(clip 'ghost'\\): no clip 'ghost'"):
        song_add("night", "ghost", role="intro", songs_dir=songs, clips_dir=own)
    assert sorted(p.name for p in songs.iterdir()) == ["night.json"]  # the refused ones left no document
    (own / "house2" / "mix.wav").unlink()
    shutil.rmtree(own / "techno")
    stored = FolderArrangementStore(songs).load("night")
    with pytest.raises(InvalidInputError, match=r"slot next 1 \(clip 'techno'\): no clip 'techno' in .* \(deleted\?\)"):
        song_render(stored, tmp_path / "out", clips_dir=own)
    _nothing_written(tmp_path / "out")
    with pytest.raises(InvalidInputError, match="slot focus \\(clip 'house2'\\): its audio file .* is missing"):
        song_render(_song(("focus", "house2")), tmp_path / "out", clips_dir=own)
    _nothing_written(tmp_path / "out")


@pytest.mark.parametrize(("text", "words"), [
    ('{"schema": "mage-bridge/arrangement@1", "slots": [{"role": "focus", "clip": "house"}', "is not valid JSON"),
    ('{"schema": "mage-bridge/arrangement@1", "slots": [{"role": "next", "clip": "house"}]}', "exactly one focus"),
], ids=["truncated", "no-focus"])
def test_a_corrupt_document_file_is_refused_and_nothing_is_written(clips: Path, tmp_path: Path, text: str,
                                                                   words: str) -> None:
    doc = tmp_path / "song.json"
    doc.write_text(text, encoding="utf-8")
    (tmp_path / "renders").mkdir()
    with pytest.raises(InvalidInputError, match=words):
        song_render(doc, tmp_path / "renders" / "out", clips_dir=clips)
    _nothing_written(tmp_path / "renders" / "out")


def test_a_clip_too_short_for_a_bar_line_is_refused_before_anything_is_written(clips: Path, tmp_path: Path) -> None:
    root = tmp_path / "clips"
    write_clip(root, "long", click_track(120.0, 4), bpm=120.0)
    write_clip(root, "blip", sine(330.0, 1.0), bpm=120.0)
    (tmp_path / "renders").mkdir()
    with pytest.raises(InvalidInputError, match="no bar line for the junction from slot focus to slot next 1: "
                                                "slot next 1 \\(clip 'blip'\\) lasts 1.00 s"):
        song_render(_song(("focus", "long"), ("next", "blip"), ("next", "long")), tmp_path / "renders" / "out",
                    clips_dir=root)
    _nothing_written(tmp_path / "renders" / "out")

