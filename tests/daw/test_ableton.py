"""The Ableton Live remote script under CPython with a fake ``Live``, and real OSC with the real daemon."""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import soundfile

from tests.daw.conftest import HERE, REPO, wait_outbox
from tests.server.conftest import DaemonProc, free_port, submit

FAKE_LIVE = HERE / "fake_live"
SCRIPTS = REPO / "daw_scripts"


@dataclass
class CInstance:
    """What Live hands a control surface: the song, the status bar, the log."""

    song_obj: Any
    messages: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def song(self) -> Any:
        return self.song_obj

    def show_message(self, message: str) -> None:
        self.messages.append(message)

    def log_message(self, message: str) -> None:
        self.log.append(message)


@dataclass
class LiveRig:
    live: ModuleType
    script: ModuleType

    def start(self, *, port: int, version: tuple[int, int, int] = (12, 1, 0), **song: Any) -> tuple[Any, CInstance]:
        self.live.configure(version)
        c = CInstance(self.live.Song.Song(**song))
        return self.script.create_instance(c), c


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple[Any, CInstance]]]:
    """``rig(port=..., version=..., tempo=..., song_time_beats=...)`` -> (surface, c_instance)."""
    names = ("Live", "_Framework", "MAGE_Bridge")

    def purge() -> None:
        for mod in [m for m in sys.modules if m.split(".")[0] in names]:
            del sys.modules[mod]

    purge()
    monkeypatch.syspath_prepend(str(SCRIPTS))
    monkeypatch.syspath_prepend(str(FAKE_LIVE))
    made: list[Any] = []

    def start(*, port: int, **kw: Any) -> tuple[Any, CInstance]:
        monkeypatch.setenv("MAGE_PORT", str(port))
        r = LiveRig(importlib.import_module("Live"), importlib.import_module("MAGE_Bridge"))
        surface, c = r.start(port=port, **kw)
        made.append(surface)
        return surface, c

    yield start
    for s in made:
        s.disconnect()
    purge()


def tick_until(surface: Any, done: Callable[[], bool], timeout_s: float = 60.0) -> None:
    """Call Live's ~100 ms tick (faster here) until ``done()``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        surface.update_display()
        if done():
            return
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout_s} s")


def _connected(surface: Any, daemon: DaemonProc) -> None:
    """Tick until the daemon has acknowledged Live's context (it now knows where Live is)."""
    tick_until(surface, lambda: surface._sent_context is not None and surface._awaiting_ack_since is None, 10.0)


def test_a_generated_job_lands_as_tracks_and_clips_on_the_next_bar(daemon: DaemonProc, rig: Any) -> None:
    # 120 BPM 4/4, Live's cursor at beat 5.5 (2.75 s): the next bar starts at beat 8.
    surface, c = rig(port=daemon.port, tempo=120.0, song_time_beats=5.5)
    _connected(surface, daemon)
    song = c.song()
    with daemon.client() as controller:  # a controller (not Live) starts the job
        job = submit(controller, "/mage/generate", "pad", "deep house groove at 120 BPM in G minor", "",
                     json.dumps({"duration_s": 8.0, "seed": 11}))
    tick_until(surface, lambda: len(song.tracks) > 0, 120.0)
    [record] = wait_outbox(daemon, "ableton")
    assert record["job_id"] == job and record["placement"]["beats"] == 8.0
    manifest_path = Path(record["manifest"])
    manifest = json.loads(manifest_path.read_text())
    order = {"vocals": 0, "drums": 1, "bass": 2, "other": 3}
    stems = sorted(manifest["stems"], key=lambda n: (order.get(n, 99), n))
    assert [t.name for t in song.tracks] == stems
    for track in song.tracks:
        [clip] = track.arrangement_clips
        wav = manifest_path.parent / manifest["stems"][track.name]
        assert clip.file_path == str(wav) and clip.start_time == 8.0
        info = soundfile.info(str(wav))
        assert clip.length_s == pytest.approx(info.frames / info.samplerate)
        assert not any(slot.has_clip for slot in track.clip_slots)
    assert song.undo_steps == ["begin", "end"]
    assert c.messages[-1] == f"MAGE Bridge: placed {len(stems)} stem(s) at bar 3"


def test_session_view_puts_the_clips_in_the_selected_scene(daemon: DaemonProc, rig: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAGE_LIVE_VIEW", "session")
    surface, c = rig(port=daemon.port, tempo=100.0, song_time_beats=0.0)
    song = c.song()
    song.view.selected_scene = song.scenes[2]
    _connected(surface, daemon)
    with daemon.client() as controller:
        submit(controller, "/mage/generate", "s", "lo-fi hip hop beat at 90 BPM", "",
               json.dumps({"duration_s": 10.0, "seed": 2}))
    tick_until(surface, lambda: len(song.tracks) > 0, 120.0)
    for track in song.tracks:
        assert [i for i, slot in enumerate(track.clip_slots) if slot.has_clip] == [2]
        assert track.arrangement_clips == []
    assert c.messages[-1].endswith("at scene 3")


def test_context_is_sent_and_recorded_with_later_jobs(daemon: DaemonProc, rig: Any) -> None:
    surface, c = rig(port=daemon.port, tempo=96.0, numerator=6, denominator=8, song_time_beats=12.0)
    _connected(surface, daemon)
    with daemon.client() as controller:
        job = submit(controller, "/mage/test/job", "t", "sleep", '{"seconds": 0.05}')
    [record] = wait_outbox(daemon, "ableton")
    placement = record["placement"]
    assert record["job_id"] == job and placement["mode"] == "next_bar"
    assert (placement["bpm"], placement["numerator"], placement["denominator"]) == (96.0, 6, 8)
    assert placement["cursor_s"] == pytest.approx(12.0 * 60 / 96)
    assert placement["beats"] == 12.0  # 6/8 bars are 3 quarter notes: beat 12 is a bar line


# -- what goes wrong ----------------------------------------------------------------------------
def test_daemon_down_is_said_in_the_status_bar(rig: Any) -> None:
    surface, c = rig(port=free_port())
    tick_until(surface, lambda: any("daemon not running" in m for m in c.messages), 10.0)
    [said] = [m for m in c.messages if "daemon not running" in m]
    assert "start `mage-bridge serve`" in said
    for _ in range(40):  # said once, not every tick
        surface.update_display()
    assert sum("daemon not running" in m for m in c.messages) == 1
    assert c.song().tracks == []


def test_a_failed_job_is_said_and_nothing_is_created(daemon: DaemonProc, rig: Any) -> None:
    surface, c = rig(port=daemon.port)
    _connected(surface, daemon)
    with daemon.client() as controller:
        job = submit(controller, "/mage/generate", "bad", "ambient drone", "",
                     json.dumps({"time_signature": [4, 3], "duration_s": 8.0}))
    tick_until(surface, lambda: any("failed" in m for m in c.messages), 60.0)
    said = [m for m in c.messages if "failed" in m][0]
    assert said.startswith(f"MAGE Bridge: job {job} failed: invalid_input:")
    assert c.song().tracks == [] and c.song().undo_steps == []


def _finished_but_unseen(daemon: DaemonProc, surface: Any) -> tuple[dict[str, Any], Path]:
    """Run a job while Live is not ticking: its done event waits in the socket."""
    with daemon.client() as controller:
        submit(controller, "/mage/generate", "x", "minimal techno at 125 BPM", "",
               json.dumps({"duration_s": 8.0, "seed": 4}))
    [record] = wait_outbox(daemon, "ableton", timeout_s=120)
    manifest_path = Path(record["manifest"])
    return json.loads(manifest_path.read_text()), manifest_path


def test_a_missing_stem_file_is_said_and_nothing_is_created(daemon: DaemonProc, rig: Any) -> None:
    surface, c = rig(port=daemon.port)
    _connected(surface, daemon)
    manifest, manifest_path = _finished_but_unseen(daemon, surface)
    gone = manifest_path.parent / manifest["stems"]["bass"]
    gone.unlink()
    tick_until(surface, lambda: any("missing" in m for m in c.messages), 10.0)
    assert c.messages[-1] == f"MAGE Bridge: stem file missing: {gone}; nothing was placed"
    assert c.song().tracks == [] and c.song().created == []


def test_a_clip_that_cannot_be_made_removes_the_tracks_already_made(daemon: DaemonProc, rig: Any) -> None:
    surface, c = rig(port=daemon.port)
    _connected(surface, daemon)
    _finished_but_unseen(daemon, surface)
    sys.modules["Live"].Track.Track.fail_for = "bass.wav"
    try:
        tick_until(surface, lambda: any("could not place" in m for m in c.messages), 10.0)
    finally:
        sys.modules["Live"].Track.Track.fail_for = None
    song = c.song()
    assert song.tracks == [] and len(song.created) >= 2 and len(song.deleted) == len(song.created)
    assert song.undo_steps == ["begin", "end"]


@pytest.mark.parametrize("version", [(11, 2, 0), (11, 3, 24), (12, 0, 4)], ids=lambda v: ".".join(map(str, v)))
def test_an_older_live_gets_a_clear_message(daemon: DaemonProc, rig: Any, version: tuple[int, int, int]) -> None:
    surface, c = rig(port=daemon.port, version=version)
    assert c.messages[0].startswith("MAGE Bridge: placing audio clips needs Live 12.0.5 or newer (or 11.3.25+)")
    assert c.messages[0].endswith("this is Live %d.%d.%d" % version)
    _connected(surface, daemon)
    manifest, manifest_path = _finished_but_unseen(daemon, surface)
    tick_until(surface, lambda: len(c.messages) > 1, 10.0)
    assert c.messages[-1].endswith(f"; the stems are in {manifest_path.parent}")
    assert c.song().tracks == []


@pytest.mark.parametrize("version", [(11, 3, 25), (12, 0, 5), (12, 2, 1)], ids=lambda v: ".".join(map(str, v)))
def test_supported_versions(rig: Any, version: tuple[int, int, int]) -> None:
    surface, c = rig(port=free_port(), version=version)
    assert c.messages[0].startswith("MAGE Bridge: ready")


def test_the_osc_codec_matches_the_daemons(rig: Any) -> None:
    rig(port=free_port())
    from MAGE_Bridge import osc as live_osc  # type: ignore[import-not-found]

    from mage_bridge.server import osc as daemon_osc

    data = daemon_osc.encode("/mage/job/done", "abc", "/tmp/é/manifest.json", '{"beats": 8.0}')
    assert live_osc.decode(data) == [("/mage/job/done", ["abc", "/tmp/é/manifest.json", '{"beats": 8.0}'])]
    ours = live_osc.encode("/mage/daw/context", 120.0, 4, 4, 2.75, "ableton", "live-set")
    [msg] = daemon_osc.decode(ours)
    assert (msg.address, msg.params) == ("/mage/daw/context", [120.0, 4, 4, 2.75, "ableton", "live-set"])
    bundle = b"#bundle\x00" + b"\x00" * 7 + b"\x01" + len(data).to_bytes(4, "big") + data
    assert live_osc.decode(bundle)[0][0] == "/mage/job/done"
    with pytest.raises(live_osc.OscError):
        live_osc.decode(b"/x\x00\x00,z\x00\x00")
