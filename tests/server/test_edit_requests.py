"""The edit addresses (/mage/repaint, /mage/extend, /mage/cover, /mage/lego, /mage/extract, /mage/retake) on a
real daemon: the source confined to the allowed folders, malformed options refused at once with /mage/error,
and a backend without the task ending the job with not_supported naming who can."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mage_bridge import audio as audio_io
from mage_bridge.generate import backends_for_task
from tests.server.conftest import DaemonProc, submit, wait_end
from tests.signals import clicks


def _beat(d: DaemonProc, name: str = "beat.wav") -> Path:
    d.data_dir.mkdir(parents=True, exist_ok=True)
    audio_io.save(clicks(120.0, 4.0), d.data_dir / name)
    return d.data_dir / name


def _error(c: Any, address: str, *args: str) -> list[Any]:
    addr, reply = c.request(address, *args, timeout_s=5.0)
    assert addr == "/mage/error", (addr, reply)
    return list(reply)


def test_repaint_on_a_backend_without_it_fails_not_supported(daemon: DaemonProc) -> None:
    beat = _beat(daemon)
    with daemon.client() as c:
        job = submit(c, "/mage/repaint", "r1", str(beat), json.dumps({"start_s": 0.5, "end_s": 1.5,
                                                                       "backend": "procedural"}))
        addr, reply = wait_end(c, job, 30.0)
    assert (addr, reply[1]) == ("/mage/job/failed", "not_supported"), reply
    assert "'procedural' generator cannot repaint" in reply[2]
    can = [n for n in backends_for_task("repaint") if n != "procedural"]
    assert all(f"'{n}'" in reply[2] for n in can) if can else "no backend here can" in reply[2]
    assert not (daemon.state_dir / "jobs" / job).exists()


def test_an_option_checked_against_the_source_fails_the_job(daemon: DaemonProc) -> None:
    beat = _beat(daemon)
    with daemon.client() as c:
        job = submit(c, "/mage/extract", "x1", str(beat), json.dumps({"track": "drums"}))
        assert wait_end(c, job, 30.0)[1][1] in ("not_supported", "backend_unavailable")
        job = submit(c, "/mage/repaint", "r2", str(beat), json.dumps({"start_s": 1.0, "end_s": 9.0}))
        addr, reply = wait_end(c, job, 30.0)
    assert (addr, reply[1]) == ("/mage/job/failed", "invalid_input")
    assert "end_s=9 is past the end" in reply[2] and str(beat) in reply[2]


def test_a_source_outside_the_allowed_folders_is_refused(daemon: DaemonProc, tmp_path: Path) -> None:
    outside = tmp_path / "outside.wav"
    audio_io.save(clicks(120.0, 2.0), outside)
    with daemon.client() as c:
        for address in ("/mage/repaint", "/mage/retake"):
            reply = _error(c, address, "o1", str(outside), json.dumps({"start_s": 0.0}) if "repaint" in address
                           else "")
            assert reply[:2] == ["o1", "path_not_allowed"], reply
        assert c.recv(0.3) is None  # nothing was queued


@pytest.mark.parametrize(("address", "options", "code", "words"), [
    pytest.param("/mage/repaint", "[1, 2]", "bad_json", "", id="not-an-object"),
    pytest.param("/mage/repaint", "{}", "invalid_input", "repaint needs start_s", id="repaint-no-start"),
    pytest.param("/mage/repaint", '{"start_s": "soon"}', "invalid_input", "start_s must be a number",
                 id="start-not-a-number"),
    pytest.param("/mage/repaint", '{"start_s": 2, "end_s": 1}', "invalid_input", "end_s must be after",
                 id="end-before-start"),
    pytest.param("/mage/repaint", '{"start_s": 0, "crossfade_s": 3}', "invalid_input", "crossfade_s",
                 id="crossfade"),
    pytest.param("/mage/repaint", '{"start_s": 0, "colour": "red"}', "invalid_input", "unknown repaint option",
                 id="unknown-option"),
    pytest.param("/mage/extend", '{"side": "left"}', "invalid_input", "side must be", id="side"),
    pytest.param("/mage/extend", '{"bars": 2.5}', "invalid_input", "bars must be a whole number", id="bars"),
    pytest.param("/mage/cover", '{"strength": 0.5}', "invalid_input", "cover needs a prompt", id="cover-prompt"),
    pytest.param("/mage/lego", '{"track": "kazoo"}', "invalid_input", "one of woodwinds", id="lego-track"),
    pytest.param("/mage/extract", "", "invalid_input", "extract needs track", id="extract-no-track"),
    pytest.param("/mage/retake", '{"seed": -4}', "invalid_input", "seed", id="seed"),
    pytest.param("/mage/retake", '{"prompt": 5}', "invalid_input", "prompt must be a string", id="prompt-type"),
])
def test_malformed_options_are_refused_with_an_error(daemon: DaemonProc, address: str, options: str, code: str,
                                                     words: str) -> None:
    beat = _beat(daemon)
    with daemon.client() as c:
        reply = _error(c, address, "m1", str(beat), options)
        assert reply[:2] == ["m1", code] and words in reply[2], reply
        assert c.recv(0.2) is None


def test_retake_runs_in_a_worker_with_the_prompt_taken_from_the_options(daemon: DaemonProc) -> None:
    from mage_bridge import api

    source = api.generate("boom bap at 90 bpm in D minor", daemon.data_dir / "clip", seed=5, backend="procedural",
                          options={"bars": 4})
    with daemon.client() as c:
        job = submit(c, "/mage/retake", "t1", str(source), json.dumps({"seed": 9, "prompt": "jazz trio at 90 bpm"}))
        seen: list[tuple[str, list[Any]]] = []
        addr, reply = wait_end(c, job, 60.0, seen)
    assert addr == "/mage/job/done", reply
    m = json.loads(Path(reply[1]).read_text())
    assert (m["kind"], m["request"]["seed"], m["request"]["prompt"]) == ("retake", 9, "jazz trio at 90 bpm")
    assert m["lineage"] == {"parent": str(source), "parent_job": json.loads(source.read_text())["job_id"],
                            "task": "retake"}
    assert m["backend"]["name"] == "procedural" and m["request"]["options"] == {"bars": 4}
    assert [p[1] for a, p in seen if a == "/mage/job/progress"][-1] == "write"
