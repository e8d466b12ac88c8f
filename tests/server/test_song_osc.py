"""``/mage/song/render`` and ``/mage/song/fill`` against a real daemon: jobs like any other, documents checked at
the door, clips read only from the clips folder."""

from __future__ import annotations

import json
from pathlib import Path

from tests.arrange.clipfolders import click_track, write_clip
from tests.server.conftest import DaemonProc, submit, wait_end


def _doc(*slots: tuple[str, str], **settings: object) -> str:
    return json.dumps({"schema": "mage-bridge/arrangement@1", "slots": [{"role": r, "clip": c} for r, c in slots],
                       **settings})


def test_a_song_renders_from_inline_json_and_from_a_file(daemon: DaemonProc) -> None:
    clips = daemon.data_dir / "clips"
    write_clip(clips, "a", click_track(120.0, 4), bpm=120.0)
    write_clip(clips, "b", click_track(126.0, 4, freq_hz=2000.0), bpm=126.0)
    doc = daemon.data_dir / "songs" / "night.json"
    doc.parent.mkdir()
    doc.write_text(_doc(("focus", "a"), ("next", "b"), bpm=124), encoding="utf-8")
    with daemon.client() as c:
        inline = submit(c, "/mage/song/render", "song-1", _doc(("focus", "a"), ("next", "b")),
                        json.dumps({"format": "flac", "master": False}))
        from_file = submit(c, "/mage/song/render", "song-2", str(doc), json.dumps({"master": "apple"}))
        seen: list[tuple[str, list[object]]] = []
        addr, reply = wait_end(c, inline, 120.0, seen)
        assert addr == "/mage/job/done", reply
        m = json.loads(Path(str(reply[1])).read_text(encoding="utf-8"))
        assert Path(str(reply[1])).parent == daemon.state_dir / "jobs" / inline
        assert m["kind"] == "song" and m["output"] == "song.flac" and m["master"] is None
        # the focus's 120 BPM: b's 4 bars at 126 (365 714 frames) stretched to 4 bars at 120; a 2 s fade is one bar
        assert [c["frames"] for c in m["clips"]] == [384_000, 384_000] and m["junctions"][0]["fade_frames"] == 96_000
        assert m["frames"] == 672_000
        assert {"load", "conform", "render", "export"} <= {p[1] for a, p in seen if a == "/mage/job/progress"}
        addr, reply = wait_end(c, from_file, 120.0)
        assert addr == "/mage/job/done", reply
        m = json.loads(Path(str(reply[1])).read_text(encoding="utf-8"))
        assert m["song"]["bpm"] == 124.0 and m["master"]["preset"] == "apple"


def test_bad_documents_are_refused_at_the_door_and_missing_clips_fail_the_job(daemon: DaemonProc,
                                                                               tmp_path: Path) -> None:
    write_clip(daemon.data_dir / "clips", "a", click_track(120.0, 4), bpm=120.0)
    outside = tmp_path / "outside.json"
    outside.write_text(_doc(("focus", "a")), encoding="utf-8")
    with daemon.client() as c:
        for req, text, code, words in (
                ("bad-1", '{"schema": "mage-bridge/arrangement@1", "slots": [', "invalid_input", "not valid JSON"),
                ("bad-2", _doc(("next", "a")), "invalid_input", "exactly one focus slot"),
                ("bad-3", str(outside), "path_not_allowed", "is outside"),
        ):
            addr, reply = c.request("/mage/song/render", req, text, timeout_s=5.0)
            assert addr == "/mage/error" and reply[:2] == [req, code] and words in reply[2], reply
        addr, reply = c.request("/mage/song/render", "bad-4", _doc(("focus", "a")), json.dumps({"clips_dir": "/etc"}),
                                timeout_s=5.0)
        assert addr == "/mage/error" and reply[1] == "path_not_allowed", reply
        addr, reply = c.request("/mage/song/fill", "bad-5", str(daemon.data_dir / "clips" / "a" / "manifest.json"),
                                json.dumps({"role": "chorus"}), timeout_s=5.0)
        assert addr == "/mage/error" and reply[1] == "invalid_input" and "role must be one of" in reply[2], reply
        job = submit(c, "/mage/song/render", "ghost", _doc(("focus", "a"), ("next", "ghost")))
        addr, reply = wait_end(c, job, 60.0)
        assert addr == "/mage/job/failed" and reply[1] == "invalid_input", reply
        assert "slot next 1 (clip 'ghost'): no clip 'ghost'" in reply[2]
        folder = daemon.state_dir / "jobs" / job
        assert not folder.exists() or not any(folder.iterdir())


def test_fill_generates_a_clip_that_fits_the_focus(daemon: DaemonProc) -> None:
    focus = write_clip(daemon.data_dir / "clips", "a", click_track(110.0, 4), bpm=110.0, key="D", mode="major",
                       extra={"analysis": {"prompt": "funk groove with slap bass", "genre": "funk"}})
    with daemon.client() as c:
        job = submit(c, "/mage/song/fill", "fill-1", str(focus),
                     json.dumps({"role": "outro", "bars": 4, "seed": 5, "backend": "procedural"}))
        addr, reply = wait_end(c, job, 120.0)
    assert addr == "/mage/job/done", reply
    m = json.loads(Path(str(reply[1])).read_text(encoding="utf-8"))
    assert m["requested"] == {"bpm": 110.0, "key": "D", "mode": "major", "time_signature": [4, 4]}
    assert m["analysis"]["genre"] == "funk" and m["bars"] == 4 and m["request"]["seed"] == 5
    assert m["lineage"]["fill"] == "outro" and m["lineage"]["parent"] == str(focus)
