"""Prompts the generator is measured on: genres, metres and keys across the table.

Each case builds the :class:`PromptAnalysis` directly (what the analyser would
return), so the generator is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from mage_bridge.analysis.result import PromptAnalysis


@dataclass(frozen=True)
class Case:
    id: str
    genre: str
    bpm: float
    key: str
    mode: str
    time_signature: tuple[int, int] = (4, 4)
    instruments: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def analysis(self) -> PromptAnalysis:
        num, den = self.time_signature
        prompt = f"{self.genre} in {self.key} {self.mode}, {self.bpm:g} bpm, {num}/{den}"
        if self.instruments:
            prompt += " with " + ", ".join(self.instruments)
        if self.exclude:
            prompt += ", no " + ", ".join(self.exclude)
        return PromptAnalysis(prompt=prompt, genre=self.genre, bpm=self.bpm, key=self.key, mode=self.mode,
                              time_signature=self.time_signature, instruments=self.instruments,
                              exclude_instruments=self.exclude)

    @property
    def has_drums(self) -> bool:
        return self.genre not in ("ambient",) and "drums" not in self.exclude


CASES: tuple[Case, ...] = (
    Case("house", "house", 124, "A", "minor"),
    # Four-on-the-floor under its eighth-level octave: kick on the beat, bass and chords on the off-beats.
    Case("deep-house-100", "deep house", 100, "G", "minor"),
    Case("techno", "techno", 130, "F", "minor"),
    Case("boom-bap", "boom bap", 90, "D", "minor"),
    Case("trap", "trap", 140, "C#", "minor"),
    Case("dnb", "drum and bass", 174, "E", "minor"),
    Case("reggae", "reggae", 80, "G", "major"),
    Case("jazz", "jazz", 140, "Bb", "major"),
    Case("blues", "blues", 96, "E", "major"),
    Case("rock", "rock", 120, "G", "major"),
    Case("waltz", "waltz", 150, "F", "major", (3, 4)),
    Case("ambient", "ambient", 70, "Eb", "major"),
    Case("lofi", "lofi hip hop", 80, "Ab", "major", instruments=("electric piano",)),
    Case("pop", "pop", 110, "C", "major", instruments=("piano", "synth lead")),
    Case("metal", "metal", 160, "E", "minor", instruments=("distorted guitar",)),
    Case("funk", "funk", 104, "F#", "minor", instruments=("slap bass", "clavinet")),
    Case("folk-6-8", "folk", 120, "D", "major", (6, 8), instruments=("acoustic guitar",)),
    Case("blues-12-8", "slow blues", 80, "A", "major", (12, 8)),
    Case("disco", "disco", 118, "Db", "major", instruments=("strings",)),
    Case("trance", "trance", 138, "B", "minor", instruments=("synth lead", "synth pad")),
    Case("bossa", "bossa nova", 132, "Gb", "major", instruments=("nylon guitar",)),
    Case("soul", "soul", 72, "Eb", "minor"),
    Case("dubstep", "dubstep", 140, "G", "minor"),
    Case("jazz-waltz", "jazz waltz", 160, "Bb", "major", (3, 4)),
    Case("piano-ballad", "ballad", 76, "C", "minor", instruments=("piano", "cello"), exclude=("drums",)),
)
