"""The Library and Arrange views' API against a real daemon: search pages and filters, edits, deletes, stems by
clip id, the jobs a clip starts, songs saved in the library and rendered.

Real HTTP, real SQLite (the daemon's own library, filled as jobs and imports fill it), real worker processes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mage_bridge.library import Clip, Library
from mage_bridge.library.keys import parse_key
from tests.library.conftest import write_clip
from tests.panel.conftest import EventReader, Panel
from tests.server.conftest import DaemonProc

PROMPT = "deep house groove at 122 BPM in G minor"
#: (bpm, key, genre, tags, rating) of the clips the search tests find; the words "seeded" are in each prompt.
SEEDED = [(float(100 + 3 * i), key, genre, tags, i % 6)
          for i, (key, genre, tags) in enumerate([
              ("A minor", "deep house", ("keeper",)), ("D minor", "techno", ()), ("E minor", "deep house", ("drums",)),
              ("C major", "disco", ("keeper", "drums")), ("F# major", "techno", ()), ("G major", "disco", ("vocal",)),
              ("A minor", "ambient", ("keeper",)), ("Bb minor", "deep house", ()), ("F major", "techno", ("drums",)),
              ("A major", "disco", ()), ("C minor", "deep house", ("keeper",)), ("E major", "ambient", ())] * 3)]


def _wait_job(panel: Panel, job_id: str, timeout_s: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        job = panel.api("GET", f"/api/jobs/{job_id}")[1]["job"]
        if job["state"] in ("done", "failed", "cancelled"):
            return dict(job)
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


@pytest.fixture(scope="module")
def library(panel_daemon: DaemonProc) -> Iterator[Library]:
    with Library(panel_daemon.data_dir / "library") as lib:
        yield lib


@pytest.fixture(scope="module")
def seeded(panel_daemon: DaemonProc, library: Library) -> list[Clip]:
    """The clips of :data:`SEEDED`, registered as a finished job registers its result, oldest first."""
    clips = []
    for i, (bpm, key, genre, tags, rating) in enumerate(SEEDED):
        tonic, mode = key.split()
        path = write_clip(panel_daemon.data_dir / "clips" / f"seeded-{i:02d}", prompt=f"seeded {genre} number {i}",
                          bpm=bpm, key=tonic, mode=mode, genre=genre, stems=("drums", "bass"), midi=False)
        clip = library.register(path, tags=tags, rating=rating)
        assert clip is not None
        clips.append(clip)
    return clips


def _ids(panel: Panel, query: str) -> list[str]:
    status, data = panel.api("GET", f"/api/library?{query}&limit=500")
    assert status == 200, data
    assert data["total"] == len(data["clips"])
    return [c["id"] for c in data["clips"]]


def test_the_list_pages_through_the_library_newest_first(panel: Panel, seeded: list[Clip]):
    status, first = panel.api("GET", "/api/library?text=seeded&limit=10")
    assert status == 200 and first["total"] == len(SEEDED) and len(first["clips"]) == 10
    pages = [c["id"] for c in first["clips"]]
    for offset in (10, 20, 30):
        status, page = panel.api("GET", f"/api/library?text=seeded&limit=10&offset={offset}")
        assert status == 200 and page["offset"] == offset and page["total"] == len(SEEDED)
        pages += [c["id"] for c in page["clips"]]
    assert pages == [c.id for c in reversed(seeded)]  # every clip once, the newest first
    row = first["clips"][0]
    assert set(row) >= {"id", "title", "bpm", "key", "camelot", "bars", "rating", "tags", "lineage", "stems"}
    assert row["stems"] == ["drums", "bass"] and row["time_signature"] == [4, 4]


@pytest.mark.parametrize(("query", "expect"), [
    ("bpm=110-120", lambda bpm, key, genre, tags, rating: 110 <= bpm <= 120),
    ("key=A%20minor", lambda bpm, key, genre, tags, rating: key == "A minor"),
    ("key=Am&compatible=1",  # 8A and its neighbours 7A (D minor), 9A (E minor), 8B (C major)
     lambda bpm, key, genre, tags, rating: key in ("A minor", "D minor", "E minor", "C major")),
    ("key=8B&compatible=true", lambda bpm, key, genre, tags, rating: key in ("C major", "F major", "G major",
                                                                            "A minor")),
    ("genre=Disco", lambda bpm, key, genre, tags, rating: genre == "disco"),
    ("tags=keeper,drums", lambda bpm, key, genre, tags, rating: {"keeper", "drums"} <= set(tags)),
    ("min_rating=4", lambda bpm, key, genre, tags, rating: rating >= 4),
    ("bpm=100-130&key=A%20minor&compatible=1&tags=keeper",
     lambda bpm, key, genre, tags, rating: 100 <= bpm <= 130 and key in ("A minor", "D minor", "E minor", "C major")
     and "keeper" in tags),
    ("text=techno%20number", lambda bpm, key, genre, tags, rating: genre == "techno"),
], ids=["bpm-range", "key", "compatible-keys", "camelot-compatible", "genre", "tags", "rating", "combined", "words"])
def test_filters_find_exactly_the_clips_that_match(panel: Panel, seeded: list[Clip], query: str, expect: Any):
    wanted = [c.id for c, fields in zip(seeded, SEEDED) if expect(*fields)]
    assert wanted  # each filter finds some clips and leaves others out
    assert len(wanted) < len(SEEDED)
    assert sorted(_ids(panel, f"text=seeded&{query}" if "text=" not in query else query)) == sorted(wanted)


def test_compatible_keys_are_named_in_the_answer(panel: Panel, seeded: list[Clip]):
    status, data = panel.api("GET", "/api/library?key=A%20minor&compatible=1&limit=1")
    assert status == 200
    assert sorted(data["keys"]) == sorted(k.name for k in parse_key("A minor").compatible())


@pytest.mark.parametrize(("query", "words"), [
    ("bpm=128-120", "bpm range must run upwards"),
    ("key=H%20minor", "unknown key 'H minor'"),
    ("compatible=1", "compatible needs a key"),
    ("min_rating=9", "rating must be an int from 0"),
    ("limit=0", "limit must be an int from 1"),
    ("offset=-3", "offset must be an int >= 0"),
    ("limit=lots", "limit must be a whole number"),
    ("path=/etc/passwd", "unknown filter(s) path"),
], ids=["downward-range", "bad-key", "compatible-alone", "rating", "limit", "offset", "not-a-number", "unknown"])
def test_bad_filters_are_refused_in_words(panel: Panel, query: str, words: str):
    status, data = panel.api("GET", f"/api/library?{query}")
    assert status == 400 and data["error"]["code"] == "invalid_input", data
    assert words in data["error"]["message"], data


def test_rename_tag_rate_then_find_it_by_them(panel: Panel, seeded: list[Clip], events: EventReader):
    clip = seeded[1]
    status, data = panel.api("POST", f"/api/library/clips/{clip.id}",
                             {"title": "  Warehouse   opener ", "add_tags": ["Set Opener", "keeper"], "rating": 5})
    assert status == 200, data
    assert data["clip"]["title"] == "Warehouse opener"
    assert data["clip"]["tags"] == ["keeper", "set-opener"] and data["clip"]["rating"] == 5
    event = events.next()
    assert event["type"] == "library" and event["clip"]["id"] == clip.id and event["change"] == "edited"
    assert _ids(panel, "text=warehouse") == [clip.id]  # the new title is searched by its words
    assert _ids(panel, "tags=set-opener") == [clip.id]
    status, data = panel.api("POST", f"/api/library/clips/{clip.id}", {"remove_tags": ["keeper"], "rating": 0})
    assert status == 200 and data["clip"]["tags"] == ["set-opener"] and data["clip"]["rating"] == 0
    for body, words in (({"title": ""}, "title must be 1 to 120"), ({"rating": 6}, "rating must be an int"),
                        ({"add_tags": ["no/slash"]}, "a tag must be"), ({"add_tags": "keeper"}, "must be a list"),
                        ({"folder": "/tmp"}, "an edit takes title"), ({}, "got nothing")):
        status, data = panel.api("POST", f"/api/library/clips/{clip.id}", body)
        assert status == 400 and words in data["error"]["message"], (body, data)


def test_stems_peaks_and_audio_by_clip_id(panel: Panel, panel_daemon: DaemonProc, seeded: list[Clip]):
    clip = seeded[2]
    status, stems = panel.api("GET", f"/api/library/clips/{clip.id}/stems")
    assert status == 200
    assert [s["name"] for s in stems["stems"]] == ["drums", "bass", "mix"]
    assert (stems["key"], stems["mode"], stems["sample_rate"]) == ("E", "minor", 48000)
    status, headers, audio = panel.request("GET", stems["stems"][0]["audio"])
    assert status == 200 and headers["content-type"] == "audio/wav"
    assert audio == (clip.folder / "drums.wav").read_bytes()
    status, peaks = panel.api("GET", stems["stems"][1]["peaks"] + "?columns=64")
    assert status == 200 and peaks["columns"] == 64 and len(peaks["max"]) == 64
    assert 0 < max(peaks["max"]) <= 0.011  # the quiet noise write_clip writes
    cached = sorted((panel_daemon.state_dir / "panel" / "peaks").rglob("*-64.json"))
    stamp = [p.stat().st_mtime_ns for p in cached]
    assert panel.api("GET", stems["stems"][1]["peaks"] + "?columns=64")[1] == peaks
    assert [p.stat().st_mtime_ns for p in cached] == stamp  # computed once, then read
    status, data = panel.api("GET", f"/api/library/clips/{clip.id}/stems/vocals/audio")
    assert status == 404 and "has no stem 'vocals'" in data["error"]["message"]


def test_delete_removes_files_and_later_asks_say_so(panel: Panel, panel_daemon: DaemonProc, seeded: list[Clip]):
    clip = seeded[3]
    panel.api("GET", f"/api/library/clips/{clip.id}/stems/mix/peaks?columns=128")
    assert list((panel_daemon.state_dir / "panel" / "peaks").rglob("*-128.json"))
    status, data = panel.api("POST", f"/api/library/clips/{clip.id}/delete", {})
    assert status == 200 and data == {"deleted": clip.id, "files": 4}
    assert not clip.folder.exists()
    assert not list((panel_daemon.state_dir / "panel" / "peaks").rglob("*-128.json"))  # its peaks went too
    for method, path in (("GET", ""), ("GET", "/stems"), ("GET", "/stems/mix/audio"), ("POST", "/delete"),
                         ("POST", "")):
        status, data = panel.api(method, f"/api/library/clips/{clip.id}{path}", {"rating": 1} if path == "" and
                                 method == "POST" else None)
        assert status == 410 and data["error"]["code"] == "clip_deleted", (path, data)
        assert f"clip {clip.id}" in data["error"]["message"] and "was deleted on" in data["error"]["message"]
    assert clip.id not in _ids(panel, "text=seeded")
    status, data = panel.api("GET", "/api/library/clips/0123456789ab")
    assert status == 404 and data["error"]["message"] == "no clip '0123456789ab' in the library"


def test_a_clip_outside_the_daemons_folders_is_not_deleted(panel: Panel, panel_daemon: DaemonProc, library: Library):
    path = write_clip(panel_daemon.root / "elsewhere" / "clip", prompt="kept elsewhere", midi=False)
    clip = library.register(path)
    assert clip is not None
    status, data = panel.api("POST", f"/api/library/clips/{clip.id}/delete", {})
    assert status == 403 and data["error"]["code"] == "path_not_allowed", data
    assert path.exists() and panel.api("GET", f"/api/library/clips/{clip.id}")[0] == 200


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/library/clips/..%2F..%2Fetc%2Fpasswd", None),
    ("GET", "/api/library/clips/%2Fetc%2Fpasswd/stems", None),
    ("GET", "/api/library/clips/..%2Fstate/stems/mix/audio", None),
    ("POST", "/api/library/clips/~root/jobs", {"req_id": "panel-p1", "action": "variation"}),
    ("POST", "/api/songs/fill", {"req_id": "panel-p2", "focus": "/etc/passwd", "role": "intro"}),
    ("POST", "/api/songs/..%2Fx", {"document": {}}),
], ids=["detail", "stems", "audio", "job", "fill-focus", "song-id"])
def test_a_path_from_the_page_is_refused(panel: Panel, method: str, path: str, body: Any):
    status, data = panel.api(method, path, body)
    assert status in (400, 404), data
    if status == 400:
        assert data["error"]["code"] == "invalid_input" and "the panel takes no paths" in data["error"]["message"]


def test_a_job_request_names_its_options_only(panel: Panel, seeded: list[Clip]):
    clip = seeded[4]
    for body, words in (({"req_id": "panel-o1", "action": "variation", "audio_path": "/etc/passwd"},
                         "variation takes seed; got audio_path"),
                        ({"req_id": "panel-o2", "action": "cover"}, "action must be one of variation, extend"),
                        ({"req_id": "nope", "action": "variation"}, "req_id must look like")):
        status, data = panel.api("POST", f"/api/library/clips/{clip.id}/jobs", body)
        assert status == 400 and words in data["error"]["message"], (body, data)


def test_variation_makes_a_clip_whose_lineage_names_its_source(panel: Panel, events: EventReader):
    status, data = panel.api("POST", "/api/generate", {"req_id": "panel-lib-gen", "prompt": PROMPT, "seed": 3,
                                                        "options": {"bars": 4}, "backend": "procedural"})
    assert status == 201, data
    assert events.until_end(data["job"]["id"])[-1]["type"] == "done"
    status, made = panel.api("GET", f"/api/jobs/{data['job']['id']}/clip")
    assert status == 200, made
    source = made["clip"]
    assert (source["bars"], source["key"], source["bpm"]) == (4, "G minor", 122.0)

    status, actions = panel.api("GET", "/api/library/actions")
    assert status == 200 and actions["actions"]["variation"]["available"] is True
    for action in ("extend", "repaint"):  # no generator that can do these runs here (ACE-Step has no weights)
        state = actions["actions"][action]
        assert state["available"] is False and "acestep" in state["reason"]
        status, data = panel.api("POST", f"/api/library/clips/{source['id']}/jobs",
                                 {"req_id": f"panel-{action}-1", "action": action})
        assert status == 503 and data["error"]["code"] == "not_available" and "acestep" in data["error"]["message"]

    body = {"req_id": "panel-var-1", "action": "variation"}
    status, data = panel.api("POST", f"/api/library/clips/{source['id']}/jobs", body)
    assert status == 201, data
    job = data["job"]
    assert (job["kind"], job["source"]) == ("retake", "panel")
    again = panel.api("POST", f"/api/library/clips/{source['id']}/jobs", body)
    assert again[0] == 200 and again[1]["job"]["id"] == job["id"]  # the same click twice: one job
    assert events.until_end(job["id"])[-1]["type"] == "done"
    status, made = panel.api("GET", f"/api/jobs/{job['id']}/clip")
    variation = made["clip"]
    assert variation["lineage"] == {"variation_of": source["id"]} and variation["kind"] == "retake"
    assert variation["seed"] != 3 and variation["bars"] == 4
    status, detail = panel.api("GET", f"/api/library/clips/{variation['id']}")
    assert detail["clip"]["made_from"] == [{"relation": "variation_of", "words": "variation of", "id": source["id"],
                                            "title": source["title"], "kind": "generate", "deleted": None}]
    status, detail = panel.api("GET", f"/api/library/clips/{source['id']}")
    assert detail["clip"]["made"] == [{"id": variation["id"], "title": variation["title"], "kind": "retake",
                                       "relation": "variation_of"}]

    # a song of the two, saved in the library, rendered, served by the render's job id
    document = {"schema": "mage-bridge/arrangement@1", "name": "two takes", "junction": {"fade_s": 1.0},
                "slots": [{"role": "focus", "clip": source["id"]},
                          {"role": "outro", "clip": variation["id"], "junction": {"fade_s": 0.5}}]}
    status, saved = panel.api("POST", "/api/songs/two-takes", {"document": document})
    assert status == 200, saved
    assert saved["song"]["version"] == 1 and set(saved["song"]["clips"]) == {source["id"], variation["id"]}
    assert any(s["id"] == "two-takes" for s in panel.api("GET", "/api/songs")[1]["songs"])
    status, data = panel.api("POST", "/api/songs/two-takes/render", {"req_id": "panel-render-1", "format": "flac",
                                                                    "master": False})
    assert status == 201, data
    render = data["job"]
    assert render["kind"] == "song_render"
    assert events.until_end(render["id"])[-1]["type"] == "done"
    status, song = panel.api("GET", f"/api/songs/renders/{render['id']}")
    assert status == 200, song
    assert song["name"] == "two takes" and song["format"] == "flac" and song["stems"][0]["name"] == "song"
    status, headers, body = panel.request("GET", song["download"])
    assert status == 200 and headers["content-type"] == "audio/flac"
    assert headers["content-disposition"] == 'attachment; filename="two takes.flac"'
    assert body == (panel.daemon.state_dir / "jobs" / render["id"] / "song.flac").read_bytes()
    status, data = panel.api("GET", f"/api/songs/renders/{job['id']}")
    assert status == 404 and "not a song's render" in data["error"]["message"]


def test_a_song_of_an_unknown_or_deleted_clip_is_refused_naming_the_slot(panel: Panel, seeded: list[Clip]):
    focus, gone = seeded[5], seeded[6]
    assert panel.api("POST", f"/api/library/clips/{gone.id}/delete", {})[0] == 200
    for clip_id, words in ((gone.id, f"slot intro (clip '{gone.id}'): clip {gone.id}"),
                           ("feedfacecafe", "slot intro (clip 'feedfacecafe'): no clip 'feedfacecafe' in the library"),
                           ("../../etc", "slot 1: clip must be 1-128 of")):
        document = {"schema": "mage-bridge/arrangement@1", "name": "broken",
                    "slots": [{"role": "intro", "clip": clip_id}, {"role": "focus", "clip": focus.id}]}
        status, data = panel.api("POST", "/api/songs/broken", {"document": document})
        assert status == 400 and words in data["error"]["message"], data
    assert "was deleted on" in panel.api("POST", "/api/songs/broken", {"document": {
        "schema": "mage-bridge/arrangement@1", "name": "broken",
        "slots": [{"role": "focus", "clip": gone.id}]}})[1]["error"]["message"]
    status, data = panel.api("GET", "/api/songs/broken")
    assert status == 404 and data["error"]["message"] == "no song 'broken' in the library"  # nothing was saved


def test_no_path_of_the_machine_reaches_the_library_page(panel: Panel, panel_daemon: DaemonProc,
                                                         seeded: list[Clip]):
    answers = [panel.api("GET", "/api/library?limit=500")[1], panel.api("GET", f"/api/library/clips/{seeded[0].id}")[1],
               panel.api("GET", f"/api/library/clips/{seeded[0].id}/stems")[1]]
    text = json.dumps(answers)
    assert str(panel_daemon.root) not in text and str(Path(panel_daemon.data_dir)) not in text
