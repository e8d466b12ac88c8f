"""The MIDI mapping on its own: mido messages in, actions out."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from mage_bridge.errors import ConfigError
from mage_bridge.server.midi import ACTIONS, MidiMap

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "midi-map.example.toml"


@pytest.fixture
def mapping() -> MidiMap:
    return MidiMap.from_dict({
        "midi": {"channel": 0},
        "binding": [
            {"note": 36, "action": "trigger", "slot": 1},
            {"note": 38, "action": "trigger", "slot": 2, "channel": 10},
            {"cc": 20, "action": "cancel"},
            {"program": 5, "action": "trigger", "slot": 2},
            {"note": 42, "action": "stop"},
        ],
        "presets": {"1": {"prompt": "house"}, "2": {"prompt": "techno", "led": 99, "options": {"bpm": 130}}},
    })


def test_notes_fire_on_note_on_only(mapping: MidiMap) -> None:
    a = mapping.action_for(mido.Message("note_on", note=36, velocity=100))
    assert a is not None and (a.name, a.slot, a.note) == ("trigger", 1, 36)
    assert mapping.action_for(mido.Message("note_on", note=36, velocity=0)) is None  # a note-off in disguise
    assert mapping.action_for(mido.Message("note_off", note=36)) is None
    assert mapping.action_for(mido.Message("note_on", note=50, velocity=100)) is None


def test_binding_channel_filter(mapping: MidiMap) -> None:
    assert mapping.action_for(mido.Message("note_on", note=38, velocity=1, channel=0)) is None
    a = mapping.action_for(mido.Message("note_on", note=38, velocity=1, channel=9))
    assert a is not None and a.slot == 2


def test_cc_fires_on_the_rising_edge(mapping: MidiMap) -> None:
    values = [0, 70, 100, 127, 10, 64]
    fired = [mapping.action_for(mido.Message("control_change", control=20, value=v)) is not None for v in values]
    assert fired == [False, True, False, False, False, True]


def test_program_change_and_live_actions(mapping: MidiMap) -> None:
    a = mapping.action_for(mido.Message("program_change", program=5))
    assert a is not None and (a.name, a.slot) == ("trigger", 2)
    b = mapping.action_for(mido.Message("note_on", note=42, velocity=9))
    assert b is not None and b.name == "stop"
    assert mapping.action_for(mido.Message("clock")) is None


def test_presets_and_leds(mapping: MidiMap) -> None:
    assert mapping.presets[2].options == {"bpm": 130}
    assert mapping.led_note(1) == 36 and mapping.led_note(2) == 99 and mapping.led_note(7) is None


@pytest.mark.parametrize("raw,match", [
    ({"binding": [{"note": 1, "action": "trigger", "slot": 3}]}, "no \\[presets.3\\]"),
    ({"binding": [{"note": 1, "cc": 2, "action": "cancel"}]}, "exactly one"),
    ({"binding": [{"note": 200, "action": "cancel"}]}, "from 0 to 127"),
    ({"binding": [{"note": 1, "action": "explode"}]}, "action must be"),
    ({"presets": {"1": {"prompt": ""}}}, "prompt"),
    ({"midi": {"api": "coreaudio"}}, "midi.api"),
    ({"bogus": {}}, "unknown section"),
], ids=["missing-preset", "two-controls", "range", "unknown-action", "empty-prompt", "api", "section"])
def test_bad_mappings_name_the_problem(raw: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MidiMap.from_dict(raw)


def test_the_documented_example_loads() -> None:
    m = MidiMap.load(EXAMPLE)
    assert set(m.presets) == {1, 2}
    commands = {(b.action, b.options) for b in m.bindings if b.action in ("repaint", "extend", "lego")}
    assert commands == {("repaint", ()), ("extend", (("side", "after"), ("bars", 8))),
                        ("extend", (("side", "before"), ("bars", 4))), ("lego", (("track", "drums"),))}
    assert {b.action for b in m.bindings} == set(ACTIONS)


def test_live_bindings() -> None:
    m = MidiMap.from_dict({"binding": [
        {"note": 48, "action": "launch", "slot": 1},
        {"cc": 21, "action": "crossfade", "beats": 8},
        {"note": 50, "action": "tempo", "step_bpm": -0.5},
    ]})
    launch = m.action_for(mido.Message("note_on", note=48, velocity=90))
    assert launch is not None and (launch.name, launch.slot) == ("launch", 1) and m.launch_note(1) == 48
    # a crossfade CC fires on every move, with its value (not only on a press)
    values = [m.action_for(mido.Message("control_change", control=21, value=v)) for v in (0, 30, 31, 127, 5)]
    assert [(a.name, a.value, dict(a.options)) for a in values if a is not None] == [
        ("crossfade", v, {"beats": 8.0}) for v in (0, 30, 31, 127, 5)]
    tempo = m.action_for(mido.Message("note_on", note=50, velocity=1))
    assert tempo is not None and dict(tempo.options) == {"step_bpm": -0.5}


@pytest.mark.parametrize("binding,match", [
    ({"note": 1, "action": "launch"}, "needs a slot"),
    ({"note": 1, "action": "tempo", "step_bpm": 0}, "not 0"),
    ({"cc": 1, "action": "crossfade", "beats": 100}, "from 0 to 64"),
    ({"note": 1, "action": "next", "beats": 4}, "option of crossfade bindings"),
    ({"program": 1, "action": "crossfade"}, "takes a cc"),
], ids=["launch-no-slot", "tempo-zero", "crossfade-too-long", "beats-on-next", "crossfade-program"])
def test_bad_live_bindings(binding: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MidiMap.from_dict({"binding": [binding]})
