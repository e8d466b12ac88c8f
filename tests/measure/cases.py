"""Drum-pattern cases for the tempo tests: (id, bpm, time signature, kwargs for drum_clip)."""

from __future__ import annotations

from typing import Any

ROCK_8 = {"kick": "x...x...", "snare": "..x...x.", "hat": "xxxxxxxx"}
ROCK_8_LOUD_HATS = ROCK_8
HOUSE = {"kick": "x.x.x.x.", "snare": "..x...x.", "ohat": ".x.x.x.x"}
SIXTEENTHS = {
    "kick": "x.......x.x.....",
    "snare": "....x.......x...",
    "hat": "xxxxxxxxxxxxxxxx",
}
BOOM_BAP = {
    "kick": "x......x.x......",
    "snare": "....x.......x...",
    "hat": "x.x.x.x.x.x.x.xo",
}
DNB = {
    "kick": "x.........x.....",
    "snare": "....x.......x...",
    "hat": "x.x.x.x.x.x.x.x.",
}
TRAP_HALF_TIME_HATS = {
    "kick": "x.....x...x.....",
    "snare": "....x.......x...",
    "hat": "xxxxxxxxxxxxxxxx",
}
WALTZ = {"kick": "x.....", "snare": "..x.x.", "hat": "xxxxxx"}
THREE_FOUR_ROCK = {"kick": "x...x.", "snare": "..x...", "hat": "xxxxxx"}
SIX_EIGHT = {"kick": "x.....", "snare": "...x..", "hat": "xxxxxx"}
TWELVE_EIGHT = {
    "kick": "x.....x.....",
    "snare": "...x.....x..",
    "hat": "x.xx.xx.xx.x",
}
CLICKS_ONLY = {"hat": "x"}
#: Four-on-the-floor with the open hat and a synth bass on every off-beat (house, deep house).
HOUSE_OFFBEAT_BASS = {"kick": "x.x.x.x.", "ohat": ".x.x.x.x", "bass": ".x.x.x.x"}
HOUSE_OFFBEAT_BASS_CLAP = {**HOUSE_OFFBEAT_BASS, "snare": "..x...x."}
#: Kick on 1 and 3, snare on 2 and 4, eighth hats: at 180-210 BPM the beat is still the quarter.
PUNK = {"kick": "x...x...", "snare": "..x...x.", "hat": "xxxxxxxx"}

BASS = (55.0, 73.4, 49.0, 65.4)


def case(id_: str, bpm: float, ts: tuple[int, int], patterns: dict[str, str], spq: float,
         **kw: Any) -> tuple[str, float, tuple[int, int], dict[str, Any]]:
    return id_, bpm, ts, {"patterns": patterns, "steps_per_quarter": spq, **kw}


CASES = [
    case("rock8-60", 60, (4, 4), ROCK_8, 2),
    case("rock8-70", 70, (4, 4), ROCK_8, 2, bass_notes_hz=BASS),
    case("rock8-100", 100, (4, 4), ROCK_8, 2),
    case("rock8-122-loudhats", 122, (4, 4), ROCK_8, 2, gains={"hat": 1.0}),
    case("rock8-160", 160, (4, 4), ROCK_8, 2, bass_notes_hz=BASS),
    case("rock8-140-softsnare", 140, (4, 4), ROCK_8, 2, gains={"snare": 0.3}),
    case("house-124", 124, (4, 4), HOUSE, 2, gains={"ohat": 0.6}),
    case("house-128", 128, (4, 4), HOUSE, 2, bass_notes_hz=BASS),
    case("sixteenths-85", 85, (4, 4), SIXTEENTHS, 4),
    case("sixteenths-90-loudhats", 90, (4, 4), SIXTEENTHS, 4, gains={"hat": 0.8}),
    case("sixteenths-120", 120, (4, 4), SIXTEENTHS, 4, bass_notes_hz=BASS),
    case("sixteenths-140", 140, (4, 4), SIXTEENTHS, 4),
    case("boombap-70-swing", 70, (4, 4), BOOM_BAP, 4, swing=0.2),
    case("boombap-80-swing", 80, (4, 4), BOOM_BAP, 4, swing=0.25, bass_notes_hz=BASS),
    case("boombap-90-swing", 90, (4, 4), BOOM_BAP, 4, swing=0.15),
    case("dnb-174", 174, (4, 4), DNB, 4),
    case("dnb-170-bass", 170, (4, 4), DNB, 4, bass_notes_hz=BASS),
    case("trap-140", 140, (4, 4), TRAP_HALF_TIME_HATS, 4, gains={"hat": 0.4}),
    case("waltz-90", 90, (3, 4), WALTZ, 2),
    case("waltz-150", 150, (3, 4), WALTZ, 2, bass_notes_hz=BASS),
    case("threefour-110", 110, (3, 4), THREE_FOUR_ROCK, 2),
    case("six-eight-90", 90, (6, 8), SIX_EIGHT, 2),
    case("six-eight-120", 120, (6, 8), SIX_EIGHT, 2, bass_notes_hz=BASS),
    case("six-eight-180", 180, (6, 8), SIX_EIGHT, 2),
    case("twelve-eight-75", 75, (12, 8), TWELVE_EIGHT, 2),
    case("twelve-eight-105", 105, (12, 8), TWELVE_EIGHT, 2, bass_notes_hz=BASS),
    case("clicks-128", 128, (4, 4), CLICKS_ONLY, 1),
]
CASES += [
    case("boombap-90-straight", 90, (4, 4), BOOM_BAP, 4),
    case("boombap-85-bass", 85, (4, 4), BOOM_BAP, 4, swing=0.1, bass_notes_hz=BASS),
    case("house-clap-offbeat-bass-110", 110, (4, 4), HOUSE_OFFBEAT_BASS_CLAP, 2, gains={"bass": 1.0, "ohat": 0.4},
         bass_notes_hz=BASS),
    case("punk-200", 200, (4, 4), PUNK, 2),
    case("punk-180-bass", 180, (4, 4), PUNK, 2, bass_notes_hz=BASS),
]
