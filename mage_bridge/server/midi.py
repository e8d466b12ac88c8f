"""The MIDI door: a TOML mapping file binds notes, CCs and program changes to actions.

:class:`MidiMap` is pure (mido messages in, :class:`Action` out) and also holds
the presets that ``/mage/trigger i:slot`` runs. :class:`MidiDoor` opens the
real ports through python-rtmidi: a named input port, or a virtual port called
``MAGE Bridge`` where the MIDI API supports one (ALSA, JACK), plus an optional
output for LED feedback. :class:`MidiActions` is the part of the daemon that runs
what they ask for: a preset (also ``/mage/trigger``), a cancel, a section tool of the DAW
(``repaint``, ``extend``, ``lego`` of the clip selected there, relayed to the DAW script as
``/mage/daw/command``), the live player's actions (``launch`` a slot, ``next``, ``previous``,
``stop``, ``crossfade`` length from a CC, ``tempo`` nudge; run by :mod:`.live_door`), LEDs that follow
the job a pad started and the slot that plays. See ``docs/midi-map.example.toml`` for the format.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mage_bridge.edits import TRACK_NAMES
from mage_bridge.errors import ConfigError, MageError
from mage_bridge.server import osc
from mage_bridge.server.daw import DAW_COMMANDS, DawClients
from mage_bridge.server.jobs import Job, JobStore
from mage_bridge.server.kinds import TEST_JOB_KINDS, test_jobs_enabled
from mage_bridge.server.live_door import LIVE_ACTIONS
from mage_bridge.server.osc import Addr, Arg, Request, RequestError
from mage_bridge.server.requests import client_key
from mage_bridge.server.security import PATH_OPTION
from mage_bridge.server.subscribers import Subscribers

log = logging.getLogger("mage_bridge.server.midi")

PORT_NAME = "MAGE Bridge"
LED_PORT_NAME = "MAGE Bridge LEDs"

#: Actions a binding may name.
ACTIONS = ("trigger", "cancel", *DAW_COMMANDS, *LIVE_ACTIONS)
#: Live actions a CC drives with its value (every move, not only a press): the crossfade length.
CONTINUOUS_ACTIONS = ("crossfade",)
#: The most beats a ``crossfade`` binding may set, and the most BPM a ``tempo`` nudge may step.
MAX_CROSSFADE_BEATS = 64.0
MAX_STEP_BPM = 50.0
#: The keys a binding of each DAW command may carry; they become the command's options, in this order.
COMMAND_KEYS: dict[str, tuple[str, ...]] = {"repaint": (), "extend": ("side", "bars"), "lego": ("track",)}
EXTEND_SIDES = ("after", "before")
#: The most bars an ``extend`` binding may ask for (what the Live script accepts).
MAX_EXTEND_BARS = 64

#: LED velocity per job state, and per state of a live slot (queued, playing, off); many pad controllers
#: map velocity to a colour.
DEFAULT_LED = {"queued": 1, "running": 5, "done": 21, "failed": 60, "playing": 17, "off": 0}
#: How many preset jobs a MIDI ``cancel`` looks back over.
SLOT_JOBS_KEPT = 256


class MidiUnavailableError(MageError):
    """No MIDI API can open the ports here (no ALSA sequencer, no JACK server...)."""

    code = "midi_unavailable"


@dataclass(frozen=True)
class Preset:
    """What a trigger slot runs: a job kind (``generate``), its prompt and options."""

    slot: int
    prompt: str
    kind: str = "generate"
    lyrics: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    led: int | None = None


@dataclass(frozen=True)
class Binding:
    """One control -> one action. Exactly one of ``note``, ``cc``, ``program`` is set."""

    action: str
    note: int | None = None
    cc: int | None = None
    program: int | None = None
    channel: int = 0  # 1-16, or 0 for the map's channel
    slot: int | None = None
    #: A DAW command's options (``side``, ``bars``, ``track``) as (key, value) pairs, in :data:`COMMAND_KEYS` order.
    options: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Action:
    """What a MIDI message asks for; ``control`` says which control sent it (for LEDs and logs)."""

    name: str
    slot: int | None
    control: str
    note: int | None = None
    options: tuple[tuple[str, Any], ...] = ()
    #: A continuous control's value (0-127): the CC that sets the crossfade length.
    value: int | None = None

    def options_json(self) -> str:
        """The options of a DAW command as the ``s:options_json`` of ``/mage/daw/command``."""
        return json.dumps(dict(self.options))


class MidiMap:
    """Bindings, presets and port settings read from a mapping file."""

    def __init__(self, *, bindings: tuple[Binding, ...] = (), presets: dict[int, Preset] | None = None,
                 input_port: str = "virtual", output_port: str = "", api: str = "auto",
                 channel: int = 0, led: dict[str, int] | None = None) -> None:
        self.bindings = bindings
        self.presets = dict(presets or {})
        self.input_port = input_port
        self.output_port = output_port
        self.api = api
        self.channel = channel
        self.led = {**DEFAULT_LED, **(led or {})}
        self._cc_high: dict[tuple[int, int], bool] = {}

    @classmethod
    def load(cls, path: Path) -> MidiMap:
        """Read and check a mapping file; :class:`ConfigError` names the file and the entry."""
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"cannot read MIDI mapping file {str(path)!r}: {e.strerror or e}") from e
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot parse MIDI mapping file {str(path)!r}: {e}") from e
        return cls.from_dict(raw, where=str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], *, where: str = "mapping") -> MidiMap:
        unknown = sorted(set(raw) - {"midi", "binding", "presets"})
        if unknown:
            raise ConfigError(f"{where}: unknown section(s) {', '.join(unknown)}")
        midi = raw.get("midi", {})
        _check_keys(midi, {"input", "output", "api", "channel", "led"}, f"{where}: [midi]")
        channel = _int(midi.get("channel", 0), 0, 16, f"{where}: midi.channel")
        api = str(midi.get("api", "auto"))
        if api not in ("auto", "alsa", "jack"):
            raise ConfigError(f"{where}: midi.api must be 'auto', 'alsa' or 'jack', got {api!r}")
        led = {}
        for state, value in dict(midi.get("led", {})).items():
            if state not in DEFAULT_LED:
                raise ConfigError(f"{where}: midi.led.{state} is not a job or slot state ({', '.join(DEFAULT_LED)})")
            led[state] = _int(value, 0, 127, f"{where}: midi.led.{state}")
        presets = {}
        for key, body in dict(raw.get("presets", {})).items():
            slot = _int(key, 0, 127, f"{where}: presets.{key} (the slot number)")
            presets[slot] = _preset(slot, body, f"{where}: presets.{key}")
        bindings = tuple(_binding(b, f"{where}: binding #{i + 1}") for i, b in enumerate(raw.get("binding", [])))
        for b in bindings:
            if b.action == "trigger" and b.slot not in presets:
                raise ConfigError(f"{where}: a binding triggers slot {b.slot}, but there is no [presets.{b.slot}]")
        return cls(bindings=bindings, presets=presets, input_port=str(midi.get("input", "virtual")),
                   output_port=str(midi.get("output", "")), api=api, channel=channel, led=led)

    def action_for(self, msg: Any) -> Action | None:
        """The action a mido message asks for, or ``None``.

        Note-ons with velocity > 0 fire; a CC fires when its value rises to 64
        or more (a button's press, not its release or every step of a knob).
        """
        kind = getattr(msg, "type", None)
        if kind == "note_on" and msg.velocity > 0:
            key, value, label = "note", msg.note, f"note {msg.note}"
        elif kind == "control_change":
            for b in self.bindings:
                if b.cc == msg.control and b.action in CONTINUOUS_ACTIONS and self._on_channel(b, msg):
                    return Action(b.action, b.slot, f"cc {msg.control} ch {msg.channel + 1}", options=b.options,
                                  value=msg.value)
            state_key = (msg.channel, msg.control)
            was_high = self._cc_high.get(state_key, False)
            high = msg.value >= 64
            self._cc_high[state_key] = high
            if not high or was_high:
                return None
            key, value, label = "cc", msg.control, f"cc {msg.control}"
        elif kind == "program_change":
            key, value, label = "program", msg.program, f"program {msg.program}"
        else:
            return None
        for b in self.bindings:
            if getattr(b, key) == value and self._on_channel(b, msg):
                return Action(b.action, b.slot, f"{label} ch {msg.channel + 1}", note=b.note, options=b.options)
        return None

    def _on_channel(self, b: Binding, msg: Any) -> bool:
        wanted = b.channel or self.channel
        return not wanted or msg.channel == wanted - 1

    def launch_note(self, slot: int) -> int | None:
        """The note of the pad that launches live slot ``slot``: it shows queued and playing."""
        return next((b.note for b in self.bindings if b.action == "launch" and b.slot == slot and b.note is not None),
                    None)

    def led_note(self, slot: int) -> int | None:
        """Which note lights up for ``slot``: the preset's ``led``, else the note bound to it."""
        preset = self.presets.get(slot)
        if preset is not None and preset.led is not None:
            return preset.led
        for b in self.bindings:
            if b.action == "trigger" and b.slot == slot and b.note is not None:
                return b.note
        return None


def _check_keys(table: Any, allowed: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table, got {table!r}")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")


def _int(value: Any, lo: int, hi: int, where: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        n = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be an integer from {lo} to {hi}, got {value!r}") from None
    if not lo <= n <= hi:
        raise ConfigError(f"{where} must be from {lo} to {hi}, got {n}")
    return n


def _preset(slot: int, body: Any, where: str) -> Preset:
    _check_keys(body, {"prompt", "kind", "lyrics", "options", "led"}, where)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ConfigError(f"{where}.prompt must be a non-empty string, got {prompt!r}")
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{where}.options must be a table, got {options!r}")
    for key, value in options.items():
        # Options that name files are checked again by the daemon's guard on every trigger
        # (security.RequestPolicy); here only their form, so a bad mapping file fails at start.
        if (key == "plugins" or PATH_OPTION.search(key)) and (
                not isinstance(value, str) or not value or "\x00" in value):
            raise ConfigError(f"{where}.options.{key} must be a path (a non-empty string), got {value!r}")
    lyrics = body.get("lyrics")
    if lyrics is not None and not isinstance(lyrics, str):
        raise ConfigError(f"{where}.lyrics must be a string, got {lyrics!r}")
    led = _int(body["led"], 0, 127, f"{where}.led") if "led" in body else None
    return Preset(slot, prompt, str(body.get("kind", "generate")), lyrics, dict(options), led)


def _binding(body: Any, where: str) -> Binding:
    _check_keys(body, {"note", "cc", "program", "channel", "action", "slot", "side", "bars", "track", "beats",
                       "step_bpm"}, where)
    controls = [k for k in ("note", "cc", "program") if k in body]
    if len(controls) != 1:
        raise ConfigError(f"{where} needs exactly one of note, cc, program; got {controls or 'none'}")
    action = body.get("action")
    if action not in ACTIONS:
        raise ConfigError(f"{where}: action must be one of {', '.join(ACTIONS)}, got {action!r}")
    slot = _int(body["slot"], 0, 127, f"{where}.slot") if "slot" in body else None
    if action in ("trigger", "launch") and slot is None:
        raise ConfigError(f"{where}: a {action} binding needs a slot")
    if action in CONTINUOUS_ACTIONS and "program" in body:
        raise ConfigError(f"{where}: a {action} binding takes a cc (its value sets the length) or a note")
    ctl = controls[0]
    options = _command_options(action, body, where) + _live_options(action, body, where)
    return Binding(action=action, slot=slot, channel=_int(body.get("channel", 0), 0, 16, f"{where}.channel"),
                   options=options, **{ctl: _int(body[ctl], 0, 127, f"{where}.{ctl}")})


def _live_options(action: str, body: dict[str, Any], where: str) -> tuple[tuple[str, Any], ...]:
    """``beats`` of a crossfade binding (a CC's full travel, or a note's fixed length) and ``step_bpm`` of
    a tempo nudge."""
    for key, owner in (("beats", "crossfade"), ("step_bpm", "tempo")):
        if key in body and action != owner:
            raise ConfigError(f"{where}.{key}: {key} is an option of {owner} bindings, not of {action}")
    if action == "crossfade" and "beats" in body:
        beats = _number(body["beats"], f"{where}.beats")
        if not 0 <= beats <= MAX_CROSSFADE_BEATS:
            raise ConfigError(f"{where}.beats must be from 0 to {MAX_CROSSFADE_BEATS:g}, got {beats:g}")
        return (("beats", beats),)
    if action == "tempo":
        step = _number(body.get("step_bpm", 1.0), f"{where}.step_bpm")
        if step == 0 or abs(step) > MAX_STEP_BPM:
            raise ConfigError(f"{where}.step_bpm must be from -{MAX_STEP_BPM:g} to {MAX_STEP_BPM:g} and not 0, "
                              f"got {step:g}")
        return (("step_bpm", step),)
    return ()


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    return float(value)


def _command_options(action: str, body: dict[str, Any], where: str) -> tuple[tuple[str, Any], ...]:
    """The options a DAW command binding carries, checked as the DAW script checks them, so a mapping file
    that would make Live answer "nothing sent" fails when the daemon starts."""
    allowed = COMMAND_KEYS.get(action, ())
    for key in ("side", "bars", "track"):
        if key in body and key not in allowed:
            owner = next(a for a, keys in COMMAND_KEYS.items() if key in keys)
            raise ConfigError(f"{where}.{key}: {key} is an option of {owner} bindings, not of {action}")
    if action in COMMAND_KEYS and "slot" in body:
        raise ConfigError(f"{where}.slot: a {action} binding acts on the clip selected in the DAW, not on a slot")
    options: list[tuple[str, Any]] = []
    if "side" in body:
        side = body["side"]
        if side not in EXTEND_SIDES:
            raise ConfigError(f"{where}.side must be 'after' or 'before', got {side!r}")
        options.append(("side", side))
    if "bars" in body:
        options.append(("bars", _int(body["bars"], 1, MAX_EXTEND_BARS, f"{where}.bars")))
    if action == "lego":
        track = body.get("track")
        if track not in TRACK_NAMES:
            raise ConfigError(f"{where}.track must be one of {', '.join(TRACK_NAMES)}, got {track!r}")
        options.append(("track", track))
    return tuple(options)


class MidiDoor:
    """Real MIDI ports through python-rtmidi, feeding :meth:`MidiMap.action_for`.

    ``on_action`` is called from rtmidi's thread; the daemon hands it to its
    event loop. :meth:`open` raises :class:`MidiUnavailableError` with every
    API it tried and why each failed.
    """

    def __init__(self, midi_map: MidiMap, on_action: Callable[[Action], None]) -> None:
        self.map = midi_map
        self._on_action = on_action
        self._in: Any = None
        self._out: Any = None
        self.description = "closed"

    def open(self) -> str:
        try:
            import rtmidi
        except ImportError as e:
            raise MidiUnavailableError(f"python-rtmidi is not installed (pip install python-rtmidi): {e}") from e
        names = {"alsa": rtmidi.API_LINUX_ALSA, "jack": rtmidi.API_UNIX_JACK}
        compiled = rtmidi.get_compiled_api()
        wanted = [names[self.map.api]] if self.map.api in names else [
            a for a in compiled if a not in (rtmidi.API_RTMIDI_DUMMY,)]
        tried = []
        for api in wanted:
            label = rtmidi.get_api_display_name(api)
            if api not in compiled:
                tried.append(f"{label}: not compiled into python-rtmidi")
                continue
            try:
                self._in, in_name = self._open_in(rtmidi, api)
            except Exception as e:  # rtmidi raises its own errors and SystemError
                tried.append(f"{label}: {e}")
                self._close_quietly()
                continue
            out_name = "no LED feedback"
            if self.map.output_port:
                try:
                    self._out, out_name = self._open_out(rtmidi, api)
                except Exception as e:
                    out_name = f"LED output unavailable ({e})"
            self.description = f"{label}: input {in_name!r}, {out_name}"
            return self.description
        raise MidiUnavailableError("MIDI is unavailable: " + "; ".join(tried or ["no MIDI API compiled in"]))

    def _open_in(self, rtmidi: Any, api: int) -> tuple[Any, str]:
        if self.map.input_port in ("", "virtual") and api == getattr(rtmidi, "API_WINDOWS_MM", None):
            raise MidiUnavailableError("Windows has no virtual MIDI ports: create one with a loopback driver "
                                       "(loopMIDI) or use the controller's own port, and name it in the "
                                       "mapping file's [midi] input")
        midi_in = rtmidi.MidiIn(rtapi=api, name=PORT_NAME)
        try:
            if self.map.input_port in ("", "virtual"):
                midi_in.open_virtual_port(PORT_NAME)
                name = PORT_NAME + " (virtual)"
            else:
                name = _find_port(midi_in, self.map.input_port)
                midi_in.open_port(midi_in.get_ports().index(name))
            midi_in.ignore_types(sysex=True, timing=True, active_sense=True)
            midi_in.set_callback(self._callback)
        except Exception:
            midi_in.delete()
            raise
        return midi_in, name

    def _open_out(self, rtmidi: Any, api: int) -> tuple[Any, str]:
        midi_out = rtmidi.MidiOut(rtapi=api, name=LED_PORT_NAME)
        try:
            if self.map.output_port == "virtual":
                midi_out.open_virtual_port(LED_PORT_NAME)
                name = LED_PORT_NAME + " (virtual)"
            else:
                name = _find_port(midi_out, self.map.output_port)
                midi_out.open_port(midi_out.get_ports().index(name))
        except Exception:
            midi_out.delete()
            raise
        return midi_out, f"LED output {name!r}"

    def _callback(self, event: tuple[list[int], float], data: object = None) -> None:
        import mido

        try:
            msg = mido.Message.from_bytes(event[0])
        except (ValueError, TypeError):
            return
        try:
            action = self.map.action_for(msg)
            if action is not None:
                self._on_action(action)
        except Exception:  # never let an exception escape into rtmidi's thread
            log.exception("MIDI message %s could not be handled", msg)

    def led(self, note: int, state: str, channel: int = 0) -> None:
        """Note-on ``note`` with the velocity configured for ``state`` (no-op without an output)."""
        if self._out is None or state not in self.map.led:
            return
        try:
            self._out.send_message([0x90 | (channel & 0x0F), note & 0x7F, self.map.led[state] & 0x7F])
        except Exception as e:
            log.warning("LED feedback failed: %s", e)

    def _close_quietly(self) -> None:
        for port in (self._in, self._out):
            if port is not None:
                try:
                    port.close_port()
                    port.delete()
                except Exception:
                    pass
        self._in = self._out = None

    def close(self) -> None:
        self._close_quietly()
        self.description = "closed"


def _find_port(port: Any, wanted: str) -> str:
    names = port.get_ports()
    for name in names:
        if wanted == name or wanted in name:
            return name
    raise MidiUnavailableError(f"no MIDI port matches {wanted!r}; ports here: {', '.join(names) or 'none'}")


class MidiActions:
    """Presets, MIDI actions and LEDs; mixed into the daemon, which provides the attributes below."""

    midi_map: MidiMap | None
    _door: MidiDoor | None
    _loop: asyncio.AbstractEventLoop | None
    _store: JobStore | None
    _subscribers: Subscribers
    daw_clients: DawClients
    #: Jobs that presets started, oldest first: (job id, slot).
    _slot_jobs: list[tuple[str, int]]
    #: The note that shows each preset job's state.
    _leds: dict[str, int]

    if TYPE_CHECKING:  # provided by the daemon
        def _send(self, addr: Addr, data: bytes) -> None: ...
        def live_action(self, action: Action, req_id: str) -> None: ...
        def _job_params(self, options: dict[str, Any], req_id: str, *, daw_tag: dict[str, Any] | None = None,
                        **params: Any) -> dict[str, Any]: ...
        def _for_project(self, params: dict[str, Any]) -> None: ...
        def _submit(self, kind: str, params: dict[str, Any], req_id: str, addr: Addr | None, *, client: str,
                    source: str = "osc", slot: int | None = None) -> Job: ...
        def cancel(self, job_id: str, addr: Addr | None) -> Job: ...
        def relay_daw_command(self, client_id: str, command: str, options_json: str = "{}") -> None: ...

    def _open_midi(self) -> None:
        if self.midi_map is None:
            log.info("MIDI: no mapping file (server.midi_map / serve --midi-map); the MIDI door stays closed")
            return
        door = MidiDoor(self.midi_map, self._midi_from_thread)
        try:
            log.info("MIDI: %s", door.open())
            self._door = door
        except MidiUnavailableError as e:
            log.warning("%s; the daemon runs without MIDI (OSC /mage/trigger still runs presets)", e)

    @osc.handles("/mage/trigger", Arg("slot", "i"), id_arg=None,
                 answer='/mage/job/accepted s:"trigger:<slot>" s:job_id')
    def _trigger(self, req: Request, addr: Addr) -> None:
        self.trigger(req.args["slot"], addr, source="osc")

    def trigger(self, slot: int, addr: Addr | None, *, source: str) -> Job:
        """Run the preset of ``slot`` from the mapping file."""
        req_id = f"trigger:{slot}"
        preset = self.midi_map.presets.get(slot) if self.midi_map else None
        if preset is None:
            where = "no mapping file is loaded" if self.midi_map is None else \
                f"the mapping file has slots {sorted(self.midi_map.presets) or 'none'}"
            raise RequestError("not_found", f"no preset in slot {slot}: {where}", req_id)
        options = dict(preset.options)
        if preset.kind == "generate":
            params = self._job_params(options, req_id, prompt=preset.prompt, lyrics=preset.lyrics)
            self._for_project(params)
        elif preset.kind in TEST_JOB_KINDS and test_jobs_enabled():
            params = self._job_params(options, req_id)
        else:
            raise RequestError("not_available", f"a preset of kind {preset.kind!r} cannot be triggered: "
                               "a preset generates (it names no input audio)", req_id)
        return self._submit(preset.kind, params, req_id, addr, client=client_key(addr) if addr else source,
                            source=source, slot=slot)

    def _slot_job_queued(self, job_id: str, slot: int) -> None:
        """A preset's job is queued: a MIDI cancel may end it, and its pad's LED follows it."""
        self._slot_jobs = [*self._slot_jobs[-(SLOT_JOBS_KEPT - 1):], (job_id, slot)]
        note = self.midi_map.led_note(slot) if self.midi_map else None
        if note is not None:
            self._leds[job_id] = note
            self._led(job_id, "queued")

    def _midi_from_thread(self, action: Action) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.midi_action, action)

    def midi_action(self, action: Action) -> None:
        """Run a MIDI action; problems are logged and told to subscribers as ``/mage/error``."""
        req_id = f"midi:{action.name}" + (f":{action.slot}" if action.slot is not None else "")
        try:
            if action.name == "trigger" and action.slot is not None:
                self.trigger(action.slot, None, source="midi")
            elif action.name == "cancel":
                self._midi_cancel(action)
            elif action.name in DAW_COMMANDS:
                self._midi_daw_command(action, req_id)
            else:
                self.live_action(action, req_id)
        except MageError as e:
            code = getattr(e, "code", "error")
            log.warning("MIDI %s: %s: %s", action.control, code, e)
            data = osc.error(req_id, code, str(e))
            for addr in self._subscribers:
                self._send(addr, data)
            if action.name == "trigger" and action.note is not None and self._door is not None:
                self._door.led(action.note, "failed")

    def _midi_cancel(self, action: Action) -> None:
        assert self._store is not None
        for job_id, slot in reversed(self._slot_jobs):
            if action.slot is not None and slot != action.slot:
                continue
            if not self._store.get(job_id).finished_state:
                self.cancel(job_id, None)
                return
        raise RequestError("not_found", "no queued or running triggered job to cancel")

    def _midi_daw_command(self, action: Action, req_id: str) -> None:
        """Relay a section tool to the DAW that reported its context over OSC last: only the DAW script can see
        which clip is selected. Subscribers hear ``/mage/daw/command/sent`` as an OSC sender would."""
        ctx = self.daw_clients.latest_connected()
        if ctx is None or ctx.client_id is None:
            raise RequestError("not_found", f"no DAW is connected to run {action.name!r} ({action.control}): open "
                               "Live with the MAGE Bridge control surface, which reports its context to this "
                               "daemon", req_id)
        self.relay_daw_command(ctx.client_id, action.name, action.options_json())
        data = osc.encode("/mage/daw/command/sent", ctx.client_id, action.name)
        for addr in self._subscribers:
            self._send(addr, data)

    def _led(self, job_id: str, state: str) -> None:
        note = self._leds.get(job_id)
        if note is not None and self._door is not None:
            self._door.led(note, state)
        if state in ("done", "failed"):
            self._leds.pop(job_id, None)
