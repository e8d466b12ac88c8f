"""A generated clip's sections become REAPER regions where its stems are inserted.

The manifest's ``structure`` (section names and times in seconds of the clip) turns into one project region
per musical section (not the lead-in or lead-out), placed from where the clip's first frame lands, in the
same undo block as the tracks. The ext state ``MAGE_Bridge/insert_regions`` = ``"0"`` turns them off; a
manifest without ``structure`` inserts as before. The first tests check the emulation's markers against
REAPER's documented behaviour, the others run the Listener on outbox records written here (no daemon).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from tests.daw.reaper import LISTENER, listen, needs_lua, new_tracks, run_reaper
from tests.daw.test_reaper import _clean

pytestmark = needs_lua

RATE = 48_000
BAR_S = 2.0  # 120 BPM in 4/4
#: (name, bars) of the clip, lead-in to lead-out: 12 bars, 24 s.
SECTIONS = [("lead-in", 1), ("intro", 2), ("verse", 2), ("chorus", 2), ("verse", 2), ("chorus", 2),
            ("lead-out", 1)]
OWN_MARKERS = [{"isrgn": False, "pos": 1.0, "name": "take 1", "number": 1, "color": 0},
               {"isrgn": True, "pos": 60.0, "rgnend": 70.0, "name": "my bridge", "number": 1, "color": 0}]


def _structure() -> list[dict[str, Any]]:
    """The manifest's structure, as the daemon writes it: times from whole frames, rounded to 1 µs."""
    out, bar = [], 0
    for name, bars in SECTIONS:
        start, end = bar * BAR_S * RATE, (bar + bars) * BAR_S * RATE
        out.append({"name": name, "bar": bar, "bars": bars, "start_s": round(start / RATE, 6),
                    "end_s": round(end / RATE, 6)})
        bar += bars
    return out


def _alive_state(tmp_path: Path) -> Path:
    """A state folder whose heartbeat says a daemon runs (none does: the test writes the outbox itself)."""
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    (state / "heartbeat.json").write_text(json.dumps({"time": time.time() + 3600, "pid": 4242, "port": None}))
    return state


def _result(state: Path, manifest_extra: dict[str, Any], placement: dict[str, Any], job_id: str = "job-regions"
            ) -> Path:
    """A finished generate job: two stems of 24 s, its manifest, and its record in REAPER's outbox."""
    folder = state / "jobs" / job_id
    (folder / "stems").mkdir(parents=True)
    frames = sum(bars for _, bars in SECTIONS) * int(BAR_S * RATE)
    stems = {}
    for name in ("drums", "bass"):
        soundfile.write(str(folder / "stems" / f"{name}.wav"), np.zeros(frames, dtype=np.int16), RATE,
                        subtype="PCM_16")
        stems[name] = f"stems/{name}.wav"
    manifest = {"kind": "generate", "stems": stems, "duration_s": frames / RATE, "sample_rate": RATE,
                "request": {"prompt": "synthwave night drive"}, **manifest_extra}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    outbox = state / "outbox" / "reaper"
    outbox.mkdir(parents=True, exist_ok=True)
    record = {"schema": "mage-bridge/outbox@1", "event": "done", "job_id": job_id, "kind": "generate",
              "client_id": "reaper", "manifest": str(folder / "manifest.json"), "placement": placement}
    (outbox / f"{job_id}.json").write_text(json.dumps(record))
    return folder / "manifest.json"


def _next_bar(bpm: float = 120.0, clip_bpm: float = 120.0) -> dict[str, Any]:
    """A controller's job for a project whose cursor was at 3 s: beat 1 of the body on the next bar."""
    return {"mode": "next_bar", "align": "body", "cursor_s": 3.0, "seconds": 4.0, "bar": 3, "lead_in_s": BAR_S,
            "bpm": clip_bpm, "numerator": 4, "denominator": 4, "clip_bpm": clip_bpm}


def _insert(tmp_path: Path, state: Path, *, bpm: float = 120.0, ext_state: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    project = {"bpm": bpm, "numerator": 4, "denominator": 4, "cursor": 0.0, "path": "/music/song.rpp",
               "tracks": [{"name": "Guitar", "items": []}], "markers": OWN_MARKERS}
    dump = run_reaper(tmp_path, {"project": project, "ext_state": ext_state or {},
                                 "steps": [{"run": LISTENER}, listen(200, until_tracks=2, extra=3, timeout_s=60)]},
                      state)
    _clean(dump)
    assert dump["messages"] == []
    tracks = new_tracks(dump, 1)
    assert [t["name"] for t in tracks] == ["MAGE: synthwave night drive", "drums", "bass"]
    [block] = dump["undo"]
    assert block["description"] == "MAGE: insert generated clip: synthwave night drive"
    return dump


def _own(dump: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in dump["markers"] if not m["name"].startswith("MAGE ")]


def _new_regions(dump: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in dump["markers"] if m["name"].startswith("MAGE ")]


# -- the emulation's markers follow REAPER's documentation -------------------------------------------------
def test_the_emulation_numbers_markers_and_regions_apart_and_lists_them_in_timeline_order(tmp_path: Path) -> None:
    probe = tmp_path / "probe.lua"
    probe.write_text("""
local function say(...) reaper.ShowConsoleMsg(table.concat({...}, " ") .. "\\n") end
reaper.Undo_BeginBlock()
local red = reaper.ColorToNative(255, 0, 0) | 0x1000000
say("region", reaper.AddProjectMarker2(0, true, 10.0, 12.0, "b", -1, red))
say("region", reaper.AddProjectMarker2(0, true, 2.0, 4.0, "a", -1, 0))
say("marker", reaper.AddProjectMarker2(0, false, 5.0, 0.0, "m", -1, 0))
say("wanted", reaper.AddProjectMarker2(0, true, 20.0, 22.0, "w", 7, 0))
say("taken", reaper.AddProjectMarker2(0, true, 30.0, 32.0, "t", 7, 0))
say("bad", tostring(pcall(reaper.AddProjectMarker2, 0, 1, 30.0, 32.0, "t", -1, 0)))
reaper.Undo_EndBlock("probe", -1)
say("count", reaper.CountProjectMarkers(0))
local i = 0
while true do
  local retval, isrgn, pos, rgnend, name, number, color = reaper.EnumProjectMarkers3(0, i)
  if retval == 0 then break end
  say("enum", retval, tostring(isrgn), pos, rgnend, name, number, color)
  i = i + 1
end
say("rgb", reaper.ColorFromNative(reaper.ColorToNative(1, 2, 3)))
""")
    project = {"markers": [{"isrgn": True, "pos": 50.0, "rgnend": 55.0, "name": "own", "number": 1}]}
    dump = run_reaper(tmp_path, {"project": project, "steps": [{"run": probe}]}, tmp_path)
    assert dump["errors"] == [] and dump["outside_undo"] == []
    red = 0xFF | 0x1000000
    assert dump["console"] == [
        "region 2\n", "region 3\n", "marker 1\n", "wanted 7\n", "taken 4\n", "bad false\n",
        "count 6 1 5\n",
        "enum 1 true 2.0 4.0 a 3 0\n", "enum 2 false 5.0 5.0 m 1 0\n", f"enum 3 true 10.0 12.0 b 2 {red}\n",
        "enum 4 true 20.0 22.0 w 7 0\n", "enum 5 true 30.0 32.0 t 4 0\n", "enum 6 true 50.0 55.0 own 1 0\n",
        "rgb 1 2 3\n"]


def test_the_emulation_records_a_region_added_outside_an_undo_block(tmp_path: Path) -> None:
    probe = tmp_path / "probe.lua"
    probe.write_text('reaper.AddProjectMarker2(0, true, 1.0, 2.0, "x", -1, 0)\n')
    dump = run_reaper(tmp_path, {"steps": [{"run": probe}]}, tmp_path)
    assert dump["outside_undo"] == ["AddProjectMarker2"]


# -- the Listener marks the sections -----------------------------------------------------------------------
@pytest.mark.parametrize(("bpm", "rate"), [(120.0, 1.0), (100.0, 100.0 / 120.0)], ids=["same-tempo", "stretched"])
def test_each_musical_section_becomes_a_region_where_the_clip_plays(tmp_path: Path, bpm: float, rate: float) -> None:
    state = _alive_state(tmp_path)
    structure = _structure()
    _result(state, {"structure": structure}, _next_bar(clip_bpm=120.0))
    dump = _insert(tmp_path, state, bpm=bpm)
    items = [t["items"][0] for t in new_tracks(dump, 1)[1:]]
    # 120 BPM: the bar at or after 3 s is at 4 s, the 2 s lead-in before it. 100 BPM: the clip plays at
    # 100/120 (pitch kept) from the bar at 4.8 s, its lead-in lasting 2.4 s.
    first_frame = 4.0 - BAR_S if rate == 1.0 else 4.8 - BAR_S / rate
    for item in items:
        assert item["position"] == pytest.approx(first_frame, abs=1e-9)
        assert item["playrate"] == pytest.approx(rate)

    assert _own(dump) == [{**OWN_MARKERS[0], "rgnend": 1.0}, OWN_MARKERS[1]]  # the project's own, untouched
    regions = _new_regions(dump)
    musical = [s for s in structure if s["name"] not in ("lead-in", "lead-out")]
    assert [r["name"] for r in regions] == ["MAGE intro", "MAGE verse 1", "MAGE chorus 1", "MAGE verse 2",
                                            "MAGE chorus 2"]
    sample = 1.0 / RATE
    for region, section in zip(regions, musical, strict=True):
        assert region["isrgn"] is True
        assert region["pos"] == pytest.approx(first_frame + section["start_s"] / rate, abs=sample)
        assert region["rgnend"] == pytest.approx(first_frame + section["end_s"] / rate, abs=sample)
        assert region["color"] & 0x1000000  # a custom colour, as AddProjectMarker2 wants it
    # the project's region 1 keeps its number: the new ones take the next free ones
    assert [r["number"] for r in regions] == [2, 3, 4, 5, 6]
    colours = {r["name"].split()[1]: r["color"] for r in regions}
    assert len(set(colours.values())) == 3  # intro, verse and chorus told apart
    assert regions[1]["color"] == regions[3]["color"] and regions[2]["color"] == regions[4]["color"]
    # the body's beat 1 (the intro's start) is the bar the placement asked for
    assert regions[0]["pos"] == pytest.approx(4.0 if rate == 1.0 else 4.8, abs=sample)


def test_regions_turned_off_in_the_ext_state_leave_the_project_s_markers_alone(tmp_path: Path) -> None:
    state = _alive_state(tmp_path)
    _result(state, {"structure": _structure()}, _next_bar())
    dump = _insert(tmp_path, state, ext_state={"MAGE_Bridge": {"insert_regions": "0"}})
    assert _new_regions(dump) == [] and len(dump["markers"]) == len(OWN_MARKERS)


@pytest.mark.parametrize("structure", [None, [], [{"name": "lead-in", "bar": 0, "bars": 12, "start_s": 0.0,
                                                   "end_s": 24.0}]],
                         ids=["no-structure-key", "empty", "framing-only"])
def test_a_manifest_without_musical_sections_inserts_as_before(tmp_path: Path, structure: Any) -> None:
    state = _alive_state(tmp_path)
    _result(state, {} if structure is None else {"structure": structure}, _next_bar())
    dump = _insert(tmp_path, state)
    assert _new_regions(dump) == [] and len(dump["markers"]) == len(OWN_MARKERS)
    for track in new_tracks(dump, 1)[1:]:
        assert track["items"][0]["position"] == pytest.approx(2.0, abs=1e-9)


def test_a_section_past_the_end_of_the_item_is_cut_to_it(tmp_path: Path) -> None:
    # A structure that runs on past the audio (24 s) gives no region beyond the item.
    state = _alive_state(tmp_path)
    structure = [{"name": "verse", "bar": 1, "bars": 10, "start_s": 2.0, "end_s": 22.0},
                 {"name": "outro", "bar": 11, "bars": 4, "start_s": 22.0, "end_s": 30.0},
                 {"name": "drop", "bar": 15, "bars": 2, "start_s": 30.0, "end_s": 34.0}]
    _result(state, {"structure": structure}, _next_bar())
    dump = _insert(tmp_path, state)
    regions = _new_regions(dump)
    assert [(r["name"], r["pos"], r["rgnend"]) for r in regions] == [("MAGE verse", 4.0, 24.0),
                                                                    ("MAGE outro", 24.0, 26.0)]
