"""``Live.ClipSlot.ClipSlot``: one Session slot of a track."""

from __future__ import annotations

import os

from .Clip import Clip


class ClipSlot:
    def __init__(self, track: object) -> None:
        self._track = track
        self.clip: Clip | None = None

    @property
    def has_clip(self) -> bool:
        return self.clip is not None

    def _create_audio_clip(self, path: str) -> Clip:
        """Live 12.0.5+: a clip in this empty slot referencing ``path`` (absolute)."""
        if self.clip is not None:
            raise RuntimeError("clip slot is not empty")
        if not os.path.isabs(path) or not os.path.isfile(path):
            raise RuntimeError(f"invalid audio file path: {path}")
        self.clip = Clip(path, 0.0, tempo=self._track.song.tempo)  # type: ignore[attr-defined]
        return self.clip
