"""The REAPER scripts under a real Lua 5.4, against the ReaScript emulation, with the real daemon.

Each test builds an emulated project, runs the scripts (the listener's ``defer`` loop a bounded number of
times) and asserts on the project the emulation dumps: tracks, folder depth, names, items, positions,
lengths, undo blocks and message boxes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from mage_bridge import audio
from tests.daw.conftest import wait_for_file, wait_outbox, write_spool
from tests.daw.reaper import (
    GENERATE,
    LISTENER,
    MASTER,
    SEPARATE,
    finish_reaper,
    listen,
    needs_lua,
    new_tracks,
    run_reaper,
    start_reaper,
)
from tests.server.conftest import DaemonProc
from tests.signals import clicks, sine

pytestmark = needs_lua

BEFORE = [{"name": "Guitar", "items": []}]


def _project(**kw: Any) -> dict[str, Any]:
    return {"bpm": 120.0, "numerator": 4, "denominator": 4, "cursor": 2.0, "path": "/music/song.rpp",
            "tracks": BEFORE, **kw}


def _wav_length_s(path: Path) -> float:
    info = soundfile.info(str(path))
    return info.frames / info.samplerate


def _clean(dump: dict[str, Any]) -> None:
    """What every run must show: no script errors, no leaked globals, every block closed, no stray
    "ReaScript: Run" undo point, no "ReaScript task control" dialog, REAPER's UI never held for long."""
    assert dump["errors"] == []
    assert dump["leaked_globals"] == []
    assert dump["outside_undo"] == []
    assert dump["undo_depth"] == 0 and dump["ui_refresh_depth"] == 0
    assert [u for u in dump["undo"] if u.get("automatic")] == []
    assert dump["task_dialogs"] == []
    assert all(run["main_s"] < 0.5 for run in dump["runs"]), dump["runs"]
    assert dump["max_deferred_s"] < 1.0


def inputs(prompt: str, bpm: str = "120", key: str = "", metre: str = "4/4", length: str = "8", seed: str = "",
           place: str = "bar") -> dict[str, list[str]]:
    """The answer to the Generate dialog (Prompt, BPM, Key, Time signature, Length, Seed, Place at)."""
    return {"values": [prompt, bpm, key, metre, length, seed, place]}


def _assert_folder(dump: dict[str, Any], before: int, name: str, stems: list[str], undo: str
                   ) -> list[dict[str, Any]]:
    tracks = new_tracks(dump, before)
    assert [t["name"] for t in tracks] == [name, *stems]
    assert [t["folder_depth"] for t in tracks] == [1] + [0] * (len(stems) - 1) + [-1]
    assert tracks[0]["items"] == []
    for t in tracks[1:]:
        assert len(t["items"]) == 1 and t["items"][0]["take_name"] == t["name"]
    [block] = dump["undo"]  # one undo block for the whole insertion
    assert block["description"] == undo and block["changes"] > 0
    assert dump["peak_builds"] == 1
    return tracks[1:]


def _stem_order(manifest: dict[str, Any]) -> list[str]:
    order = {"vocals": 0, "drums": 1, "bass": 2, "other": 3}
    return sorted(manifest["stems"], key=lambda n: (order.get(n, 99), n))


@pytest.mark.parametrize(("place", "cursor"), [("bar", 3.0), ("cursor", 2.5)], ids=["on-the-bar", "at-the-cursor"])
def test_generate_round_trip_puts_a_folder_of_stems_in_place(daemon: DaemonProc, tmp_path: Path, place: str,
                                                             cursor: float) -> None:
    scenario = {
        "project": _project(cursor=cursor),
        "user_inputs": [inputs("deep house groove", key="G minor", seed="7", place=place)],
        "steps": [{"run": LISTENER}, listen(3), {"run": GENERATE},
                  listen(3000, until_tracks=2, extra=10, timeout_s=150)],
    }
    dump = run_reaper(tmp_path, scenario, daemon.state_dir)
    _clean(dump)
    assert dump["messages"] == []  # the listener runs: no hint, no error
    [dialog] = dump["inputs"]
    assert dialog["defaults"].split("\n")[1:4] == ["120", "", "4/4"]  # BPM and metre from the project
    assert dialog["defaults"].split("\n")[6] == "bar"
    assert dump["ext_state"]["MAGE_Bridge"]["place"] == place  # remembered for the next time

    outbox = daemon.state_dir / "outbox" / "reaper"
    [handled] = list((outbox / "handled").glob("*.json"))
    record = json.loads(handled.read_text())
    placement = record["placement"]
    manifest_path = Path(record["manifest"])
    manifest = json.loads(manifest_path.read_text())
    assert manifest["request"]["prompt"] == "deep house groove" and manifest["request"]["seed"] == 7
    # BPM and metre left as prefilled are not sent: the project's tempo and metre make the clip.
    assert "bpm" not in manifest["request"]["options"] and "time_signature" not in manifest["request"]["options"]
    assert manifest["daw"]["tempo_from"] == "project" and manifest["requested"]["key"] == "G"
    lead_in_s = manifest["backend"]["lead_in_s"]
    assert lead_in_s == pytest.approx(2.0, abs=1e-3)  # one bar at 120 BPM in 4/4
    if place == "bar":
        # beat 1 of the body on the bar at or after the cursor (3 s -> bar 3 at 4 s), the lead-in before it
        assert (placement["mode"], placement["align"], placement["bar"]) == ("next_bar", "body", 3)
        start = 4.0 - lead_in_s
    else:
        assert (placement["mode"], placement["align"], placement["seconds"]) == ("requested", "start", 2.5)
        start = 2.5

    stems = _assert_folder(dump, len(BEFORE), "MAGE: deep house groove", _stem_order(manifest),
                           "MAGE: insert generated clip: deep house groove")
    for track in stems:
        item = track["items"][0]
        wav = manifest_path.parent / manifest["stems"][track["name"]]
        assert item["source"] == str(wav)
        assert item["position"] == pytest.approx(start, abs=1e-9)
        assert item["length"] == pytest.approx(_wav_length_s(wav), abs=1e-9)
        assert item["length"] == pytest.approx(manifest["duration_s"], abs=1e-5)
        assert item["playrate"] == 1.0
    # one region per musical section of the clip, from where its first frame plays (see test_reaper_regions.py)
    musical = [s for s in manifest["structure"] if s["name"] not in ("lead-in", "lead-out")]
    assert musical
    assert [(r["name"].split()[:2], r["pos"], r["rgnend"]) for r in dump["markers"]] == [
        (["MAGE", s["name"]], pytest.approx(start + s["start_s"], abs=1e-9),
         pytest.approx(start + s["end_s"], abs=1e-9)) for s in musical]
    assert dump["tracks"][0] == {"index": 0, "name": "Guitar", "folder_depth": 0, "ext": [], "items": []}
    assert [t["state"] for t in dump["toggles"]] == [1, 0]  # toggled on, and off at exit
    # The daemon took every request; a context report the listener spooled in its last ticks is taken
    # at the daemon's next look at the folder (every SPOOL_POLL_S).
    deadline = time.monotonic() + 5.0
    while list((daemon.state_dir / "spool").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list((daemon.state_dir / "spool").glob("*.json")) == []


def _loop_wav(path: Path, duration_s: float = 6.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tone, beat = sine(220.0, duration_s, rate=48_000), clicks(120.0, duration_s, rate=48_000)
    audio.save(audio.Audio(tone.samples + beat.samples, 48_000), path)
    return path


def _item_project(wav: Path) -> dict[str, Any]:
    return _project(tracks=[{"name": "Loop", "items": [
        {"position": 4.0, "length": 3.0, "take_offset": 1.0, "file": wav, "selected": True, "take_name": "loop"}]}])


def test_separate_round_trip_lines_the_stems_up_with_the_item(daemon: DaemonProc, tmp_path: Path) -> None:
    wav = _loop_wav(daemon.data_dir / "loop.wav")
    scenario = {"project": _item_project(wav),
                "steps": [{"run": LISTENER}, listen(3), {"run": SEPARATE},
                          listen(3000, until_tracks=2, extra=10, timeout_s=150)]}
    dump = run_reaper(tmp_path, scenario, daemon.state_dir)
    _clean(dump)
    assert dump["messages"] == []
    stems = _assert_folder(dump, 1, "MAGE stems: loop.wav", ["vocals", "drums", "bass", "other"],
                           "MAGE: insert stems: loop.wav")
    for track in stems:
        item = track["items"][0]
        # the stems cover the same stretch of the file as the item did
        assert (item["position"], item["length"], item["take_offset"]) == (4.0, 3.0, 1.0)
        assert item["source_length"] == pytest.approx(_wav_length_s(wav), abs=1e-9)
        assert Path(item["source"]).parent.parent == daemon.state_dir / "jobs"
    original = dump["tracks"][0]
    assert original["name"] == "Loop" and original["items"][0]["source"] == str(wav)


def test_master_round_trip_brings_one_mastered_track(daemon: DaemonProc, tmp_path: Path) -> None:
    wav = _loop_wav(daemon.data_dir / "loop.wav")
    scenario = {"project": _item_project(wav),
                "steps": [{"run": LISTENER}, listen(3), {"run": MASTER},
                          listen(3000, until_tracks=2, extra=10, timeout_s=150)]}
    dump = run_reaper(tmp_path, scenario, daemon.state_dir)
    _clean(dump)
    assert dump["messages"] == []
    [track] = _assert_folder(dump, 1, "MAGE master: loop.wav", ["master"], "MAGE: insert master: loop.wav")
    item = track["items"][0]
    assert (item["position"], item["length"], item["take_offset"]) == (4.0, 3.0, 1.0)
    assert item["source"].endswith("loop-master.wav")


def test_a_job_from_a_controller_lands_on_the_next_bar_in_reaper(daemon: DaemonProc, tmp_path: Path) -> None:
    # Cursor at 5 s, 120 BPM in 4/4: bars are 2 s long, so beat 1 of the body goes on the bar at 6 s.
    ready = tmp_path / "listening"
    scenario = {"project": _project(cursor=5.0),
                "steps": [{"run": LISTENER}, listen(3), {"touch": ready},
                          listen(3000, until_tracks=2, extra=10, timeout_s=150)]}
    proc, out = start_reaper(tmp_path, scenario, daemon.state_dir)
    wait_for_file(ready)
    time.sleep(0.3)  # the listener reported tempo, metre and cursor on its first tick; the daemon looks every 0.1 s
    with daemon.client() as c:
        addr, reply = c.request("/mage/generate", "knob", "house groove at 124 BPM", "",
                                json.dumps({"duration_s": 10.0, "seed": 3}), timeout_s=5.0)
        assert addr == "/mage/job/accepted", reply
    dump = finish_reaper(proc, out)
    _clean(dump)
    assert dump["messages"] == []
    [record] = [json.loads(f.read_text()) for f in (daemon.state_dir / "outbox" / "reaper" / "handled").glob("*")]
    placement = record["placement"]
    assert (placement["mode"], placement["align"], placement["seconds"]) == ("next_bar", "body", 6.0)
    assert placement["clip_bpm"] == 120.0  # the project's tempo, not the prompt's 124
    tracks = new_tracks(dump, len(BEFORE))
    assert tracks[0]["name"] == "MAGE: house groove at 124 BPM"
    positions = [t["items"][0]["position"] for t in tracks[1:]]
    assert positions == pytest.approx([6.0 - placement["lead_in_s"]] * len(positions))
    assert dump["console"] == []  # the clip is at the project's tempo: nothing to say


# -- what goes wrong, and that nothing is half-inserted ---------------------------------------
@pytest.mark.parametrize("script", [GENERATE, SEPARATE, MASTER], ids=["generate", "separate", "master"])
@pytest.mark.parametrize("heartbeat", ["missing", "stale"])
def test_daemon_down_is_said_and_nothing_is_sent(tmp_path: Path, script: Path, heartbeat: str) -> None:
    state = tmp_path / "state"
    state.mkdir()
    if heartbeat == "stale":
        (state / "heartbeat.json").write_text(json.dumps({"time": time.time() - 60, "pid": 1}))
    wav = _loop_wav(tmp_path / "loop.wav")
    scenario = {"project": _item_project(wav), "user_inputs": [inputs("techno")],
                "steps": [{"run": script}]}
    dump = run_reaper(tmp_path, scenario, state)
    _clean(dump)
    [box] = dump["messages"]
    assert box["msg"].startswith("daemon not running: start `mage-bridge serve`")
    assert dump["inputs"] == []  # not even asked for a prompt
    assert len(dump["tracks"]) == 1 and dump["undo"] == []
    assert not (state / "spool").exists() or not list((state / "spool").iterdir())


def test_a_failed_job_is_said_and_the_project_is_unchanged(daemon: DaemonProc, tmp_path: Path) -> None:
    scenario = {
        "project": _project(),
        "user_inputs": [inputs("ambient drone", bpm="90", metre="4/3")],  # 4/3: the generator says no
        "steps": [{"run": LISTENER}, listen(3), {"run": GENERATE},
                  listen(3000, until_messages=1, extra=5, timeout_s=120)],
    }
    dump = run_reaper(tmp_path, scenario, daemon.state_dir)
    _clean(dump)
    [box] = dump["messages"]
    assert "MAGE generate job" in box["msg"] and "failed: invalid_input" in box["msg"]
    assert "time_signature" in box["msg"]
    assert dump["tracks"] == run_reaper(tmp_path, {"project": _project()}, daemon.state_dir, "empty")["tracks"]
    assert dump["undo"] == []


def test_a_refused_request_is_said(daemon: DaemonProc, tmp_path: Path) -> None:
    wav = _loop_wav(tmp_path / "outside" / "loop.wav")  # not under data_dir or allowed_roots
    scenario = {"project": _item_project(wav),
                "steps": [{"run": LISTENER}, listen(3), {"run": SEPARATE},
                          listen(600, until_messages=1, extra=5, timeout_s=60)]}
    dump = run_reaper(tmp_path, scenario, daemon.state_dir)
    _clean(dump)
    [box] = dump["messages"]
    assert box["msg"].startswith("MAGE separate request refused: path_not_allowed")
    assert len(dump["tracks"]) == 1 and dump["undo"] == []


def test_the_project_s_own_media_needs_no_setting(daemon: DaemonProc, tmp_path: Path) -> None:
    # The file is outside data_dir and allowed_roots, but in the saved project's Media folder: the request
    # names the project, so the daemon reads it for this REAPER.
    wav = _loop_wav(tmp_path / "songs" / "Media" / "loop.wav")
    project = {**_item_project(wav), "path": str(tmp_path / "songs" / "tune.rpp")}
    scenario = {"project": project,
                "steps": [{"run": LISTENER}, listen(3), {"run": MASTER},
                          listen(3000, until_tracks=2, extra=10, timeout_s=150)]}
    dump = run_reaper(tmp_path, scenario, daemon.state_dir)
    _clean(dump)
    assert dump["messages"] == []
    [track] = _assert_folder(dump, 1, "MAGE master: loop.wav", ["master"], "MAGE: insert master: loop.wav")
    assert (track["items"][0]["position"], track["items"][0]["length"]) == (4.0, 3.0)


@pytest.mark.parametrize("missing", ["stem", "manifest"])
def test_a_missing_file_is_said_and_nothing_is_half_inserted(daemon: DaemonProc, tmp_path: Path,
                                                             missing: str) -> None:
    # The generate script alone (no listener yet): the job runs, its record waits in the outbox.
    sent = run_reaper(tmp_path, {"project": _project(), "user_inputs": [
        inputs("minimal techno", bpm="125", key="A minor", seed="1")], "steps": [{"run": GENERATE}]},
        daemon.state_dir, "send")
    _clean(sent)
    assert [m["msg"] for m in sent["messages"]] == [
        'Job sent. Turn on "MAGE - Listener" to get the result into this project.']
    [record] = wait_outbox(daemon, "reaper", timeout_s=120)
    manifest_path = Path(record["manifest"])
    manifest = json.loads(manifest_path.read_text())
    if missing == "stem":
        gone = manifest_path.parent / manifest["stems"]["bass"]
    else:
        gone = manifest_path
    gone.unlink()
    # The project keeps its id (ext state) so the listener takes the record as this project's.
    project = _project(ext={"MAGE_Bridge": {"project_id": record["project_id"]}})
    dump = run_reaper(tmp_path, {"project": project, "steps": [
        {"run": LISTENER}, listen(200, until_messages=1, extra=5, timeout_s=30)]}, daemon.state_dir, "listen")
    _clean(dump)
    [box] = dump["messages"]
    assert box["msg"].startswith(f"{missing if missing == 'stem' else 'result'} file missing: ")
    assert str(gone) in box["msg"]
    assert len(dump["tracks"]) == len(BEFORE) and dump["undo"] == []
    assert dump["commands"] == []


def test_records_of_another_project_wait_for_it(daemon: DaemonProc, tmp_path: Path) -> None:
    write_spool(daemon, {"kind": "sleep", "req_id": "other", "client_id": "reaper", "project_id": "someone-else",
                         "options": {"seconds": 0.05}})
    wait_outbox(daemon, "reaper")
    dump = run_reaper(tmp_path, {"project": _project(), "steps": [{"run": LISTENER}, listen(12)]},
                      daemon.state_dir)
    _clean(dump)
    assert dump["messages"] == [] and len(dump["tracks"]) == 1
    assert len(list((daemon.state_dir / "outbox" / "reaper").glob("*.json"))) == 1  # still there


def test_the_lua_json_codec_round_trips(tmp_path: Path) -> None:
    lua = tmp_path / "json.lua"
    lua.write_text(f"""
reaper = {{}}
local lib = dofile({json.dumps(str(GENERATE.parent / 'mage_bridge_lib.lua'))})
local text = io.read("a")
local value = assert(lib.json_decode(text))
io.write(lib.json_encode(value))
""")
    import subprocess

    from tests.daw.reaper import LUA
    data = {"a": [1, 2.5, -3e-7, True, None, {"b": "\u00e9\u6f22 \"q\" \\ \n\t"}], "c": {}, "d": "\U0001F3B9"}
    out = subprocess.run([str(LUA), str(lua)], input=json.dumps(data), capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {**data, "c": []} or json.loads(out.stdout) == data
    assert np.isclose(json.loads(out.stdout)["a"][2], -3e-7)


def test_the_reapack_index_lists_every_script() -> None:
    import xml.etree.ElementTree as ET
    from urllib.parse import unquote

    root = ET.parse(GENERATE.parent.parent / "index.xml").getroot()
    sources = root.findall("./category/reapack/version/source")
    listed = {s.get("file", ""): s for s in sources}
    on_disk = {p.name for p in GENERATE.parent.glob("*.lua")}
    assert set(listed) == on_disk
    for name, source in listed.items():
        assert unquote(source.text or "").endswith("/reaper/MAGE_Bridge/" + name)
        assert (source.get("main") == "main") == name.startswith("MAGE - ")
