"""The MAGE Bridge control surface: OSC with the daemon, stems onto audio tracks at the bar.

Everything that changes the Live set runs on Live's ~100 ms display tick (``update_display``): the UDP socket is
non-blocking and drained there, so no thread ever touches the set. Live forbids changing the set from inside a
listener notification ("Changes cannot be triggered by notifications"), so the listeners on tempo, time
signature and song position only send a datagram: ``/mage/daw/context f:bpm i:num i:den f:cursor_s s:"ableton"
s:project_id [s:project_path]``, at most one per tick, and again at least every few seconds (the daemon forgets a
DAW that was silent for 30 s).

Results arrive as ``/mage/job/done s:job_id s:manifest s:placement_json``: live, or replayed by the daemon after
``/mage/daw/replay s:"ableton" s:project_id``, which the script sends each time the daemon answers after a
silence (script start, daemon restart) and every minute. Each result is placed once: its job id is kept in the Live
set (``Song.set_data``), and every placed or shown result is acknowledged with ``/mage/daw/ack``, so a replay of a
result placed before (an acknowledgement lost, Live reopened) is only acknowledged again.

Placing: one audio track per stem, named after the stem, with a clip per track from
``Track.create_audio_clip(path, beat)`` (Arrangement) at the placement's ``start_beats`` (the lead-in before
the bar line, so beat 1 of the body falls on the bar), or ``ClipSlot.create_audio_clip(path)`` in the selected
scene (Session): Live 12.0.5+ / 11.3.25+. With ``insert_midi`` on, one MIDI track per part of the manifest's
``midi`` section, with a clip holding the part's notes at the same start. The vocals clip of a clip with lyrics is
named after the first sung line (:mod:`.lyrics`). Problems go to Live's status bar.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time

import Live  # type: ignore[import-not-found]
from _Framework.ControlSurface import ControlSurface  # type: ignore[import-not-found]

from . import edits, lyrics, osc, sections, settings, smf

CLIENT_ID = "ableton"
CONTEXT_REFRESH_S = 4.0      # an unchanged context is re-sent this often: the daemon forgets a DAW silent for 30 s
ANSWER_TIMEOUT_S = 3.0       # no answer for this long: the daemon is not running
REPLAY_EVERY_S = 60.0        # ask for undelivered results this often too: a safety net for a datagram lost
ACK_FORGET_S = 60.0          # an acknowledgement unanswered this long is forgotten (the next replay repeats it)
RECEIVE_BUFFER_BYTES = 1 << 20  # a replay of many results must not overflow a small default (Windows: 64 KiB)
MAX_DATAGRAMS_PER_TICK = 64
TEMPO_TOLERANCE_BPM = 0.01
STEM_ORDER = {"vocals": 0, "drums": 1, "bass": 2, "other": 3}
NEWEST_UNSUPPORTED_11 = (11, 3, 25)
FIRST_SUPPORTED_12 = (12, 0, 5)
#: Keys in the Live set (``Song.set_data``), saved with it.
DATA_PROJECT_ID = "mage_bridge.project_id"
DATA_HANDLED = "mage_bridge.handled_jobs"
MAX_REMEMBERED_JOBS = 1000
CONTEXT_PROPERTIES = ("tempo", "signature_numerator", "signature_denominator", "current_song_time")


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
        self._settings = settings.load()
        self._daemon = ("127.0.0.1", self._settings.port)
        self._view = self._settings.view
        self._version = live_version()
        self._connected = False
        self._down_said = False
        self._waiting_since = None      # monotonic time of the oldest datagram still without an answer
        self._sent_context = None
        self._sent_at = -math.inf
        self._replayed_at = -math.inf
        self._context_dirty = True
        self._sent_this_tick = False
        self._acks: dict = {}           # job id -> monotonic time its /mage/daw/ack went out
        self._cues = sections.CueWriter(self.song, self._say, self.log_message)
        song = self.song()
        self._handled = self._read_handled(song)
        self._project_id = self._read_project_id(song)
        self._project_id_unsaved = self._project_id is None
        if self._project_id is None:
            self._project_id = os.urandom(8).hex()  # a new set: its id is saved with it
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        except OSError as e:
            self.log_message("MAGE Bridge: cannot enlarge the receive buffer: %s" % e)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.setblocking(False)
        for problem in self._settings.problems:
            self._say("settings %s: %s" % (self._settings.source, problem))
        self.log_message("MAGE Bridge: settings from %s: port %d, %s view, MIDI parts %s, section locators %s"
                         % (self._settings.source, self._settings.port, self._view,
                            "on" if self._settings.insert_midi else "off",
                            "on" if self._settings.insert_locators else "off"))
        if not self._supports_clips():
            self.show_message(self._version_message())
        self._say("connecting to the daemon at %s:%d…" % self._daemon)
        self._listening = []
        for name in CONTEXT_PROPERTIES:
            getattr(song, "add_%s_listener" % name)(self._on_context_changed)
            self._listening.append(name)

    # -- Live's tick -------------------------------------------------------------------------------
    def update_display(self) -> None:
        ControlSurface.update_display(self)
        self._sent_this_tick = False
        if self._project_id_unsaved:
            self._save_project_id()
        self._drain()
        self._cues.tick()
        now = time.monotonic()
        if self._context_dirty or now - self._sent_at >= CONTEXT_REFRESH_S:
            self._send_context()
        if self._connected and now - self._replayed_at >= REPLAY_EVERY_S:
            self._request_replay()
        if self._waiting_since is not None and now - self._waiting_since > ANSWER_TIMEOUT_S:
            self._daemon_down()

    def disconnect(self) -> None:
        song = self.song()
        try:
            for name in self._listening:
                if getattr(song, "%s_has_listener" % name)(self._on_context_changed):
                    getattr(song, "remove_%s_listener" % name)(self._on_context_changed)
            self._listening = []
            # The daemon binds "ableton" to this socket while it reports; release it so the next instance
            # (a reloaded script, Live started again) is heard at once.
            self._send("/mage/daw/bye", CLIENT_ID)
            self._sock.close()
        finally:
            ControlSurface.disconnect(self)

    def _on_context_changed(self) -> None:
        """Live's notification of a tempo, signature or position change.

        Live forbids changing the set here, so this only sends a datagram, and only one per tick: during playback
        the song position changes all the time; the next tick sends the latest one.
        """
        self._context_dirty = True
        if not self._sent_this_tick:
            self._send_context()

    # -- OSC ------------------------------------------------------------------------------------------
    def _send(self, address: str, *args: object) -> None:
        try:
            self._sock.sendto(osc.encode(address, *args), self._daemon)
        except OSError as e:
            self.log_message("MAGE Bridge: cannot send %s: %s" % (address, e))
        if self._waiting_since is None:
            self._waiting_since = time.monotonic()

    def _drain(self) -> None:
        for _ in range(MAX_DATAGRAMS_PER_TICK):
            try:
                data, addr = self._sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionRefusedError:  # the port is closed: nobody listens there
                self._daemon_down()
                return
            except OSError as e:
                self.log_message("MAGE Bridge: recv: %s" % e)
                return
            if addr[1] != self._daemon[1]:
                self.log_message("MAGE Bridge: ignored a datagram from %s:%d, not the daemon" % addr[:2])
                continue
            try:
                messages = osc.decode(data)
            except osc.OscError as e:
                self.log_message("MAGE Bridge: ignored a bad datagram: %s" % e)
                continue
            self._daemon_answered()
            for address, args in messages:
                try:
                    self._on_message(address, args)
                except Exception as e:  # one bad message must not stop the surface
                    self.log_message("MAGE Bridge: %s %r failed: %r" % (address, args[:3], e))
                    self._say("%s" % e)

    def _on_message(self, address: str, args: list) -> None:
        if address == "/mage/job/done" and len(args) >= 2:
            placement = json.loads(args[2]) if len(args) >= 3 else None
            if not isinstance(placement, dict) or placement.get("client_id") != CLIENT_ID:
                return  # not a job for a Live set
            job_id, owner = str(args[0]), placement.get("project_id")
            if owner not in (None, "", self._project_id):
                self.log_message("MAGE Bridge: job %s belongs to another Live set (project %s)" % (job_id, owner))
                self._say("job %s belongs to another Live set; it is placed when that set is open" % job_id)
                return
            self._deliver(job_id, lambda: self._place(job_id, str(args[1]), placement))
        elif address == "/mage/job/failed" and len(args) >= 3:
            job_id = str(args[0])
            self._deliver(job_id, lambda: self._say("job %s failed: %s: %s" % (job_id, args[1], args[2])))
        elif address == "/mage/daw/command" and args:
            self._command(str(args[0]), str(args[1]) if len(args) >= 2 else "{}")
        elif address == "/mage/daw/acked" and args:
            self._acks.pop(str(args[0]), None)
        elif address == "/mage/daw/replayed" and len(args) >= 2:
            self.log_message("MAGE Bridge: the daemon replayed %s result(s) for this set" % (args[1],))
        elif address == "/mage/error" and len(args) >= 3:
            if str(args[0]) in self._acks and args[1] == "not_found":  # acknowledged before: nothing to do
                self._acks.pop(str(args[0]), None)
                return
            self._say("%s: %s" % (args[1], args[2]))

    def _command(self, command: str, options_json: str) -> None:
        """``/mage/daw/command`` (relayed by the daemon from an OSC app or controller): repaint, extend or add a
        track to the selected MAGE clip (:mod:`.edits`); the job goes to the daemon from here."""
        song = self.song()
        try:
            clip = edits.selected_clip(song)
            manifest_path, manifest = edits.clip_manifest(clip)
            arrangement = self._view == "arrangement" and bool(getattr(clip, "is_arrangement_clip", False))
            kind, options, daw, said = edits.plan(command, json.loads(options_json or "{}"), clip, manifest,
                                                  float(song.tempo), arrangement)
        except (edits.EditError, ValueError) as e:
            self._say("nothing sent: %s" % e)
            return
        options["daw"] = dict(daw, client_id=CLIENT_ID, project_id=self._project_id)
        self._send("/mage/%s" % kind, "ableton-%s-%s" % (kind, os.urandom(6).hex()), manifest_path,
                   json.dumps(options))
        self._say(said)

    def _deliver(self, job_id: str, show: object) -> None:
        """Place (or show) a result once per Live set, then acknowledge it."""
        if job_id not in self._handled:
            show()  # type: ignore[operator]
            self._remember(job_id)
        now = time.monotonic()
        for old in [j for j, at in self._acks.items() if now - at > ACK_FORGET_S]:
            del self._acks[old]
        self._acks[job_id] = now
        self._send("/mage/daw/ack", CLIENT_ID, job_id)

    def _send_context(self) -> None:
        if self._cues.busy:  # the song position is at a section, not where the user put it: sent once back
            self._context_dirty = True
            return
        song = self.song()
        bpm = float(song.tempo)
        context = (bpm, int(song.signature_numerator), int(song.signature_denominator),
                   float(song.current_song_time) * 60.0 / bpm)
        now = time.monotonic()
        self._context_dirty = False
        if context == self._sent_context and now - self._sent_at < CONTEXT_REFRESH_S:
            return
        path = getattr(song, "file_path", "") or ""
        extra = (path,) if isinstance(path, str) and path else ()
        self._send("/mage/daw/context", *context, CLIENT_ID, self._project_id, *extra)
        self._sent_context, self._sent_at, self._sent_this_tick = context, now, True

    def _request_replay(self) -> None:
        self._replayed_at = time.monotonic()
        self._send("/mage/daw/replay", CLIENT_ID, self._project_id)

    def _daemon_answered(self) -> None:
        self._waiting_since = None
        if not self._connected:
            self._connected = True
            self._down_said = False
            midi = "MIDI parts on" if self._settings.insert_midi else "MIDI parts off"
            self._say("ready (daemon at %s:%d; %s view; %s)" % (self._daemon + (self._view.capitalize(), midi)))
            self._request_replay()  # results that finished while Live or the daemon was away

    def _daemon_down(self) -> None:
        self._connected = False
        self._waiting_since = None
        if not self._down_said:
            self._down_said = True
            self._say("daemon not running: start `mage-bridge serve` (port %d)" % self._daemon[1])

    def _say(self, text: str) -> None:
        self.show_message("MAGE Bridge: " + text)

    # -- what the Live set remembers ------------------------------------------------------------------
    # The set keeps its project id and the ids of the results placed in it (Song.get_data / set_data, saved with
    # the set). The list of ids is stored as JSON text, a plain string.
    @staticmethod
    def _read_project_id(song) -> object:  # type: ignore[no-untyped-def]
        value = song.get_data(DATA_PROJECT_ID, None) if hasattr(song, "get_data") else None
        return value if isinstance(value, str) and value else None

    def _save_project_id(self) -> None:
        self._project_id_unsaved = False
        song = self.song()
        if hasattr(song, "set_data"):
            song.set_data(DATA_PROJECT_ID, self._project_id)

    @staticmethod
    def _read_handled(song) -> list:  # type: ignore[no-untyped-def]
        if not hasattr(song, "get_data"):
            return []
        try:
            value = json.loads(song.get_data(DATA_HANDLED, "[]"))
        except (TypeError, ValueError):
            return []
        return [str(v) for v in value] if isinstance(value, list) else []

    def _remember(self, job_id: str) -> None:
        self._handled.append(job_id)
        del self._handled[:-MAX_REMEMBERED_JOBS]
        song = self.song()
        if hasattr(song, "set_data"):
            song.set_data(DATA_HANDLED, json.dumps(self._handled))

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
            self._say("result file missing or unreadable: %s (%s)" % (manifest_path, e))
            return
        stems = manifest.get("stems") or {}
        if not stems and manifest.get("output"):
            stems = {manifest.get("kind") or "result": manifest["output"]}
        files = sorted(((name, os.path.join(folder, rel)) for name, rel in stems.items()),
                       key=lambda s: (STEM_ORDER.get(s[0], 99), s[0]))
        if not files:
            self._say("job %s brought no audio files" % job_id)
            return
        for _name, path in files:
            if not os.path.isfile(path):
                self._say("stem file missing: %s; nothing was placed" % path)
                return
        song = self.song()
        plan = TempoPlan(_number(placement.get("clip_bpm")), _number(placement.get("bpm")), float(song.tempo))
        start, bar = self._start(placement, manifest, plan.beat_bpm)
        self._create(files, start, bar, manifest, folder, plan)

    def _start(self, placement: dict, manifest: dict, beat_bpm: float) -> tuple:
        """(beat where the clips start, 1-based bar where beat 1 of the body falls) for the Arrangement."""
        song = self.song()
        bar_beats = song.signature_numerator * 4.0 / song.signature_denominator
        body = placement.get("align", "body" if placement.get("lead_in_s") else "start") == "body"
        lead_in_s = _number(placement.get("lead_in_s"))
        if lead_in_s is None and body:
            lead_in_s = _number((manifest.get("backend") or {}).get("lead_in_s")) or 0.0
        lead_in = (lead_in_s or 0.0) * beat_bpm / 60.0 if body else 0.0
        start, anchor = _number(placement.get("start_beats")), _number(placement.get("beats"))
        if start is not None:
            if anchor is None:
                anchor = start + lead_in
            bar = placement.get("bar") or int(round(anchor / bar_beats)) + 1
            return start, bar
        if anchor is None:  # no context reached the daemon: Live's own cursor, on the bar for a body
            anchor = float(song.current_song_time)
            if body:
                anchor = math.ceil(anchor / bar_beats - 1e-6) * bar_beats
        start = anchor - lead_in
        while start < -1e-9:  # the lead-in must fit before the bar: move on by whole bars
            start += bar_beats
            anchor += bar_beats
        return max(start, 0.0), int(round(anchor / bar_beats)) + 1

    def _create(self, files: list, start: float, bar: object, manifest: dict, folder: str,
                plan: TempoPlan) -> None:
        """One audio track and clip per stem, all or nothing (tracks made before an error are removed)."""
        song = self.song()
        undo = hasattr(song, "begin_undo_step")
        if undo:
            song.begin_undo_step()
        first = len(song.tracks)
        notes = []
        try:
            scene = self._scene_index(song) if self._view == "session" else None
            clips = []
            try:
                for i, (name, path) in enumerate(files):
                    song.create_audio_track(first + i)
                    track = song.tracks[first + i]
                    track.name = name
                    if scene is None:
                        clips.append(track.create_audio_clip(path, start))
                    else:
                        clips.append(track.clip_slots[scene].create_audio_clip(path))
            except Exception as e:
                _delete_tracks_from(song, first)
                self._say("could not place the stems (%s); nothing was placed" % e)
                return
            notes.append(self._apply_warp(clips, plan))
            notes.append(self._name_vocals(files, clips, manifest, folder))
            if self._settings.insert_midi:
                duration_s = _number(manifest.get("duration_s"))
                length = duration_s * plan.beat_bpm / 60.0 if duration_s else None
                notes.append(self._create_midi(manifest, folder, start, scene, length, plan.midi_scale))
        finally:
            if undo:
                song.end_undo_step()
        where = ("scene %d" % (scene + 1)) if scene is not None else "bar %s" % bar
        text = "; ".join(["placed %d stem(s) at %s" % (len(files), where)] + [n for n in notes if n])
        if scene is None and self._settings.insert_locators:
            note = self._mark_sections(manifest, start, plan, text)
            text += "; " + note if note else ""
        self._say(text)

    def _mark_sections(self, manifest: dict, start: float, plan: TempoPlan, placed: str) -> str:
        """Queue a locator per musical section of the clip (``sections``); returns a note for the status bar."""
        song = self.song()
        if not (hasattr(song, "set_or_delete_cue") and hasattr(song, "is_cue_point_selected")):
            return ""
        duration_s = _number(manifest.get("duration_s"))
        clip_beats = duration_s * plan.beat_bpm / 60.0 if duration_s else math.inf
        marks = sections.section_marks(manifest.get("structure"), start, plan.beat_bpm, clip_beats)
        return self._cues.add(marks, song.signature_numerator * 4.0 / song.signature_denominator, placed)

    def _apply_warp(self, clips: list, plan: TempoPlan) -> str:
        """Set the clips' Warp switch as the plan says; returns its note for the status bar."""
        if plan.warp is None:
            return ""
        try:
            for clip in clips:
                if clip is not None and clip.warping != plan.warp:
                    clip.warping = plan.warp
        except Exception as e:  # Live refuses: the note says what the user hears, the log why
            self.log_message("MAGE Bridge: could not turn Warp %s: %r" % ("on" if plan.warp else "off", e))
            return plan.note + " (Live refused to change Warp: %s)" % e
        return plan.note

    def _name_vocals(self, files: list, clips: list, manifest: dict, folder: str) -> str:
        """Name the vocals clip after the first lyric line (:mod:`.lyrics`); returns a note for the status bar."""
        name = lyrics.clip_name(manifest)
        vocals = [clip for (stem, _path), clip in zip(files, clips) if stem == "vocals" and clip is not None]
        if name is None or not vocals:
            return ""
        try:
            vocals[0].name = name
        except Exception as e:  # the clip keeps Live's name; the lyrics are still in the files
            self.log_message("MAGE Bridge: could not name the vocals clip: %r" % (e,))
        return "lyrics in %s" % lyrics.lrc_path(manifest, folder)

    def _create_midi(self, manifest: dict, folder: str, start: float, scene: object, length: object,
                     scale: float) -> str:
        """One MIDI track and clip per part of ``manifest["midi"]``; returns a note for the status bar.

        ``scale`` turns the file's quarter notes (at the clip's tempo) into the set's beats (see :class:`TempoPlan`).
        """
        parts = (manifest.get("midi") or {}).get("parts") or []
        if not parts:
            return "no MIDI parts in this result"
        missing = []
        if not (hasattr(Live.Clip, "MidiNoteSpecification") and hasattr(Live.Clip.Clip, "add_new_notes")):
            missing.append("Clip.add_new_notes (Live 11.0+)")
        if scene is None and not hasattr(Live.Track.Track, "create_midi_clip"):
            missing.append("Track.create_midi_clip (Live 12.2+; the Session view works from Live 11.0)")
        if missing:
            return ("MIDI parts not placed: this is Live %d.%d.%d, placing them needs %s; the MIDI files are in %s"
                    % (self._version + (" and ".join(missing), os.path.join(folder, "midi"))))
        read = []
        for part in parts:
            path = os.path.join(folder, str(part.get("file") or ""))
            try:
                read.append((str(part.get("name") or part.get("stem") or "part"), smf.read(path)))
            except (OSError, smf.SmfError) as e:
                return "MIDI parts not placed: %s: %s" % (path, e)
        song = self.song()
        if length is None:
            bar_beats = song.signature_numerator * 4.0 / song.signature_denominator
            end = max([f.end * scale for _n, f in read] + [bar_beats])
            length = math.ceil(end / bar_beats - 1e-6) * bar_beats
        first = len(song.tracks)
        try:
            for i, (name, midi) in enumerate(read):
                song.create_midi_track(first + i)
                track = song.tracks[first + i]
                track.name = "%s (MIDI)" % name
                if scene is None:
                    clip = track.create_midi_clip(start, length)
                else:
                    slot = track.clip_slots[scene]
                    slot.create_clip(length)
                    clip = slot.clip
                clip.name = name
                specs = tuple(Live.Clip.MidiNoteSpecification(
                    pitch=n.pitch, start_time=n.start * scale, duration=max(n.duration * scale, 1.0 / midi.ppq),
                    velocity=float(n.velocity), mute=False) for n in midi.notes if n.start * scale < length)
                if specs:
                    clip.add_new_notes(specs)
        except Exception as e:
            _delete_tracks_from(song, first)
            return "MIDI parts not placed (%s)" % e
        return "%d MIDI part(s)" % len(read)

    @staticmethod
    def _scene_index(song) -> int:  # type: ignore[no-untyped-def]
        scenes = list(song.scenes)
        selected = song.view.selected_scene
        return scenes.index(selected) if selected in scenes else 0


class TempoPlan:
    """How a generated clip plays in the set, from its tempo, the tempo it was asked at and the set's tempo now.

    - The clip's tempo is the set's (or twice, half, ...: its beats fall on the set's beats): ``warp`` None, the
      clip is left as Live made it.
    - It was made at the set's tempo of the time of the request (``clip_bpm`` == the placement's ``bpm``) and the
      set's tempo changed since: ``warp`` True, so Live fits it to the set's tempo (its Seg. BPM is the clip's).
    - Its request asked for another tempo: ``warp`` False, so it plays as made, off the set's bars.

    ``beat_bpm`` turns the files' seconds into the set's beats (the clip's tempo when warped to follow, else the
    set's), and ``midi_scale`` the MIDI parts' quarter notes (at the clip's tempo) into the set's beats.
    """

    def __init__(self, clip_bpm: object, asked_bpm: object, tempo: float) -> None:
        self.warp = None
        self.note = ""
        self.beat_bpm = tempo
        self.midi_scale = 1.0
        if clip_bpm is None or clip_bpm <= 0:
            return
        self.midi_scale = tempo / clip_bpm
        octaves = math.log(tempo / clip_bpm, 2)
        if abs(octaves - round(octaves)) < 1e-4:
            return
        if asked_bpm is not None and abs(asked_bpm - clip_bpm) < TEMPO_TOLERANCE_BPM:
            self.warp, self.beat_bpm, self.midi_scale = True, clip_bpm, 1.0
            self.note = ("the stems were made at %g BPM, the set's tempo when they were asked for; the set is at %g "
                         "BPM now, so Warp is on to keep them on its bars (Seg. BPM %g in Clip View)"
                         % (clip_bpm, tempo, clip_bpm))
        else:
            self.warp = False
            self.note = ("the stems are at %g BPM, as their request asked; the set is at %g BPM, so they do not "
                         "follow its bars (Warp off)" % (clip_bpm, tempo))


def _delete_tracks_from(song, first: int) -> None:  # type: ignore[no-untyped-def]
    for index in range(len(song.tracks) - 1, first - 1, -1):
        song.delete_track(index)


def _number(value: object) -> object:
    """``value`` as a finite float, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)
