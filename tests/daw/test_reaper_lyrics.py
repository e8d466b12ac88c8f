"""A clip with vocals brings its lyrics onto the vocals item in REAPER: item notes and a take marker per line.

The manifest's ``lyrics`` (the tagged text, the sections' lines and every syllable's time in seconds of the clip)
become the vocals item's notes (``P_NOTES``: the tagged text) and one take marker per sung line at its first
syllable, named with the line and coloured by its section. A take marker sits in source time, so it stays on its
syllable through the take's start offset and play rate. The first tests check the emulation's take markers and
item notes against REAPER's documentation; the others run the Listener on outbox records written here (no
daemon) for clips whose lyrics the real lyric writer made.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.daw.reaper import LISTENER, listen, needs_lua, new_tracks, run_reaper
from tests.daw.test_reaper import _clean
from tests.daw.vocal_clip import RATE, lrc_lines, sung_lines, vocal_clip

pytestmark = needs_lua

SAMPLE = 1.0 / RATE
BAR_S = 2.0  # 120 BPM in 4/4
PROMPT = "pop song about summer love with female vocals at 120 bpm"


def _state(tmp_path: Path) -> Path:
    """A state folder whose heartbeat says a daemon runs (none does: the test writes the outbox itself)."""
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    (state / "heartbeat.json").write_text(json.dumps({"time": time.time() + 3600, "pid": 4242, "port": None}))
    return state


def _deliver(state: Path, manifest_path: Path, placement: dict[str, Any], job_id: str = "job-vocal") -> None:
    outbox = state / "outbox" / "reaper"
    outbox.mkdir(parents=True, exist_ok=True)
    record = {"schema": "mage-bridge/outbox@1", "event": "done", "job_id": job_id, "kind": "generate",
              "client_id": "reaper", "manifest": str(manifest_path), "placement": placement}
    (outbox / f"{job_id}.json").write_text(json.dumps(record))


def _next_bar(clip_bpm: float = 120.0) -> dict[str, Any]:
    """A controller's job for a project whose cursor was at 3 s: beat 1 of the body on the bar at 4 s."""
    return {"mode": "next_bar", "align": "body", "cursor_s": 3.0, "seconds": 4.0, "bar": 3, "lead_in_s": BAR_S,
            "bpm": clip_bpm, "numerator": 4, "denominator": 4, "clip_bpm": clip_bpm}


def _insert(tmp_path: Path, state: Path, *, stems: int = 3, bpm: float = 120.0, reaper_version: float = 7.15,
            ext_state: dict[str, Any] | None = None) -> dict[str, Any]:
    project = {"bpm": bpm, "numerator": 4, "denominator": 4, "cursor": 0.0, "path": "/music/song.rpp"}
    dump = run_reaper(tmp_path, {"project": project, "ext_state": ext_state or {}, "reaper_version": reaper_version,
                                 "steps": [{"run": LISTENER},
                                           listen(200, until_tracks=stems + 1, extra=3, timeout_s=60)]}, state)
    _clean(dump)
    assert dump["messages"] == []
    [block] = dump["undo"]  # the notes and markers are in the insert's one undo point
    assert block["description"] == f"MAGE: insert generated clip: {PROMPT}"
    return dump


def _items(dump: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The inserted items by track name (the folder track has none)."""
    return {t["name"]: t["items"][0] for t in new_tracks(dump, 0)[1:]}


def _shown_at(item: dict[str, Any], marker: dict[str, Any]) -> float:
    """Where REAPER shows a take marker on the timeline: its source time through the take's offset and rate."""
    return float(item["position"] + (marker["srcpos"] - item["take_offset"]) / item["playrate"])


# -- the emulation follows REAPER's documentation ----------------------------------------------------------
PROBE = """
local function say(...) reaper.ShowConsoleMsg(table.concat({...}, " ") .. "\\n") end
reaper.InsertTrackAtIndex(0, true)
local track = reaper.GetTrack(0, 0)
reaper.Undo_BeginBlock()
local item = reaper.AddMediaItemToTrack(track)
local take = reaper.AddTakeToMediaItem(item)
say("notes", tostring(select(2, reaper.GetSetMediaItemInfo_String(item, "P_NOTES", "", false))) .. "|")
say("set", tostring(reaper.GetSetMediaItemInfo_String(item, "P_NOTES", "[verse]\\nla la", true)))
local _, notes = reaper.GetSetMediaItemInfo_String(item, "P_NOTES", "", false)
say("notes", (notes:gsub("\\n", "/")))
if reaper.SetTakeMarker then
  say("add", reaper.SetTakeMarker(take, -1, "b", 5.0, 0))
  say("add", reaper.SetTakeMarker(take, -1, "a", 1.5, reaper.ColorToNative(0, 255, 0) | 0x1000000))
  say("add", reaper.SetTakeMarker(take, -1, "c", 5.0))
  say("move", reaper.SetTakeMarker(take, 0, "a2", 9.0))
  say("rename", reaper.SetTakeMarker(take, 0, "b2"))
  say("count", reaper.GetNumTakeMarkers(take))
  for i = 0, reaper.GetNumTakeMarkers(take) do say("get", i, reaper.GetTakeMarker(take, i)) end
  say("delete", tostring(reaper.DeleteTakeMarker(take, 1)), tostring(reaper.DeleteTakeMarker(take, 5)))
  say("bad", tostring(pcall(reaper.SetTakeMarker, take, -1, "x")))
else
  say("no take markers")
end
reaper.Undo_EndBlock("probe", -1)
"""


def test_the_emulation_keeps_take_markers_in_source_time_order_and_item_notes(tmp_path: Path) -> None:
    probe = tmp_path / "probe.lua"
    probe.write_text(PROBE)
    dump = run_reaper(tmp_path, {"steps": [{"run": probe}]}, tmp_path)
    assert dump["errors"] == []
    assert dump["outside_undo"] == ["InsertTrackAtIndex"]  # the probe's track; the rest is in the block
    green = (0xFF << 8) | 0x1000000
    assert dump["console"] == [
        "notes |\n", "set true\n", "notes [verse]/la la\n",
        # indices in source-time order; a marker at the time of another goes after it
        "add 0\n", "add 0\n", "add 2\n",
        # updating the position re-sorts (the index "may change if srcPos is updated"); a name alone keeps it
        "move 2\n", "rename 0\n", "count 3\n",
        "get 0 5.0 b2 0\n", "get 1 5.0 c 0\n", f"get 2 9.0 a2 {green}\n", "get 3 -1.0  0\n",
        "delete true false\n", "bad false\n"]
    [track] = dump["tracks"]
    [item] = track["items"]
    assert item["notes"] == "[verse]\nla la"
    assert item["take_markers"] == [{"srcpos": 5.0, "name": "b2", "color": 0},
                                    {"srcpos": 9.0, "name": "a2", "color": green}]


def test_a_reaper_before_take_markers_has_none_of_their_functions(tmp_path: Path) -> None:
    probe = tmp_path / "probe.lua"
    probe.write_text(PROBE)
    dump = run_reaper(tmp_path, {"reaper_version": 5.98, "steps": [{"run": probe}]}, tmp_path)
    assert dump["errors"] == []
    assert dump["console"][-1] == "no take markers\n"
    assert dump["console"][2] == "notes [verse]/la la\n"  # item notes are older than take markers


# -- the Listener puts the lyrics on the vocals item -------------------------------------------------------
@pytest.mark.parametrize(("bpm", "placement", "position", "rate", "offset"), [
    (120.0, _next_bar(), 2.0, 1.0, 0.0),
    # the project went to 100 BPM after the request: the clip plays at 100/120 (pitch kept) from the bar at 4.8 s
    (100.0, _next_bar(), 4.8 - BAR_S * 1.2, 100.0 / 120.0, 0.0),
    # an item trimmed like a source item (4 s into the file): the markers stay on their syllables
    (120.0, {"mode": "requested", "seconds": 10.0, "align": "start", "take_offset_s": 4.0, "length_s": 16.0},
     10.0, 1.0, 4.0),
], ids=["on-the-bar", "stretched", "trimmed"])
def test_the_vocals_item_gets_the_lyrics_in_its_notes_and_a_take_marker_per_line(
        tmp_path: Path, bpm: float, placement: dict[str, Any], position: float, rate: float, offset: float) -> None:
    state = _state(tmp_path)
    manifest_path, manifest = vocal_clip(state / "jobs" / "job-vocal", prompt=PROMPT)
    _deliver(state, manifest_path, placement)
    dump = _insert(tmp_path, state, bpm=bpm)
    items = _items(dump)
    assert list(items) == ["vocals", "drums", "bass"]
    vocals = items["vocals"]
    assert vocals["position"] == pytest.approx(position, abs=1e-9)
    assert vocals["playrate"] == pytest.approx(rate) and vocals["take_offset"] == pytest.approx(offset)

    assert vocals["notes"] == manifest["lyrics"]["text"]
    assert vocals["notes"].startswith("[verse]\n") and "\n\n[chorus]\n" in vocals["notes"]
    lines = sung_lines(manifest)
    markers = vocals["take_markers"]
    assert len(markers) == len(lines) >= 4
    assert [m["name"] for m in markers] == [line.text for line in lines]
    for marker, line in zip(markers, lines, strict=True):
        assert marker["srcpos"] == pytest.approx(line.start_s, abs=SAMPLE)  # seconds of the clip's file
        assert _shown_at(vocals, marker) == pytest.approx(position + (line.start_s - offset) / rate, abs=SAMPLE)
        assert marker["color"] & 0x1000000  # a custom colour, as SetTakeMarker wants it
    # what an LRC player shows, from the file beside the stems (stamps in centiseconds)
    assert [(round(m["srcpos"], 2), m["name"]) for m in markers] == [
        (pytest.approx(t, abs=0.006), text) for t, text in lrc_lines(manifest_path.parent)]
    # the first line starts on the body's beat 1, the bar the placement asked for (the item's lead-in before it)
    assert lines[0].start_s == pytest.approx(BAR_S)
    colours = {line.section: m["color"] for m, line in zip(markers, lines, strict=True)}
    assert len(set(colours.values())) == len(colours)  # verse and chorus told apart
    for name in ("drums", "bass"):
        assert items[name]["notes"] == "" and items[name]["take_markers"] == []


def test_user_lyrics_with_accents_and_empty_lines_keep_their_text(tmp_path: Path) -> None:
    user = "Señora, déjà vu à minuit\nLes étoiles brûlent là-haut\n\n\nNaïve cœur qui danse\nEncore ce soir"
    state = _state(tmp_path)
    manifest_path, manifest = vocal_clip(state / "jobs" / "job-vocal", prompt=PROMPT, lyrics=user, mode="replace")
    _deliver(state, manifest_path, _next_bar())
    dump = _insert(tmp_path, state)
    vocals = _items(dump)["vocals"]
    assert vocals["notes"] == manifest["lyrics"]["text"]
    names = [m["name"] for m in vocals["take_markers"]]
    assert names == [line for line in user.splitlines() if line]


def test_a_clip_without_lyrics_leaves_the_notes_empty_and_adds_no_markers(tmp_path: Path) -> None:
    state = _state(tmp_path)
    manifest_path, manifest = vocal_clip(state / "jobs" / "job-vocal", prompt=PROMPT, with_lyrics=False)
    assert manifest["lyrics"] is None
    _deliver(state, manifest_path, _next_bar())
    dump = _insert(tmp_path, state)
    for item in _items(dump).values():
        assert item["notes"] == "" and item["take_markers"] == []


def test_lyrics_turned_off_in_the_ext_state_leave_the_items_alone(tmp_path: Path) -> None:
    state = _state(tmp_path)
    manifest_path, _ = vocal_clip(state / "jobs" / "job-vocal", prompt=PROMPT)
    _deliver(state, manifest_path, _next_bar())
    dump = _insert(tmp_path, state, ext_state={"MAGE_Bridge": {"insert_lyrics": "0"}})
    for item in _items(dump).values():
        assert item["notes"] == "" and item["take_markers"] == []


def test_an_old_reaper_without_take_markers_still_inserts_the_stems_and_the_notes(tmp_path: Path) -> None:
    state = _state(tmp_path)
    manifest_path, manifest = vocal_clip(state / "jobs" / "job-vocal", prompt=PROMPT)
    _deliver(state, manifest_path, _next_bar())
    dump = _insert(tmp_path, state, reaper_version=5.98)
    items = _items(dump)
    assert list(items) == ["vocals", "drums", "bass"]
    assert all(item["position"] == pytest.approx(2.0) for item in items.values())
    assert items["vocals"]["notes"] == manifest["lyrics"]["text"]
    assert items["vocals"]["take_markers"] == []
    said = [line for line in dump["console"] if "take markers" in line]
    assert said == ["MAGE Bridge: this REAPER has no take markers (reaper.SetTakeMarker, REAPER 5.981 and later), "
                    "so the lyrics are in the vocals item's notes without a marker per line.\n"]


def test_lyrics_without_a_vocals_stem_go_on_no_item(tmp_path: Path) -> None:
    # A backend that renders no voice still writes the lyrics beside the stems; no other stem takes them.
    state = _state(tmp_path)
    manifest_path, manifest = vocal_clip(state / "jobs" / "job-vocal", prompt=PROMPT, stems=("drums", "bass"))
    assert manifest["lyrics"]["syllables"]
    _deliver(state, manifest_path, _next_bar())
    dump = _insert(tmp_path, state, stems=2)
    items = _items(dump)
    assert list(items) == ["drums", "bass"]
    for item in items.values():
        assert item["notes"] == "" and item["take_markers"] == []
