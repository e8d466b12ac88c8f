"""The daemon's door to the live player: ``/mage/live/...`` over OSC, the MIDI map's live actions, LEDs.

The player (:class:`mage_bridge.live.Player`) is made when the daemon starts and opens its audio
output on the first launch: without a sound device the daemon serves everything else, and a launch
is answered with ``/mage/error … "audio_unavailable"`` saying what PortAudio sees. Its clips are
found by id in the clip folders (``live.clips_dirs``, default ``<data_dir>/clips``) and in the jobs
folder, so a clip the daemon made is launched by its job id. What the player reports from its
threads (a clip started, stopped, failed to load) comes to the event loop and goes to the
subscribers, and lights the controller's pads. The contract is ``docs/osc.md``, "Live".
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mage_bridge.config import Config
from mage_bridge.errors import ConfigError, InvalidInputError
from mage_bridge.live.clips import FolderClipSource, LibraryFirst, clip_ids
from mage_bridge.live.device import probe
from mage_bridge.server import osc
from mage_bridge.server.osc import Addr, Arg, Request, RequestError
from mage_bridge.server.subscribers import Subscribers

if TYPE_CHECKING:
    from mage_bridge.live.player import Player
    from mage_bridge.server.midi import Action, MidiDoor, MidiMap

log = logging.getLogger("mage_bridge.server")

#: The reply of every live request but a launch: the player's state.
STATE = "/mage/live/state s:req_id s:state s:playing s:queued f:bpm f:beat i:bar i:xruns s:details_json"
QUEUED = "/mage/live/queued s:req_id s:clip_id i:slot"
#: The MIDI map's actions for the player.
LIVE_ACTIONS = ("launch", "next", "previous", "stop", "crossfade", "tempo")


def launch_options(options: dict[str, Any], req_id: str) -> dict[str, Any]:
    """``quantum`` and ``crossfade_beats`` from a launch's ``options_json``; anything else is refused."""
    unknown = sorted(set(options) - {"quantum", "crossfade_beats"})
    if unknown:
        raise RequestError("invalid_input", f"unknown launch option(s) {', '.join(unknown)}; known: quantum, "
                           "crossfade_beats", req_id)
    out: dict[str, Any] = {}
    if "quantum" in options:
        out["quantum"] = str(options["quantum"])
    if "crossfade_beats" in options:
        value = options["crossfade_beats"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RequestError("invalid_input", f"crossfade_beats must be a number, got {value!r}"[:200], req_id)
        out["crossfade_beats"] = float(value)
    return out


class LiveDoor:
    """The live player's requests and events; mixed into the daemon, which provides the attributes below."""

    config: Config
    jobs_dir: Path
    midi_map: MidiMap | None
    live: Player | None
    #: What the daemon found to play on when it started (:func:`~mage_bridge.live.device.probe`): the
    #: output it opens on the first launch, or why there is none; the panel says it while no output is open.
    live_output: str = ""
    _door: MidiDoor | None
    _loop: asyncio.AbstractEventLoop | None
    _subscribers: Subscribers
    _live_led: int | None

    if TYPE_CHECKING:  # provided by the daemon
        def _send(self, addr: Addr, data: bytes) -> None: ...

    def _open_live(self) -> None:
        from mage_bridge.live.player import Player  # NumPy and the engine: loaded when the daemon starts, not on import

        roots = self.config.live.clips_dirs or (self.config.data_dir / "clips",)
        try:
            self.live = Player(self.config.live, LibraryFirst(self.config, FolderClipSource(*roots, self.jobs_dir)),
                               on_event=self._live_event_from_thread)
        except InvalidInputError as e:
            raise ConfigError(f"[live] {e}") from e
        self.live_output = probe(self.config.live.device)
        log.info("live player: %s", self.live_output)

    def _close_live(self) -> None:
        if self.live is not None:
            self.live.close()

    def _player(self, req_id: str) -> Player:
        if self.live is None:
            raise RequestError("not_available", "the live player is not running in this daemon", req_id)
        return self.live

    def _live_tempo(self, bpm: float, numerator: int, denominator: int) -> None:
        """A DAW reported its context: the player follows it when ``live.clock = "daw"``."""
        if self.live is not None:
            self.live.daw_context(bpm, numerator, denominator)

    # -- replies and events --------------------------------------------------------------------------
    def _state(self, req_id: str) -> bytes:
        st = self._player(req_id).status()
        return osc.encode("/mage/live/state", req_id, st["state"], st["playing"], st["queued"], float(st["bpm"]),
                          float(st["beat"]), int(st["bar"]), int(st["xruns"]), json.dumps(st))

    def _reply_state(self, req: Request, addr: Addr) -> None:
        self._send(addr, self._state(req.req_id))

    def _tell(self, data: bytes, addr: Addr | None = None) -> None:
        targets = dict.fromkeys(self._subscribers)
        if addr is not None:
            targets[addr] = None
        for target in targets:
            self._send(target, data)

    def _live_event_from_thread(self, kind: str, fields: dict[str, Any]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._live_event, kind, fields)

    def _live_event(self, kind: str, fields: dict[str, Any]) -> None:
        if kind == "playing":
            self._tell(osc.encode("/mage/live/playing", fields["clip_id"], int(fields["slot"]), int(fields["bar"])))
            self._slot_led(int(fields["slot"]), "playing")
        elif kind == "queued":
            self._led_for_slot(int(fields["slot"]), "queued")
        elif kind == "stopped":
            self._tell(osc.encode("/mage/live/stopped", ""))
            self._slot_led(0, "off")
        elif kind == "error":
            log.warning("live player: %s: %s", fields["code"], fields["message"])
            self._tell(osc.error(str(fields["req_id"]), str(fields["code"]), str(fields["message"])))

    def _led_for_slot(self, slot: int, state: str) -> None:
        note = self.midi_map.launch_note(slot) if self.midi_map is not None and slot > 0 else None
        if note is not None and self._door is not None:
            self._door.led(note, state)

    def _slot_led(self, slot: int, state: str) -> None:
        """The pad of the slot playing lights ``playing``; the one that played before goes off."""
        if self._live_led is not None and self._live_led != slot:
            self._led_for_slot(self._live_led, "off")
        self._live_led = slot if state == "playing" and slot > 0 else None
        if self._live_led is not None:
            self._led_for_slot(slot, state)

    # -- requests ------------------------------------------------------------------------------------
    def _queued(self, addr: Addr | None, req_id: str, clip_id: str, slot: int) -> None:
        self._tell(osc.encode("/mage/live/queued", req_id, clip_id, slot), addr)

    @osc.handles("/mage/live/launch", osc.REQ_ID, osc.CLIP_ID, osc.OPTIONS, answer=QUEUED)
    def _live_launch(self, req: Request, addr: Addr) -> None:
        player = self._player(req.req_id)
        options = launch_options(osc.parse_options(req.args.get("options_json"), req.req_id), req.req_id)
        info = player.launch(req.args["clip_id"], req_id=req.req_id, **options)
        slot = player.order.index(info.clip_id) + 1 if info.clip_id in player.order else 0
        self._queued(addr, req.req_id, info.clip_id, slot)

    @osc.handles("/mage/live/slot", osc.REQ_ID, Arg("slot", "i"), osc.OPTIONS, answer=QUEUED)
    def _live_slot(self, req: Request, addr: Addr) -> None:
        player = self._player(req.req_id)
        options = launch_options(osc.parse_options(req.args.get("options_json"), req.req_id), req.req_id)
        info = player.launch_slot(req.args["slot"], req_id=req.req_id, **options)
        self._queued(addr, req.req_id, info.clip_id, req.args["slot"])

    @osc.handles("/mage/live/next", osc.REQ_ID, answer=QUEUED)
    @osc.handles("/mage/live/previous", osc.REQ_ID, answer=QUEUED)
    def _live_step(self, req: Request, addr: Addr) -> None:
        player = self._player(req.req_id)
        info = player.step(1 if req.address.endswith("/next") else -1, req_id=req.req_id)
        self._queued(addr, req.req_id, info.clip_id, player.order.index(info.clip_id) + 1)

    @osc.handles("/mage/live/stop", osc.REQ_ID, Arg("quantum", "s", optional=True), answer=STATE)
    def _live_stop(self, req: Request, addr: Addr) -> None:
        self._player(req.req_id).stop(quantum=req.args.get("quantum") or None)
        self._reply_state(req, addr)

    @osc.handles("/mage/live/mute", osc.REQ_ID, osc.CLIP_ID, Arg("stem", "s"), Arg("muted", "i"), answer=STATE)
    def _live_mute(self, req: Request, addr: Addr) -> None:
        a = req.args
        self._player(req.req_id).mute(a["clip_id"], a["stem"], bool(a["muted"]))
        self._reply_state(req, addr)

    @osc.handles("/mage/live/crossfade", osc.REQ_ID, Arg("beats", "f"), answer=STATE)
    def _live_crossfade(self, req: Request, addr: Addr) -> None:
        self._player(req.req_id).set_crossfade(req.args["beats"])
        self._reply_state(req, addr)

    @osc.handles("/mage/live/quantum", osc.REQ_ID, Arg("quantum", "s"), answer=STATE)
    def _live_quantum(self, req: Request, addr: Addr) -> None:
        self._player(req.req_id).set_quantum(req.args["quantum"])
        self._reply_state(req, addr)

    @osc.handles("/mage/live/tempo", osc.REQ_ID, Arg("bpm", "f"), answer=STATE)
    def _live_set_tempo(self, req: Request, addr: Addr) -> None:
        self._player(req.req_id).set_tempo(req.args["bpm"])
        self._reply_state(req, addr)

    @osc.handles("/mage/live/nudge", osc.REQ_ID, Arg("delta_bpm", "f"), answer=STATE)
    def _live_nudge(self, req: Request, addr: Addr) -> None:
        self._player(req.req_id).nudge(req.args["delta_bpm"])
        self._reply_state(req, addr)

    @osc.handles("/mage/live/order", osc.REQ_ID, Arg("clip_ids_json", "s"), answer=STATE)
    def _live_order(self, req: Request, addr: Addr) -> None:
        text = osc.check_text("clip_ids_json", req.args["clip_ids_json"], osc.MAX_OPTIONS_CHARS, req.req_id)
        self._player(req.req_id).set_order(clip_ids(text))
        self._reply_state(req, addr)

    @osc.handles("/mage/live/follow", osc.REQ_ID, Arg("on", "i"), answer=STATE)
    def _live_follow(self, req: Request, addr: Addr) -> None:
        self._player(req.req_id).set_follow(bool(req.args["on"]))
        self._reply_state(req, addr)

    @osc.handles("/mage/live/status", osc.REQ_ID, answer=STATE)
    def _live_status(self, req: Request, addr: Addr) -> None:
        self._reply_state(req, addr)

    @osc.handles("/mage/live/close", osc.REQ_ID, answer=STATE)
    def _live_close(self, req: Request, addr: Addr) -> None:
        """Stop at once and give the audio device back (the next launch opens it again)."""
        self._player(req.req_id).close()
        self._slot_led(0, "off")
        self._reply_state(req, addr)

    # -- the MIDI map --------------------------------------------------------------------------------
    def live_action(self, action: Action, req_id: str) -> None:
        """Run one of :data:`LIVE_ACTIONS` from a controller."""
        player = self._player(req_id)
        options = dict(action.options)
        if action.name == "launch" and action.slot is not None:
            info = player.launch_slot(action.slot, req_id=req_id)
            self._queued(None, req_id, info.clip_id, action.slot)
        elif action.name in ("next", "previous"):
            info = player.step(1 if action.name == "next" else -1, req_id=req_id)
            self._queued(None, req_id, info.clip_id, player.order.index(info.clip_id) + 1)
        elif action.name == "stop":
            player.stop()
        elif action.name == "crossfade":
            beats = float(options.get("beats", 16.0))
            player.set_crossfade(beats * action.value / 127.0 if action.value is not None else beats)
        elif action.name == "tempo":
            player.nudge(float(options.get("step_bpm", 1.0)))
