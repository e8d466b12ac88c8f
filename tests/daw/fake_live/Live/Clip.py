"""``Live.Clip.Clip`` (audio: a file at a position; MIDI: notes) and ``Live.Clip.MidiNoteSpecification``.

``Clip.add_new_notes`` and ``MidiNoteSpecification`` exist from Live 11.0 (``configure``). ``warping`` is available
for audio clips only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import soundfile


class MidiNoteSpecification:
    """Live 11.0+: what ``add_new_notes`` takes (keyword arguments, as in Live's own scripts)."""

    def __init__(self, *, pitch: int, start_time: float, duration: float, velocity: float = 100.0,
                 mute: bool = False, probability: float = 1.0, velocity_deviation: float = 0.0,
                 release_velocity: float = 64.0) -> None:
        if not 0 <= pitch <= 127:
            raise ValueError(f"pitch must be within 0 and 127, got {pitch}")
        if not duration > 0.0:
            raise ValueError(f"duration must be greater than 0, got {duration}")
        if not 0.0 <= velocity <= 127.0:
            raise ValueError(f"velocity must be within 0 and 127, got {velocity}")
        self.pitch, self.start_time, self.duration = int(pitch), float(start_time), float(duration)
        self.velocity, self.mute, self.probability = float(velocity), bool(mute), float(probability)
        self.velocity_deviation, self.release_velocity = float(velocity_deviation), float(release_velocity)


class Clip:
    def __init__(self, song: Any, *, is_audio_clip: bool, start_time: float, length: float) -> None:
        self._song = song
        self.is_audio_clip = is_audio_clip
        self.is_midi_clip = not is_audio_clip
        self._name = ""
        self.start_time = float(start_time)
        self.length = float(length)  # beats
        self.end_time = self.start_time + self.length
        self.file_path = ""
        self.length_s = 0.0
        self._warping = False
        # Markers and the loop brace, in the clip's own time: beats for MIDI and warped audio clips, seconds for
        # unwarped audio. "loop_start: For looped clips: loop start. For unlooped clips: clip start." (LOM);
        # loop_end likewise the loop end or the clip end. Tests set them as a user drags them.
        self.looping = False
        #: "return true if this Clip is an Arrangement Clip. A Clip can be either a Session or Arrangement Clip."
        self.is_arrangement_clip = False
        self.start_marker = 0.0
        self.end_marker = self.length
        self.loop_start = 0.0
        self.loop_end = self.length
        self.note_specs: list[MidiNoteSpecification] = []  # what add_new_notes received

    @classmethod
    def audio(cls, song: Any, file_path: str, start_time: float) -> Clip:
        info = soundfile.info(file_path)  # Live refuses a file it cannot read
        length_s = info.frames / info.samplerate
        clip = cls(song, is_audio_clip=True, start_time=start_time, length=length_s * song.tempo / 60.0)
        clip.file_path = file_path
        clip.length_s = length_s
        clip.end_marker = clip.loop_end = length_s  # a new audio clip is not warped: its times are seconds
        clip._name = file_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return clip

    @classmethod
    def midi(cls, song: Any, start_time: float, length: float) -> Clip:
        return cls(song, is_audio_clip=False, start_time=start_time, length=length)

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._song._notifications.check_change()
        self._name = str(value)

    @property
    def warping(self) -> bool:
        """Available for audio clips only: 1 = the Warp switch is on."""
        if not self.is_audio_clip:
            raise RuntimeError("warping is available for audio clips only")
        return self._warping

    @warping.setter
    def warping(self, value: bool) -> None:
        if not self.is_audio_clip:
            raise RuntimeError("warping is available for audio clips only")
        self._song._notifications.check_change()
        self._warping = bool(value)

    def _add_new_notes(self, notes: Iterable[MidiNoteSpecification]) -> tuple[int, ...]:
        """Live 11.0+: new notes from ``MidiNoteSpecification`` objects; returns their ids. MIDI clips only."""
        self._song._notifications.check_change()
        if not self.is_midi_clip:
            raise RuntimeError("add_new_notes: not a MIDI clip")
        notes = list(notes)
        for note in notes:
            if not isinstance(note, MidiNoteSpecification):
                raise TypeError(f"expected Live.Clip.MidiNoteSpecification objects, got {type(note).__name__}")
        first = len(self.note_specs)
        self.note_specs.extend(notes)
        return tuple(range(first, first + len(notes)))
