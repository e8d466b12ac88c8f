"""The MIDI door through real ports: a JACK dummy server, the daemon's virtual port, a controller client."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from mage_bridge.server.client import OscClient
from tests.server.conftest import DaemonProc, wait_end

rtmidi = pytest.importorskip("rtmidi", reason="python-rtmidi is not installed")

MAP = """
[midi]
input = "virtual"
output = "virtual"
api = "jack"

[midi.led]
queued = 11
running = 22
done = 33
failed = 44

[[binding]]
note = 36
action = "trigger"
slot = 1

[[binding]]
cc = 20
action = "cancel"

[[binding]]
note = 42
action = "next"

[presets.1]
kind = "sleep"
prompt = "test preset"
options = { seconds = 0.3, steps = 3 }

[presets.2]
kind = "sleep"
prompt = "long test preset"
options = { seconds = 30, steps = 30 }

[[binding]]
program = 7
action = "trigger"
slot = 2
"""


def _port(port: Any, wanted: str, exclude: str | None = None, timeout_s: float = 10.0) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for i, name in enumerate(port.get_ports()):
            if wanted in name and (exclude is None or exclude not in name):
                return i
        time.sleep(0.05)
    raise AssertionError(f"no port {wanted!r} among {port.get_ports()}")


def test_a_controller_triggers_presets_through_the_virtual_port(make_daemon: Any, jack_server: str,
                                                                tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(MAP)
    d: DaemonProc = make_daemon(extra_args=("--midi-map", str(mapping)), env={"JACK_DEFAULT_SERVER": jack_server})
    assert "MIDI: Jack: input 'MAGE Bridge (virtual)'" in d.log(), d.log()

    controller = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="controller")
    leds = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="pads")
    try:
        controller.open_port(_port(controller, "MAGE Bridge", exclude="LEDs"))
        leds.open_port(_port(leds, "MAGE Bridge LEDs"))
        with OscClient("127.0.0.1", d.port) as sub:
            sub.send("/mage/subscribe", sub.port)
            sub.wait_for(lambda a, p: a == "/mage/subscribed", 5.0)

            controller.send_message([0x90, 36, 100])  # pad 36 -> slot 1
            addr, acc = sub.wait_for(lambda a, p: a == "/mage/job/accepted", 10.0)
            assert acc[0] == "trigger:1"
            assert wait_end(sub, acc[1], 15.0)[0] == "/mage/job/done"

            controller.send_message([0x90, 42, 100])  # the live player's "next", with no order set
            addr, err = sub.wait_for(lambda a, p: a == "/mage/error", 5.0)
            assert err[:2] == ["midi:next", "invalid_input"] and "no order is set" in err[2]

            controller.send_message([0xC0, 7])  # program change 7 -> slot 2 (a long job)
            _, acc2 = sub.wait_for(lambda a, p: a == "/mage/job/accepted", 10.0)
            sub.wait_for(lambda a, p: a == "/mage/job/progress" and p[:2] == [acc2[1], "sleep"], 10.0)
            controller.send_message([0xB0, 20, 127])  # CC 20 -> cancel the newest triggered job
            addr, end = wait_end(sub, acc2[1], 10.0)
            assert (addr, end[1]) == ("/mage/job/failed", "cancelled")

        time.sleep(0.2)
        got = []
        while (msg := leds.get_message()) is not None:
            got.append(msg[0])
        assert [m for m in got if m[1] == 36] == [[0x90, 36, 11], [0x90, 36, 22], [0x90, 36, 33]], got
    finally:
        controller.delete()
        leds.delete()


def test_without_midi_the_daemon_starts_and_says_so(make_daemon: Any, tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(MAP)
    d: DaemonProc = make_daemon(extra_args=("--midi-map", str(mapping)),
                                env={"JACK_DEFAULT_SERVER": f"no-such-server-{os.getpid()}"})
    log = d.log()
    assert "MIDI is unavailable" in log and "JACK" in log
    with d.client() as c:  # presets still run over OSC
        c.send("/mage/trigger", 1)
        addr, acc = c.wait_for(lambda a, p: a == "/mage/job/accepted", 5.0)
        assert acc[0] == "trigger:1"
        assert wait_end(c, acc[1], 15.0)[0] == "/mage/job/done"
