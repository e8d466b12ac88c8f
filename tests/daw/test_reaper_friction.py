"""What REAPER does around a script, and that the MAGE scripts stay out of the user's way.

REAPER caches directory listings, adds a "ReaScript: Run" undo point after a script that neither deferred
nor made one of its own, and asks (the "ReaScript task control" dialog) when a script that still runs
deferred code is started again. The emulation models each of these (first tests), so the tests of the
scripts below fail when a script relies on the opposite.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.daw.conftest import wait_for_file, write_spool
from tests.daw.reaper import GENERATE, LISTENER, finish_reaper, listen, needs_lua, new_tracks, run_reaper, start_reaper
from tests.daw.test_reaper import BEFORE, _clean, _project, _stem_order
from tests.server.conftest import DaemonProc

pytestmark = needs_lua

PROJECT_ID = "friction-project"


def _script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def _alive_state(tmp_path: Path) -> Path:
    """A state folder whose heartbeat says a daemon runs (none does: requests wait in the spool)."""
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    (state / "heartbeat.json").write_text(json.dumps({"time": time.time() + 3600, "pid": 4242, "port": None}))
    return state


# -- the emulation models REAPER ---------------------------------------------------------------
def test_the_emulation_caches_directory_listings_until_index_minus_one(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.json").write_text("{}")
    probe = _script(tmp_path, "probe.lua", f"""
local dir = {json.dumps(str(folder))}
local function names()
  local out, i = {{}}, 0
  while true do
    local name = reaper.EnumerateFiles(dir, i)
    if not name then break end
    out[#out + 1] = name
    i = i + 1
  end
  table.sort(out)
  return table.concat(out, ",")
end
reaper.ShowConsoleMsg("first " .. names() .. "\\n")
io.open(dir .. "/b.json", "w"):close()
reaper.ShowConsoleMsg("cached " .. names() .. "\\n")
reaper.ShowConsoleMsg("minus one " .. tostring(reaper.EnumerateFiles(dir, -1)) .. "\\n")
reaper.ShowConsoleMsg("re-read " .. names() .. "\\n")
reaper.defer(function() end)
""")
    dump = run_reaper(tmp_path, {"steps": [{"run": probe}]}, tmp_path)
    assert dump["errors"] == []
    assert dump["console"] == ["first a.json\n", "cached a.json\n", "minus one nil\n", "re-read a.json,b.json\n"]


def test_the_emulation_adds_reaper_s_undo_point_only_for_a_script_that_does_not_defer(tmp_path: Path) -> None:
    plain = _script(tmp_path, "plain.lua", 'reaper.ShowConsoleMsg("hello\\n")\n')
    deferring = _script(tmp_path, "deferring.lua", 'reaper.defer(function() end)\n')
    own = _script(tmp_path, "own.lua", """
reaper.Undo_BeginBlock()
reaper.InsertTrackAtIndex(0, true)
reaper.Undo_EndBlock("mine", -1)
""")
    dump = run_reaper(tmp_path, {"steps": [{"run": plain}, {"run": deferring}, listen(3), {"run": own}]}, tmp_path)
    assert [(u["description"], u.get("automatic", False), Path(u["script"]).name) for u in dump["undo"]] == [
        ("ReaScript: Run", True, "plain.lua"), ("mine", False, "own.lua")]


def test_the_emulation_asks_when_a_running_script_is_started_again(tmp_path: Path) -> None:
    loop = _script(tmp_path, "loop.lua", """
local function tick() reaper.defer(tick) end
reaper.atexit(function() reaper.ShowConsoleMsg("atexit\\n") end)
reaper.defer(tick)
""")
    dump = run_reaper(tmp_path, {"steps": [{"run": loop}, listen(3), {"run": loop}, listen(3)]}, tmp_path)
    assert [d["script"] for d in dump["task_dialogs"]] == [str(loop)]
    assert dump["console"] == ["atexit\n"] and dump["pending_defers"] == 0


# -- the Listener ------------------------------------------------------------------------------
def test_running_the_listener_again_turns_it_off_without_a_dialog(tmp_path: Path) -> None:
    state = _alive_state(tmp_path)
    dump = run_reaper(tmp_path, {"project": _project(), "exit": False,
                                 "steps": [{"run": LISTENER}, listen(5), {"run": LISTENER}, listen(5)]}, state)
    _clean(dump)
    assert dump["task_dialogs"] == []
    assert [(Path(t["script"]).name, t["why"]) for t in dump["terminated"]] == [
        ("MAGE - Listener.lua", "re-launched (set_action_options 1)")]
    assert [t["state"] for t in dump["toggles"]] == [1, 0]  # on, then off by its atexit
    assert [o["flag"] for o in dump["action_options"]] == [1 | 4]
    assert dump["pending_defers"] == 0 and dump["undo"] == []
    assert "listener_beat" not in dump["ext_state"].get("MAGE_Bridge", {})


def test_before_reaper_7_03_the_listener_still_works(tmp_path: Path) -> None:
    # No set_action_options: the toggle state is set by hand; running it again raises REAPER's dialog,
    # whose "Terminate instances" ends it like a toggle.
    state = _alive_state(tmp_path)
    dump = run_reaper(tmp_path, {"project": _project(), "reaper_version": 6.83, "exit": False,
                                 "steps": [{"run": LISTENER}, listen(5), {"run": LISTENER}, listen(5)]}, state)
    assert dump["errors"] == [] and dump["action_options"] == []
    assert [d["answer"] for d in dump["task_dialogs"]] == ["terminate"]
    assert [t["state"] for t in dump["toggles"]] == [1, 0]


def test_actions_add_no_undo_point_and_a_quick_second_run_asks_nothing(tmp_path: Path) -> None:
    # Without LuaSocket each run writes its spool file and returns. Both defer (a no-op), so REAPER adds
    # no "ReaScript: Run" undo point; the second run, before the first one's deferred call, ends it
    # (set_action_options 1|2) instead of raising the task-control dialog.
    state = _alive_state(tmp_path)
    inputs = [{"values": ["techno", "120", "", "4/4", "8", "", "bar"]}] * 2
    dump = run_reaper(tmp_path, {"project": _project(), "user_inputs": inputs,
                                 "steps": [{"run": GENERATE}, {"run": GENERATE}, listen(3)]}, state)
    _clean(dump)
    assert dump["undo"] == [] and dump["task_dialogs"] == []
    assert [o["flag"] for o in dump["action_options"]] == [1 | 2, 1 | 2]
    assert len(list((state / "spool").glob("reaper-generate-*.json"))) == 2


def test_the_listener_inserts_a_result_that_finished_after_its_first_scan(daemon: DaemonProc,
                                                                          tmp_path: Path) -> None:
    # The Listener looks at the outbox (empty) before the job exists; REAPER keeps serving that listing
    # unless the Listener asks it to re-read the folder.
    scanned = tmp_path / "scanned"
    scenario = {"project": _project(cursor=0.0, ext={"MAGE_Bridge": {"project_id": PROJECT_ID}}),
                "steps": [{"run": LISTENER}, listen(5), {"touch": scanned},
                          listen(3000, until_tracks=2, extra=5, timeout_s=120)]}
    proc, out = start_reaper(tmp_path, scenario, daemon.state_dir)
    wait_for_file(scanned)
    write_spool(daemon, {"kind": "generate", "req_id": "late-1", "client_id": "reaper", "project_id": PROJECT_ID,
                         "prompt": "minimal techno", "options": {"duration_s": 8.0, "seed": 2},
                         "position": {"seconds": 1.0}})
    dump = finish_reaper(proc, out)
    _clean(dump)
    assert dump["messages"] == []
    [handled] = list((daemon.state_dir / "outbox" / "reaper" / "handled").glob("*.json"))
    record = json.loads(handled.read_text())
    manifest: dict[str, Any] = json.loads(Path(record["manifest"]).read_text())
    tracks = new_tracks(dump, len(BEFORE))
    assert [t["name"] for t in tracks] == ["MAGE: minimal techno", *_stem_order(manifest)]
    assert {t["items"][0]["position"] for t in tracks[1:]} == {1.0}
