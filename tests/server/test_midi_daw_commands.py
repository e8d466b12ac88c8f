"""MIDI bindings that run the DAW's section tools: a pad press becomes ``/mage/daw/command`` at the DAW script.

A controller cannot see which clip is selected in Live, so the daemon relays ``repaint`` / ``extend`` / ``lego``
with the binding's options to the DAW that reported its context over OSC last. The end-to-end case runs the real
daemon, a JACK dummy server with the daemon's virtual MIDI port, python-rtmidi as the controller, and a bare UDP
socket playing the DAW script.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import mido
import pytest

from mage_bridge.errors import ConfigError
from mage_bridge.server.client import OscClient
from mage_bridge.server.daw import DawClients, DawContext
from mage_bridge.server.midi import MidiMap
from tests.server.conftest import DaemonProc
from tests.server.test_midi_jack import _port

MAP = """
[midi]
input = "virtual"
api = "jack"

[[binding]]
note = 45
action = "extend"
side = "after"
bars = 8

[[binding]]
note = 47
action = "lego"
track = "drums"

[[binding]]
cc = 21
action = "repaint"
"""


# -- the mapping file ------------------------------------------------------------------------------
def test_command_bindings_carry_their_options_in_order() -> None:
    m = MidiMap.from_dict({"binding": [
        {"note": 45, "action": "extend", "bars": 4, "side": "before"},
        {"note": 46, "action": "extend"},
        {"note": 47, "action": "lego", "track": "backing_vocals"},
        {"cc": 21, "action": "repaint", "channel": 2},
    ]})
    extend = m.action_for(mido.Message("note_on", note=45, velocity=90))
    assert extend is not None and extend.name == "extend"
    assert extend.options_json() == '{"side": "before", "bars": 4}'  # side first, whatever the file's order
    plain = m.action_for(mido.Message("note_on", note=46, velocity=90))
    assert plain is not None and plain.options_json() == "{}"  # the DAW script's defaults: after, 8 bars
    lego = m.action_for(mido.Message("note_on", note=47, velocity=90))
    assert lego is not None and json.loads(lego.options_json()) == {"track": "backing_vocals"}
    assert m.action_for(mido.Message("control_change", control=21, value=127, channel=0)) is None
    repaint = m.action_for(mido.Message("control_change", control=21, value=127, channel=1))
    assert repaint is not None and (repaint.name, repaint.options_json()) == ("repaint", "{}")


@pytest.mark.parametrize("binding,match", [
    ({"action": "extend", "side": "later"}, r"binding #1\.side must be 'after' or 'before', got 'later'"),
    ({"action": "extend", "bars": 0}, r"binding #1\.bars must be from 1 to 64, got 0"),
    ({"action": "extend", "bars": 65}, r"binding #1\.bars must be from 1 to 64, got 65"),
    ({"action": "extend", "bars": "eight"}, r"binding #1\.bars must be an integer"),
    ({"action": "extend", "bars": True}, r"binding #1\.bars must be an integer"),
    ({"action": "lego"}, r"binding #1\.track must be one of woodwinds, .*, got None"),
    ({"action": "lego", "track": "kazoo"}, r"binding #1\.track must be one of .*vocals, got 'kazoo'"),
    ({"action": "repaint", "bars": 8}, r"binding #1\.bars: bars is an option of extend bindings, not of repaint"),
    ({"action": "extend", "track": "drums"}, r"binding #1\.track: track is an option of lego bindings"),
    ({"action": "trigger", "slot": 1, "side": "after"}, r"binding #1\.side: side is an option of extend"),
    ({"action": "lego", "track": "drums", "slot": 1}, r"binding #1\.slot: a lego binding acts on the clip"),
    ({"action": "extend", "length": 8}, r"unknown key\(s\) length"),
], ids=["side", "bars-0", "bars-65", "bars-text", "bars-bool", "lego-no-track", "lego-track", "repaint-bars",
        "extend-track", "trigger-side", "lego-slot", "unknown-key"])
def test_bad_command_bindings_fail_when_the_file_loads(tmp_path: Path, binding: dict[str, Any], match: str) -> None:
    body = "[presets.1]\nprompt = \"x\"\n\n[[binding]]\nnote = 45\n" + "".join(
        f"{k} = {json.dumps(v)}\n" for k, v in binding.items())
    path = tmp_path / "map.toml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=match) as e:
        MidiMap.load(path)
    assert str(e.value).startswith(f"{path}: ")  # names the file


def test_the_newest_client_with_an_osc_address_gets_commands() -> None:
    clients = DawClients(limit=8)
    assert clients.latest_connected() is None
    clients.report(DawContext(120.0, 4, 4, 0.0, 100.0, "ableton"), ("127.0.0.1", 9001))
    clients.report(DawContext(120.0, 4, 4, 0.0, 101.0, "reaper"), ("127.0.0.1", 9002))
    clients.report(DawContext(120.0, 4, 4, 0.0, 102.0, "spool-only"), None)  # a spool file: no address
    assert _client_id(clients.latest()) == "spool-only"
    assert _client_id(clients.latest_connected()) == "reaper"
    assert clients.release("reaper", ("127.0.0.1", 9002))  # /mage/daw/bye
    assert _client_id(clients.latest_connected()) == "ableton"


def _client_id(ctx: DawContext | None) -> str | None:
    return ctx.client_id if ctx is not None else None


# -- through the real daemon and real MIDI ports -----------------------------------------------------
def _daw_reports(daw_socket: OscClient, client_id: str) -> None:
    """What Live's remote script does on connecting: ``/mage/daw/context`` with its client id."""
    daw_socket.send("/mage/daw/context", 120.0, 4, 4, 0.0, client_id, "project-1")
    daw_socket.wait_for(lambda a, p: a == "/mage/daw/context/ack", 5.0)


def test_a_pad_relays_the_section_tool_to_the_connected_daw(make_daemon: Any, jack_server: str,
                                                            tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(MAP)
    d: DaemonProc = make_daemon(extra_args=("--midi-map", str(mapping)), env={"JACK_DEFAULT_SERVER": jack_server})
    assert "MIDI: Jack: input 'MAGE Bridge (virtual)'" in d.log(), d.log()

    import rtmidi

    controller = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="controller")
    try:
        controller.open_port(_port(controller, "MAGE Bridge"))
        with OscClient("127.0.0.1", d.port) as sub, OscClient("127.0.0.1", d.port) as live, \
                OscClient("127.0.0.1", d.port) as other:
            sub.send("/mage/subscribe", sub.port)
            sub.wait_for(lambda a, p: a == "/mage/subscribed", 5.0)

            # no DAW yet: the press is refused, as other MIDI failures are, with what to do
            controller.send_message([0x90, 45, 100])
            _, err = sub.wait_for(lambda a, p: a == "/mage/error", 5.0)
            assert err[:2] == ["midi:extend", "not_found"], err
            assert "open Live with the MAGE Bridge control surface" in err[2], err
            assert "MIDI note 45 ch 1: not_found" in d.log()

            _daw_reports(live, "ableton")
            controller.send_message([0x90, 45, 100])
            assert live.wait_for(lambda a, p: a == "/mage/daw/command", 5.0) == (
                "/mage/daw/command", ["extend", '{"side": "after", "bars": 8}'])
            assert sub.wait_for(lambda a, p: a == "/mage/daw/command/sent", 5.0)[1] == ["ableton", "extend"]

            # a DAW that reports later gets the next press; once it says bye, the first one again
            time.sleep(0.01)
            _daw_reports(other, "second-daw")
            controller.send_message([0x90, 47, 100])
            assert other.wait_for(lambda a, p: a == "/mage/daw/command", 5.0)[1] == ["lego", '{"track": "drums"}']
            other.send("/mage/daw/bye", "second-daw")
            other.wait_for(lambda a, p: a == "/mage/daw/released", 5.0)
            controller.send_message([0xB0, 21, 127])
            assert live.wait_for(lambda a, p: a == "/mage/daw/command", 5.0)[1] == ["repaint", "{}"]
            assert other.recv(0.3) is None  # nothing more went to the DAW that left
    finally:
        controller.delete()
