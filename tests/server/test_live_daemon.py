"""The live player in a real daemon: its OSC addresses, the MIDI map's live actions through real JACK MIDI
ports, LEDs, what JACK hears, and a daemon with no audio device that still serves."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mage_bridge.server.client import OscClient
from tests.live.synth import beat_frames, impulses, noise, write_clip
from tests.server.conftest import DaemonProc
from tests.server.test_midi_jack import _port

rtmidi = pytest.importorskip("rtmidi", reason="python-rtmidi is not installed")
pytest.importorskip("jack", reason="JACK-Client is not installed")

BAR = 4 * beat_frames(120.0)

MAP = """
[midi]
input = "virtual"
output = "virtual"
api = "jack"

[midi.led]
queued = 3
playing = 17
off = 0

[[binding]]
note = 48
action = "launch"
slot = 1

[[binding]]
note = 49
action = "launch"
slot = 2

[[binding]]
note = 41
action = "next"

[[binding]]
note = 40
action = "previous"

[[binding]]
note = 42
action = "stop"

[[binding]]
cc = 21
action = "crossfade"
beats = 8

[[binding]]
note = 50
action = "tempo"
step_bpm = 2.0
"""


def live_config(clips: Path, device: str, clock: str = "internal") -> str:
    return (f'[live]\ndevice = "{device}"\nbuffer_frames = 256\nclips_dirs = ["{clips}"]\ncrossfade_beats = 0\n'
            f'clock = "{clock}"\n')


def state(c: OscClient, req_id: str = "s") -> dict[str, Any]:
    addr, reply = c.request("/mage/live/status", req_id, timeout_s=5.0)
    assert addr == "/mage/live/state" and reply[0] == req_id, (addr, reply)
    return json.loads(reply[8])


def test_the_midi_map_drives_the_player(make_daemon: Any, jack_server: str, tmp_path: Path,
                                        rng: np.random.Generator) -> None:
    from tests.live.capture import Capture

    clips = tmp_path / "clips"
    write_clip(clips, "intro", {"drums": impulses(BAR, BAR // 4, amplitude=0.5)}, bpm=120.0)
    write_clip(clips, "verse", {"other": noise(BAR, rng, rms=0.1), "drums": impulses(BAR, BAR // 4)}, bpm=120.0)
    mapping = tmp_path / "map.toml"
    mapping.write_text(MAP)
    d: DaemonProc = make_daemon(extra_args=("--midi-map", str(mapping)), extra_config=live_config(clips, "JACK"),
                                env={"JACK_DEFAULT_SERVER": jack_server})
    assert "live player: output 'system' (JACK Audio Connection Kit)" in d.log(), d.log()
    controller = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="controller")
    pads = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="pads")
    capture = None
    try:
        controller.open_port(_port(controller, "MAGE Bridge", exclude="LEDs"))
        pads.open_port(_port(pads, "MAGE Bridge LEDs"))
        with OscClient("127.0.0.1", d.port) as sub:
            sub.send("/mage/subscribe", sub.port)
            sub.wait_for(lambda a, p: a == "/mage/subscribed", 5.0)
            addr, reply = sub.request("/mage/live/order", "o1", '["intro", "verse"]')
            assert addr == "/mage/live/state" and json.loads(reply[8])["order"] == ["intro", "verse"]

            controller.send_message([0x90, 48, 100])  # pad 48: launch slot 1
            assert sub.wait_for(lambda a, p: a == "/mage/live/queued", 10.0)[1] == ["midi:launch:1", "intro", 1]
            assert sub.wait_for(lambda a, p: a == "/mage/live/playing", 20.0)[1][:2] == ["intro", 1]
            capture = Capture()
            capture.wait(0.5)
            heard_intro = capture.heard().copy()

            controller.send_message([0xB0, 21, 64])  # the crossfade CC half way: 4 of 8 beats
            controller.send_message([0x90, 50, 100])  # tempo +2 BPM
            time.sleep(0.3)
            st = state(sub)
            assert st["crossfade_beats"] == pytest.approx(8 * 64 / 127) and st["bpm"] == pytest.approx(122.0)

            controller.send_message([0x90, 41, 100])  # next: verse
            assert sub.wait_for(lambda a, p: a == "/mage/live/playing", 20.0)[1][:2] == ["verse", 2]
            controller.send_message([0x90, 40, 100])  # previous: intro again
            assert sub.wait_for(lambda a, p: a == "/mage/live/playing", 20.0)[1][:2] == ["intro", 1]
            controller.send_message([0x90, 42, 100])  # stop, on the next bar
            sub.wait_for(lambda a, p: a == "/mage/live/stopped", 10.0)
            time.sleep(0.1)
            capture.wait(0.3)
            tail = capture.heard()[-int(0.2 * capture.rate):]
            st = state(sub)
            assert st["state"] == "stopped" and st["launches"] == 3 and "xruns" in st
        assert np.max(np.abs(heard_intro)) == pytest.approx(0.5, abs=0.01)  # the intro's clicks, as written
        assert not tail.any()  # silence after the stop
        time.sleep(0.2)
        leds = []
        while (msg := pads.get_message()) is not None:
            leds.append(msg[0])
        assert [m for m in leds if m[1] in (48, 49)] == [
            [0x90, 48, 3], [0x90, 48, 17],  # slot 1 queued, playing
            [0x90, 49, 3], [0x90, 48, 0], [0x90, 49, 17],  # next: slot 2 queued, 1 off, 2 playing
            [0x90, 48, 3], [0x90, 49, 0], [0x90, 48, 17],  # previous
            [0x90, 48, 0],  # stopped
        ], leds
    finally:
        if capture is not None:
            capture.close()
        controller.delete()
        pads.delete()


def test_without_an_audio_device_the_daemon_says_so_and_still_serves(make_daemon: Any, tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    write_clip(clips, "intro", {"drums": impulses(BAR, BAR)}, bpm=120.0)
    d: DaemonProc = make_daemon(extra_config=live_config(clips, "no-such-interface", clock="daw"),
                                env={"JACK_DEFAULT_SERVER": f"no-such-server-{os.getpid()}"})
    assert "live player: no" in d.log(), d.log()
    with d.client() as c:
        addr, reply = c.request("/mage/live/launch", "l1", "intro")
        assert addr == "/mage/error" and reply[:2] == ["l1", "audio_unavailable"], reply
        assert "no-such-interface" in reply[2] and "PortAudio sees" in reply[2], reply[2]
        c.ping()
        st = state(c)
        assert st["state"] == "closed" and st["playing"] == ""
        addr, reply = c.request("/mage/live/launch", "l2", "no-such-clip")  # named before any device is tried
        assert reply[:2] == ["l2", "not_found"] and "no-such-clip" in reply[2]
        # live.clock = "daw": the player takes the DAW's tempo and metre
        assert c.request("/mage/daw/context", 97.5, 3, 4, 0.0)[0] == "/mage/daw/context/ack"
        st = state(c)
        assert (st["bpm"], st["beats_per_bar"], st["clock"]) == (97.5, 3.0, "daw")
        addr, reply = c.request("/mage/live/tempo", "t1", 100.0)  # a tempo of its own is still allowed
        assert addr == "/mage/live/state" and reply[4] == pytest.approx(100.0)
