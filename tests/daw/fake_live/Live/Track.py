"""``Live.Track.Track``: an audio or MIDI track with Session slots and Arrangement clips."""

from __future__ import annotations

import os
from typing import Any

from .Clip import Clip
from .ClipSlot import ClipSlot

#: The Arrangement's range for clip positions, in beats (the LOM documentation of create_audio_clip).
MAX_POSITION = 1576800.0


class Track:
    #: Tests set this to a file name: create_audio_clip then fails for it, as Live does for a bad file.
    fail_for: str | None = None

    def __init__(self, song: Any, n_scenes: int, *, kind: str = "audio") -> None:
        self.song = song
        self._name = "Audio" if kind == "audio" else "MIDI"
        self.has_audio_input = kind == "audio"
        self.has_midi_input = kind == "midi"
        self.clip_slots = [ClipSlot(self) for _ in range(n_scenes)]
        self.arrangement_clips: list[Clip] = []

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self.song._notifications.check_change()
        self._name = str(value)

    def _create_audio_clip(self, file_path: str, position: float) -> Clip:
        """Live 12.0.5+ (and 11.3.25+): an Arrangement clip referencing ``file_path`` at ``position`` beats.

        Throws an error when called on a non-audio track, when the position is outside [0., 1576800.], or when
        the path does not point to a valid audio file.
        """
        self.song._notifications.check_change()
        if not self.has_audio_input:
            raise RuntimeError("create_audio_clip: not an audio track")
        if not os.path.isabs(file_path) or not os.path.isfile(file_path):
            raise RuntimeError(f"invalid audio file path: {file_path}")
        if Track.fail_for and os.path.basename(file_path) == Track.fail_for:
            raise RuntimeError(f"cannot read {file_path}")
        if not 0.0 <= position <= MAX_POSITION:
            raise RuntimeError(f"position out of range: {position}")
        clip = Clip.audio(self.song, file_path, position)
        clip.is_arrangement_clip = True
        self.arrangement_clips.append(clip)
        return clip

    def _create_midi_clip(self, start_time: float, length: float) -> Clip:
        """Live 12.2+: an empty Arrangement MIDI clip of ``length`` beats at ``start_time`` beats.

        Throws an error when called on a non-MIDI track, or when ``start_time`` is outside [0., 1576800.].
        """
        self.song._notifications.check_change()
        if not self.has_midi_input:
            raise RuntimeError("create_midi_clip: not a MIDI track")
        if not 0.0 <= start_time <= MAX_POSITION:
            raise RuntimeError(f"start_time out of range: {start_time}")
        if not length > 0.0:
            raise RuntimeError(f"length must be greater than 0, got {length}")
        clip = Clip.midi(self.song, start_time, length)
        clip.is_arrangement_clip = True
        self.arrangement_clips.append(clip)
        return clip
