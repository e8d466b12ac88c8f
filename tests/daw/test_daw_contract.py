"""The daemon's side of the DAW contract, with a real daemon, real UDP and real files.

One request is one job whichever doors it came through; a clip made for a project is at the
project's tempo and metre in whole bars with its body's beat 1 on the bar; results are replayed to
a DAW that reconnects until it acknowledges them; a DAW that falls silent is forgotten; a DAW's own
project media may be processed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from mage_bridge.server.client import OscClient
from mage_bridge.server.outbox import Outbox
from tests.daw.conftest import wait_outbox, write_spool
from tests.server.conftest import DaemonProc, submit, wait_end

CTX_100 = {"bpm": 100.0, "numerator": 4, "denominator": 4, "cursor_s": 7.3}


def _jobs_for(d: DaemonProc, req_id: str) -> list[str]:
    with sqlite3.connect(d.state_dir / "jobs.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT id FROM jobs WHERE req_id = ?", (req_id,))]


def _daw_options(**extra: Any) -> str:
    return json.dumps({"seconds": 0.2, "daw": {"client_id": "reaper", "project_id": "p1", **extra}})


def test_osc_then_spool_is_one_job(daemon: DaemonProc) -> None:
    with daemon.client() as c:
        job_id = submit(c, "/mage/test/job", "req-a", "sleep", _daw_options())
    write_spool(daemon, {"kind": "sleep", "req_id": "req-a", "client_id": "reaper", "project_id": "p1",
                         "options": {"seconds": 0.2}})
    [record] = wait_outbox(daemon, "reaper")
    time.sleep(0.5)  # the spool file has been read by now (100 ms polls)
    assert not (daemon.state_dir / "spool" / "req-a.json").exists()
    assert _jobs_for(daemon, "req-a") == [job_id] and record["job_id"] == job_id


@pytest.mark.parametrize("address", ["/mage/generate", "/mage/master"])
def test_spool_then_late_osc_is_answered_with_the_same_job(daemon: DaemonProc, address: str,
                                                            tmp_path: Path) -> None:
    audio = daemon.data_dir / "in.wav"
    sf.write(audio, np.zeros((4800, 2), dtype=np.float32), 48000)
    kind = address.rsplit("/", 1)[1]
    fields = {"prompt": "house"} if kind == "generate" else {"audio_path": str(audio)}
    write_spool(daemon, {"kind": kind, "req_id": "req-b", "client_id": "reaper", "project_id": "p1",
                         "options": {}, **fields})
    deadline = time.monotonic() + 10
    while not _jobs_for(daemon, "req-b") and time.monotonic() < deadline:
        time.sleep(0.05)
    [job_id] = _jobs_for(daemon, "req-b")
    options = json.dumps({"daw": {"client_id": "reaper", "project_id": "p1"}})
    with daemon.client() as c:  # the datagram that was late: same client id, same req_id
        args = ("req-b", "house", "", options) if kind == "generate" else ("req-b", str(audio), options)
        addr, reply = c.request(address, *args, timeout_s=5.0)
    assert (addr, reply[:2]) == ("/mage/job/accepted", ["req-b", job_id])
    assert reply[2] in ("queued", "running", "done", "failed")  # the state of the job it already is
    assert _jobs_for(daemon, "req-b") == [job_id]


def test_the_same_req_id_from_another_client_is_another_job(daemon: DaemonProc) -> None:
    with daemon.client() as c:
        first = submit(c, "/mage/test/job", "req-c", "sleep", _daw_options())
        other = json.dumps({"seconds": 0.2, "daw": {"client_id": "ableton"}})
        second = submit(c, "/mage/test/job", "req-c", "sleep", other)
    assert first != second and sorted(_jobs_for(daemon, "req-c")) == sorted([first, second])


def _manifest(record: dict[str, Any]) -> dict[str, Any]:
    return json.loads(Path(record["manifest"]).read_text())


def test_a_clip_for_a_100_bpm_project_is_at_100_bpm_in_whole_bars_with_its_body_on_the_bar(
        daemon: DaemonProc) -> None:
    write_spool(daemon, {"kind": "generate", "req_id": "g1", "client_id": "reaper", "project_id": "p1",
                         "context": CTX_100, "prompt": "deep house groove at 122 BPM in G minor",
                         "options": {"duration_s": 12, "seed": 1}})
    [record] = wait_outbox(daemon, "reaper", timeout_s=90)
    assert record["event"] == "done", record
    m = _manifest(record)
    assert m["daw"]["tempo_from"] == "project" and m["daw"]["prompt"]["bpm"] == 122.0
    assert m["daw"]["used"]["bpm"] == 100.0 and m["requested"]["bpm"] == 100.0
    bar_frames = 4 * 60.0 / 100.0 * m["sample_rate"]
    assert m["frames"] == pytest.approx(m["bars"] * bar_frames, abs=1) and m["bars"] == 5  # 12 s -> 5 bars of 2.4 s
    assert m["measured"]["bpm"] == pytest.approx(100.0, rel=0.01)
    p = record["placement"]
    # cursor 7.3 s -> the next bar line is bar 4 at 7.2 + 2.4 = ... 9.6 s; the one-bar lead-in starts 2.4 s before
    assert (p["mode"], p["align"], p["bar"]) == ("next_bar", "body", 5)
    assert p["seconds"] == pytest.approx(9.6) and p["beats"] == pytest.approx(16.0)
    assert p["lead_in_s"] == pytest.approx(m["backend"]["lead_in_s"]) == pytest.approx(2.4)
    assert p["start_s"] == pytest.approx(7.2) and p["start_beats"] == pytest.approx(12.0)
    assert p["clip_bpm"] == 100.0


def test_an_explicit_bpm_wins_over_the_project(daemon: DaemonProc) -> None:
    write_spool(daemon, {"kind": "generate", "req_id": "g2", "client_id": "reaper", "context": CTX_100,
                         "prompt": "funk groove", "options": {"bpm": 120, "duration_s": 10, "seed": 2}})
    [record] = wait_outbox(daemon, "reaper", timeout_s=90)
    m = _manifest(record)
    assert m["daw"]["tempo_from"] == "option" and m["requested"]["bpm"] == 120.0
    assert "request set bpm=120" in m["daw"]["why"]
    assert record["placement"]["clip_bpm"] == 120.0 and record["placement"]["bpm"] == 100.0


def test_a_lead_in_before_the_first_bar_moves_the_clip_on_a_bar(daemon: DaemonProc) -> None:
    write_spool(daemon, {"kind": "generate", "req_id": "g3", "client_id": "reaper",
                         "context": {**CTX_100, "cursor_s": 0.0}, "prompt": "funk groove",
                         "options": {"duration_s": 10, "seed": 3}})
    [record] = wait_outbox(daemon, "reaper", timeout_s=90)
    p = record["placement"]
    assert (p["bar"], p["seconds"], p["start_s"]) == (2, pytest.approx(2.4), pytest.approx(0.0))


def _context(c: OscClient, client_id: str, *extra: str, bpm: float = 100.0, cursor_s: float = 0.0) -> None:
    addr, _ = c.request("/mage/daw/context", bpm, 4, 4, cursor_s, client_id, *extra, timeout_s=5.0)
    assert addr == "/mage/daw/context/ack"


def _ack(c: OscClient, job_id: str) -> tuple[str, list[Any]]:
    c.send("/mage/daw/ack", "ableton", job_id)
    return c.wait_for(lambda a, p: a in ("/mage/daw/acked", "/mage/error") and p[0] == job_id, 5.0)


def test_results_are_replayed_until_acknowledged(daemon: DaemonProc) -> None:
    with daemon.client() as live:
        _context(live, "ableton", "set-1")
        live.send("/mage/daw/bye", "ableton")  # Live closes: its script gives the client id back
        assert live.wait_for(lambda a, p: a == "/mage/daw/released", 5.0)[1] == ["ableton"]
    with daemon.client() as c:  # "Live is closed" while these finish: its socket is gone
        done_id = submit(c, "/mage/test/job", "r-done", "sleep", json.dumps({"seconds": 0.1}))
        failed_id = submit(c, "/mage/test/job", "r-fail", "crash", json.dumps({}))
        wait_end(c, done_id)
        wait_end(c, failed_id)
    records = wait_outbox(daemon, "ableton", count=2)
    assert {r["job_id"] for r in records} == {done_id, failed_id}
    with daemon.client() as live:  # Live again: it catches up
        seen: list[tuple[str, list[Any]]] = []
        live.send("/mage/daw/replay", "ableton", "set-1")
        live.wait_for(lambda a, p: a == "/mage/daw/replayed", 5.0, seen)
        events = {(a, p[0]) for a, p in seen if a in ("/mage/job/done", "/mage/job/failed")}
        assert events == {("/mage/job/done", done_id), ("/mage/job/failed", failed_id)}
        assert seen[-1] == ("/mage/daw/replayed", ["ableton", 2])
        done = next(p for a, p in seen if a == "/mage/job/done")
        placement = json.loads(done[2])
        assert placement["client_id"] == "ableton" and placement["project_id"] == "set-1"
        assert Path(done[1]).is_file()
        assert _ack(live, done_id) == ("/mage/daw/acked", [done_id])
        addr, reply = _ack(live, "nope")
        assert addr == "/mage/error" and reply[:2] == ["nope", "not_found"]
        seen.clear()
        live.send("/mage/daw/replay", "ableton", "set-1")
        live.wait_for(lambda a, p: a == "/mage/daw/replayed", 5.0, seen)
        assert [p[0] for a, p in seen if a == "/mage/job/done"] == []  # acknowledged: never again
        assert seen[-1] == ("/mage/daw/replayed", ["ableton", 1])
    assert (daemon.state_dir / "outbox" / "ableton" / "handled" / f"{done_id}.json").is_file()


def test_replay_gives_only_the_results_of_that_project(daemon: DaemonProc) -> None:
    for project, req in (("set-1", "x1"), ("set-2", "x2")):
        write_spool(daemon, {"kind": "sleep", "req_id": req, "client_id": "ableton", "project_id": project,
                             "options": {"seconds": 0.05}})
    wait_outbox(daemon, "ableton", count=2)
    with daemon.client() as live:
        seen: list[tuple[str, list[Any]]] = []
        live.send("/mage/daw/replay", "ableton", "set-2")
        live.wait_for(lambda a, p: a == "/mage/daw/replayed", 5.0, seen)
    [(_, done)] = [(a, p) for a, p in seen if a == "/mage/job/done"]
    assert json.loads(done[2])["project_id"] == "set-2"


def test_a_silent_daw_is_forgotten(make_daemon: Any) -> None:
    d = make_daemon(server={"daw_client_timeout_s": 1})
    with d.client() as c:
        _context(c, "reaper", "p1")
        tagged = submit(c, "/mage/test/job", "t1", "sleep", json.dumps({"seconds": 0.05}))
        wait_end(c, tagged)
        wait_outbox(d, "reaper")
        time.sleep(2.5)
        untagged = submit(c, "/mage/test/job", "t2", "sleep", json.dumps({"seconds": 0.05}))
        wait_end(c, untagged)
    time.sleep(0.3)
    names = {p.name for p in (d.state_dir / "outbox" / "reaper").glob("*.json")}
    assert names == {f"{tagged}.json"}
    assert "sent nothing for 1 s: forgotten" in d.log()


def test_a_daw_may_process_audio_from_its_own_project_folder(daemon: DaemonProc, tmp_path: Path) -> None:
    project = tmp_path / "songs" / "tune"
    (project / "Media").mkdir(parents=True)
    audio = project / "Media" / "vox.wav"
    t = np.arange(48000) / 48000
    sf.write(audio, np.stack([0.2 * np.sin(2 * np.pi * 220 * t)] * 2, axis=1).astype(np.float32), 48000)
    (project / "notes.txt").write_text("secret")
    rpp = str(project / "tune.rpp")
    with daemon.client() as c:
        _context(c, "reaper", "p1", rpp)
        ok = json.dumps({"daw": {"client_id": "reaper", "project_id": "p1", "project_path": rpp}})
        job_id = submit(c, "/mage/master", "m1", str(audio), ok)
        assert wait_end(c, job_id, timeout_s=60)[0] == "/mage/job/done"
        for path, options in ((audio, json.dumps({})),  # not a DAW job: the roots rule
                              (project / "notes.txt", ok)):  # the project folder, but not audio
            addr, reply = c.request("/mage/master", "m2", str(path), options, timeout_s=5.0)
            assert addr == "/mage/error" and reply[1] == "path_not_allowed", reply


def test_outbox_records_nobody_took_expire_with_a_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    box = Outbox(tmp_path, keep_s=3600)
    box.write("reaper", "old.json", {"job_id": "old", "project_id": "p9", "time": 1.0})
    box.write("reaper", "new.json", {"job_id": "new", "project_id": "p9", "time": time.time()})
    old = tmp_path / "reaper" / "old.json"
    stamp = time.time() - 7200
    import os

    os.utime(old, (stamp, stamp))
    with caplog.at_level("WARNING"):
        assert box.expire() == 1
    assert not old.exists() and (tmp_path / "reaper" / "new.json").exists()
    assert "'reaper', project 'p9' were never picked up" in caplog.text


def test_a_daw_client_id_belongs_to_the_program_that_reports_it(make_daemon: Any) -> None:
    d = make_daemon(server={"daw_client_timeout_s": 2})
    with d.client() as reaper, d.client() as intruder:
        _context(reaper, "reaper", "p1")
        intruder.send("/mage/daw/context", 120.0, 4, 4, 0.0, "reaper", "evil")
        addr, reply = intruder.wait_for(lambda a, p: a in ("/mage/error", "/mage/daw/context/ack"), 5.0)
        assert addr == "/mage/error" and reply[1] == "client_id_taken", reply
        intruder.send("/mage/daw/replay", "reaper")
        assert intruder.wait_for(lambda a, p: a == "/mage/error", 5.0)[1][1] == "client_id_taken"
        intruder.send("/mage/daw/bye", "reaper")  # not its id to give back
        intruder.wait_for(lambda a, p: a == "/mage/daw/released", 5.0)
        _context(reaper, "reaper", "p1")  # still the owner
        time.sleep(2.5)  # the owner falls quiet: the id is free again
        _context(intruder, "reaper", "p2")
        reaper.send("/mage/daw/bye", "reaper")
        reaper.wait_for(lambda a, p: a == "/mage/daw/released", 5.0)
        _context(intruder, "reaper", "p2")
