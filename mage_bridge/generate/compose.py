"""The procedural composer: a :class:`PromptAnalysis` becomes a :class:`Score` of MIDI parts.

Pure Python and numpy, no audio. The clip has three sections on one bar grid:
a one-bar lead-in (a stick count-in and a pad swell on the tonic), the body
(the genre's groove under a chord progression that starts on the tonic), and a
lead-out (the tonic chord struck on a downbeat and released early enough to
ring out before the end). Everything random comes from one
``numpy.random.default_rng(seed)``, so a seed re-renders the same clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mage_bridge import genres, instruments
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.errors import InvalidInputError
from mage_bridge.generate import grooves
from mage_bridge.generate.grooves import Hit
from mage_bridge.generate.harmony import Chord, parse_progression, place, tonic_chord, voice
from mage_bridge.generate.metre import PPQ, Metre, swing_tick
from mage_bridge.music import SCALES, key_name, pitch_class

#: Seconds the lead-out needs at least: the final chord held, then released to silence.
MIN_LEAD_OUT_S = 2.8
#: Seconds a released note (pads are the slowest in GM sets) needs to fall below -60 dB.
RELEASE_S = 2.2
#: Seconds a crash needs to die away (GM crashes ignore note-off).
CRASH_RING_S = 4.4

DEFAULT_PROGRESSIONS: dict[str, tuple[str, ...]] = {
    "major": ("I-V-vi-IV", "I-IV-V-IV", "I-vi-IV-V", "I-IV-I-V"),
    "minor": ("i-VI-III-VII", "i-iv-v-i", "i-VII-VI-VII", "i-iv-VI-V"),
}
STYLE_PROGRESSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("shuffle", "major"): ("I7-IV7-I7-I7-IV7-IV7-I7-I7-V7-IV7-I7-V7",),
    ("shuffle", "minor"): ("i7-iv7-i7-i7-iv7-iv7-i7-i7-V7-iv7-i7-V7",),
    ("swing_ride", "major"): ("Imaj7-vi7-ii7-V7", "Imaj7-IV7-iii7-vi7-ii7-V7"),
    ("swing_ride", "minor"): ("i7-iv7-iiø-V7", "i7-i7-iv7-V7"),
}

#: When a genre is not in the table: a drum style guessed from words in its name.
_STYLE_WORDS: tuple[tuple[str, str], ...] = (
    ("trap", "trap"), ("drill", "trap"), ("drum and bass", "dnb"), ("dnb", "dnb"), ("jungle", "dnb"),
    ("dubstep", "halftime"), ("reggae", "one_drop"), ("dub", "one_drop"), ("ska", "one_drop"), ("jazz", "swing_ride"),
    ("swing", "swing_ride"), ("bebop", "swing_ride"), ("blues", "shuffle"), ("waltz", "waltz"),
    ("boom bap", "boom_bap"), ("hip hop", "boom_bap"), ("lofi", "boom_bap"), ("lo-fi", "boom_bap"),
    ("house", "four_on_floor"), ("techno", "four_on_floor"), ("trance", "four_on_floor"),
    ("disco", "four_on_floor"), ("edm", "four_on_floor"),
    ("latin", "latin"), ("bossa", "latin"), ("salsa", "latin"), ("samba", "latin"),
    ("ballad", "ballad"), ("soul", "ballad"), ("r&b", "ballad"), ("breakbeat", "breakbeat"),
    ("funk", "breakbeat"), ("ambient", "none"), ("drone", "none"), ("classical", "none"),
)
#: Bass and ``other`` instruments per drum style, for genres the table does not know.
_STYLE_BAND: dict[str, tuple[str, tuple[str, ...]]] = {
    "four_on_floor": ("synth bass", ("synth pad", "electric piano")),
    "trap": ("808", ("piano", "synth pad")),
    "boom_bap": ("acoustic bass", ("electric piano", "strings")),
    "dnb": ("synth bass", ("synth pad", "electric piano")),
    "breakbeat": ("electric bass", ("clavinet", "synth pad")),
    "one_drop": ("electric bass", ("organ", "clean guitar")),
    "swing_ride": ("acoustic bass", ("piano", "saxophone")),
    "rock": ("picked bass", ("overdriven guitar", "organ")),
    "shuffle": ("electric bass", ("piano", "overdriven guitar")),
    "waltz": ("acoustic bass", ("piano", "strings")),
    "six_eight": ("acoustic bass", ("piano", "strings")),
    "halftime": ("synth bass", ("synth pad", "piano")),
    "latin": ("acoustic bass", ("nylon guitar", "piano")),
    "ballad": ("electric bass", ("piano", "strings")),
    "none": ("synth bass", ("synth pad", "celesta")),
}

#: Half-time grooves whose keys play broken chords on 8ths rather than held chords.
_ARPEGGIO_STYLES = frozenset({"trap", "halftime"})
_HARMONIC_ROLES = frozenset({"pad", "strings", "keys", "guitar"})
#: Driven guitars play power chords (no third): they do not state the mode on their own.
_POWER_CHORD_PROGRAMS = frozenset({29, 30})
_STEM_OF_ROLE = {"drums": "drums", "bass": "bass"}


@dataclass(frozen=True)
class Note:
    """A note in ticks from the clip start."""

    start: int
    length: int
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Control:
    """A MIDI control change at ``tick``."""

    tick: int
    control: int
    value: int


@dataclass(frozen=True)
class Part:
    """One instrument on one MIDI channel, landing in ``stem``."""

    name: str
    role: str
    stem: str
    channel: int
    bank: int
    program: int
    notes: tuple[Note, ...]
    controls: tuple[Control, ...] = ()
    volume: int = 100
    pan: int = 64
    reverb: int = 40
    chorus: int = 0


@dataclass(frozen=True)
class Score:
    """Everything the renderer needs, on a tick grid tied to frames by ``bpm``."""

    bpm: float
    metre: Metre
    sample_rate: int
    total_frames: int
    lead_in_bars: int
    body_bars: int
    tonic_pc: int
    mode: str
    drum_style: str
    swing: float
    progression: tuple[str, ...]
    parts: tuple[Part, ...]
    notes: tuple[str, ...] = field(default=())

    def frame(self, tick: int) -> int:
        """The frame a tick falls on (ticks are exact; frames round to the nearest)."""
        return int(round(tick * 60.0 * self.sample_rate / (self.bpm * PPQ)))

    @property
    def bar_frames(self) -> float:
        return self.metre.bar_ticks * 60.0 * self.sample_rate / (self.bpm * PPQ)

    @property
    def body_start_tick(self) -> int:
        return self.lead_in_bars * self.metre.bar_ticks

    @property
    def lead_out_tick(self) -> int:
        return (self.lead_in_bars + self.body_bars) * self.metre.bar_ticks

    def stems(self) -> dict[str, tuple[Part, ...]]:
        """Parts grouped by stem, in the order drums, bass, other; empty stems left out."""
        out: dict[str, tuple[Part, ...]] = {}
        for stem in ("drums", "bass", "other"):
            parts = tuple(p for p in self.parts if p.stem == stem and p.notes)
            if parts:
                out[stem] = parts
        return out

    def details(self) -> dict[str, Any]:
        bar_s = self.bar_frames / self.sample_rate
        lead_in_s = self.frame(self.body_start_tick) / self.sample_rate
        lead_out_start_s = self.frame(self.lead_out_tick) / self.sample_rate
        return {
            "bpm": self.bpm,
            "time_signature": [self.metre.numerator, self.metre.denominator],
            "key": key_name(self.tonic_pc, self.mode),
            "mode": self.mode,
            "bar_s": round(bar_s, 6),
            "lead_in_bars": self.lead_in_bars,
            "lead_in_s": round(lead_in_s, 6),
            "body_bars": self.body_bars,
            "lead_out_s": round(self.total_frames / self.sample_rate - lead_out_start_s, 6),
            "drum_style": self.drum_style,
            "swing": self.swing,
            "progression": list(self.progression),
            "parts": [
                {"name": p.name, "role": p.role, "stem": p.stem, "channel": p.channel + 1,
                 "bank": p.bank, "program": p.program, "notes": len(p.notes)}
                for p in self.parts
            ],
            "notes": list(self.notes),
        }


def drum_style_for(analysis: PromptAnalysis, genre: genres.Genre | None) -> str:
    """The genre's drum style ("none" when the prompt excludes drums)."""
    if _excludes_drums(analysis):
        return "none"
    if genre is not None:
        return genre.drum_style
    text = analysis.genre.lower()
    for word, style in _STYLE_WORDS:
        if word in text:
            return style
    return "rock"


def _excludes_drums(analysis: PromptAnalysis) -> bool:
    for name in analysis.exclude_instruments:
        if name.strip().lower() in ("drums", "drum", "beat", "beats", "percussion", "drum kit"):
            return True
        try:
            if instruments.lookup(name).role == "drums":
                return True
        except KeyError:
            continue
    return False


def _canonical(name: str) -> str:
    try:
        return instruments.lookup(name).name
    except KeyError:
        return name.strip().lower()


def compose(
    analysis: PromptAnalysis,
    *,
    seed: int,
    duration_s: float = 32.0,
    lead_in_bars: int = 1,
    sample_rate: int = 48_000,
) -> Score:
    """Write the clip for ``analysis`` as a :class:`Score` (no audio yet)."""
    if not math.isfinite(analysis.bpm) or not 20.0 <= analysis.bpm <= 400.0:
        raise InvalidInputError(f"bpm must be from 20 to 400, got {analysis.bpm!r}")
    if analysis.mode not in SCALES:
        raise InvalidInputError(f"mode must be 'major' or 'minor', got {analysis.mode!r}")
    if not isinstance(lead_in_bars, int) or isinstance(lead_in_bars, bool) or not 0 <= lead_in_bars <= 8:
        raise InvalidInputError(f"lead_in_bars must be an int from 0 to 8, got {lead_in_bars!r}")
    if not math.isfinite(duration_s) or duration_s <= 0:
        raise InvalidInputError(f"duration_s must be a positive number of seconds, got {duration_s!r}")
    tonic_pc = pitch_class(analysis.key)
    metre = Metre(*analysis.time_signature)
    rng = np.random.default_rng(seed)
    genre = genres.find(analysis.genre)
    notes_out: list[str] = []
    if genre is None:
        notes_out.append(f"genre {analysis.genre!r} is not in the genre table; style guessed from its name")

    base_style = drum_style_for(analysis, genre)
    style = grooves.groove_style(base_style, metre)
    swing = _swing(analysis, genre, base_style, metre)
    swing_unit = PPQ // 2 if base_style in grooves.EIGHTH_SWING else PPQ // 4

    bar_s = metre.quarters * 60.0 / analysis.bpm
    total_frames = int(round(duration_s * sample_rate))
    body_bars = int(math.floor((duration_s - lead_in_bars * bar_s - MIN_LEAD_OUT_S) / bar_s + 1e-9))
    if body_bars < 1:
        raise InvalidInputError(
            f"duration_s={duration_s:g} is too short for {lead_in_bars} lead-in bar(s), one bar of "
            f"{metre} at {analysis.bpm:g} BPM ({bar_s:.2f} s) and a {MIN_LEAD_OUT_S:g} s lead-out"
        )
    bar = metre.bar_ticks
    lead_out_tick = (lead_in_bars + body_bars) * bar
    lead_out_s = duration_s - (lead_in_bars + body_bars) * bar_s
    hold_s = max(0.3, min(bar_s, lead_out_s - RELEASE_S - 0.15))
    hold_ticks = int(round(hold_s * analysis.bpm * PPQ / 60.0))

    chords, symbols = _choose_progression(analysis.mode, tonic_pc, genre, base_style, rng)
    body_chords = [chords[b % len(chords)] for b in range(body_bars)]
    tonic = tonic_chord(tonic_pc=tonic_pc, mode=analysis.mode)
    progression = tuple(symbols[b % len(symbols)] for b in range(body_bars)) + (tonic.symbol,)

    ctx = _Context(metre=metre, rng=rng, style=style, base_style=base_style, swing=swing,
                   swing_unit=swing_unit, lead_in_bars=lead_in_bars, body_bars=body_bars,
                   body_chords=body_chords, tonic=tonic, tonic_pc=tonic_pc, mode=analysis.mode,
                   lead_out_tick=lead_out_tick, hold_ticks=hold_ticks,
                   crash_at_end=lead_out_s >= CRASH_RING_S)

    bass_inst, other_insts = _choose_instruments(analysis, genre, base_style, notes_out)
    kick_ticks, drum_part = _drums(ctx, include=base_style != "none")
    parts: list[Part] = []
    if drum_part is not None:
        parts.append(drum_part)
    if bass_inst is not None:
        parts.append(_bass(ctx, bass_inst, kick_ticks))
    for channel, inst in enumerate(other_insts):
        parts.append(_other(ctx, inst, channel))
    if analysis.vocals:
        notes_out.append("vocals were asked for; the procedural backend renders no vocal stem yet")
    return Score(bpm=float(analysis.bpm), metre=metre, sample_rate=sample_rate, total_frames=total_frames,
                 lead_in_bars=lead_in_bars, body_bars=body_bars, tonic_pc=tonic_pc, mode=analysis.mode,
                 drum_style=style if base_style != "none" else "none", swing=swing,
                 progression=progression, parts=tuple(parts), notes=tuple(notes_out))


def _swing(analysis: PromptAnalysis, genre: genres.Genre | None, style: str, metre: Metre) -> float:
    if metre.compound:
        return 0.0  # compound metres already carry their triplets
    if analysis.swing > 0 or analysis.sources.get("swing") in ("prompt", "option"):
        return float(min(max(analysis.swing, 0.0), 1.0))
    if genre is not None and genre.swing > 0:
        return float(genre.swing)
    return grooves.STYLE_SWING.get(style, 0.0)


def _choose_progression(mode: str, tonic_pc: int, genre: genres.Genre | None, style: str,
                        rng: np.random.Generator) -> tuple[tuple[Chord, ...], tuple[str, ...]]:
    """A progression that fits the mode, rotated to start on the tonic chord."""
    candidates = [p for p in (genre.progressions if genre else ()) if _fits_mode(p, mode)]
    if not candidates:
        candidates = list(STYLE_PROGRESSIONS.get((style, mode), DEFAULT_PROGRESSIONS[mode]))
    text = candidates[int(rng.integers(len(candidates)))]
    chords = parse_progression(text, tonic_pc=tonic_pc, mode=mode)
    for i, c in enumerate(chords):
        if c.root_pc == tonic_pc and c.is_minor == (mode == "minor"):
            chords = chords[i:] + chords[:i]
            break
    return chords, tuple(c.symbol for c in chords)


def _fits_mode(progression: str, mode: str) -> bool:
    first = progression.strip().lstrip("b#♭♯")[:1]
    return bool(first) and (first.islower() if mode == "minor" else first.isupper())


def _choose_instruments(analysis: PromptAnalysis, genre: genres.Genre | None, style: str,
                        notes_out: list[str]) -> tuple[instruments.Instrument | None,
                                                       list[instruments.Instrument]]:
    """Bass and ``other`` instruments: the prompt's first, then the genre's, 2-4 parts in ``other``."""
    excluded = {_canonical(n) for n in analysis.exclude_instruments}
    excluded_roles = {r for r in ("bass",) if r in excluded}
    named: list[instruments.Instrument] = []
    for name in analysis.instruments:
        try:
            inst = instruments.lookup(name)
        except KeyError:
            notes_out.append(f"instrument {name!r} is not in the instrument table; left out")
            continue
        if inst.name not in excluded and inst not in named:
            named.append(inst)
    band_bass, band_other = _STYLE_BAND.get(style, _STYLE_BAND["rock"])
    genre_bass = genre.bass if genre else band_bass
    genre_other = genre.instruments if genre else band_other

    bass = next((i for i in named if i.role == "bass"), None)
    if bass is None and "bass" not in excluded_roles:
        bass = _lookup_or(genre_bass, "electric bass")
        if bass.name in excluded:
            bass = None
    other = [i for i in named if i.role not in ("bass", "drums", "vocals")][:4]
    for name in genre_other:
        if len(other) >= 3:
            break
        inst = _lookup_or(name, "piano")
        if inst.name not in excluded and inst not in other and inst.role not in ("bass", "drums", "vocals"):
            other.append(inst)
    if not any(i.role in _HARMONIC_ROLES and i.program not in _POWER_CHORD_PROGRAMS for i in other):
        for fallback in ("synth pad", "piano", "strings"):
            inst = instruments.lookup(fallback)
            if inst.name not in excluded:
                other.append(inst)
                break
    return bass, other[:4]


def _lookup_or(name: str, fallback: str) -> instruments.Instrument:
    try:
        return instruments.lookup(name)
    except KeyError:
        return instruments.lookup(fallback)


@dataclass(frozen=True)
class _Context:
    metre: Metre
    rng: np.random.Generator
    style: str
    base_style: str
    swing: float
    swing_unit: int
    lead_in_bars: int
    body_bars: int
    body_chords: list[Chord]
    tonic: Chord
    tonic_pc: int
    mode: str
    lead_out_tick: int
    hold_ticks: int
    crash_at_end: bool

    def bar_start(self, body_bar: int) -> int:
        return (self.lead_in_bars + body_bar) * self.metre.bar_ticks

    def at(self, body_bar: int, offset: int) -> int:
        """Absolute tick of ``offset`` into body bar ``body_bar``, swung."""
        return self.bar_start(body_bar) + swing_tick(offset, unit=self.swing_unit, amount=self.swing)

    def vel(self, v: int, spread: int = 6) -> int:
        return int(np.clip(v + self.rng.integers(-spread, spread + 1), 1, 127))


def _drums(ctx: _Context, *, include: bool) -> tuple[list[int], Part | None]:
    """The drum part, and the kick positions of the groove (the bass locks to them)."""
    m, rng = ctx.metre, ctx.rng
    variant = int(rng.integers(grooves.variants(ctx.style)))
    notes: list[Note] = []
    kicks: list[int] = []
    for hit in grooves.count_in(ctx.style, m):
        for lb in range(ctx.lead_in_bars):
            notes.append(Note(lb * m.bar_ticks + hit.tick, PPQ // 2, hit.note, hit.velocity))
    for b in range(ctx.body_bars):
        last = b == ctx.body_bars - 1
        fill = (b % 4 == 3 and not last) or (last and ctx.body_bars >= 2)
        crash = b == 0 or b % 4 == 0
        if b % 8 == 4 and grooves.variants(ctx.style) > 1 and rng.random() < 0.5:
            variant = int(rng.integers(grooves.variants(ctx.style)))
        for hit in grooves.bar_hits(ctx.style, m, variant=variant, rng=rng, fill=fill, crash=crash):
            tick = ctx.at(b, hit.tick)
            if hit.note in (grooves.KICK, grooves.KICK2):
                kicks.append(tick)
            length = 4 * PPQ if hit.note == grooves.CRASH else PPQ // 2
            notes.append(Note(tick, length, hit.note, ctx.vel(hit.velocity, 4)))
    end = ctx.lead_out_tick
    notes.append(Note(end, ctx.hold_ticks, grooves.KICK, 118))
    kicks.append(end)
    if ctx.crash_at_end:
        notes.append(Note(end, ctx.hold_ticks, grooves.CRASH, 96))
    if not include:
        return kicks, None
    part = Part(name="drums", role="drums", stem="drums", channel=9, bank=128,
                program=grooves.KITS.get(ctx.base_style, 0), notes=_clean(notes), volume=96, reverb=24)
    return kicks, part


def _bass(ctx: _Context, inst: instruments.Instrument, kicks: list[int]) -> Part:
    """Bass on the chord roots: locked to the kick, walking in jazz, boogie in blues."""
    m, rng = ctx.metre, ctx.rng
    low, high = (28, 43) if inst.name == "808" else (33, 47)
    notes: list[Note] = []
    bar = m.bar_ticks
    style = ctx.base_style if ctx.style == ctx.base_style else ctx.style
    # boogie lines in semitones over the root (4 = the chord's third); the last bar turns around
    boogie = (_BOOGIE[int(rng.integers(len(_BOOGIE)))], _BOOGIE_TURNAROUND)
    pickups = bool(rng.random() < 0.5)
    for b, chord in enumerate(ctx.body_chords):
        start = ctx.bar_start(b)
        root = place(chord.root_pc, low=low, high=high)
        fifth = root + 7 if root + 7 <= high + 5 else root - 5
        next_chord = ctx.body_chords[b + 1] if b + 1 < ctx.body_bars else ctx.tonic
        if style == "swing_ride" and m.beats == 4:
            line = _walk(chord, next_chord, root, rng)
            for i, pitch in enumerate(line):
                notes.append(Note(start + i * PPQ, PPQ - 40, pitch, ctx.vel(100 if i == 0 else 88)))
        elif style == "shuffle" and m.beats == 4:
            for i, step in enumerate(boogie[int(b == ctx.body_bars - 1)]):
                pitch = root + (3 if chord.is_minor and step == 4 else step)
                notes.append(Note(ctx.at(b, i * PPQ // 2), PPQ // 2 - 30, pitch, ctx.vel(100 if i % 2 == 0 else 80)))
        elif style == "halftime":
            # a wobble bass: re-struck 8ths on the root, accented on the beat
            for i in range(8):
                pitch = root + 12 if (i == 7 and rng.random() < 0.5) else root
                notes.append(Note(ctx.at(b, i * PPQ // 2), PPQ // 2 - 40, pitch, ctx.vel(110 if i % 2 == 0 else 84)))
        elif style == "four_on_floor":
            notes.append(Note(start, PPQ // 4, root, ctx.vel(104)))
            for beat in range(4):
                pitch = root + 12 if (beat == 3 and rng.random() < 0.4) else root
                notes.append(Note(ctx.at(b, beat * PPQ + PPQ // 2), PPQ // 3, pitch, ctx.vel(110)))
        elif style == "one_drop":
            notes.append(Note(start, PPQ * 3 // 2, root, ctx.vel(108)))
            notes.append(Note(ctx.at(b, PPQ * 2), PPQ // 2, root, ctx.vel(96)))
            notes.append(Note(ctx.at(b, PPQ * 5 // 2), PPQ // 2, fifth, ctx.vel(90)))
            notes.append(Note(ctx.at(b, PPQ * 3), PPQ, root + 12 if rng.random() < 0.5 else root, ctx.vel(92)))
        elif style in ("waltz", "six_eight", "generic", "none") or ctx.base_style == "none":
            if style == "none":
                notes.append(Note(start, bar - 60, root, ctx.vel(88)))
                continue
            notes.append(Note(start, m.beat_ticks - 30, root, ctx.vel(108)))
            for beat in range(1, m.beats):
                pitch = fifth if beat == m.beats // 2 or m.beats == 2 else root
                notes.append(Note(start + beat * m.beat_ticks, m.beat_ticks - 30, pitch, ctx.vel(88)))
                if m.compound and pickups:  # the last 8th of the beat before walks into this one
                    notes.append(Note(start + beat * m.beat_ticks - m.unit_ticks, m.unit_ticks - 30,
                                      pitch + (2 if rng.random() < 0.5 else -1), ctx.vel(72)))
        else:
            bar_kicks = sorted(k for k in kicks if start <= k < start + bar)
            if not bar_kicks or bar_kicks[0] != start:
                bar_kicks.insert(0, start)
            backbeats = {start + m.beat_ticks * i for i in range(1, m.beats, 2)}
            if ctx.base_style in ("breakbeat", "boom_bap", "rock", "ballad") and not backbeats & set(bar_kicks):
                # no kick on a backbeat: the bass answers the snare on the last beat, into the next bar
                bar_kicks = sorted(set(bar_kicks) | {start + (m.beats - 1) * m.beat_ticks})
            for i, k in enumerate(bar_kicks):
                nxt = bar_kicks[i + 1] if i + 1 < len(bar_kicks) else start + bar
                pitch = root if (i == 0 or rng.random() < 0.75) else (fifth if rng.random() < 0.6 else root + 12)
                length = max(PPQ // 4, nxt - k - 30)
                if ctx.base_style not in ("trap", "dnb", "halftime"):
                    length = min(length, PPQ)
                notes.append(Note(k, length, pitch, ctx.vel(110 if i == 0 else 96)))
    end_root = place(ctx.tonic_pc, low=low, high=high)
    notes.append(Note(ctx.lead_out_tick, ctx.hold_ticks, end_root, 108))
    return Part(name=inst.name, role="bass", stem="bass", channel=0, bank=0, program=inst.program,
                notes=_clean(notes), volume=112, reverb=16)


#: Shuffle bass figures on the eight swung 8ths of a bar (semitones over the root; 4 = the third).
_BOOGIE = ((0, 4, 7, 9, 12, 9, 7, 4), (0, 0, 7, 7, 9, 9, 7, 7), (0, 7, 9, 10, 12, 10, 9, 7))
_BOOGIE_TURNAROUND = (0, 4, 7, 9, 10, 9, 7, 4)


def _walk(chord: Chord, next_chord: Chord, root: int, rng: np.random.Generator) -> list[int]:
    """Four quarter notes: root, two chord tones, a chromatic approach to the next root."""
    tones = [root + i for i in chord.intervals[1:4]]
    pick = [root, tones[int(rng.integers(len(tones)))], tones[int(rng.integers(len(tones)))]]
    target = root + ((next_chord.root_pc - chord.root_pc) % 12)
    if target - root > 6:
        target -= 12
    approach = target + (1 if rng.random() < 0.5 else -1)
    return [pick[0], pick[1], pick[2], approach]


def _other(ctx: _Context, inst: instruments.Instrument, channel: int) -> Part:
    """One part of the ``other`` stem, playing as its role says."""
    role = inst.role
    if role == "pad" or role == "strings":
        notes, controls = _pad(ctx, swell=True), _swell(ctx, channel)
        settings = {"volume": 100, "reverb": 60, "chorus": 30}
    elif role == "lead":
        notes, controls = _lead(ctx), ()
        settings = {"volume": 92, "reverb": 50, "chorus": 0}
    elif role == "pluck":
        notes, controls = _arpeggio(ctx), ()
        settings = {"volume": 94, "reverb": 56, "chorus": 0}
    elif role == "guitar":
        notes, controls = _strum(ctx, power=inst.program in _POWER_CHORD_PROGRAMS), ()
        settings = {"volume": 96, "reverb": 40, "chorus": 20}
    elif ctx.style in _ARPEGGIO_STYLES and role == "keys":
        # half-time grooves: the keys keep the quarter pulse with a bell-like broken-chord loop
        notes, controls = _arpeggio(ctx, eighths=True), ()
        settings = {"volume": 96, "reverb": 50, "chorus": 0}
    else:  # keys, brass
        notes, controls = _comp(ctx, short=role == "brass"), ()
        settings = {"volume": 100, "reverb": 44, "chorus": 10}
    pans = (64, 44, 84, 30)
    return Part(name=inst.name, role=role, stem="other", channel=channel, bank=0, program=inst.program,
                notes=_clean(notes), controls=tuple(controls), pan=pans[channel % 4], **settings)


def _voicings(ctx: _Context, *, low: int, high: int, size: int) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = []
    prev: tuple[int, ...] | None = None
    for chord in ctx.body_chords:
        prev = voice(chord, previous=prev, low=low, high=high, notes=size)
        out.append(prev)
    out.append(voice(ctx.tonic, previous=prev, low=low, high=high, notes=size))
    return out


def _pad(ctx: _Context, *, swell: bool) -> list[Note]:
    """Sustained chords, one per bar; the lead-in swells in on the tonic."""
    size = 3 + int(ctx.rng.integers(2))
    voicings = _voicings(ctx, low=52, high=76, size=size)
    bar = ctx.metre.bar_ticks
    notes: list[Note] = []
    if swell and ctx.lead_in_bars:
        first = voice(ctx.tonic, previous=voicings[0], low=52, high=76, notes=size)
        for p in first:
            notes.append(Note(0, ctx.lead_in_bars * bar - 20, p, 76))
    for b in range(ctx.body_bars):
        chord = voicings[b] + _pedal(ctx, ctx.body_chords[b], voicings[b])
        for p in chord:
            notes.append(Note(ctx.bar_start(b), bar - 20, p, ctx.vel(80, 4)))
    notes += _final(ctx, voicings[-1], 84)
    return notes


def _pedal(ctx: _Context, chord: Chord, voicing: tuple[int, ...]) -> tuple[int, ...]:
    """The tonic held above a chord that lacks it, where it does not rub a semitone.

    An inner pedal on the tonic is how pads keep a loop like i-VII-VI-VII from
    sounding like the relative major: Gadd9 over A, C6 in A minor.
    """
    pcs = chord.pitch_classes
    t = ctx.tonic_pc
    if t in pcs or (t + 1) % 12 in pcs or (t - 1) % 12 in pcs:
        return ()
    top = max(voicing)
    pedal = top + ((t - top) % 12 or 12)
    if pedal > 81:
        pedal -= 12
    return () if pedal in voicing else (pedal,)


def _swell(ctx: _Context, channel: int) -> list[Control]:
    """Expression (CC11) rising over the lead-in, then held."""
    span = ctx.lead_in_bars * ctx.metre.bar_ticks
    if span == 0:
        return [Control(0, 11, 120)]
    steps = 16
    return [Control(span * i // steps, 11, 30 + 90 * i // steps) for i in range(steps + 1)]


def _final(ctx: _Context, chord: tuple[int, ...], velocity: int) -> list[Note]:
    return [Note(ctx.lead_out_tick, ctx.hold_ticks, p, velocity) for p in chord]


#: Comp rhythms in 4/4: (offset in 16ths, length in 16ths, velocity).
_COMP: dict[str, tuple[tuple[tuple[int, int, int], ...], ...]] = {
    "four_on_floor": (((2, 1, 92), (6, 1, 88), (10, 1, 92), (14, 1, 88)),
                      ((0, 3, 96), (6, 2, 88), (10, 3, 90)),
                      ((3, 2, 90), (6, 2, 88), (11, 2, 92))),
    "one_drop": (((4, 1, 96), (12, 1, 96)), ((4, 1, 96), (6, 1, 70), (12, 1, 96), (14, 1, 70))),
    "swing_ride": (((0, 4, 92), (6, 2, 84)), ((4, 2, 88), (12, 2, 88)), ((0, 2, 90), (10, 2, 84))),
    "boom_bap": (((0, 6, 92), (10, 4, 84)), ((0, 8, 90), (8, 8, 84))),
    "latin": (((0, 3, 90), (3, 3, 82), (6, 2, 84), (10, 3, 86), (13, 3, 82)),),
    "breakbeat": (((0, 1, 96), (3, 1, 78), (4, 1, 92), (6, 1, 78), (8, 1, 96), (11, 1, 78), (12, 1, 92),
                   (14, 1, 78)),
                  ((0, 2, 96), (4, 1, 90), (7, 1, 76), (8, 2, 94), (12, 1, 90), (14, 1, 76))),
    "trap": (((0, 8, 88), (8, 8, 80)),),
    "dnb": (((0, 16, 86),), ((0, 10, 88), (10, 6, 80))),
    "rock": (((0, 2, 96), (2, 2, 80), (4, 2, 90), (6, 2, 80), (8, 2, 96), (10, 2, 80), (12, 2, 90),
              (14, 2, 80)), ((0, 4, 96), (4, 4, 88), (8, 4, 92), (12, 4, 88))),
    "ballad": (((0, 8, 88), (8, 8, 82)), ((0, 4, 88), (4, 4, 80), (8, 4, 84), (12, 4, 80))),
}
_COMP_DEFAULT = (((0, 4, 94), (4, 4, 84), (8, 4, 90), (12, 4, 84)), ((0, 8, 92), (8, 8, 86)))


def _comp_rhythm(ctx: _Context) -> list[tuple[int, int, int]]:
    """Onsets (ticks in bar), lengths and velocities of a comping pattern for this metre."""
    m = ctx.metre
    if m.numerator == 4 and m.denominator == 4:
        table = _COMP.get(ctx.style, _COMP_DEFAULT)
        pattern = table[int(ctx.rng.integers(len(table)))]
        step = PPQ // 4
        return [(o * step, max(1, n * step - 30), v) for o, n, v in pattern]
    if ctx.style == "waltz" or (not m.compound and m.numerator == 3):
        return [(b * m.beat_ticks, m.beat_ticks - 40, 86) for b in range(1, m.beats)]  # oom-pah-pah
    if m.compound:
        unit = m.unit_ticks
        variant = int(ctx.rng.integers(3))
        if variant == 1:  # 8th-triplet chords, slow-blues piano: accent on the beat
            return [(i * unit, unit - 30, 90 if i % 3 == 0 else 70) for i in range(m.bar_ticks // unit)]
        if variant == 2:  # long-short: the beat held two 8ths, the third one a pickup
            return [(b * m.beat_ticks + k * unit, (2 if k == 0 else 1) * unit - 30, 92 if k == 0 else 72)
                    for b in range(m.beats) for k in (0, 2)]
    return [(b * m.beat_ticks, m.beat_ticks - 40, 92 if b == 0 else 84) for b in range(m.beats)]


def _comp(ctx: _Context, *, short: bool) -> list[Note]:
    """Comped chords: the same rhythm each bar, voices led smoothly."""
    voicings = _voicings(ctx, low=55, high=79, size=4)
    rhythm = _comp_rhythm(ctx)
    notes: list[Note] = []
    for b in range(ctx.body_bars):
        for offset, length, vel in rhythm:
            length = min(length, PPQ // 3) if short else length
            for p in voicings[b]:
                notes.append(Note(ctx.at(b, offset), length, p, ctx.vel(vel, 4)))
    notes += _final(ctx, voicings[-1], 86)
    return notes


def _strum(ctx: _Context, *, power: bool) -> list[Note]:
    """Guitar: strummed chords (each string a few ms later), power chords on 8ths when driven."""
    notes: list[Note] = []
    if power:
        step = ctx.metre.unit_ticks if ctx.metre.compound else PPQ // 2
        for b, chord in enumerate(ctx.body_chords):
            root = place(chord.root_pc, low=40, high=52)
            for i in range(ctx.metre.bar_ticks // step):
                for p in (root, root + 7, root + 12):
                    notes.append(Note(ctx.at(b, i * step), step - 40, p, ctx.vel(100 if i % 2 == 0 else 84)))
        root = place(ctx.tonic_pc, low=40, high=52)
        return notes + _final(ctx, (root, root + 7, root + 12), 96)
    voicings = _voicings(ctx, low=48, high=76, size=5)
    rhythm = _comp_rhythm(ctx)
    for b in range(ctx.body_bars):
        for k, (offset, length, vel) in enumerate(rhythm):
            down = k % 2 == 0
            order = voicings[b] if down else tuple(reversed(voicings[b]))
            for s, p in enumerate(order):
                notes.append(Note(ctx.at(b, offset) + 12 * s, max(60, length - 12 * s), p, ctx.vel(vel - 4 * s, 4)))
    return notes + [Note(ctx.lead_out_tick + 14 * s, ctx.hold_ticks, p, 86)
                    for s, p in enumerate(voicings[-1])]


def _arpeggio(ctx: _Context, *, eighths: bool = False) -> list[Note]:
    """Broken chords on 8ths (sometimes 16ths), in one pattern picked per clip."""
    m, rng = ctx.metre, ctx.rng
    sixteenths = not eighths and m.numerator == 4 and m.denominator == 4 and rng.random() < 0.3
    step = m.unit_ticks if m.compound else (PPQ // 4 if sixteenths else PPQ // 2)
    shape = ("up", "updown", "alberti")[int(rng.integers(3))]
    notes: list[Note] = []
    for b, chord in enumerate(ctx.body_chords):
        tones = voice(chord, previous=None, low=60, high=84, notes=3)
        tones = tones + (tones[0] + 12,)
        order = {"up": [0, 1, 2, 3], "updown": [0, 1, 2, 3, 2, 1], "alberti": [0, 2, 1, 2]}[shape]
        for i in range(m.bar_ticks // step):
            pitch = tones[order[i % len(order)]]
            accent = (i * step) % m.beat_ticks == 0
            notes.append(Note(ctx.at(b, i * step), step * 2, pitch, ctx.vel(90 if accent else 66, 4)))
    tones = voice(ctx.tonic, previous=None, low=60, high=84, notes=3)
    return notes + _final(ctx, tones, 80)


def _lead(ctx: _Context) -> list[Note]:
    """A one-bar motif in the scale, answered and repeated; strong beats land on chord tones."""
    m, rng = ctx.metre, ctx.rng
    scale = [(ctx.tonic_pc + s) % 12 for s in SCALES[ctx.mode]]
    step = m.unit_ticks if m.compound else PPQ // 2
    slots = m.bar_ticks // step
    rhythm = [i for i in range(slots) if i == 0 or rng.random() < 0.45]
    contour = [int(x) for x in rng.integers(-2, 3, size=len(rhythm))]
    notes: list[Note] = []
    lo, hi = 64, 84
    for b, chord in enumerate(ctx.body_chords):
        if b % 4 == 3 or b == 0 and ctx.body_bars > 2:
            continue  # breathe: the lead rests on the first bar and every fourth
        pitch = place(chord.root_pc if b % 2 == 0 else chord.pitch_classes[1], low=lo + 2, high=hi - 4)
        for k, slot in enumerate(rhythm):
            if k:
                pitch = _step_in_scale(pitch, contour[k] if b % 2 == 0 else -contour[k], scale)
                pitch = min(max(pitch, lo), hi)
            if (slot * step) % m.beat_ticks == 0:
                pitch = _nearest_of(pitch, chord.pitch_classes)
            nxt = rhythm[k + 1] if k + 1 < len(rhythm) else slots
            notes.append(Note(ctx.at(b, slot * step), (nxt - slot) * step - 40, pitch, ctx.vel(92 if k == 0 else 82)))
    end = place(ctx.tonic_pc, low=lo + 2, high=hi - 4)
    return notes + [Note(ctx.lead_out_tick, ctx.hold_ticks, end, 86)]


def _step_in_scale(pitch: int, steps: int, scale: list[int]) -> int:
    direction = 1 if steps > 0 else -1
    for _ in range(abs(steps)):
        pitch += direction
        while pitch % 12 not in scale:
            pitch += direction
    return pitch


def _nearest_of(pitch: int, pcs: tuple[int, ...]) -> int:
    return min((p for p in range(pitch - 6, pitch + 7) if p % 12 in pcs), key=lambda p: (abs(p - pitch), p))


def _clean(notes: list[Note]) -> tuple[Note, ...]:
    """Sort, and shorten a note that would overlap the next of the same pitch (one note-off each)."""
    ordered = sorted(notes, key=lambda n: (n.start, n.pitch))
    last: dict[int, int] = {}
    out: list[Note | None] = list(ordered)
    for i, n in enumerate(ordered):
        j = last.get(n.pitch)
        if j is not None:
            prev = out[j]
            if prev is not None and prev.start + prev.length > n.start - 1:
                length = n.start - prev.start - 1
                out[j] = Note(prev.start, length, prev.pitch, prev.velocity) if length > 0 else None
        last[n.pitch] = i
    return tuple(n for n in out if n is not None)


def hits_of(notes: tuple[Note, ...]) -> list[Hit]:
    """Notes as drum hits (for tests and tools that look at grooves)."""
    return [Hit(n.start, n.pitch, n.velocity) for n in notes]
