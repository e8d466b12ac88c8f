"""Genre knowledge shared by prompt analysis and the procedural generator.

Each :class:`Genre` says what a prompt that names it implies when the prompt is
otherwise silent (tempo range, mode, metre, swing) and how the embedded
generator plays it (drum style, bass and ``other`` instruments, progressions).
BPM is always quarter-note BPM, as in DAWs and MIDI files, whatever the metre.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["major", "minor"]

#: Drum grooves the procedural composer knows.
DrumStyle = Literal[
    "four_on_floor", "breakbeat", "boom_bap", "trap", "dnb", "one_drop", "swing_ride",
    "rock", "shuffle", "waltz", "six_eight", "halftime", "latin", "ballad", "none",
]


@dataclass(frozen=True)
class Genre:
    name: str
    aliases: tuple[str, ...]
    bpm_range: tuple[float, float]
    default_bpm: float
    mode: Mode
    drum_style: DrumStyle
    bass: str
    instruments: tuple[str, ...]
    time_signature: tuple[int, int] = (4, 4)
    swing: float = 0.0
    progressions: tuple[str, ...] = ()
    description: str = ""


GENRES: tuple[Genre, ...] = (
    Genre("house", ("deep house", "house music", "tech house", "garage house"), (118, 128), 124, "minor",
          "four_on_floor", "synth bass", ("electric piano", "synth pad"),
          progressions=("i-VII-VI-VII", "i-iv-VII-III"),
          description="four on the floor club groove with warm chords and a rolling bassline"),
    Genre("boom bap", ("boombap", "boom-bap", "90s hip hop", "golden era hip hop"), (84, 96), 90, "minor",
          "boom_bap", "acoustic bass", ("piano", "strings"), swing=0.25,
          progressions=("i-iv-i-v", "i-VI-iv-v"),
          description="dusty sampled drums, hard snare on two and four, jazzy loops"),
    Genre("ambient", ("ambient music", "drone", "soundscape"), (60, 90), 70, "major",
          "none", "synth bass", ("synth pad", "strings", "celesta"),
          progressions=("I-V-vi-IV", "I-IV-I-V"),
          description="slow evolving pads and textures, calm and spacious, no beat"),
)

BY_NAME: dict[str, Genre] = {g.name: g for g in GENRES}
