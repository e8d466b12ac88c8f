"""``/mage/lyrics`` against a real daemon: a job like any other, done with a lyrics folder's manifest."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api_lyrics.lrc import read_enhanced_lrc, read_lrc
from tests.server.conftest import DaemonProc, submit, wait_end


def test_a_lyrics_job_ends_done_with_timed_lyrics_inside_the_clip_body(daemon: DaemonProc) -> None:
    with daemon.client() as c:
        job = submit(c, "/mage/lyrics", "lyr-1", "a dreamy pop ballad about summer love at 100 BPM", "",
                     json.dumps({"seed": 3, "duration_s": 24.0, "lyrics_mode": "generate"}))
        seen: list[tuple[str, list[object]]] = []
        addr, reply = wait_end(c, job, 60.0, seen)
    assert addr == "/mage/job/done", reply
    assert "lyrics" in {p[1] for a, p in seen if a == "/mage/job/progress"}
    path = Path(str(reply[1]))
    assert path.parent == daemon.state_dir / "jobs" / job
    m = json.loads(path.read_text(encoding="utf-8"))
    assert m["kind"] == "lyrics" and m["job_id"] == job and m["request"]["seed"] == 3
    lyr = m["lyrics"]
    grid = lyr["grid"]
    body_end = grid["duration_s"] - grid["lead_out_s"]
    assert grid["duration_s"] == 24.0 and grid["lead_in_s"] > 0
    for s in lyr["syllables"]:
        assert grid["lead_in_s"] - 1e-6 <= s["start"] < s["end"] <= body_end + 1e-6
    lines = read_lrc(path.parent / lyr["lrc"])
    assert all(grid["lead_in_s"] - 0.006 <= t <= body_end + 0.006 for t, _ in lines)
    assert [t for _, t in lines if t] == [ln for ln in lyr["text"].splitlines() if ln and not ln.startswith("[")]
    assert len(read_enhanced_lrc(path.parent / lyr["elrc"])) == len([t for _, t in lines if t])


def test_user_lyrics_over_osc_are_kept_and_a_bad_mode_fails_the_job_writing_nothing(daemon: DaemonProc) -> None:
    text = "[verse]\nNo rain on the río tonight\nonly the neon and me"
    with daemon.client() as c:
        kept = submit(c, "/mage/lyrics", "lyr-2", "latin pop with male vocals", text, json.dumps({"bars": 12}))
        bad = submit(c, "/mage/lyrics", "lyr-3", "latin pop", "", json.dumps({"lyrics_mode": "sing"}))
        too_long = submit(c, "/mage/lyrics", "lyr-4", "latin pop", "\n".join(["la la la la la"] * 300),
                          json.dumps({"duration_s": 10.0}))
        addr, reply = wait_end(c, kept, 60.0)
        assert addr == "/mage/job/done", reply
        m = json.loads(Path(str(reply[1])).read_text(encoding="utf-8"))
        assert m["lyrics"]["mode"] == "replace" and m["request"]["lyrics"] == text
        assert [t for _, t in read_lrc(Path(str(reply[1])).parent / "lyrics.lrc") if t] == text.splitlines()[1:]
        for job, words in ((bad, "lyrics_mode must be one of generate, replace, append"),
                           (too_long, "at most")):
            addr, reply = wait_end(c, job, 60.0)
            assert addr == "/mage/job/failed" and reply[1] == "invalid_input" and words in reply[2], reply
            folder = daemon.state_dir / "jobs" / job
            assert not folder.exists() or not any(folder.iterdir()), list(folder.iterdir())
