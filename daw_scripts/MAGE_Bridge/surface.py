"""The MAGE Bridge control surface: OSC with the daemon, stems onto audio tracks at the bar.

Everything runs on Live's main thread: the UDP socket is non-blocking and drained in ``update_display``
(Live calls it about every 100 ms), so no thread ever touches the Live set. About once a second the
script sends ``/mage/daw/context f:bpm i:num i:den f:cursor_s s:"ableton" s:project`` (on change, or every
5 s); the daemon then places jobs that a MIDI controller, an OSC app or the CLI start on the next bar after
Live's cursor and sends their ``/mage/job/done s:job_id s:manifest s:placement_json`` here. The script
creates one audio track per stem, named after the stem, and a clip per track with
``Track.create_audio_clip(path, beat)`` (Arrangement) or ``ClipSlot.create_audio_clip(path)`` (Session,
``MAGE_LIVE_VIEW=session``): Live 12.0.5+ / 11.3.25+. Problems go to Live's status bar.
"""

from __future__ import annotations

import json
import os
import socket

import Live  # type: ignore[import-not-found]
from _Framework.ControlSurface import ControlSurface  # type: ignore[import-not-found]

from . import osc

CLIENT_ID = "ableton"
DEFAULT_PORT = 9137
CONTEXT_EVERY_TICKS = 10     # ~1 s at Live's ~100 ms tick
CONTEXT_REFRESH_TICKS = 50   # resend an unchanged context every ~5 s (the daemon may have restarted)
ACK_TIMEOUT_TICKS = 30       # no answer for ~3 s: the daemon is not running
MAX_DATAGRAMS_PER_TICK = 64
STEM_ORDER = {"vocals": 0, "drums": 1, "bass": 2, "other": 3}
NEWEST_UNSUPPORTED_11 = (11, 3, 25)
FIRST_SUPPORTED_12 = (12, 0, 5)


def live_version() -> tuple:
    app = Live.Application.get_application()
    return (app.get_major_version(), app.get_minor_version(), app.get_bugfix_version())


def version_supports_audio_clips(version: tuple) -> bool:
    """``create_audio_clip`` exists from Live 12.0.5, and in 11.3.25 and later 11.x releases."""
    return version >= FIRST_SUPPORTED_12 or NEWEST_UNSUPPORTED_11 <= version < (12, 0, 0)


class MageBridge(ControlSurface):
    """Talks OSC to ``mage-bridge serve`` and places finished stems in the Live set."""

    def __init__(self, c_instance) -> None:  # type: ignore[no-untyped-def]
        ControlSurface.__init__(self, c_instance)
        self._daemon = ("127.0.0.1", int(os.environ.get("MAGE_PORT") or DEFAULT_PORT))
        self._view = "session" if os.environ.get("MAGE_LIVE_VIEW", "").lower() == "session" else "arrangement"
        self._tick = 0
        self._sent_context = None
        self._sent_tick = -CONTEXT_REFRESH_TICKS
        self._awaiting_ack_since = None
        self._daemon_down_said = False
        self._version = live_version()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.setblocking(False)
        if self._supports_clips():
            self.show_message("MAGE Bridge: ready (daemon at %s:%d)" % self._daemon)
        else:
            self.show_message(self._version_message())

    # -- Live's tick -------------------------------------------------------------------------------
    def update_display(self) -> None:
        ControlSurface.update_display(self)
        self._tick += 1
        self._drain()
        if self._tick % CONTEXT_EVERY_TICKS == 1:
            self._send_context()
        if (self._awaiting_ack_since is not None and not self._daemon_down_said
                and self._tick - self._awaiting_ack_since > ACK_TIMEOUT_TICKS):
            self._daemon_down()

    def disconnect(self) -> None:
        try:
            self._sock.close()
        finally:
            ControlSurface.disconnect(self)

    # -- OSC ------------------------------------------------------------------------------------------
    def _send(self, address: str, *args: object) -> None:
        try:
            self._sock.sendto(osc.encode(address, *args), self._daemon)
        except OSError as e:
            self.log_message("MAGE Bridge: cannot send %s: %s" % (address, e))

    def _drain(self) -> None:
        for _ in range(MAX_DATAGRAMS_PER_TICK):
            try:
                data, _addr = self._sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionRefusedError:  # the port is closed: nobody listens there
                self._daemon_down()
                return
            except OSError as e:
                self.log_message("MAGE Bridge: recv: %s" % e)
                return
            try:
                messages = osc.decode(data)
            except osc.OscError as e:
                self.log_message("MAGE Bridge: ignored a bad datagram: %s" % e)
                continue
            for address, args in messages:
                try:
                    self._on_message(address, args)
                except Exception as e:  # one bad message must not stop the surface
                    self.log_message("MAGE Bridge: %s failed: %r" % (address, e))
                    self.show_message("MAGE Bridge: %s" % e)

    def _on_message(self, address: str, args: list) -> None:
        if address == "/mage/daw/context/ack":
            self._awaiting_ack_since = None
            if self._daemon_down_said:
                self._daemon_down_said = False
                self.show_message("MAGE Bridge: connected to the daemon")
        elif address == "/mage/job/done" and len(args) >= 3:
            placement = json.loads(args[2])
            if placement.get("client_id") == CLIENT_ID:
                self._place(str(args[0]), str(args[1]), placement)
        elif address == "/mage/job/failed" and len(args) >= 3:
            self.show_message("MAGE Bridge: job %s failed: %s: %s" % (args[0], args[1], args[2]))
        elif address == "/mage/error" and len(args) >= 3:
            self.show_message("MAGE Bridge: %s: %s" % (args[1], args[2]))

    def _send_context(self) -> None:
        song = self.song()
        bpm = float(song.tempo)
        context = (bpm, int(song.signature_numerator), int(song.signature_denominator),
                   float(song.current_song_time) * 60.0 / bpm)
        if context == self._sent_context and self._tick - self._sent_tick < CONTEXT_REFRESH_TICKS:
            return
        self._send("/mage/daw/context", *context, CLIENT_ID, "live-set")
        self._sent_context, self._sent_tick = context, self._tick
        if self._awaiting_ack_since is None:
            self._awaiting_ack_since = self._tick

    def _daemon_down(self) -> None:
        if not self._daemon_down_said:
            self._daemon_down_said = True
            self.show_message("MAGE Bridge: daemon not running: start `mage-bridge serve` (port %d)"
                              % self._daemon[1])

    # -- placing a result -------------------------------------------------------------------------
    def _supports_clips(self) -> bool:
        if not version_supports_audio_clips(self._version):
            return False
        if self._view == "session":
            return hasattr(Live.ClipSlot.ClipSlot, "create_audio_clip")
        return hasattr(Live.Track.Track, "create_audio_clip")

    def _version_message(self, folder: str = "") -> str:
        text = ("MAGE Bridge: placing audio clips needs Live 12.0.5 or newer (or 11.3.25+); this is Live %d.%d.%d"
                % self._version)
        return text + ("; the stems are in %s" % folder if folder else "")

    def _place(self, job_id: str, manifest_path: str, placement: dict) -> None:
        folder = os.path.dirname(manifest_path)
        if not self._supports_clips():
            self.show_message(self._version_message(folder))
            return
        try:
            with open(manifest_path, encoding="utf-8") as f:
                manifest = json.load(f)
        except (OSError, ValueError) as e:
            self.show_message("MAGE Bridge: result file missing or unreadable: %s (%s)" % (manifest_path, e))
            return
        stems = manifest.get("stems") or {}
        if not stems and manifest.get("output"):
            stems = {manifest.get("kind") or "result": manifest["output"]}
        files = sorted(((name, os.path.join(folder, rel)) for name, rel in stems.items()),
                       key=lambda s: (STEM_ORDER.get(s[0], 99), s[0]))
        if not files:
            self.show_message("MAGE Bridge: job %s brought no audio files" % job_id)
            return
        for _name, path in files:
            if not os.path.isfile(path):
                self.show_message("MAGE Bridge: stem file missing: %s; nothing was placed" % path)
                return
        beat = placement.get("beats")
        if beat is None:
            beat = float(self.song().current_song_time)
        self._create(files, float(beat), placement.get("bar"))

    def _create(self, files: list, beat: float, bar: object) -> None:
        """One audio track and clip per stem, all or nothing (tracks made before an error are removed)."""
        song = self.song()
        undo = hasattr(song, "begin_undo_step")
        if undo:
            song.begin_undo_step()
        first = len(song.tracks)
        try:
            scene = self._scene_index(song) if self._view == "session" else None
            for i, (name, path) in enumerate(files):
                song.create_audio_track(first + i)
                track = song.tracks[first + i]
                track.name = name
                if scene is None:
                    track.create_audio_clip(path, beat)
                else:
                    track.clip_slots[scene].create_audio_clip(path)
        except Exception as e:
            for index in range(len(song.tracks) - 1, first - 1, -1):
                song.delete_track(index)
            self.show_message("MAGE Bridge: could not place the stems (%s); nothing was placed" % e)
            return
        finally:
            if undo:
                song.end_undo_step()
        where = ("scene %d" % (scene + 1)) if scene is not None else (
            "bar %s" % bar if bar is not None else "beat %g" % beat)
        self.show_message("MAGE Bridge: placed %d stem(s) at %s" % (len(files), where))

    @staticmethod
    def _scene_index(song) -> int:  # type: ignore[no-untyped-def]
        scenes = list(song.scenes)
        selected = song.view.selected_scene
        return scenes.index(selected) if selected in scenes else 0
