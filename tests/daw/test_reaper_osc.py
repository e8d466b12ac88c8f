"""The REAPER scripts' OSC door: with LuaSocket a job goes to the daemon over UDP, else through the spool.

The scripts run under a real ``lua5.4`` with the real LuaSocket (Debian's ``lua-socket``) against the
ReaScript emulation and a real daemon; the emulation hides LuaSocket unless a scenario asks for it, as
stock REAPER has none. The Lua OSC codec is checked byte for byte against python-osc.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from tests.daw.conftest import wait_for_file
from tests.daw.reaper import (
    GENERATE,
    LISTENER,
    LUA,
    MASTER,
    SEPARATE,
    finish_reaper,
    listen,
    needs_lua,
    new_tracks,
    run_reaper,
    start_reaper,
)
from tests.daw.test_reaper import (
    BEFORE,
    _assert_folder,
    _clean,
    _item_project,
    _loop_wav,
    _project,
    _stem_order,
    inputs,
)
from tests.server.conftest import DaemonProc

LIB = GENERATE.parent / "mage_bridge_lib.lua"


def _has_luasocket(lua: str | None) -> bool:
    return lua is not None and subprocess.run([lua, "-e", 'require("socket")'], capture_output=True).returncode == 0


needs_luasocket = pytest.mark.skipif(not _has_luasocket(LUA),
                                     reason="LuaSocket for lua5.4 is not installed (setup.sh installs lua-socket)")
pytestmark = needs_lua

GENERATE_INPUTS = inputs("deep house groove", key="G minor", seed="7")


def _jobs(d: DaemonProc, count: int = 1, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """The daemon's jobs (from its SQLite queue, read-only) once there are ``count`` of them."""
    deadline = time.monotonic() + timeout_s
    while True:
        db = sqlite3.connect(f"file:{d.state_dir / 'jobs.sqlite3'}?mode=ro", uri=True)
        try:
            db.row_factory = sqlite3.Row
            rows = [dict(r) for r in db.execute("SELECT * FROM jobs ORDER BY created")]
        finally:
            db.close()
        if len(rows) >= count or time.monotonic() > deadline:
            for r in rows:
                r["params"] = json.loads(r["params"])
            return rows
        time.sleep(0.05)


def _spool_lines(d: DaemonProc) -> list[str]:
    """Log lines of spool files the daemon took as jobs or rejected (context reports are not logged)."""
    return [line for line in d.log().splitlines() if " spool " in line or "spool file" in line]


# -- jobs over OSC -----------------------------------------------------------------------------
@needs_luasocket
def test_generate_goes_over_osc_and_the_listener_inserts_the_stems(daemon: DaemonProc, tmp_path: Path) -> None:
    scenario = {
        "socket": True,
        "project": _project(cursor=3.0),
        "user_inputs": [GENERATE_INPUTS],
        # The action alone first (the job goes out while no listener runs; its answer comes back to a
        # deferred call), then the listener brings the result in.
        "steps": [{"run": GENERATE}, listen(100), {"run": LISTENER},
                  listen(3000, until_tracks=2, extra=10, timeout_s=150)],
    }
    dump = run_reaper(tmp_path, scenario, daemon.state_dir)
    _clean(dump)
    assert [m["msg"] for m in dump["messages"]] == [
        'Job sent. Turn on "MAGE - Listener" to get the result into this project.']
    [said] = dump["console"]  # which door, said once
    assert said.startswith(f"MAGE Bridge: jobs go to the daemon over OSC (127.0.0.1:{daemon.port}, LuaSocket")
    [run, *_] = dump["runs"]
    assert run["main_s"] < 0.25 and run["deferred"]  # the action sent the datagram and returned

    # The daemon got the job over UDP from 127.0.0.1; the spool folder got no job at all (the listener's
    # tempo/cursor reports went over OSC too).
    [job] = _jobs(daemon)
    assert job["source"] == "osc" and job["client_host"] == "127.0.0.1" and job["kind"] == "generate"
    assert job["req_id"].startswith("reaper-generate-")
    assert _spool_lines(daemon) == []
    assert list((daemon.state_dir / "spool").glob("*.json")) == []
    assert not (daemon.state_dir / "spool" / "rejected").exists() or \
        list((daemon.state_dir / "spool" / "rejected").iterdir()) == []
    tag = job["params"]["daw"]
    assert (tag["client_id"], tag["project_path"]) == ("reaper", "/music/song.rpp")
    # no position: the bar at or after the cursor of the context sent with the request (3 s -> bar 3 at 4 s)
    assert {k: tag["placement"][k] for k in ("mode", "seconds", "beats", "bar", "bpm", "cursor_s")} == {
        "mode": "next_bar", "seconds": 4.0, "beats": 8.0, "bar": 3, "bpm": 120.0, "cursor_s": 3.0}
    assert job["params"]["seed"] == 7 and "daw" not in job["params"]["options"]

    # ... and the result came back through the outbox exactly as a spool job's does.
    [handled] = list((daemon.state_dir / "outbox" / "reaper" / "handled").glob("*.json"))
    record = json.loads(handled.read_text())
    assert record["event"] == "done" and record["job_id"] == job["id"] and record["req_id"] == job["req_id"]
    assert record["project_id"] == tag["project_id"] and record["placement"]["seconds"] == 4.0
    manifest_path = Path(record["manifest"])
    manifest = json.loads(manifest_path.read_text())
    assert manifest["request"]["prompt"] == "deep house groove" and manifest["requested"]["key"] == "G"
    stems = _assert_folder(dump, len(BEFORE), "MAGE: deep house groove", _stem_order(manifest),
                           "MAGE: insert generated clip: deep house groove")
    for track in stems:
        item = track["items"][0]
        assert item["source"] == str(manifest_path.parent / manifest["stems"][track["name"]])
        assert item["position"] == pytest.approx(4.0 - record["placement"]["lead_in_s"])
        assert item["length"] == pytest.approx(manifest["duration_s"], abs=1e-5)


@needs_luasocket
def test_master_over_osc_keeps_the_item_trim(daemon: DaemonProc, tmp_path: Path) -> None:
    wav = _loop_wav(daemon.data_dir / "loop.wav")
    scenario = {"socket": True, "project": _item_project(wav),
                "steps": [{"run": LISTENER}, listen(3), {"run": MASTER},
                          listen(3000, until_tracks=2, extra=10, timeout_s=150)]}
    dump = run_reaper(tmp_path, scenario, daemon.state_dir)
    _clean(dump)
    assert dump["messages"] == []
    [job] = _jobs(daemon)
    assert job["source"] == "osc" and job["params"]["audio_path"] == str(wav)
    assert _spool_lines(daemon) == []
    [track] = _assert_folder(dump, 1, "MAGE master: loop.wav", ["master"], "MAGE: insert master: loop.wav")
    item = track["items"][0]
    assert (item["position"], item["length"], item["take_offset"]) == (4.0, 3.0, 1.0)
    assert item["source"].endswith("loop-master.wav")


@needs_luasocket
def test_a_request_refused_over_osc_is_said_at_once_and_not_spooled(daemon: DaemonProc, tmp_path: Path) -> None:
    wav = _loop_wav(tmp_path / "outside" / "loop.wav")  # not under data_dir or allowed_roots
    dump = run_reaper(tmp_path, {"socket": True, "project": _item_project(wav),
                                 "steps": [{"run": SEPARATE}, listen(100, until_messages=1, extra=1)]},
                      daemon.state_dir)
    _clean(dump)
    [box] = dump["messages"]  # no listener needed: the daemon's /mage/error answered the action itself
    assert box["msg"].startswith("MAGE separate request refused: path_not_allowed: ")
    assert _jobs(daemon, timeout_s=0.5) == []
    time.sleep(0.5)  # a spool file would be taken (and logged) within one 200 ms poll
    assert _spool_lines(daemon) == [] and not (daemon.state_dir / "outbox" / "reaper").exists()


# -- the spool: without LuaSocket, and whenever OSC does not get through ------------------------
def test_without_luasocket_the_job_goes_through_the_spool(daemon: DaemonProc, tmp_path: Path) -> None:
    scenario = {"project": _project(), "user_inputs": [GENERATE_INPUTS], "steps": [{"run": GENERATE}]}
    dump = run_reaper(tmp_path, scenario, daemon.state_dir)
    _clean(dump)
    [said] = dump["console"]
    assert said.startswith("MAGE Bridge: jobs go through the spool folder " + str(daemon.state_dir / "spool"))
    assert "LuaSocket not found: module 'socket' not found" in said and "Mavriq Lua Sockets" in said
    [job] = _jobs(daemon)
    assert job["source"] == "spool:reaper" and job["client_host"] is None
    assert job["params"]["daw"]["placement"]["mode"] == "next_bar"
    assert job["params"]["daw"]["placement"]["cursor_s"] == 2.0


def _dead_port() -> int:
    """A UDP port on 127.0.0.1 that nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@needs_luasocket
@pytest.mark.parametrize("listening", ["nothing", "silent"], ids=["port-closed", "no-answer"])
def test_osc_that_does_not_get_through_falls_back_to_the_spool(tmp_path: Path, listening: str) -> None:
    # A fresh heartbeat, but the daemon's OSC port is closed (or held by something that never answers).
    state = tmp_path / "state"
    state.mkdir()
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        if listening == "silent":
            silent.bind(("127.0.0.1", 0))
            port = silent.getsockname()[1]
        else:
            port = _dead_port()
        (state / "heartbeat.json").write_text(json.dumps({"time": time.time(), "stale_after_s": 60, "pid": 4242,
                                                             "port": port}))
        # The second run does not try OSC again; each returns at once, the wait is in deferred calls.
        scenario = {"socket": True, "project": _project(), "user_inputs": [GENERATE_INPUTS, GENERATE_INPUTS],
                    "steps": [{"run": GENERATE}, listen(200), {"run": GENERATE}, listen(200)]}
        started = time.monotonic()
        dump = run_reaper(tmp_path, scenario, state)
        elapsed = time.monotonic() - started
        if listening == "silent":
            received = []
            silent.settimeout(0.2)
            try:
                while True:
                    received.append(OscMessage(silent.recv(65536)))
            except TimeoutError:
                pass
            [msg] = received  # one try, not two
            assert msg.address == "/mage/generate"
    finally:
        silent.close()
    _clean(dump)
    [said] = dump["console"]
    why = "no answer within 2.0 s" if listening == "silent" else "connection refused"
    assert said == (f"MAGE Bridge: OSC to the daemon at 127.0.0.1:{port} failed ({why}); "
                    f"jobs go through the spool folder {state / 'spool'} instead\n")
    assert elapsed < (6.0 if listening == "silent" else 4.0)
    files = sorted((state / "spool").glob("*.json"))
    assert len(files) == 2  # nothing lost: both requests wait in the spool for the daemon
    request = json.loads(files[0].read_text())
    assert request["kind"] == "generate" and request["client_id"] == "reaper"
    assert request["prompt"] == "deep house groove" and request["options"]["seed"] == 7
    assert "position" not in request and request["context"] == {"bpm": 120.0, "numerator": 4, "denominator": 4,
                                                                 "cursor_s": 2.0}
    assert all(run["main_s"] < 0.25 for run in dump["runs"])


# -- the Lua OSC codec against python-osc ------------------------------------------------------
_CODEC = """
reaper = {}
local lib = dofile(%s)
local cases = assert(lib.json_decode(io.read("a")))
for _, case in ipairs(cases) do
  local args = {}
  for i, a in ipairs(case.args) do
    if a.t == "i" then args[i] = math.tointeger(a.v) elseif a.t == "f" then args[i] = a.v + 0.0 else args[i] = a.v end
  end
  local data, err = lib.osc_encode(case.address, table.unpack(args, 1, #case.args))
  if data then
    print((data:gsub(".", function(c) return string.format("%%02x", c:byte()) end)))
  else
    print("error: " .. err)
  end
end
"""

_TEXTS = ["", "a", "ab", "abc", "abcd", "abcde", "abcdefg", "abcdefgh",
          "\u00e9", "\u00e9a", "\u00e9\u00e9", "\u6f22", "\u6f22a", "\u6f22\u5b57a", "\u00e9\u6f22\u5b57",
          "\U0001F3B9", "\U0001F3B9a", "h\u00e9llo w\u00f6rld \u266a", "tab\there\nnewline \"quoted\" \\"]
_CASES: list[tuple[str, list[tuple[str, Any]]]] = [
    ("/a", []), ("/ab", []), ("/abc", [("s", "x")]), ("/abcdefg", [("s", "x"), ("s", "y"), ("s", "z")]),
    *[("/mage/ping", [("s", t)]) for t in _TEXTS],
    ("/mage/ints", [("i", 0), ("i", 1), ("i", -1), ("i", 2**31 - 1), ("i", -2**31)]),
    ("/mage/floats", [("f", 1.5), ("f", -0.25), ("f", 120.0), ("f", 0.001), ("f", 1e30)]),
    ("/mage/generate", [("s", "reaper-generate-0123456789abcdef"), ("s", "d\u00e9ep house \u266a"), ("s", ""),
                        ("s", json.dumps({"bpm": 120, "daw": {"client_id": "reaper"}}))]),
    ("/mage/daw/context", [("f", 120.0), ("i", 4), ("i", 4), ("f", 2.0), ("s", "reaper")]),
]


def _luas() -> list[Any]:
    out = []
    for name in ("lua5.4", "lua5.3"):
        path = shutil.which(name)
        out.append(pytest.param(path, id=name, marks=pytest.mark.skipif(path is None, reason=f"{name} missing")))
    return out


def _lua_encode(lua: str, tmp_path: Path, cases: list[tuple[str, list[tuple[str, Any]]]]) -> list[str]:
    script = tmp_path / "codec.lua"
    script.write_text(_CODEC % json.dumps(str(LIB)))
    payload = json.dumps([{"address": a, "args": [{"t": t, "v": v} for t, v in args]} for a, args in cases])
    out = subprocess.run([lua, str(script)], input=payload, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


@pytest.mark.parametrize("lua", _luas())
def test_the_lua_osc_encoder_matches_python_osc(tmp_path: Path, lua: str) -> None:
    lines = _lua_encode(lua, tmp_path, _CASES)
    assert len(lines) == len(_CASES)
    for (address, args), line in zip(_CASES, lines):
        data = bytes.fromhex(line)
        assert len(data) % 4 == 0
        msg = OscMessage(data)  # python-osc's decoder reads it back
        assert msg.address == address
        expected = [struct.unpack(">f", struct.pack(">f", v))[0] if t == "f" else v for t, v in args]
        assert msg.params == expected
        builder = OscMessageBuilder(address)  # and python-osc's encoder writes the very same bytes
        for t, v in args:
            builder.add_arg(v, t)
        assert data == builder.build().dgram, (address, args)


@pytest.mark.parametrize("lua", _luas())
def test_the_lua_osc_encoder_refuses_what_osc_cannot_carry(tmp_path: Path, lua: str) -> None:
    bad = [("/mage/ping", [("s", "a\u0000b")]), ("mage/ping", []), ("/mage/x", [("i", 2**31)]),
           ("/mage/x", [("i", -2**31 - 1)])]
    lines = _lua_encode(lua, tmp_path, bad)
    assert [line.split(":")[0] for line in lines] == ["error"] * len(bad)
    assert "NUL" in lines[0] and "starts with /" in lines[1] and "32 bits" in lines[2]


@pytest.mark.parametrize("lua", _luas())
def test_the_lua_osc_decoder_reads_python_osc_replies(tmp_path: Path, lua: str) -> None:
    replies = [("/mage/job/accepted", ["reaper-generate-1", "5f0c1e9a2b7d4c11"]),
               ("/mage/error", ["r\u00e9q", "path_not_allowed", "/m\u00fcsic/\U0001F3B9.wav is outside"]),
               ("/mage/job/progress", ["j", "analyze", 0.5]), ("/mage/daw/context/ack", [120.0, 4, 4, 2.0]),
               ("/abc", [""])]
    script = tmp_path / "decode.lua"
    script.write_text(f"""
reaper = {{}}
local lib = dofile({json.dumps(str(LIB))})
for line in io.lines() do
  local data = line:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)
  local msg = assert(lib.osc_decode(data))
  print(lib.json_encode({{msg.address, setmetatable(msg.args, lib.array_mt)}}))
end
assert(lib.osc_decode("/abc\\0\\0\\0\\0,s\\0\\0abc") == nil)  -- a string without its NUL
""")
    hex_lines = []
    for address, args in replies:
        builder = OscMessageBuilder(address)
        for v in args:
            builder.add_arg(v)
        hex_lines.append(builder.build().dgram.hex())
    out = subprocess.run([lua, str(script)], input="\n".join(hex_lines) + "\n", capture_output=True, text=True,
                         check=True)
    assert [json.loads(line) for line in out.stdout.splitlines()] == [[a, args] for a, args in replies]


# -- a slow daemon never freezes REAPER, and one request stays one job ------------------------
@needs_luasocket
def test_a_stalled_daemon_ends_in_one_job_and_one_insert(daemon: DaemonProc, tmp_path: Path) -> None:
    # The daemon stops for 3 s around the submit: no answer within 2 s, so the action's deferred call
    # writes the same request to the spool. Once the daemon runs again it reads both the datagram and the
    # spool file, in whichever order, and makes one job; the Listener inserts it once.
    ready, go = tmp_path / "ready", tmp_path / "go"
    scenario = {"socket": True, "project": _project(cursor=3.0), "user_inputs": [GENERATE_INPUTS],
                "steps": [{"run": LISTENER}, listen(3), {"touch": ready}, {"wait_file": go}, {"run": GENERATE},
                          listen(3000, until_tracks=2, extra=20, timeout_s=150)]}
    proc, out = start_reaper(tmp_path, scenario, daemon.state_dir)
    wait_for_file(ready)
    daemon.signal(signal.SIGSTOP)
    try:
        go.touch()
        time.sleep(3.0)
    finally:
        daemon.signal(signal.SIGCONT)
    dump = finish_reaper(proc, out)
    _clean(dump)
    [generate] = [r for r in dump["runs"] if r["script"] == str(GENERATE)]
    assert generate["main_s"] < 0.25  # sent and returned: REAPER's UI never waited for the stopped daemon
    assert dump["max_deferred_s"] < 0.5
    assert dump["console"] == [f"MAGE Bridge: OSC to the daemon at 127.0.0.1:{daemon.port} failed (no answer within "
                               f"2.0 s); jobs go through the spool folder {daemon.state_dir / 'spool'} instead\n"]
    time.sleep(0.5)  # the spool copy has been looked at (the daemon polls every 0.1 s)
    [job] = _jobs(daemon)
    assert job["req_id"].startswith("reaper-generate-")
    assert list((daemon.state_dir / "spool").glob("*.json")) == []  # the spool copy was taken, not queued
    rejected = daemon.state_dir / "spool" / "rejected"
    assert not rejected.exists() or list(rejected.iterdir()) == []
    outbox = daemon.state_dir / "outbox" / "reaper"
    assert list(outbox.glob("*.json")) == []
    [record] = [json.loads(f.read_text()) for f in (outbox / "handled").glob("*.json")]
    assert record["job_id"] == job["id"]
    tracks = new_tracks(dump, len(BEFORE))
    assert sum(1 for t in tracks if t["folder_depth"] == 1) == 1  # one folder: one insert
    assert tracks[0]["name"] == "MAGE: deep house groove"


@needs_luasocket
def test_running_an_action_again_while_it_waits_loses_no_request(tmp_path: Path) -> None:
    # Something holds the daemon's port and never answers. The second run ends the first one, which
    # still waited: its request goes to the spool at once; the second waits its 2 s, then spools too.
    state = tmp_path / "state"
    state.mkdir()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        (state / "heartbeat.json").write_text(json.dumps({"time": time.time(), "stale_after_s": 60, "pid": 4243,
                                                             "port": port}))
        scenario = {"socket": True, "project": _project(), "user_inputs": [GENERATE_INPUTS, GENERATE_INPUTS],
                    "steps": [{"run": GENERATE}, listen(4), {"run": GENERATE}, listen(200)]}
        dump = run_reaper(tmp_path, scenario, state)
    _clean(dump)
    assert [(Path(t["script"]).name, t["why"]) for t in dump["terminated"]] == [
        (GENERATE.name, "re-launched (set_action_options 1)")]
    files = sorted((state / "spool").glob("*.json"))
    assert len(files) == 2 and len({json.loads(f.read_text())["req_id"] for f in files}) == 2
