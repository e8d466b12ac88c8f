"""The Live view: ``GET /api/live`` over real HTTP against a real daemon — without an audio device it says
why, with a private JACK server (dummy driver) a launched clip shows as playing with its xrun count — and
the view in headless chromium showing that count (screenshot under ``$MAGE_TEST_ARTEFACTS/panel``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.live.synth import beat_frames, impulses, write_clip
from tests.panel.conftest import Panel
from tests.panel.test_browser import _css, _shot, _wait, artefacts, browser  # noqa: F401  (fixtures)
from tests.server.conftest import DaemonProc

BAR = 4 * beat_frames(120.0)


def _config(clips: Path, device: str) -> str:
    return f'[live]\ndevice = "{device}"\nbuffer_frames = 256\nclips_dirs = ["{clips}"]\ncrossfade_beats = 0\n'


def _live(panel: Panel) -> dict[str, Any]:
    status, data = panel.api("GET", "/api/live")
    assert status == 200, data
    return data


def _until(panel: Panel, what: Callable[[dict[str, Any]], bool], timeout_s: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        data = _live(panel)
        if what(data):
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.1)


def _playing(make_daemon: Any, jack_server: str, tmp_path: Path) -> tuple[DaemonProc, Panel]:
    """A daemon on the JACK server with the clip ``intro`` launched and heard playing."""
    clips = tmp_path / "clips"
    write_clip(clips, "intro", {"drums": impulses(BAR, BAR // 4, amplitude=0.5)}, bpm=120.0)
    d: DaemonProc = make_daemon(extra_config=_config(clips, "JACK"), env={"JACK_DEFAULT_SERVER": jack_server})
    panel = Panel(d)
    before = _live(panel)
    assert before["available"] and not before["open"] and before["status"]["state"] == "closed"
    assert "JACK" in before["reason"] and "opened on the first launch" in before["reason"], before
    with d.client() as c:
        addr, reply = c.request("/mage/live/launch", "l1", "intro", timeout_s=10.0)
        assert addr == "/mage/live/queued" and reply[1] == "intro", (addr, reply)
    _until(panel, lambda data: data["status"]["playing"] == "intro")
    return d, panel


def test_without_an_audio_device_the_route_says_why(make_daemon: Any, tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    write_clip(clips, "intro", {"drums": impulses(BAR, BAR)}, bpm=120.0)
    d: DaemonProc = make_daemon(extra_config=_config(clips, "no-such-interface"),
                                env={"JACK_DEFAULT_SERVER": f"no-such-server-{os.getpid()}"})
    panel = Panel(d)
    status, _, body = panel.request("GET", "/api/live", token=False)
    assert status == 403 and b"xruns" not in body  # the token opens it, as every route
    data = _live(panel)
    assert data["available"] is True and data["open"] is False
    assert data["reason"].startswith("no audio output is open: ") and "no-such-interface" in data["reason"]
    assert "PortAudio sees" in data["reason"], data["reason"]
    st = data["status"]
    assert st["state"] == "closed" and st["playing"] == "" and st["xruns"] == 0 and "device" not in st
    with d.client() as c:  # a launch fails for want of a device; the route still answers, and still says why
        addr, reply = c.request("/mage/live/launch", "l1", "intro")
        assert addr == "/mage/error" and reply[1] == "audio_unavailable", reply
    again = _live(panel)
    assert again["open"] is False and again["reason"] == data["reason"]


def test_a_launched_clip_shows_as_playing_with_its_xruns(make_daemon: Any, jack_server: str, tmp_path: Path) -> None:
    _, panel = _playing(make_daemon, jack_server, tmp_path)
    first = _live(panel)
    st = first["status"]
    assert first["available"] and first["open"] and first["reason"] == ""
    assert st["state"] == "playing" and st["playing"] == "intro" and st["queued"] == ""
    assert type(st["xruns"]) is int and st["xruns"] >= 0
    assert st["bpm"] == 120.0 and st["bar"] >= 1 and st["launches"] == 1
    assert st["device"]["buffer_frames"] == 256 and st["device"]["sample_rate"] == 48000
    assert st["buffer_ms"] == round(256 / 48000 * 1e3, 4)
    cb = st["callback"]
    assert 0.0 < cb["p50_ms"] <= cb["p99_ms"] <= cb["max_ms"]
    later = _until(panel, lambda data: data["status"]["frame"] > st["frame"])  # the clock moves on
    assert later["status"]["callbacks"] > st["callbacks"] and later["status"]["xruns"] >= st["xruns"]


def test_the_view_shows_the_xrun_count(browser: Any, artefacts: Path, make_daemon: Any, jack_server: str,  # noqa: F811
                                       tmp_path: Path) -> None:
    d, panel = _playing(make_daemon, jack_server, tmp_path)
    b = browser
    b.get(d.panel_url)
    _wait(b, lambda x: _css(x, "body").get_attribute("data-ready") == "true", why="the page did not start")
    _css(b, "#tab-live").click()
    _wait(b, lambda x: _css(x, ".live").get_attribute("data-playing") == "intro", why="the view never showed intro")
    shown = _css(b, "#live-xruns").text
    assert shown.isdigit() and shown == _css(b, ".live").get_attribute("data-xruns"), shown
    assert int(shown) <= _live(panel)["status"]["xruns"]  # a count, never ahead of the daemon's
    assert _css(b, "#live-state").text == "playing" and "intro" in _css(b, "#live-playing").text
    assert "p99" in _css(b, "#live-callback").text and "256 frames" in _css(b, "#live-device").text
    first = _css(b, "#live-position").text
    _wait(b, lambda x: _css(x, "#live-position").text != first, why="the view is not refreshed")
    assert not _css(b, "#live-reason").is_displayed()
    _shot(b, artefacts, "live")
