"""The panel's API against a real daemon: the events the OSC door sends, generate, audition, cancel, retry, DAWs.

Real HTTP (the test's own client), real OSC (a UDP client), real worker processes, real files.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.panel.conftest import EventReader, Panel
from tests.server.conftest import DaemonProc, submit, wait_end

PROMPT = "deep house groove at 122 BPM in G minor"


def _osc_events(client: Any, job_id: str) -> list[tuple[str, list[Any]]]:
    seen: list[tuple[str, list[Any]]] = []
    wait_end(client, job_id, timeout_s=60.0, seen=seen)
    return [(a, p) for a, p in seen if p and p[0] == job_id]


def test_the_page_hears_the_events_the_osc_door_sends(panel: Panel, panel_daemon: DaemonProc, events: EventReader):
    with panel_daemon.client() as client:
        job_id = submit(client, "/mage/test/job", "osc-sleep-1", "sleep", json.dumps({"seconds": 0.6, "steps": 3}))
        osc_seen = _osc_events(client, job_id)
    page_seen = events.until_end(job_id)
    # the accepted event names the request first over OSC; the page gets it with the job
    osc_kinds = [(a.rsplit("/", 1)[1], *p[1:3]) for a, p in osc_seen]
    page_kinds = [(e["type"], e.get("stage"), e.get("fraction")) for e in page_seen if e["type"] != "accepted"]
    assert [k[0] for k in osc_kinds] == ["progress"] * (len(osc_kinds) - 1) + ["done"]
    assert [(t, s) for t, s, _ in page_kinds[:-1]] == [(t, s) for t, s, _ in osc_kinds[:-1]]
    # OSC carries fractions as float32
    assert [f for _, _, f in page_kinds[:-1]] == pytest.approx([f for _, _, f in osc_kinds[:-1]], abs=1e-6)
    assert page_kinds[-1][0] == "done" and page_seen[-1]["job"]["state"] == "done"
    assert page_seen[-1]["job"]["source"] == "osc"
    assert [s for s, _ in page_seen[-1]["job"]["stages"]] == ["started", "sleep"]


def test_generate_then_audition_its_stems(panel: Panel, panel_daemon: DaemonProc, events: EventReader):
    body = {"req_id": "panel-gen-1", "prompt": PROMPT, "options": {"bars": 4, "mood": ["dark"]}, "seed": 5,
            "backend": "procedural", "send_to": "library"}
    status, data = panel.api("POST", "/api/generate", body)
    assert status == 201, data
    job_id = data["job"]["id"]
    assert data["job"]["source"] == "panel" and data["job"]["daw"] is None
    again_status, again = panel.api("POST", "/api/generate", body)  # the same click twice: one job
    assert again_status == 200 and again["job"]["id"] == job_id and again["repeated"] is True

    seen = events.until_end(job_id)
    assert seen[-1]["type"] == "done", seen[-1]
    stages = [e["stage"] for e in seen if e["type"] == "progress"]
    for stage in ("analyze", "generate", "write"):
        assert stage in stages

    manifest = json.loads((panel_daemon.state_dir / "jobs" / job_id / "manifest.json").read_text())
    assert manifest["bars"] == 4 and manifest["analysis"]["mood"] == ["dark"]
    assert manifest["analysis"]["sources"]["mood"] == "option"

    status, stems = panel.api("GET", f"/api/jobs/{job_id}/stems")
    assert status == 200
    names = [s["name"] for s in stems["stems"]]
    assert names == [*manifest["stems"], "mix"]
    assert stems["sample_rate"] == 48000 and stems["bars"] == 4 and stems["bpm"] == 122.0

    status, headers, audio = panel.request("GET", f"/api/jobs/{job_id}/stems/drums/audio")
    assert status == 200 and headers["content-type"] == "audio/wav"
    assert audio == (panel_daemon.state_dir / "jobs" / job_id / manifest["stems"]["drums"]).read_bytes()

    status, peaks = panel.api("GET", f"/api/jobs/{job_id}/stems/drums/peaks?columns=500")
    assert status == 200
    assert peaks["columns"] == 512 and len(peaks["min"]) == len(peaks["max"]) == 512
    assert all(-1.0 <= lo <= hi <= 1.0 for lo, hi in zip(peaks["min"], peaks["max"]))
    assert max(peaks["max"]) > 0.05  # the drums are not silence
    cached = list((panel_daemon.state_dir / "panel" / "peaks").rglob("*-512.json"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    _, again_peaks = panel.api("GET", f"/api/jobs/{job_id}/stems/drums/peaks?columns=500")
    assert again_peaks == peaks and cached[0].stat().st_mtime_ns == stamp  # computed once, then read


def test_cancel_then_retry(panel: Panel, panel_daemon: DaemonProc, events: EventReader):
    with panel_daemon.client() as client:
        job_id = submit(client, "/mage/test/job", "osc-sleep-2", "sleep", json.dumps({"seconds": 30, "steps": 30}))
        deadline = time.monotonic() + 30
        while panel.api("GET", f"/api/jobs/{job_id}")[1]["job"]["state"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        status, data = panel.api("POST", f"/api/jobs/{job_id}/cancel")
        assert status == 200 and data["job"]["state"] == "cancelled"
        assert data["job"]["error"]["words"] == "Cancelled."
        address, args = wait_end(client, job_id)  # the OSC client that sent it hears the cancel too
        assert address == "/mage/job/failed" and args[1] == "cancelled"
    seen = events.until_end(job_id)
    assert seen[-1]["type"] == "failed" and seen[-1]["code"] == "cancelled"

    status, data = panel.api("POST", f"/api/jobs/{job_id}/cancel")
    assert status == 409 and data["error"]["code"] == "not_cancellable"
    status, data = panel.api("POST", f"/api/jobs/{job_id}/retry")
    assert status == 201, data
    retried = data["job"]
    assert retried["id"] != job_id and retried["kind"] == "sleep" and retried["source"] == "panel"
    assert retried["options"] == {"seconds": 30, "steps": 30}
    status, data = panel.api("POST", f"/api/jobs/{retried['id']}/retry")
    assert status == 409 and data["error"]["code"] == "not_retryable"
    assert panel.api("POST", f"/api/jobs/{retried['id']}/cancel")[0] == 200


def test_send_to_a_daw_that_reported_its_context(panel: Panel, panel_daemon: DaemonProc):
    with panel_daemon.client() as daw:
        daw.send("/mage/daw/context", 100.0, 3, 4, 5.0, "reaper", "song-1")
        assert daw.wait_for(lambda a, p: a == "/mage/daw/context/ack", 5.0)[0] == "/mage/daw/context/ack"
    status, data = panel.api("GET", "/api/daw")
    assert status == 200
    reaper = next(c for c in data["clients"] if c["client_id"] == "reaper")
    assert (reaper["name"], reaper["bpm"], reaper["numerator"], reaper["denominator"]) == ("REAPER", 100.0, 3, 4)
    assert data["context"]["bpm"] == 100.0

    status, data = panel.api("POST", "/api/generate", {"req_id": "panel-daw-1", "prompt": PROMPT,
                                                        "options": {"bars": 4}, "send_to": "reaper"})
    assert status == 201, data
    job = data["job"]
    # a bar of 3/4 at 100 BPM is 1.8 s: the first bar line after the cursor (5 s) is bar 4, at 5.4 s
    assert job["daw"] == {"client_id": "reaper", "bar": 4}
    panel.api("POST", f"/api/jobs/{job['id']}/cancel")

    status, data = panel.api("POST", "/api/generate", {"req_id": "panel-daw-2", "prompt": PROMPT,
                                                        "options": {"bars": 4}, "send_to": "library"})
    assert status == 201 and data["job"]["daw"] is None  # not the DAW that reported last
    panel.api("POST", f"/api/jobs/{data['job']['id']}/cancel")

    status, data = panel.api("POST", "/api/generate", {"req_id": "panel-daw-3", "prompt": PROMPT,
                                                        "send_to": "ableton"})
    assert status == 404 and "Live has not reported" in data["error"]["message"]


def test_bad_requests_are_answered_in_words(panel: Panel):
    cases: list[tuple[str, str, Any, str, str]] = [
        ("POST", "/api/generate", {"req_id": "panel-bad-1", "prompt": "  "}, "invalid_input", "prompt must not"),
        ("POST", "/api/generate", {"req_id": "panel-bad-2", "prompt": PROMPT, "options": {"bpm": 999}},
         "invalid_input", "bpm must be a number from 40 to 240"),
        ("POST", "/api/generate", {"req_id": "panel-bad-3", "prompt": PROMPT, "options": {"audio_path": "/etc"}},
         "invalid_input", "unknown option(s) audio_path"),
        ("POST", "/api/generate", {"req_id": "../x", "prompt": PROMPT}, "invalid_input", "req_id must look like"),
        ("POST", "/api/generate", {"req_id": "panel-bad-4", "prompt": PROMPT, "seed": -1}, "invalid_input",
         "seed must be an int"),
        ("POST", "/api/analyze", {"prompt": ""}, "invalid_input", "prompt must not be empty"),
        ("POST", "/api/analyze", {"prompt": "x" * 2001}, "invalid_input", "more than 2000"),
        ("GET", "/api/jobs/not-a-job", None, "not_found", "no job with id"),
        ("GET", "/api/jobs/..%2F..%2Fetc/stems", None, "not_found", ""),
        ("GET", "/api/jobs?limit=many", None, "invalid_input", "limit must be a number"),
    ]
    for method, path, body, code, words in cases:
        status, data = panel.api(method, path, body)
        assert status in (400, 404), (path, body, status, data)
        assert data["error"]["code"] == code, (path, body, data)
        assert words in data["error"]["message"], (path, body, data)
    status, _, raw = panel.request("POST", "/api/generate", body=b"{not json")
    assert status == 400 and json.loads(raw)["error"]["code"] == "bad_json"


def test_results_are_served_by_job_id_and_stem_name_only(panel: Panel, panel_daemon: DaemonProc):
    with panel_daemon.client() as client:
        job_id = submit(client, "/mage/test/job", "osc-sleep-3", "sleep", json.dumps({"seconds": 0.1}))
        assert wait_end(client, job_id)[0] == "/mage/job/done"
    folder = panel_daemon.state_dir / "jobs" / job_id
    manifest_path = folder / "manifest.json"
    outside = panel_daemon.root / "secret.wav"
    outside.write_bytes(b"RIFF secret")
    (folder / "link.wav").symlink_to(outside)
    manifest = json.loads(manifest_path.read_text())
    manifest.update(stems={"up": "../../../secret.wav", "abs": str(outside), "link": "link.wav",
                           "bad/name": "x.wav", "text": "manifest.json"}, mix=None)
    manifest_path.write_text(json.dumps(manifest))
    status, stems = panel.api("GET", f"/api/jobs/{job_id}/stems")
    assert status == 200 and stems["stems"] == []
    for stem in ("up", "abs", "link", "text", "..%2Fsecret.wav"):
        status, _, body = panel.request("GET", f"/api/jobs/{job_id}/stems/{stem}/audio")
        assert status == 404 and b"RIFF" not in body, stem


def test_the_session_lists_the_views(panel: Panel):
    status, data = panel.api("GET", "/api/session")
    assert status == 200
    assert [v["name"] for v in data["views"]] == ["write", "jobs", "library", "arrange", "live"]
    assert data["panel_port"] == panel.port
    for view in data["views"]:
        status, headers, body = panel.request("GET", f"/static/js/{view['script']}")
        assert status == 200 and b"export function mount" in body
        assert "javascript" in headers["content-type"]


def test_no_path_of_the_machine_reaches_the_page(panel: Panel, panel_daemon: DaemonProc):
    status, data = panel.api("GET", "/api/jobs")
    assert status == 200 and data["jobs"]
    assert str(panel_daemon.root) not in json.dumps(data)
    assert str(Path(panel_daemon.state_dir)) not in json.dumps(data)


def test_one_request_sent_many_times_at_once_is_one_job(panel: Panel):
    from concurrent.futures import ThreadPoolExecutor

    body = {"req_id": "panel-twice-1", "prompt": PROMPT, "options": {"bars": 4}, "backend": "procedural"}
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: panel.api("POST", "/api/generate", body), range(4)))
    assert sorted(status for status, _ in answers) == [200, 200, 200, 201]
    assert len({data["job"]["id"] for _, data in answers}) == 1
    panel.api("POST", f"/api/jobs/{answers[0][1]['job']['id']}/cancel")
