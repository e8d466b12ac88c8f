"""The whole prompt read by the rules: what it states, before any default is filled in.

The rules run in a fixed order on one text that each of them blanks as it
reads (metre and tempo first, so "3/4" and "122bpm" are not read as anything
else; keys on the original case), and what nothing consumed is kept as the
residual a model may interpret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mage_bridge.analysis.rules.duration import parse_duration
from mage_bridge.analysis.rules.ensemble import read_ensemble
from mage_bridge.analysis.rules.genre_words import GenreMatch, choose_primary, find_genres, genre_from_band
from mage_bridge.analysis.rules.instrument_words import find_instruments
from mage_bridge.analysis.rules.key import parse_key_scale
from mage_bridge.analysis.rules.metre import parse_swing, parse_time_signature
from mage_bridge.analysis.rules.mood_words import find_moods
from mage_bridge.analysis.rules.tempo import BPM_RANGE, parse_bpm, parse_feel, parse_tempo_word
from mage_bridge.analysis.rules.text import mask, normalise


@dataclass
class Reading:
    """What the prompt states, before any default is filled in."""

    prompt: str
    bpm: float | None = None
    tempo_word: str | None = None
    feel: str = ""
    tonic: str | None = None
    mode: str | None = None
    #: A church mode the prompt names ("dorian"), else "" (see :attr:`PromptAnalysis.scale`).
    scale: str = ""
    time_signature: tuple[int, int] | None = None
    swing: float | None = None
    genre_matches: list[GenreMatch] = field(default_factory=list)
    genre: str | None = None
    #: Where ``genre`` came from: ``"prompt"`` (named) or ``"instruments"`` (inferred from the band and mood).
    genre_source: str = "prompt"
    genres: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()
    instruments: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    vocals: bool | None = None
    #: A stated length in seconds ("a 45 second ...").
    duration_s: float | None = None
    #: The prompt names the whole ensemble ("solo piano", "string quartet", "just guitar").
    exclusive: bool = False
    warnings: list[str] = field(default_factory=list)
    #: The prompt less what the rules consumed (tempo, key, metre, genres, instruments):
    #: what is left for a model to interpret.
    residual: str = ""


def read_prompt(prompt: str) -> Reading:
    """Everything the rules can read from ``prompt`` (already checked by :func:`check_prompt`)."""
    original = normalise(prompt)
    r = Reading(prompt=prompt)
    # Metre and tempo first, on lower case, so "3/4" and "122bpm" are not read as anything else.
    lower = original.lower()
    r.time_signature, lower = parse_time_signature(lower)
    r.duration_s, lower = parse_duration(lower)
    r.bpm, lower, warnings = parse_bpm(lower)
    r.warnings.extend(warnings)
    # Keys need the original case ("Am" vs "am"); blank what the lower-case rules consumed.
    cased = "".join(c if lower[i] != " " or c == " " else " " for i, c in enumerate(original))
    r.tonic, r.mode, r.scale, cased, warnings = parse_key_scale(cased)
    r.warnings.extend(warnings)
    lower = cased.lower()
    implied, r.exclusive = read_ensemble(lower)
    r.moods = find_moods(lower)
    r.genre_matches, lower = find_genres(lower, original=original.lower())
    r.genre, r.genres = choose_primary(r.genre_matches)
    if r.bpm is None:  # "a 150 trap beat": a bare number right before a genre is its tempo
        for g in r.genre_matches:
            m = re.search(r"(?<![\w.#/])(\d{2,3}(?:\.\d+)?)\s*$", lower[:g.start])
            before = lower[:m.start()].rstrip() if m else ""
            if m and 60 <= float(m.group(1)) <= BPM_RANGE[1] and not before.endswith(("/", "#", "top")):
                r.bpm = float(m.group(1))
                lower = mask(lower, m.start(), m.end())
                break
    r.instruments, r.excluded, r.vocals, lower = find_instruments(lower)
    for name in implied:  # "string quartet": two violins, so a name may come twice
        if name not in r.excluded and r.instruments.count(name) < implied.count(name):
            r.instruments.append(name)
    if r.genre is None:
        r.genre = genre_from_band(r.instruments, r.moods, original.lower(), exclusive=r.exclusive)
        if r.genre is not None:
            r.genre_source, r.genres = "instruments", (r.genre,)
    r.tempo_word = parse_tempo_word(lower)
    r.feel = parse_feel(lower)
    r.swing = parse_swing(lower)
    r.residual = " ".join(lower.split())
    return r
