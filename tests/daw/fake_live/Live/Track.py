"""``Live.Track.Track``: an audio track with Session slots and Arrangement clips."""

from __future__ import annotations

import os

from .Clip import Clip
from .ClipSlot import ClipSlot


class Track:
    #: Tests set this to a file name: create_audio_clip then fails for it, as Live does for a bad file.
    fail_for: str | None = None

    def __init__(self, song: object, n_scenes: int) -> None:
        self.song = song
        self.name = "Audio"
        self.has_audio_input = True
        self.clip_slots = [ClipSlot(self) for _ in range(n_scenes)]
        self.arrangement_clips: list[Clip] = []

    def _create_audio_clip(self, file_path: str, position: float) -> Clip:
        """Live 12.0.5+: an Arrangement clip referencing ``file_path`` at ``position`` beats."""
        if not os.path.isabs(file_path) or not os.path.isfile(file_path):
            raise RuntimeError(f"invalid audio file path: {file_path}")
        if Track.fail_for and os.path.basename(file_path) == Track.fail_for:
            raise RuntimeError(f"cannot read {file_path}")
        if not 0.0 <= position <= 1576800.0:
            raise RuntimeError(f"position out of range: {position}")
        clip = Clip(file_path, position, tempo=self.song.tempo)  # type: ignore[attr-defined]
        self.arrangement_clips.append(clip)
        return clip
