"""``Live.ClipSlot.ClipSlot``: one Session slot of a track."""

from __future__ import annotations

import os
from typing import Any

from .Clip import Clip


class ClipSlot:
    def __init__(self, track: Any) -> None:
        self._track = track
        self.clip: Clip | None = None

    @property
    def has_clip(self) -> bool:
        return self.clip is not None

    def _create_audio_clip(self, path: str) -> Clip:
        """Live 12.0.5+ (and 11.3.25+): a clip in this empty slot of an audio track, referencing ``path``."""
        self._track.song._notifications.check_change()
        if self.clip is not None:
            raise RuntimeError("clip slot is not empty")
        if not self._track.has_audio_input:
            raise RuntimeError("create_audio_clip: not an audio track")
        if not os.path.isabs(path) or not os.path.isfile(path):
            raise RuntimeError(f"invalid audio file path: {path}")
        self.clip = Clip.audio(self._track.song, path, 0.0)
        return self.clip

    def create_clip(self, length: float) -> None:
        """An empty MIDI clip of ``length`` beats (> 0) in this empty slot of a MIDI track."""
        self._track.song._notifications.check_change()
        if self.clip is not None:
            raise RuntimeError("clip slot is not empty")
        if not self._track.has_midi_input:
            raise RuntimeError("create_clip: not a MIDI track")
        if not length > 0.0:
            raise RuntimeError(f"length must be greater than 0, got {length}")
        self.clip = Clip.midi(self._track.song, 0.0, length)
