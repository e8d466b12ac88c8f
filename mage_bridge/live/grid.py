"""The bar grid: where beats and bars fall, in frames of the output stream.

Beats are quarter notes (the DAW's and MIDI clock's beat); a bar is ``numerator * 4 /
denominator`` of them and bar 1 starts at beat 0. The grid is a straight line from frames
to beats — an anchor (a frame and the beat heard there) and a slope (frames per beat) — so a
tempo change or a correction from an outside clock moves the anchor without a jump in the
beat: what was beat 6.5 stays beat 6.5 at that frame. One thread owns a :class:`Grid` (the
audio callback); the others send it changes as commands.
"""

from __future__ import annotations

import math

#: Tempi the player accepts, in quarter-note BPM (the DAW context's range).
MIN_BPM = 20.0
MAX_BPM = 999.0
#: How close (in frames) a launch point may be to a boundary and still count as on it.
ON_BOUNDARY_FRAMES = 1e-6

#: Launch points by name: a whole bar, a beat, or the next buffer.
QUANTA = ("bar", "beat", "now")


def bar_beats(numerator: int, denominator: int) -> float:
    """Quarter-note beats in one bar of ``numerator/denominator``: 4/4 is 4, 6/8 is 3, 7/8 is 3.5."""
    return numerator * 4.0 / denominator


def frames_per_beat(bpm: float, sample_rate: int) -> float:
    """Frames of one quarter-note beat at ``bpm``."""
    return sample_rate * 60.0 / bpm


class Grid:
    """Beats against output frames: ``beat = origin_beat + (frame - origin_frame) / frames_per_beat``."""

    __slots__ = ("sample_rate", "origin_frame", "origin_beat", "frames_per_beat", "beats_per_bar")

    def __init__(self, sample_rate: int, *, bpm: float, beats_per_bar: float = 4.0) -> None:
        self.sample_rate = sample_rate
        self.origin_frame = 0.0
        self.origin_beat = 0.0
        self.frames_per_beat = frames_per_beat(bpm, sample_rate)
        self.beats_per_bar = beats_per_bar

    @property
    def bpm(self) -> float:
        return self.sample_rate * 60.0 / self.frames_per_beat

    def beat_at(self, frame: float) -> float:
        return self.origin_beat + (frame - self.origin_frame) / self.frames_per_beat

    def frame_at(self, beat: float) -> float:
        return self.origin_frame + (beat - self.origin_beat) * self.frames_per_beat

    def set_tempo(self, bpm: float, at_frame: float) -> None:
        """A new tempo from ``at_frame`` on; the beat heard at that frame does not move."""
        self.origin_beat = self.beat_at(at_frame)
        self.origin_frame = at_frame
        self.frames_per_beat = frames_per_beat(bpm, self.sample_rate)

    def anchor(self, beat: float, frame: float, bpm: float) -> None:
        """Beat ``beat`` is heard at ``frame`` and the tempo is ``bpm`` (an outside clock's word)."""
        self.origin_beat = beat
        self.origin_frame = frame
        self.frames_per_beat = frames_per_beat(bpm, self.sample_rate)

    def next_boundary(self, frame: int, quantum_beats: float) -> float:
        """The first beat at or after ``frame`` that is a whole multiple of ``quantum_beats``.

        ``quantum_beats <= 0`` means no quantum: the beat at ``frame`` itself.
        """
        beat = self.beat_at(frame)
        if quantum_beats <= 0:
            return beat
        k = math.ceil(beat / quantum_beats)
        # a boundary a hair before ``frame`` (float rounding) is the one we are on
        if self.frame_at((k - 1) * quantum_beats) >= frame - ON_BOUNDARY_FRAMES:
            k -= 1
        return k * quantum_beats

    def bar_of(self, beat: float) -> int:
        """The 1-based bar that ``beat`` falls in."""
        return int(math.floor(beat / self.beats_per_bar + 1e-9)) + 1
