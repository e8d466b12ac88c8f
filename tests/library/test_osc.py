"""``/mage/library/...`` with the real daemon over real UDP: paged replies that stay small, edits, import as a job."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from pythonosc.osc_message import OscMessage

from mage_bridge import audio as audio_io
from mage_bridge.library import Library
from mage_bridge.server.client import OscClient
from tests.library.conftest import write_clip
from tests.measure.synth import chord_clip
from tests.server.conftest import DaemonProc, daemon, make_daemon, submit, wait_end  # noqa: F401  (fixtures)

#: The most a reply may weigh: well under the 8 KB many OSC apps read at most.
LIMIT_BYTES = 8192


def ask(c: OscClient, address: str, *args: str | int | float) -> tuple[str, list[Any], int]:
    """Send a request; the reply that echoes its id, and the size of its datagram."""
    c.send(address, *args)
    while True:
        c.sock.settimeout(10.0)
        data = c.sock.recv(65536)
        msg = OscMessage(data)
        params = list(msg.params)
        if params and params[0] == args[0]:
            return msg.address, params, len(data)


def _fill(d: DaemonProc, n: int) -> list[str]:
    ids = []
    with Library(d.data_dir / "library") as library:
        for i in range(n):
            prompt = f"deep house groove number {i} " + "with a long winding description " * 6
            clip = library.register(write_clip(d.data_dir / "clips" / str(i), prompt=prompt, bpm=120.0 + i % 8,
                                               key="A", mode="minor", stems=("drums", "bass", "other", "vocals")))
            assert clip is not None
            library.tag(clip.id, [f"tag{j}-{'x' * 20}" for j in range(8)])
            ids.append(clip.id)
    return ids


def test_a_search_pages_through_every_match_in_small_datagrams(daemon: DaemonProc) -> None:
    ids = _fill(daemon, 60)
    seen: list[str] = []
    offset = 0
    with daemon.client() as c:
        while True:
            query = json.dumps({"bpm": "120-128", "key": "A minor", "text": "deep", "offset": offset, "limit": 50})
            address, reply, size = ask(c, "/mage/library/search", "s1", query)
            assert address == "/mage/library/results", reply
            req_id, got_offset, count, total, clips_json = reply
            clips = json.loads(clips_json)
            assert (req_id, got_offset, total, len(clips)) == ("s1", offset, 60, count)
            assert 0 < count <= 50 and size <= 6000 < LIMIT_BYTES
            assert all(c["key"] == "A minor" and 120 <= c["bpm"] <= 128 for c in clips)
            seen += [c["id"] for c in clips]
            offset += count
            if offset >= total:
                break
    assert len(seen) == len(set(seen)) == 60 and set(seen) == set(ids)
    assert offset > 0 and len(ids) > 50  # it took more than one page


def test_show_tag_rate_delete_round_trip(daemon: DaemonProc) -> None:
    with Library(daemon.data_dir / "library") as library:
        clip = library.register(write_clip(daemon.data_dir / "clips" / "a", prompt="€" * 2000, lyrics="la " * 5000))
    assert clip is not None
    with daemon.client() as c:
        address, reply, size = ask(c, "/mage/library/show", "r1", clip.id[:6])
        assert address == "/mage/library/clip" and size <= 6000
        record = json.loads(reply[1])
        assert record["id"] == clip.id and record["bpm"] == 122.0 and record["manifest"] == str(clip.manifest_path)
        assert record["prompt"].endswith("…") and "lyrics" not in record  # shortened to fit; text in the manifest
        assert ask(c, "/mage/library/tag", "r2", clip.id, "Dark, late night")[1] == ["r2", clip.id, "dark,late-night"]
        assert ask(c, "/mage/library/tag", "r3", clip.id, "", "dark")[1] == ["r3", clip.id, "late-night"]
        assert ask(c, "/mage/library/rate", "r4", clip.id, 4)[1] == ["r4", clip.id, 4]
        address, reply, _ = ask(c, "/mage/library/delete", "r5", clip.id)
        assert (address, reply[:2]) == ("/mage/library/deleted", ["r5", clip.id]) and reply[2] >= 5
        assert not (daemon.data_dir / "clips" / "a").exists()
        address, reply, _ = ask(c, "/mage/library/show", "r6", clip.id)
        assert (address, reply[1]) == ("/mage/error", "clip_deleted") and "was deleted on" in reply[2]


def test_bad_library_requests_get_errors_with_the_request_id(daemon: DaemonProc, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"  # a clip made by the CLI outside the daemon's folders
    with Library(daemon.data_dir / "library") as library:
        foreign = library.register(write_clip(outside))
    assert foreign is not None
    cases = [
        (("/mage/library/show", "e1", "ffffffffffff"), "not_found"),
        (("/mage/library/search", "e2", "{not json"), "bad_json"),
        (("/mage/library/search", "e3", '{"bpm": "128-120"}'), "invalid_input"),
        (("/mage/library/search", "e4", '{"key": "H minor"}'), "invalid_input"),
        (("/mage/library/search", "e5", '{"limit": 500}'), "invalid_input"),
        (("/mage/library/search", "e6", '{"tempo": 120}'), "invalid_input"),
        (("/mage/library/rate", "e7", foreign.id, 9), "invalid_input"),
        (("/mage/library/rate", "e8", foreign.id, 2.5), "bad_arguments"),
        (("/mage/library/delete", "e9", foreign.id), "path_not_allowed"),
        (("/mage/library/import", "e10", str(outside / "mix.wav")), "path_not_allowed"),
    ]
    with daemon.client() as c:
        for args, code in cases:
            address, reply, _ = ask(c, *args)
            assert (address, reply[0], reply[1]) == ("/mage/error", args[1], code), (args, reply)
    assert (outside / "mix.wav").is_file()  # the refused delete removed nothing


def test_import_runs_as_a_job_and_the_clip_is_found(daemon: DaemonProc, rng: np.random.Generator) -> None:
    source = daemon.data_dir / "incoming" / "my take.wav"
    source.parent.mkdir(parents=True)
    audio_io.save(chord_clip(4, "major", rng=rng, bpm=110.0, cycles=1), source)
    with daemon.client() as c:
        job = submit(c, "/mage/library/import", "i1", str(source),
                     json.dumps({"tags": ["mine", "Guitar"], "rating": 3, "title": "my take"}))
        address, reply = wait_end(c, job, timeout_s=120)
        assert address == "/mage/job/done", reply
        manifest_path = Path(reply[1])
        assert manifest_path.parent.parent == daemon.data_dir / "library" / "clips"
        query = json.dumps({"kind": "import", "tags": ["guitar"], "key": "E major"})
        address, reply, _ = ask(c, "/mage/library/search", uuid.uuid4().hex[:8], query)
    assert address == "/mage/library/results" and reply[3] == 1
    found = json.loads(reply[4])[0]
    assert (found["title"], found["rating"], found["tags"]) == ("my take", 3, ["guitar", "mine"])
    assert Path(found["audio"]).read_bytes() == source.read_bytes()


def test_a_clip_generated_through_the_daemon_is_in_its_library(daemon: DaemonProc) -> None:
    with daemon.client() as c:
        job = submit(c, "/mage/generate", "g1", "dusty boom bap beat at 90 BPM in D minor", "",
                     json.dumps({"duration_s": 10.0, "seed": 5}))
        address, reply = wait_end(c, job, timeout_s=120)
        assert address == "/mage/job/done", reply
        address, found, _ = ask(c, "/mage/library/search", "g2", json.dumps({"text": "boom bap", "key": "Dm"}))
    assert address == "/mage/library/results" and found[3] == 1
    clip = json.loads(found[4])[0]
    assert Path(clip["audio"]) == Path(reply[1]).parent / "mix.wav" and clip["bpm"] == 90.0
