"""The project's tempo, metre and cursor, from REAPER to the clip and back onto REAPER's bars.

The Listener tells the daemon about a moved cursor at once, so a controller's trigger a moment later
lands at the new cursor's bar; a clip made for a project is at the project's tempo in whole bars
(measured); a clip whose project changed tempo since the request is stretched onto the bars and said;
one made at a tempo the request asked for is kept and said; MIDI parts land beside the stems on request.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from mage_bridge import audio
from mage_bridge.measure import measure_tempo
from tests.daw.conftest import wait_for_file, wait_outbox
from tests.daw.reaper import GENERATE, LISTENER, finish_reaper, listen, needs_lua, new_tracks, run_reaper, start_reaper
from tests.daw.test_reaper import BEFORE, _clean, _project, inputs
from tests.daw.test_reaper_osc import needs_luasocket
from tests.server.conftest import DaemonProc

pytestmark = needs_lua

PRESET_PROMPT = "deep house groove at 122 BPM in the key of G minor"


def _handled(d: DaemonProc) -> dict[str, Any]:
    [record] = [json.loads(f.read_text()) for f in (d.state_dir / "outbox" / "reaper" / "handled").glob("*.json")]
    return record


def _manifest(record: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    path = Path(record["manifest"])
    return path, json.loads(path.read_text())


def _audio_items(dump: dict[str, Any]) -> list[dict[str, Any]]:
    return [t["items"][0] for t in new_tracks(dump, len(BEFORE))[1:] if not t["items"][0]["midi"]]


@pytest.fixture
def preset_daemon(make_daemon: Any, tmp_path: Path) -> DaemonProc:
    """A daemon whose slot 1 is a generate preset (`/mage/trigger i:1`, as a pad or OSC app sends)."""
    mapping = tmp_path / "map.toml"
    mapping.write_text(f"""
[midi]
api = "jack"   # no MIDI port is needed: the test triggers over OSC

[[binding]]
note = 36
action = "trigger"
slot = 1

[presets.1]
prompt = "{PRESET_PROMPT}"
options = {{ duration_s = 8.0, seed = 5 }}
""")
    d: DaemonProc = make_daemon(extra_args=("--midi-map", str(mapping)),
                                env={"JACK_DEFAULT_SERVER": f"no-such-server-{os.getpid()}"})
    return d


@pytest.mark.parametrize("with_socket", [False, pytest.param(True, marks=needs_luasocket)], ids=["spool", "osc"])
def test_a_cursor_moved_just_before_a_trigger_places_at_the_new_cursors_bar(preset_daemon: DaemonProc,
                                                                            tmp_path: Path,
                                                                            with_socket: bool) -> None:
    # 120 BPM, 4/4: bars every 2 s. The cursor sits at 1 s (its bar would be at 2 s), then moves to 9 s:
    # 0.3 s later a controller triggers slot 1, and the body's beat 1 goes on the bar at 10 s.
    moved = tmp_path / "moved"
    scenario = {"socket": with_socket, "project": _project(cursor=1.0),
                "steps": [{"run": LISTENER}, listen(10), {"cursor": 9.0}, {"touch": moved},
                          listen(3000, until_tracks=2, extra=10, timeout_s=150)]}
    proc, out = start_reaper(tmp_path, scenario, preset_daemon.state_dir)
    wait_for_file(moved, timeout_s=30)
    time.sleep(0.3)
    with preset_daemon.client() as c:
        c.send("/mage/trigger", 1)
        _, accepted = c.wait_for(lambda a, p: a in ("/mage/job/accepted", "/mage/error"), 5.0)
        assert accepted[0] == "trigger:1", accepted
    dump = finish_reaper(proc, out)
    _clean(dump)
    assert dump["messages"] == []
    record = _handled(preset_daemon)
    placement = record["placement"]
    assert placement["cursor_s"] == 9.0
    assert (placement["mode"], placement["align"], placement["seconds"], placement["bar"]) == (
        "next_bar", "body", 10.0, 6)
    tracks = new_tracks(dump, len(BEFORE))
    assert tracks[0]["name"] == f"MAGE: {PRESET_PROMPT}"
    for item in _audio_items(dump):
        assert item["position"] == pytest.approx(10.0 - placement["lead_in_s"], abs=1e-9)


def test_a_100_bpm_project_gets_a_100_bpm_clip_of_whole_bars_from_a_122_bpm_prompt(daemon: DaemonProc,
                                                                                  tmp_path: Path) -> None:
    # The dialog's BPM is left as prefilled (the project's 100): the prompt's "122 BPM" does not win.
    # 16 s at 100 BPM is 6.67 bars of 2.4 s: the clip becomes 7 whole bars. The cursor is at 0, so the
    # one-bar lead-in cannot go before the bar at 0: beat 1 of the body goes on bar 2 (2.4 s), the item at 0.
    scenario = {"project": _project(bpm=100.0, cursor=0.0),
                "user_inputs": [inputs("deep house groove at 122 BPM", bpm="100", length="16", seed="3")],
                "steps": [{"run": LISTENER}, listen(3), {"run": GENERATE},
                          listen(3000, until_tracks=2, extra=10, timeout_s=150)]}
    dump = run_reaper(tmp_path, scenario, daemon.state_dir)
    _clean(dump)
    assert dump["messages"] == []
    assert [line for line in dump["console"] if "BPM" in line] == []  # at the project's tempo: nothing to say
    record = _handled(daemon)
    manifest_path, manifest = _manifest(record)
    daw = manifest["daw"]
    assert daw["tempo_from"] == "project" and daw["prompt"]["bpm"] == 122.0
    assert daw["used"]["bpm"] == 100.0 and daw["used"]["bars"] == 7
    assert record["placement"]["clip_bpm"] == 100.0

    bar_s = 4 * 60.0 / 100.0
    mix = audio.load(manifest_path.parent / manifest["mix"])
    measured = measure_tempo(mix, time_signature=(4, 4)).bpm
    assert measured == pytest.approx(100.0, rel=0.02), f"measured {measured:.2f} BPM"
    frame_s = 1.0 / mix.sample_rate
    items = _audio_items(dump)
    assert items
    for item in items:
        bars = item["length"] / bar_s
        assert abs(item["length"] - round(bars) * bar_s) <= frame_s, f"{bars} bars"
        assert round(bars) == 7 and item["playrate"] == 1.0
        assert item["position"] == pytest.approx(0.0, abs=1e-9)
    lead_in_s = record["placement"]["lead_in_s"]
    assert lead_in_s == pytest.approx(bar_s, abs=frame_s)  # so the body's beat 1 is on bar 2


def _generate_then_insert(d: DaemonProc, tmp_path: Path, *, bpm_field: str, insert_bpm: float,
                          ext_state: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Generate in a 120 BPM project (no Listener), then bring the result in at `insert_bpm`."""
    sent = run_reaper(tmp_path, {"project": _project(cursor=3.0), "user_inputs": [
        inputs("minimal techno", bpm=bpm_field, key="A minor", seed="4")], "steps": [{"run": GENERATE}]},
        d.state_dir, "send")
    _clean(sent)
    [record] = wait_outbox(d, "reaper", timeout_s=120)
    project = _project(bpm=insert_bpm, cursor=0.0, ext={"MAGE_Bridge": {"project_id": record["project_id"]}})
    dump = run_reaper(tmp_path, {"project": project, "ext_state": ext_state or {},
                                 "steps": [{"run": LISTENER}, listen(200, until_tracks=2, extra=3, timeout_s=60)]},
                      d.state_dir, "insert")
    _clean(dump)
    assert dump["messages"] == []
    return dump, record


def test_a_clip_whose_project_changed_tempo_is_stretched_onto_the_bars_and_said(daemon: DaemonProc,
                                                                               tmp_path: Path) -> None:
    # Asked at 120 BPM (cursor 3 s: the bar at 4 s); by the time it is inserted the project plays 100 BPM.
    # On REAPER's 100 BPM map the bar at or after 3 s is at 4.8 s; the clip plays at 100/120 with its
    # pitch kept, so its 2 s lead-in lasts 2.4 s and the item starts at 2.4 s.
    dump, record = _generate_then_insert(daemon, tmp_path, bpm_field="120", insert_bpm=100.0)
    assert not any(t["items"][0]["midi"] for t in new_tracks(dump, len(BEFORE))[1:])  # MIDI parts: off by default
    placement = record["placement"]
    assert placement["clip_bpm"] == 120.0 and placement["bpm"] == 120.0
    rate = 100.0 / 120.0
    manifest_path, manifest = _manifest(record)
    for item in _audio_items(dump):
        assert item["playrate"] == pytest.approx(rate) and item["preserve_pitch"] is True
        assert item["position"] == pytest.approx(4.8 - placement["lead_in_s"] / rate)
        assert item["length"] == pytest.approx(item["source_length"] / rate)
        bars = item["length"] / 2.4
        assert bars == pytest.approx(round(bars), abs=1e-4)  # still whole bars, of 100 BPM now
    [said] = dump["console"]
    assert said == ("MAGE Bridge: MAGE: minimal techno was made at 120 BPM, the project's tempo when it was "
                    "asked for; the project plays 100 BPM at bar 3 now, so it plays at rate 0.8333 (pitch kept) "
                    "to stay on the bars.\n")


def test_a_tempo_the_request_asked_for_is_kept_and_said(daemon: DaemonProc, tmp_path: Path) -> None:
    # The dialog's BPM changed to 90 in a 120 BPM project: the request wins, the clip plays at its own tempo.
    dump, record = _generate_then_insert(daemon, tmp_path, bpm_field="90", insert_bpm=120.0)
    _, manifest = _manifest(record)
    assert manifest["daw"]["tempo_from"] == "option" and record["placement"]["clip_bpm"] == 90.0
    for item in _audio_items(dump):
        assert item["playrate"] == 1.0 and item["length"] == pytest.approx(item["source_length"])
    [said] = dump["console"]
    assert said == ("MAGE Bridge: MAGE: minimal techno is at 90 BPM, as its request asked; the project plays "
                    "120 BPM at bar 3, so the clip does not follow the project's bars (it is not stretched).\n")


def test_midi_parts_land_beside_the_stems_when_asked_for(daemon: DaemonProc, tmp_path: Path) -> None:
    dump, record = _generate_then_insert(daemon, tmp_path, bpm_field="120", insert_bpm=120.0,
                                         ext_state={"MAGE_Bridge": {"insert_midi": "1"}})
    manifest_path, manifest = _manifest(record)
    parts = manifest["midi"]["parts"]
    assert parts
    tracks = new_tracks(dump, len(BEFORE))
    audio_tracks = [t for t in tracks[1:] if not t["items"][0]["midi"]]
    midi_tracks = [t for t in tracks[1:] if t["items"][0]["midi"]]
    assert [t["name"] for t in tracks[1:]] == [t["name"] for t in audio_tracks] + [t["name"] for t in midi_tracks]
    assert [t["name"] for t in midi_tracks] == [f"{p['name']} (MIDI)" for p in parts]
    assert [t["folder_depth"] for t in tracks] == [1] + [0] * (len(tracks) - 2) + [-1]
    [block] = dump["undo"]
    assert block["description"] == "MAGE: insert generated clip: minimal techno"
    audio_item = audio_tracks[0]["items"][0]
    quarters = manifest["bars"] * 4
    for track, part in zip(midi_tracks, parts):
        item = track["items"][0]
        assert item["source"] == str(manifest_path.parent / part["file"])
        assert (item["position"], item["length"]) == (audio_item["position"], audio_item["length"])
        assert 0 < item["source_quarters"] <= quarters + 1e-6



def test_the_listener_reports_a_change_at_once_and_an_unchanged_context_every_2_s(tmp_path: Path) -> None:
    # No daemon runs (the heartbeat says one does), so the spool keeps every report the Listener wrote.
    state = tmp_path / "state"
    state.mkdir()
    (state / "heartbeat.json").write_text(json.dumps({"time": time.time() + 3600, "pid": 4242, "port": None}))
    scenario = {"project": _project(cursor=2.0),
                "steps": [{"run": LISTENER}, listen(1000, for_s=2.5), {"cursor": 5.0}, listen(1)]}
    dump = run_reaper(tmp_path, scenario, state)
    _clean(dump)
    reports = [json.loads(f.read_text()) for f in (state / "spool").glob("reaper-context-*.json")]
    assert sorted(r["context"]["cursor_s"] for r in reports) == [2.0, 2.0, 5.0]  # start, 2 s later, the move
    for r in reports:
        assert (r["kind"], r["client_id"], r["project_path"]) == ("context", "reaper", "/music/song.rpp")
        assert r["context"]["bpm"] == 120.0 and r["project_id"]
