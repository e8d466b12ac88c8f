"""The daemon's DAW door: spool folder in, outbox out, placement on bars, heartbeat."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.daw.conftest import wait_for_file, wait_outbox, write_spool
from tests.server.conftest import DaemonProc, submit, wait_end


def _request(kind: str, req_id: str, **fields: object) -> dict[str, object]:
    return {"schema": "mage-bridge/spool@1", "kind": kind, "req_id": req_id, "client_id": "reaper",
            "project_id": "p1", "project_path": "/music/song.rpp", **fields}


def test_heartbeat_is_fresh_while_running_and_gone_after(daemon: DaemonProc) -> None:
    beat = wait_for_file(daemon.state_dir / "heartbeat.json")
    first = json.loads(beat.read_text())
    assert first["pid"] == daemon.pid and first["port"] == daemon.port
    assert first["spool_dir"] == str(daemon.state_dir / "spool")
    time.sleep(1.3)
    second = json.loads(beat.read_text())
    assert second["time"] > first["time"] and time.time() - second["time"] < 2.0
    daemon.stop()
    assert not beat.exists()


def test_spool_job_ends_in_the_outbox_with_its_placement(daemon: DaemonProc) -> None:
    spool = write_spool(daemon, _request(
        "sleep", "r1", options={"seconds": 0.1},
        context={"bpm": 120.0, "numerator": 4, "denominator": 4, "cursor_s": 3.0},
        position={"seconds": 3.0}))
    [record] = wait_outbox(daemon, "reaper")
    assert not spool.exists()
    assert record["event"] == "done" and record["req_id"] == "r1" and record["kind"] == "sleep"
    assert (record["project_id"], record["project_path"]) == ("p1", "/music/song.rpp")
    assert Path(record["manifest"]).is_file()
    placement = record["placement"]
    assert placement["mode"] == "requested" and placement["seconds"] == 3.0
    assert placement["beats"] == pytest.approx(6.0) and placement["bar"] == 2
    assert list((daemon.state_dir / "spool" / "rejected").iterdir()) == []


@pytest.mark.parametrize(("content", "code"), [
    pytest.param("{not json", "bad_json", id="broken-json"),
    pytest.param("[1, 2]", "bad_json", id="not-an-object"),
    pytest.param(json.dumps({"kind": "generate", "client_id": "reaper"}), "bad_arguments", id="no-req-id"),
    pytest.param(json.dumps({"kind": "paint", "req_id": "x", "client_id": "reaper"}), "bad_arguments",
                 id="unknown-kind"),
    pytest.param(json.dumps({"kind": "generate", "req_id": "x", "client_id": "../etc"}), "invalid_input",
                 id="bad-client-id"),
    pytest.param(json.dumps({"kind": "generate", "req_id": "x", "client_id": "reaper", "prompt": " "}),
                 "invalid_input", id="empty-prompt"),
    pytest.param(json.dumps({"kind": "separate", "req_id": "x", "client_id": "reaper",
                             "audio_path": "/etc/passwd"}), "path_not_allowed", id="path-outside"),
    pytest.param(json.dumps({"kind": "generate", "req_id": "x", "client_id": "reaper", "prompt": "house",
                             "position": {"bars": 3}}), "invalid_input", id="bad-position"),
    pytest.param(json.dumps({"kind": "context", "req_id": "x", "client_id": "reaper",
                             "context": {"bpm": 5, "numerator": 4, "denominator": 4, "cursor_s": 0}}),
                 "invalid_input", id="bad-context"),
])
def test_a_bad_spool_file_is_rejected_never_lost(daemon: DaemonProc, content: str, code: str) -> None:
    spool = daemon.state_dir / "spool"
    (spool / "bad.json").write_text(content)
    error = wait_for_file(spool / "rejected" / "bad.json.error.json")
    assert json.loads(error.read_text())["code"] == code
    assert (spool / "rejected" / "bad.json").read_text() == content
    assert not (spool / "bad.json").exists()
    if '"client_id": "reaper"' in content:  # the DAW hears about it too
        [record] = wait_outbox(daemon, "reaper")
        assert record["event"] == "rejected" and record["code"] == code
        assert record["req_id"] == ("x" if '"req_id"' in content else "bad")  # else named after the file
    with daemon.client() as c:
        c.ping()  # and the daemon is fine


def test_temp_and_hidden_spool_files_are_left_alone(daemon: DaemonProc) -> None:
    spool = daemon.state_dir / "spool"
    (spool / ".half-written.json.tmp").write_text("{")
    (spool / "notes.txt").write_text("hello")
    time.sleep(0.6)
    assert (spool / ".half-written.json.tmp").exists() and (spool / "notes.txt").exists()
    assert list((spool / "rejected").iterdir()) == []


def test_osc_job_lands_on_the_next_bar_of_the_daw_that_reported_last(daemon: DaemonProc) -> None:
    # REAPER's listener reported 90 BPM in 3/4 with the cursor 2.1 s in: a bar is 2 s, so the next bar is bar 3.
    write_spool(daemon, _request("context", "ctx", context={"bpm": 90, "numerator": 3, "denominator": 4,
                                                            "cursor_s": 2.1}))
    time.sleep(0.6)
    with daemon.client() as c:  # a controller, not the DAW, asks for the job
        job = submit(c, "/mage/test/job", "osc1", "sleep", '{"seconds": 0.1}')
        addr, done = wait_end(c, job, 20.0)
    assert addr == "/mage/job/done" and len(done) == 3
    placement = json.loads(done[2])
    assert placement["client_id"] == "reaper" and placement["mode"] == "next_bar"
    assert placement["seconds"] == pytest.approx(4.0) and placement["beats"] == pytest.approx(6.0)
    assert placement["bar"] == 3
    [record] = wait_outbox(daemon, "reaper")
    assert record["job_id"] == job and record["placement"]["bar"] == 3


def test_an_osc_daw_client_gets_its_events_and_failures(daemon: DaemonProc) -> None:
    with daemon.client() as live, daemon.client() as controller:
        live.send("/mage/daw/context", 120.0, 4, 4, 2.75, "ableton", "set-1")
        assert live.wait_for(lambda a, p: a == "/mage/daw/context/ack", 5.0)[1] == [120.0, 4, 4, 2.75]
        job = submit(controller, "/mage/test/job", "c1", "crash", "{}")
        addr, failed = wait_end(live, job, 20.0)  # the DAW hears of a job it did not send
        assert addr == "/mage/job/failed" and failed[1] == "internal"
    [record] = wait_outbox(daemon, "ableton")
    assert record["event"] == "failed" and record["code"] == "internal" and record["project_id"] == "set-1"
    assert record["placement"]["beats"] == 8.0  # cursor at beat 5.5: the next bar starts at beat 8


def test_jobs_without_any_daw_context_are_not_tagged(daemon: DaemonProc) -> None:
    with daemon.client() as c:
        job = submit(c, "/mage/test/job", "plain", "sleep", '{"seconds": 0.05}')
        addr, done = wait_end(c, job, 20.0)
    assert addr == "/mage/job/done" and len(done) == 2
    assert not any((daemon.state_dir / "outbox").iterdir())


def test_an_osc_request_carries_the_spool_fields_in_its_daw_options(daemon: DaemonProc) -> None:
    # What the REAPER scripts send when LuaSocket is there: the spool request's fields under options "daw".
    tag = {"client_id": "reaper", "project_id": "p1", "project_path": "/music/song.rpp",
           "context": {"bpm": 90, "numerator": 3, "denominator": 4, "cursor_s": 2.0},
           "position": {"seconds": 4.0}, "take_offset_s": 1.0, "length_s": 3}
    with daemon.client() as c:
        job = submit(c, "/mage/test/job", "r-osc", "sleep", json.dumps({"seconds": 0.05, "daw": tag}))
        addr, done = wait_end(c, job, 20.0)
        bad = dict(tag, length_s=-1)
        addr_bad, error = c.request("/mage/test/job", "r-bad", "sleep", json.dumps({"daw": bad}), timeout_s=5.0)
    assert addr == "/mage/job/done"
    assert (addr_bad, error[:2]) == ("/mage/error", ["r-bad", "invalid_input"]) and "length_s" in error[2]
    [record] = wait_outbox(daemon, "reaper")
    assert record["job_id"] == job and record["req_id"] == "r-osc"
    assert (record["project_id"], record["project_path"]) == ("p1", "/music/song.rpp")
    placement = record["placement"]
    assert placement["mode"] == "requested" and placement["seconds"] == 4.0
    assert placement["beats"] == pytest.approx(6.0) and placement["bar"] == 3  # from the context sent with it
    assert (placement["take_offset_s"], placement["length_s"]) == (1.0, 3.0)


def test_a_spool_retry_of_a_request_already_sent_over_osc_is_not_run_twice(daemon: DaemonProc) -> None:
    # A REAPER script whose OSC reply came late writes the same request to the spool: one job, one result.
    tag = {"client_id": "reaper", "project_id": "p1", "project_path": "/music/song.rpp"}
    with daemon.client() as c:
        job = submit(c, "/mage/test/job", "r-twice", "sleep", json.dumps({"seconds": 0.05, "daw": tag}))
        assert wait_end(c, job, 20.0)[0] == "/mage/job/done"
    spool = write_spool(daemon, _request("sleep", "r-twice", options={"seconds": 0.05}))
    write_spool(daemon, _request("sleep", "r-other", options={"seconds": 0.05}))
    records = wait_outbox(daemon, "reaper", count=2)
    assert sorted(r["req_id"] for r in records) == ["r-other", "r-twice"]
    assert [r["job_id"] for r in records if r["req_id"] == "r-twice"] == [job]
    assert not spool.exists() and list((daemon.state_dir / "spool" / "rejected").iterdir()) == []


@pytest.mark.parametrize("what", ["fifo", "folder", "symlink"])
def test_a_spool_entry_that_is_not_a_regular_file_is_reported_never_opened(daemon: DaemonProc, what: str,
                                                                           tmp_path: Path) -> None:
    import os

    spool = daemon.state_dir / "spool"
    entry = spool / "odd.json"
    if what == "fifo":
        os.mkfifo(entry)  # opening it would block the daemon for good
    elif what == "folder":
        entry.mkdir()
    else:
        target = tmp_path / "elsewhere.json"
        target.write_text(json.dumps(_request("sleep", "s1", options={"seconds": 0.05})))
        entry.symlink_to(target)
    error = wait_for_file(spool / "rejected" / "odd.json.error.json")
    report = json.loads(error.read_text())
    expected = {"fifo": "a FIFO", "folder": "a folder", "symlink": "a symbolic link"}[what]
    assert report["code"] == "bad_arguments" and f"is {expected}, not a regular file" in report["message"]
    assert not os.path.lexists(entry)
    with daemon.client() as c:
        c.ping()


def test_a_spool_file_written_in_place_is_read_once_it_is_whole(daemon: DaemonProc) -> None:
    spool = daemon.state_dir / "spool"
    text = json.dumps(_request("sleep", "slow-writer", options={"seconds": 0.05}))
    path = spool / "slow.json"
    with open(path, "w") as f:  # no temp name and rename: the daemon sees it half written
        f.write(text[:20])
        f.flush()
        time.sleep(0.8)
        f.write(text[20:])
    [record] = wait_outbox(daemon, "reaper")
    assert record["event"] == "done" and record["req_id"] == "slow-writer"
    assert not (spool / "rejected" / "slow.json").exists()


def test_a_spool_file_that_never_parses_is_rejected_after_the_grace_time(daemon: DaemonProc) -> None:
    spool = daemon.state_dir / "spool"
    (spool / "broken.json").write_text('{"kind": "sleep", "req_id": "b", "client_id": "reap')
    time.sleep(1.0)
    assert (spool / "broken.json").exists()  # still given time
    error = wait_for_file(spool / "rejected" / "broken.json.error.json", timeout_s=10)
    assert json.loads(error.read_text())["code"] == "bad_json"
