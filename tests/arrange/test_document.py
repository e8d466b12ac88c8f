"""The arrangement document: what it accepts, what it refuses (naming the field), and the folder store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mage_bridge.arrange import document
from mage_bridge.arrange.clips import FolderClipSource, clip_tempo, read_clip
from mage_bridge.arrange.store import FolderArrangementStore
from mage_bridge.errors import InvalidInputError, OutputExistsError
from tests.arrange.clipfolders import write_clip
from tests.signals import sine


def _doc(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {"schema": document.SCHEMA, "slots": [{"role": "focus", "clip": "a"}]}
    base.update(changes)
    return base


def test_a_full_document_round_trips_through_json() -> None:
    song = document.loads(json.dumps(_doc(
        name="night", bpm=124, time_signature="4/4", key="F#", mode="minor", conform_key=True,
        junction={"fade_s": 4, "kind": "equal-power"},
        slots=[{"role": "intro", "clip": "i"}, {"role": "previous", "clip": "p1"}, {"role": "focus", "clip": 17},
               {"role": "next", "clip": "n1", "gain_db": -3, "junction": {"kind": "constant-gain"}},
               {"role": "next", "clip": "n2", "conform_tempo": False}, {"role": "outro", "clip": "o"}])))
    assert song.focus.clip == "17" and song.time_signature == (4, 4) and song.bpm == 124.0
    assert song.labels() == ["intro", "previous 1", "focus", "next 1", "next 2", "outro"]
    assert song.junction_at(3) == document.JunctionSettings(4.0, "constant-gain")  # focus -> next 1: next 1's
    assert song.junction_at(4) == document.JunctionSettings(4.0, "equal-power")
    facing = document.parse(_doc(slots=[{"role": "intro", "clip": "i", "junction": {"fade_s": 8}},
                                        {"role": "previous", "clip": "p", "junction": {"kind": "equal-power"}},
                                        {"role": "focus", "clip": "f"}, {"role": "outro", "clip": "o"}]))
    assert [facing.junction_at(i) for i in (1, 2, 3)] == [  # a slot's junction is the one towards the focus
        document.JunctionSettings(8.0, "auto"), document.JunctionSettings(2.0, "equal-power"),
        document.JunctionSettings(2.0, "auto")]
    assert document.loads(song.to_json()) == song


def test_defaults_are_the_focus_clips_settings_and_a_two_second_auto_fade() -> None:
    song = document.parse(_doc())
    assert (song.bpm, song.time_signature, song.key, song.mode) == (None, None, None, None)
    assert song.junction == document.JunctionSettings(2.0, "auto")
    assert document.new("a", key="A minor").key == "A"


@pytest.mark.parametrize(("text", "words"), [
    ('{"schema": "mage-bridge/arrangement@1", "slots": [', "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    (json.dumps(_doc(schema="mage-bridge/arrangement@9")), "this version reads 'mage-bridge/arrangement@1'"),
    (json.dumps(_doc(slots=[])), "slots must be a non-empty list"),
    (json.dumps(_doc(slots=[{"role": "next", "clip": "a"}])), "exactly one focus slot, got 0"),
    (json.dumps(_doc(slots=[{"role": "focus", "clip": "a"}, {"role": "focus", "clip": "b"}])),
     "exactly one focus slot, got 2"),
    (json.dumps(_doc(slots=[{"role": "focus", "clip": "a"}, {"role": "intro", "clip": "b"}])),
     "slots must play intro, previous..., focus, next..., outro; got focus, intro"),
    (json.dumps(_doc(slots=[{"role": "focus", "clip": "../etc"}])), "slot 1: clip must be 1-128 of"),
    (json.dumps(_doc(slots=[{"role": "chorus", "clip": "a"}])), "slot 1: role must be one of"),
    (json.dumps(_doc(junction={"kind": "linear"})), "junction: kind must be one of auto, equal-power"),
    (json.dumps(_doc(junction={"fade_s": 0})), "junction: fade_s must be a number from 0.01 to 30, got 0"),
    (json.dumps(_doc(bpm=500)), "bpm must be a number from 40 to 240, got 500"),
    (json.dumps(_doc(key="H")), "not a note name"),
    (json.dumps(_doc(key="A")), "give key and mode together"),
    (json.dumps(_doc(time_signature=[7, 3])), "time_signature must look like '6/8'"),
    (json.dumps(_doc(tempo=120)), "unknown field(s) tempo"),
    (json.dumps(_doc(slots=[{"role": "focus", "clip": "a", "fade": 2}])), "slot 1: unknown field(s) fade"),
    (json.dumps(_doc(slots=[{"role": "focus", "clip": "a", "junction": {"fade_s": 2}}])),
     "the focus slot takes no junction of its own"),
    (b"\xff\xfe{", "not UTF-8 text"),
], ids=["broken-json", "not-object", "schema", "no-slots", "no-focus", "two-focus", "order", "path-id", "role",
        "kind", "fade", "bpm", "key", "key-without-mode", "metre", "unknown", "unknown-in-slot", "focus-junction",
        "not-utf8"])
def test_a_corrupt_document_is_refused_naming_what_is_wrong(text: str | bytes, words: str) -> None:
    with pytest.raises(InvalidInputError) as e:
        document.loads(text)
    assert words in str(e.value), str(e.value)


def test_slots_are_added_outward_from_the_focus() -> None:
    song = document.new("f")
    for role, clip in (("next", "n1"), ("previous", "p1"), ("next", "n2"), ("previous", "p2"), ("outro", "o"),
                       ("intro", "i"), ("next", "n3")):
        song = song.with_slot(role, clip)
    assert [s.clip for s in song.slots] == ["i", "p2", "p1", "f", "n1", "n2", "n3", "o"]
    with pytest.raises(InvalidInputError, match="already has an intro \\(clip 'i'\\)"):
        song.with_slot("intro", "i2")
    assert song.with_slot("intro", "i2", replace_existing=True).slots[0].clip == "i2"
    with pytest.raises(InvalidInputError, match="role must be one of intro, previous, next, outro"):
        song.with_slot("focus", "x")


def test_the_folder_store_writes_whole_documents_and_refuses_to_overwrite(tmp_path: Path) -> None:
    store = FolderArrangementStore(tmp_path / "songs")
    song = document.new("a", bpm=120)
    where = store.save("night", song)
    assert where == str(tmp_path / "songs" / "night.json") and store.exists("night")
    assert store.load("night") == song
    with pytest.raises(OutputExistsError):
        store.save("night", song)
    with pytest.raises(InvalidInputError, match="no song 'day'"):
        store.load("day")
    with pytest.raises(InvalidInputError, match="song id must be"):
        store.save("../x", song)
    (tmp_path / "songs" / "bad.json").write_text('{"schema": "mage-bridge/arrangement@1"', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="song 'bad' .* is not valid JSON"):
        store.load("bad")
    assert sorted(p.name for p in (tmp_path / "songs").iterdir()) == ["bad.json", "night.json"]


def test_the_folder_clip_source_reads_nothing_outside_its_root(tmp_path: Path) -> None:
    clips, elsewhere = tmp_path / "clips", tmp_path / "elsewhere"
    write_clip(clips, "inside", sine(440, 2.0), bpm=120)
    write_clip(elsewhere, "outside", sine(440, 2.0), bpm=120)
    (clips / "link").symlink_to(elsewhere / "outside")
    source = FolderClipSource(clips)
    assert source.manifest_path("inside") == clips / "inside" / "manifest.json"
    assert source.manifest_path("link") is None
    assert source.manifest_path("missing") is None
    with pytest.raises(InvalidInputError):
        source.manifest_path("../elsewhere/outside")


def test_a_clips_tempo_comes_from_its_generator_then_its_request_unless_it_drifted(tmp_path: Path) -> None:
    assert clip_tempo({"backend": {"bpm": 90.0}, "requested": {"bpm": 90.0}, "measured": {"bpm": 60.0,
                                                                                         "tempo_off": True}}) \
        == (90.0, "generator")
    assert clip_tempo({"requested": {"bpm": 120.0}, "measured": {"bpm": 119.0, "tempo_off": False}}) \
        == (120.0, "requested")
    assert clip_tempo({"requested": {"bpm": 120.0}, "measured": {"bpm": 60.2, "tempo_off": True}}) \
        == (60.2, "measured")
    assert clip_tempo({"measured": {"bpm": 97.0}}) == (97.0, "measured")
    with pytest.raises(InvalidInputError, match="it has no tempo"):
        clip_tempo({"requested": {"key": "A"}, "measured": {"bpm": None}})
    path = write_clip(tmp_path, "pickup", sine(440, 4.0), bpm=120, lead_in_s=2.5)
    info = read_clip("pickup", path)
    assert info.downbeat_s == pytest.approx(0.5) and info.tempo_from == "generator"
    assert read_clip("x", write_clip(tmp_path, "x", sine(440, 4.0), bpm=120, grid=False)).downbeat_s is None
