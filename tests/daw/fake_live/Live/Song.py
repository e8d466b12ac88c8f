"""``Live.Song.Song``: the Live set — tracks, scenes, tempo, metre, song time, transport, locators, data, undo.

``tempo``, ``signature_numerator``, ``signature_denominator``, ``current_song_time`` and ``is_playing`` are
get/set/listen properties: setting one (the user turning the tempo knob, the transport moving) notifies its
listeners, and no listener may change the set (``_listeners``). ``get_data(key, default_value)`` /
``set_data(key, value)`` keep values that are saved with the set: :meth:`Song.reopen` is the same set after Live
was closed and opened again.

Locators, as the Live Object Model documents them: ``cue_points`` ("Cue points are the markers in the Arrangement
to which you can jump", a read-only list, observable), each a :class:`CuePoint` with ``name`` (get/set/observe),
``time`` (get/observe: read-only, "Arrangement position of the marker in beats") and ``jump()``;
``set_or_delete_cue()`` ("Toggle cue point at current Arrangement playback position") and
``is_cue_point_selected()`` ("1 = the current Arrangement playback position is at a cue point"). Live adds no
locator anywhere else: there is no call that takes a time. The name Live gives a new locator is not documented;
the fake numbers them.

The documentation does not say whether a ``current_song_time`` that was set reads back at once or from a later
tick (a third-party measurement of ``jump_by`` in Live 12.4 saw a later tick). ``Song(seek_delay_ticks=n)``
makes the fake apply a set position only ``n`` ticks of the control surface later (``_tick``, called by the fake
``ControlSurface.update_display`` before the script's own work), and ``set_or_delete_cue`` toggles at the position
in effect, so the script is tested against both.
"""

from __future__ import annotations

import copy
from typing import Any

from ._listeners import Notifications, listenable
from .Track import Track


class Scene:
    pass


class CuePoint:
    """A locator in the Arrangement: ``name`` get/set, ``time`` read-only (beats), ``jump()``."""

    def __init__(self, song: Song, time: float, name: str) -> None:
        self._song = song
        self._time = float(time)
        self._name = name

    @property
    def time(self) -> float:
        return self._time

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._song._notifications.check_change()
        self._name = str(value)

    def jump(self) -> None:
        """Set current Arrangement playback position to marker (quantized if playing: not modelled)."""
        self._song.current_song_time = self._time


class SongView:
    """``Song.view``: ``selected_scene``, ``detail_clip`` ("The clip currently displayed in the Live application's
    Detail View", None for none) and ``highlighted_clip_slot`` (the slot highlighted in the Session View)."""

    def __init__(self, song: Song) -> None:
        self.selected_scene = song.scenes[0]
        self.detail_clip: Any = None
        self.highlighted_clip_slot: Any = None


@listenable("tempo", "signature_numerator", "signature_denominator", "current_song_time", "is_playing",
            "cue_points")
class Song:
    def __init__(self, *, tempo: float = 120.0, numerator: int = 4, denominator: int = 4,
                 song_time_beats: float = 0.0, n_scenes: int = 8, file_path: str = "",
                 seek_delay_ticks: int = 0) -> None:
        self._notifications = Notifications()
        self._listeners: dict[str, list[Any]] = {}
        self._tempo = float(tempo)
        self._numerator = int(numerator)
        self._denominator = int(denominator)
        self._song_time = float(song_time_beats)
        self._playing = False
        self._cues: list[CuePoint] = []
        self._seek_delay_ticks = seek_delay_ticks
        self._pending_seek: tuple[float, int] | None = None  # (position, ticks left)
        self.cue_toggles: list[float] = []  # where set_or_delete_cue was called, in order
        self.file_path = file_path
        self.scenes = [Scene() for _ in range(n_scenes)]
        self.tracks: list[Track] = []
        self.view = SongView(self)
        self.undo_steps: list[str] = []  # "begin" / "end", in order
        self.created: list[int] = []
        self.deleted: list[int] = []
        self._data: dict[str, Any] = {}

    # -- observable properties ----------------------------------------------------------------------------
    def _set(self, name: str, attr: str, value: Any) -> None:
        self._notifications.check_change()
        if getattr(self, attr) != value:
            setattr(self, attr, value)
            self._notify(name)  # type: ignore[attr-defined]

    @property
    def tempo(self) -> float:
        return self._tempo

    @tempo.setter
    def tempo(self, value: float) -> None:
        if not 20.0 <= value <= 999.0:
            raise ValueError(f"tempo must be within 20 and 999 BPM, got {value}")
        self._set("tempo", "_tempo", float(value))

    @property
    def signature_numerator(self) -> int:
        return self._numerator

    @signature_numerator.setter
    def signature_numerator(self, value: int) -> None:
        if not 1 <= value <= 99:
            raise ValueError(f"signature_numerator must be within 1 and 99, got {value}")
        self._set("signature_numerator", "_numerator", int(value))

    @property
    def signature_denominator(self) -> int:
        return self._denominator

    @signature_denominator.setter
    def signature_denominator(self, value: int) -> None:
        if value not in (1, 2, 4, 8, 16):
            raise ValueError(f"signature_denominator must be 1, 2, 4, 8 or 16, got {value}")
        self._set("signature_denominator", "_denominator", int(value))

    @property
    def current_song_time(self) -> float:
        return self._song_time

    @current_song_time.setter
    def current_song_time(self, value: float) -> None:
        self._notifications.check_change()
        if self._seek_delay_ticks:
            self._pending_seek = (max(0.0, float(value)), self._seek_delay_ticks)
        else:
            self._set("current_song_time", "_song_time", max(0.0, float(value)))

    def _tick(self) -> None:
        """Live's next tick: a position set ``seek_delay_ticks`` ticks ago takes effect."""
        if self._pending_seek is not None:
            value, left = self._pending_seek
            if left > 1:
                self._pending_seek = (value, left - 1)
                return
            self._pending_seek = None
            self._set("current_song_time", "_song_time", value)

    @property
    def is_playing(self) -> bool:
        return self._playing

    @is_playing.setter
    def is_playing(self, value: bool) -> None:
        self._set("is_playing", "_playing", bool(value))

    # -- locators -----------------------------------------------------------------------------------------
    @property
    def cue_points(self) -> tuple[CuePoint, ...]:
        """Read-only: the locators, in Arrangement order."""
        return tuple(sorted(self._cues, key=lambda c: c.time))

    def set_or_delete_cue(self) -> None:
        """Toggle cue point at current Arrangement playback position."""
        self._notifications.check_change()
        here = self._song_time
        self.cue_toggles.append(here)
        existing = [c for c in self._cues if abs(c.time - here) < 1e-9]
        if existing:
            self._cues.remove(existing[0])
        else:
            self._cues.append(CuePoint(self, here, str(len(self._cues) + 1)))
        self._notify("cue_points")  # type: ignore[attr-defined]

    def is_cue_point_selected(self) -> bool:
        """1 = the current Arrangement playback position is at a cue point."""
        return any(abs(c.time - self._song_time) < 1e-9 for c in self._cues)

    def add_locator(self, time: float, name: str) -> CuePoint:
        """The user places a locator (test setup; not part of the LOM)."""
        cue = CuePoint(self, time, name)
        self._cues.append(cue)
        return cue

    # -- tracks ---------------------------------------------------------------------------------------------
    def _insert_track(self, index: int, kind: str) -> None:
        self._notifications.check_change()
        if index == -1:
            index = len(self.tracks)
        if not 0 <= index <= len(self.tracks):
            raise IndexError(f"track index {index} out of range")
        self.tracks.insert(index, Track(self, len(self.scenes), kind=kind))
        self.created.append(index)

    def create_audio_track(self, index: int = -1) -> None:
        """Insert an audio track at ``index`` (-1: at the end)."""
        self._insert_track(index, "audio")

    def create_midi_track(self, index: int = -1) -> None:
        """Insert a MIDI track at ``index`` (-1: at the end)."""
        self._insert_track(index, "midi")

    def delete_track(self, index: int) -> None:
        self._notifications.check_change()
        del self.tracks[index]
        self.deleted.append(index)

    def begin_undo_step(self) -> None:
        self.undo_steps.append("begin")

    def end_undo_step(self) -> None:
        self.undo_steps.append("end")

    # -- data saved with the set ------------------------------------------------------------------------
    def get_data(self, key: str, default_value: Any) -> Any:
        """Get data for the given key, that was previously stored using set_data."""
        if not isinstance(key, str):
            raise TypeError(f"key must be a string, got {key!r}")
        return copy.deepcopy(self._data.get(key, default_value))

    def set_data(self, key: str, value: Any) -> None:
        """Store data for the given key in this object; it is saved and restored with the set."""
        if not isinstance(key, str):
            raise TypeError(f"key must be a string, got {key!r}")
        self._notifications.check_change()
        self._data[key] = copy.deepcopy(value)

    def reopen(self) -> Song:
        """The set as Live loads it again after it was saved and Live closed: tracks, metre and data kept."""
        song = Song(tempo=self._tempo, numerator=self._numerator, denominator=self._denominator,
                    song_time_beats=self._song_time, n_scenes=len(self.scenes), file_path=self.file_path)
        song._data = copy.deepcopy(self._data)
        song._cues = [CuePoint(song, c.time, c.name) for c in self._cues]
        song.tracks = list(self.tracks)
        for track in song.tracks:
            track.song = song
        return song
