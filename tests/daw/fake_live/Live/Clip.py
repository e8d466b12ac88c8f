"""``Live.Clip.Clip``: an audio clip referencing a file."""

from __future__ import annotations

import soundfile


class Clip:
    def __init__(self, file_path: str, start_time: float, *, tempo: float) -> None:
        info = soundfile.info(file_path)  # Live refuses a file it cannot read
        self.file_path = file_path
        self.is_audio_clip = True
        self.name = file_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        self.start_time = float(start_time)
        self.length_s = info.frames / info.samplerate
        self.length = self.length_s * tempo / 60.0  # in beats
        self.end_time = self.start_time + self.length
