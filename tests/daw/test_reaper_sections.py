"""REAPER's section tools: repaint the time selection of a MAGE item, extend it (next/previous), add a track.

The actions run under ``lua5.4`` against the emulation (tests/daw/reaper_emu.lua) on a project holding an item
of a MAGE clip (a stem WAV with the clip's manifest.json beside it, or an item the Listener marked). Without
LuaSocket they submit through the spool folder, so the spool file is the request exactly as the daemon reads
it: kind, the source manifest, times in seconds from the clip's start (through the take's offset and play
rate), the DAW context and where the result goes. The Listener's half runs on outbox records whose placement
is computed by the daemon's own rules (:mod:`mage_bridge.server.daw`), and one round trip goes through a
real ``mage-bridge serve``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from mage_bridge.server import daw
from tests.daw.conftest import DaemonProc, wait_outbox
from tests.daw.reaper import LISTENER, LUA, SCRIPTS, listen, needs_lua, new_tracks, run_reaper
from tests.daw.test_reaper import _clean
from tests.daw.test_reaper_osc import _has_luasocket
from tests.server.conftest import submit, wait_end

pytestmark = needs_lua

REPAINT = SCRIPTS / "MAGE - Repaint time selection of the selected item.lua"
EXTEND_NEXT = SCRIPTS / "MAGE - Extend selected item (next).lua"
EXTEND_PREVIOUS = SCRIPTS / "MAGE - Extend selected item (previous).lua"
ADD_TRACK = SCRIPTS / "MAGE - Add a track to the selected item.lua"
RATE = 48_000
CLIP_S = 24.0


def _alive_state(tmp_path: Path) -> Path:
    """A state folder whose heartbeat says a daemon runs (none does: requests stay in the spool)."""
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    (state / "heartbeat.json").write_text(json.dumps({"time": time.time() + 3600, "pid": 4242, "port": None}))
    return state


def _clip(folder: Path, *, seconds: float = CLIP_S, stems: tuple[str, ...] = ("drums", "bass"),
          manifest: bool = True, extra: dict[str, Any] | None = None) -> Path:
    """A MAGE clip folder: stem WAVs and (unless ``manifest`` is False) its manifest.json. Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = round(seconds * RATE)
    t = np.arange(frames) / RATE
    for i, name in enumerate(stems):
        audio = (0.1 * np.sin(2 * np.pi * (110 + 55 * i) * t)).astype(np.float32)
        soundfile.write(str(folder / f"{name}.wav"), np.stack([audio, audio], axis=1), RATE, subtype="PCM_24")
    if manifest:
        (folder / "manifest.json").write_text(json.dumps({
            "schema": "mage-bridge/manifest@1", "job_id": folder.name, "kind": "generate",
            "stems": {name: f"{name}.wav" for name in stems}, "mix": "mix.wav", "sample_rate": RATE,
            "duration_s": seconds, **(extra or {})}))
    return folder


def _project(item: dict[str, Any], selection: tuple[float, float] | None = None, **kw: Any) -> dict[str, Any]:
    """A 120 BPM 4/4 project with one track holding ``item`` (selected unless it says otherwise)."""
    project: dict[str, Any] = {"bpm": 120.0, "numerator": 4, "denominator": 4, "cursor": 3.0, "path": "",
                               "tracks": [{"name": "drums", "items": [{"selected": True, **item}]}], **kw}
    if selection is not None:
        project["time_selection"] = list(selection)
    return project


def _run(tmp_path: Path, state: Path, project: dict[str, Any], script: Path, **scenario: Any) -> dict[str, Any]:
    dump = run_reaper(tmp_path, {"project": project, "steps": [{"run": str(script)}, listen(5)], **scenario}, state)
    _clean(dump)
    return dump


def _spooled(state: Path) -> list[dict[str, Any]]:
    spool = state / "spool"
    return [json.loads(p.read_text()) for p in sorted(spool.glob("*.json"))] if spool.is_dir() else []


# -- repaint --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("item", "selection", "expected"), [
    # an item at 10 s playing the clip from 2 s: project 14-18 s is 6-10 s of the clip
    ({"position": 10.0, "length": 12.0, "take_offset": 2.0}, (14.0, 18.0), (6.0, 10.0)),
    # a selection reaching before the item is cut to it: 10-14 s of the project, 2-6 s of the clip
    ({"position": 10.0, "length": 12.0, "take_offset": 2.0}, (8.0, 14.0), (2.0, 6.0)),
    # a take at rate 2 plays two seconds of the clip per project second: 12-13 s is 6-8 s of the clip
    ({"position": 10.0, "length": 6.0, "take_offset": 2.0, "playrate": 2.0}, (12.0, 13.0), (6.0, 8.0)),
], ids=["inside", "cut-to-item", "play-rate"])
def test_repaint_sends_the_selection_in_seconds_of_the_clip(tmp_path: Path, item: dict[str, Any],
                                                            selection: tuple[float, float],
                                                            expected: tuple[float, float]) -> None:
    state = _alive_state(tmp_path)
    clip = _clip(tmp_path / "clips" / "clip-a")
    dump = _run(tmp_path, state, _project({**item, "file": str(clip / "drums.wav")}, selection), REPAINT)
    [request] = _spooled(state)
    start_s, end_s = expected
    assert request["kind"] == "repaint"
    assert request["audio_path"] == str(clip / "manifest.json")
    assert request["options"]["start_s"] == pytest.approx(start_s, abs=1e-9)
    assert request["options"]["end_s"] == pytest.approx(end_s, abs=1e-9)
    # The result goes where the item is, trimmed like it and at its rate: it has the clip's timeline.
    assert request["position"] == {"seconds": item["position"]}
    assert request["take_offset_s"] == item["take_offset"] and request["length_s"] == item["length"]
    assert request["play_rate"] == item.get("playrate", 1.0)
    assert request["label"] == f"repaint {start_s:.1f}-{end_s:.1f} s"
    # The DAW context goes with it, as with every request of this REAPER.
    assert request["client_id"] == "reaper" and request["project_id"]
    assert request["context"] == {"bpm": 120.0, "numerator": 4, "denominator": 4, "cursor_s": 3.0}
    assert [m["msg"] for m in dump["messages"]] == [
        'Job sent. Turn on "MAGE - Listener" to get the result into this project.']


def test_an_item_the_listener_marked_is_found_without_a_manifest_beside_its_file(tmp_path: Path) -> None:
    """A stem copied into the project's media folder still knows its clip: the item's P_EXT names it."""
    state = _alive_state(tmp_path)
    clip = _clip(tmp_path / "clips" / "clip-b")
    copied = _clip(tmp_path / "project" / "Media", stems=("drums",), manifest=False)
    item = {"position": 0.0, "length": CLIP_S, "file": str(copied / "drums.wav"),
            "ext": {"mage_manifest": str(clip / "manifest.json")}}
    _run(tmp_path, state, _project(item, (4.0, 8.0)), REPAINT)
    [request] = _spooled(state)
    assert request["audio_path"] == str(clip / "manifest.json")
    assert (request["options"]["start_s"], request["options"]["end_s"]) == (4.0, 8.0)


@pytest.mark.parametrize(("case", "message"), [
    ("no-item", "select an item of a MAGE clip first"),
    ("not-mage", "the selected item is not a MAGE clip (drums.wav has no manifest.json beside it)"),
    ("not-a-manifest", "is not a MAGE manifest"),
    ("no-selection", "make a time selection over the part of the selected item to repaint first"),
    ("outside", "the time selection (0.000-5.000 s) is outside the selected item (10.000-22.000 s)"),
    ("past-the-audio", "past its 24.000 s of audio (the item loops it)"),
])
def test_repaint_refuses_clearly_and_sends_nothing(tmp_path: Path, case: str, message: str) -> None:
    state = _alive_state(tmp_path)
    clip = _clip(tmp_path / "clips" / "clip-c", manifest=case != "not-mage")
    if case == "not-a-manifest":
        (clip / "manifest.json").write_text(json.dumps({"schema": "something/else@1"}))
    item = {"position": 10.0, "length": 12.0, "take_offset": 2.0, "file": str(clip / "drums.wav"),
            "selected": case != "no-item"}
    selection = {"no-selection": None, "outside": (0.0, 5.0)}.get(case, (14.0, 18.0))
    if case == "past-the-audio":  # a looped item: 40 s long over a 24 s clip
        item["length"], selection = 40.0, (30.0, 36.0)
    dump = _run(tmp_path, state, _project(item, selection), REPAINT)
    [shown] = dump["messages"]
    assert shown["msg"].startswith("Nothing sent: ") and message in shown["msg"], shown["msg"]
    assert _spooled(state) == []


def test_nothing_is_sent_while_the_daemon_is_down(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    clip = _clip(tmp_path / "clips" / "clip-d")
    dump = _run(tmp_path, state, _project({"position": 0.0, "length": CLIP_S, "file": str(clip / "drums.wav")},
                                          (1.0, 2.0)), REPAINT)
    assert "daemon not running" in dump["messages"][0]["msg"] and _spooled(state) == []


# -- extend ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("script", "side"), [(EXTEND_NEXT, "after"), (EXTEND_PREVIOUS, "before")])
def test_extend_goes_after_the_clip_s_end_or_before_its_start(tmp_path: Path, script: Path, side: str) -> None:
    state = _alive_state(tmp_path)
    clip = _clip(tmp_path / "clips" / "clip-e")
    # The item plays 2-14 s of the 24 s clip from 10 s on: the clip's audio starts at 8 s and ends at 32 s.
    item = {"position": 10.0, "length": 12.0, "take_offset": 2.0, "file": str(clip / "bass.wav")}
    _run(tmp_path, state, _project(item), script, ext_state={"MAGE_Bridge": {"extend_bars": "4"}})
    [request] = _spooled(state)
    assert request["kind"] == "extend" and request["audio_path"] == str(clip / "manifest.json")
    assert request["options"] == {"side": side, "bars": 4}
    assert request["label"] == f"extend {side} 4 bars" and request["play_rate"] == 1.0
    assert "take_offset_s" not in request and "length_s" not in request  # the new clip plays whole
    if side == "after":
        assert request["position"] == {"seconds": 32.0} and "align" not in request
    else:
        assert request["position"] == {"seconds": 8.0} and request["align"] == "end"


def test_extend_takes_eight_bars_unless_told(tmp_path: Path) -> None:
    state = _alive_state(tmp_path)
    clip = _clip(tmp_path / "clips" / "clip-f")
    _run(tmp_path, state, _project({"position": 4.0, "length": CLIP_S, "file": str(clip / "drums.wav")}),
         EXTEND_NEXT, ext_state={"MAGE_Bridge": {"extend_bars": "many"}})
    assert _spooled(state)[0]["options"] == {"side": "after", "bars": 8}


def test_extending_before_a_clip_at_the_project_start_is_refused(tmp_path: Path) -> None:
    state = _alive_state(tmp_path)
    clip = _clip(tmp_path / "clips" / "clip-g")
    dump = _run(tmp_path, state, _project({"position": 0.0, "length": CLIP_S, "file": str(clip / "drums.wav")}),
                EXTEND_PREVIOUS)
    assert "there is no room before it" in dump["messages"][0]["msg"] and _spooled(state) == []


# -- add a track ------------------------------------------------------------------------------------------------
def test_add_a_track_asks_the_track_and_sends_a_lego_job(tmp_path: Path) -> None:
    state = _alive_state(tmp_path)
    clip = _clip(tmp_path / "clips" / "clip-h")
    item = {"position": 6.0, "length": 10.0, "take_offset": 1.0, "file": str(clip / "drums.wav")}
    dump = _run(tmp_path, state, _project(item), ADD_TRACK,
                user_inputs=[{"values": ["Backing vocals", "airy oohs"]}])
    [asked] = dump["inputs"]
    assert asked["title"] == "MAGE: Add a track to the selected item" and asked["num_inputs"] == 2
    assert asked["defaults"].startswith("drums")  # nothing asked before: drums prefilled
    [request] = _spooled(state)
    assert request["kind"] == "lego" and request["audio_path"] == str(clip / "manifest.json")
    assert request["options"] == {"track": "backing_vocals", "prompt": "airy oohs"}
    assert request["position"] == {"seconds": 6.0} and request["take_offset_s"] == 1.0
    assert request["length_s"] == 10.0 and request["label"] == "lego backing_vocals"
    assert dump["ext_state"]["MAGE_Bridge"]["lego_track"] == "backing_vocals"  # prefilled next time


@pytest.mark.parametrize("answer", [{"values": ["tuba", ""]}, {"cancel": True}], ids=["unknown", "cancelled"])
def test_add_a_track_refuses_an_unknown_track_and_sends_nothing_when_cancelled(tmp_path: Path,
                                                                                answer: dict[str, Any]) -> None:
    state = _alive_state(tmp_path)
    clip = _clip(tmp_path / "clips" / "clip-i")
    dump = _run(tmp_path, state, _project({"position": 0.0, "length": CLIP_S, "file": str(clip / "drums.wav")}),
                ADD_TRACK, user_inputs=[answer])
    assert _spooled(state) == []
    if answer.get("cancel"):
        assert dump["messages"] == []
    else:
        assert 'the track must be one of woodwinds, brass' in dump["messages"][0]["msg"]
        assert 'got "tuba"' in dump["messages"][0]["msg"]


# -- the Listener places the results --------------------------------------------------------------------------
CTX = daw.DawContext(120.0, 4, 4, 3.0, time.time(), "reaper", "p1", None)


def _placement(kind: str, request: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """The placement the daemon writes into a finished job's outbox record, by the daemon's own rules."""
    placement = daw.requested(request["position"], CTX)
    daw.add_trim(placement, request)
    return daw.final_placement(placement, kind, manifest)


def _outbox(state: Path, job_id: str, kind: str, result: Path, placement: dict[str, Any]) -> None:
    folder = state / "outbox" / "reaper"
    folder.mkdir(parents=True, exist_ok=True)
    record = daw.outbox_event("done", client_id="reaper", req_id=f"req-{job_id}", job_id=job_id, kind=kind,
                              project_id="p1", manifest=str(result / "manifest.json"), placement=placement)
    (folder / f"{job_id}.json").write_text(json.dumps(record))


def _listen(tmp_path: Path, state: Path, name: str, tracks: int) -> dict[str, Any]:
    project = {"bpm": 120.0, "numerator": 4, "denominator": 4, "cursor": 0.0, "path": "",
               "ext": {"MAGE_Bridge": {"project_id": "p1"}}}
    dump = run_reaper(tmp_path, {"project": project,
                                 "steps": [{"run": str(LISTENER)}, listen(40, until_tracks=tracks)]}, state, name)
    _clean(dump)
    return dump


def test_a_repaint_lands_on_its_source_item_and_a_lego_beside_it(tmp_path: Path) -> None:
    state = _alive_state(tmp_path)
    source = {"position": {"seconds": 10.0}, "take_offset_s": 2.0, "length_s": 12.0, "play_rate": 1.0}
    repaint = _clip(tmp_path / "jobs" / "job-repaint", extra={"kind": "repaint"})
    _outbox(state, "job-repaint", "repaint", repaint,
            _placement("repaint", {**source, "label": "repaint 6.0-10.0 s"}, {"duration_s": CLIP_S}))
    dump = _listen(tmp_path, state, "repaint", 3)
    folder, drums, bass = new_tracks(dump, 0)
    assert folder["name"] == "MAGE repaint 6.0-10.0 s" and folder["folder_depth"] == 1
    assert [u["description"] for u in dump["undo"]] == ["MAGE: insert repaint 6.0-10.0 s"]
    assert dump["markers"] == []  # a repaint's sections are the source's: no second set of regions
    for track in (drums, bass):
        [item] = track["items"]
        assert (item["position"], item["take_offset"], item["length"], item["playrate"]) == (10.0, 2.0, 12.0, 1.0)
        # the inserted item knows its clip: the section tools work on it again
        assert item["ext"] == {"mage_manifest": str(repaint / "manifest.json")}

    lego = _clip(tmp_path / "jobs" / "job-lego", stems=("drums",), extra={"kind": "lego"})
    _outbox(state, "job-lego", "lego", lego,
            _placement("lego", {**source, "play_rate": 0.5, "label": "lego drums"}, {"duration_s": CLIP_S}))
    dump = _listen(tmp_path, state, "lego", 2)
    folder, drums = new_tracks(dump, 0)
    assert folder["name"] == "MAGE lego drums"
    [item] = drums["items"]
    assert (item["position"], item["take_offset"], item["length"], item["playrate"]) == (10.0, 2.0, 12.0, 0.5)


@pytest.mark.parametrize(("side", "anchor", "expected"), [
    ("after", 32.0, (32.0, 0.0, 16.0)),     # starts where the source clip's audio ends
    ("before", 20.0, (4.0, 0.0, 16.0)),     # ends where it starts
    ("before", 6.0, (0.0, 10.0, 6.0)),      # ends there; what would be before the project start is trimmed
], ids=["after", "before", "before-trimmed"])
def test_an_extension_lands_after_its_source_or_ends_at_its_start(tmp_path: Path, side: str, anchor: float,
                                                                   expected: tuple[float, float, float]) -> None:
    state = _alive_state(tmp_path)
    result = _clip(tmp_path / "jobs" / "job-extend", seconds=16.0, extra={"kind": "extend"})
    request: dict[str, Any] = {"position": {"seconds": anchor}, "play_rate": 1.0, "label": f"extend {side} 8 bars"}
    if side == "before":
        request["align"] = "end"
    placement = _placement("extend", request, {"duration_s": 16.0})
    if side == "before":  # the daemon says where it starts too, for a DAW that does not recompute it
        assert placement["align"] == "end" and placement["start_s"] == max(0.0, anchor - 16.0)
    _outbox(state, "job-extend", "extend", result, placement)
    dump = _listen(tmp_path, state, "extend", 3)
    folder, *stems = new_tracks(dump, 0)
    assert folder["name"] == f"MAGE extend {side} 8 bars"
    for track in stems:
        [item] = track["items"]
        assert (item["position"], item["take_offset"], item["length"]) == pytest.approx(expected)


# -- through the real daemon ----------------------------------------------------------------------------------
@pytest.mark.parametrize("transport", ["spool", "osc"])
def test_a_repaint_request_reaches_the_daemon_and_its_end_comes_back(daemon: DaemonProc, tmp_path: Path,
                                                                     transport: str) -> None:
    """The daemon takes a repaint (through the spool, or over OSC where LuaSocket is there, with the same DAW
    fields); the job's outbox record carries the placement the Listener lines it up by."""
    if transport == "osc" and not _has_luasocket(LUA):
        pytest.skip("LuaSocket for lua5.4 is not installed (setup.sh installs lua-socket)")
    with daemon.client() as app:  # a real clip to rework, made by the daemon (no DAW yet: no outbox record)
        job = submit(app, "/mage/generate", "src", "funk groove at 120 BPM", "",
                     json.dumps({"duration_s": 16.0, "seed": 3}))
        address, args = wait_end(app, job, 120.0)
    assert address == "/mage/job/done", args
    clip = Path(args[1]).parent
    stem = clip / next(iter(json.loads(Path(args[1]).read_text())["stems"].values()))
    project = _project({"position": 10.0, "length": 12.0, "take_offset": 2.0, "file": str(stem)},
                       (14.0, 18.0), ext={"MAGE_Bridge": {"project_id": "p-daemon"}})
    dump = run_reaper(tmp_path, {"project": project, "socket": transport == "osc",
                                 "steps": [{"run": str(REPAINT)}, listen(60, until_idle=True)]}, daemon.state_dir)
    _clean(dump)
    assert dump["messages"][0]["msg"].startswith("Job sent.")
    [record] = wait_outbox(daemon, "reaper", timeout_s=60)
    assert record["kind"] == "repaint" and record["project_id"] == "p-daemon"
    placement = record["placement"]
    assert placement["mode"] == "requested" and placement["seconds"] == 10.0
    assert (placement["take_offset_s"], placement["length_s"], placement["play_rate"]) == (2.0, 12.0, 1.0)
    assert placement["label"] == "repaint 6.0-10.0 s"
    # The procedural backend cannot repaint: the job says so and names who can (not_available where no edit
    # kind is installed at all); either way the Listener shows it and inserts nothing.
    assert record["event"] == "failed" and record["code"] in ("not_supported", "not_available"), record
