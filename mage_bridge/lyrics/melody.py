"""The vocal melody: one note per timed syllable, singable, in the key and over the chords that sound.

Each lyric line is one phrase, written in a one-octave window of the voice's range (so no leap passes an
octave) on the notes of the scale, and shaped as an arch or a descent. The notes of a phrase are chosen
together by a shortest-path search (Viterbi over pairs of consecutive notes) whose costs say what a singer
and a listener expect: steps rather than leaps, a leap turned back by a step, stressed syllables and the
phrase's last note on tones of the chord sounding under them, the last phrase of a section on the tonic or
another degree of the tonic chord (the song's last line, wherever its words are sung, on the tonic), the
phrase near its contour, and a seeded wobble so a seed gives its own tune. A line whose words were sung
before is sung to the same notes (a chorus repeats its melody); a note of it moves to the nearest chord tone
only where the chords under the repeat differ and it would clash on a stressed syllable or a phrase end.

:func:`vocal_part` makes the notes a :class:`~mage_bridge.generate.score.Part` on the composer's tick grid
(stem ``"vocals"``), which :func:`~mage_bridge.generate.midifile.write_score_midi` writes like any other.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from dataclasses import replace as dc_replace

import numpy as np

from mage_bridge.errors import InvalidInputError
from mage_bridge.generate.harmony import parse_roman
from mage_bridge.generate.metre import PPQ
from mage_bridge.generate.score import Note, Part, Score, clean_notes
from mage_bridge.lyrics.timing import SyllableTime, stressed_syllables
from mage_bridge.lyrics.writer import Lyrics
from mage_bridge.music import SCALES

#: Comfortable ranges of the voices as MIDI notes (low, high), from the usual SATB choral writing ranges
#: (e.g. Wikipedia "Vocal range", "Voice type"; soprano C4-G5, alto G3-D5, tenor C3-G4, baritone A2-E4,
#: bass E2-C4): a little inside a trained singer's full range, which a synthesized voice also sounds best in.
VOICE_RANGES: dict[str, tuple[int, int]] = {
    "soprano": (60, 79),
    "mezzo-soprano": (57, 77),
    "alto": (55, 74),
    "tenor": (48, 67),
    "baritone": (45, 64),
    "bass": (40, 60),
}
#: What a prompt's "female vocals" / "male vocals" sing in: the middle voice of each (pop singers mostly).
VOICE_ALIASES: dict[str, str] = {"female": "mezzo-soprano", "male": "baritone", "mezzo": "mezzo-soprano"}
#: General MIDI program of the vocal part (0-based 53: "Voice Oohs"), heard when a DAW plays the MIDI.
VOCAL_PROGRAM = 53

# Costs of the phrase search (arbitrary units; only their ratios matter).
_STEP_COST = np.array([0.8, 0.0, 0.6, 2.5, 3.5, 5.0, 6.5, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0])  # by scale steps
_LEAP_NOT_RECOVERED = 4.0   # a leap of a fourth or more not followed by a step the other way
_THREE_REPEATS = 1.5        # the same note three times running
_WEAK_OFF_CHORD = 0.4       # a passing tone on an unstressed syllable
_STRONG_OFF_CHORD = 8.0     # a stressed syllable off the chord
_END_OFF_CHORD = 1000.0     # a phrase end off the chord (never, when the chord has a tone in the scale)
_HOLD_OFF_CHORD = 2.0       # a held phrase end that clashes with a chord arriving under it
_UNSTABLE_CADENCE = 20.0    # a section's last note off the tonic triad
_NOT_TONIC_CADENCE = 1.5    # ... on the tonic triad's 3rd or 5th rather than the tonic
_NOT_TONIC_FINAL = 30.0     # the song's last note off the tonic while the chord holds it
_CONTOUR = 0.6              # per scale step away from the line's contour
_WOBBLE = 0.5               # standard deviation of the seeded noise on every choice
_BOUNDARY = 0.5             # weight of the interval from the previous phrase's last note


@dataclass(frozen=True)
class ChordSpan:
    """A chord sounding from ``start_s`` to ``end_s`` (seconds from the clip's start), as pitch classes."""

    start_s: float
    end_s: float
    pitch_classes: tuple[int, ...]


ChordsAt = Callable[[float], Collection[int]]


def voice_range(voice: str) -> tuple[int, int]:
    """``(low, high)`` MIDI notes of ``voice`` (a key of :data:`VOICE_RANGES` or :data:`VOICE_ALIASES`)."""
    name = voice.strip().lower()
    name = VOICE_ALIASES.get(name, name)
    if name not in VOICE_RANGES:
        raise InvalidInputError(f"voice must be one of {sorted(VOICE_RANGES) + sorted(VOICE_ALIASES)}, "
                                f"got {voice!r}")
    return VOICE_RANGES[name]


def score_chords(score: Score) -> tuple[ChordSpan, ...]:
    """The chords of a composed ``score`` over time: the tonic chord in the lead-in, one chord per body bar
    (its :attr:`Score.progression`), and the tonic chord (the progression's last symbol) to the clip's end."""
    scale = score.scale or score.mode
    bar_ticks = score.metre.bar_ticks

    def seconds(tick: int) -> float:
        return tick * 60.0 / (score.bpm * PPQ)

    tonic = parse_roman(score.progression[-1], tonic_pc=score.tonic_pc, mode=scale).pitch_classes
    spans = [ChordSpan(0.0, seconds(score.body_start_tick), tonic)] if score.lead_in_bars else []
    for b, symbol in enumerate(score.progression[:-1]):
        start = (score.lead_in_bars + b) * bar_ticks
        chord = parse_roman(symbol, tonic_pc=score.tonic_pc, mode=scale)
        spans.append(ChordSpan(seconds(start), seconds(start + bar_ticks), chord.pitch_classes))
    spans.append(ChordSpan(seconds(score.lead_out_tick), score.total_frames / score.sample_rate, tonic))
    return tuple(spans)


def chords_at(chords: Sequence[ChordSpan] | ChordsAt) -> ChordsAt:
    """A function from seconds to the pitch classes sounding then (none outside the spans)."""
    if callable(chords):
        return chords
    spans = sorted(chords, key=lambda c: c.start_s)
    starts = [c.start_s for c in spans]

    def at(t: float) -> tuple[int, ...]:
        i = bisect.bisect_right(starts, t + 1e-9) - 1
        return spans[i].pitch_classes if i >= 0 and t < spans[i].end_s - 1e-9 else ()
    return at


def stressed_flags(lyrics: Lyrics) -> list[bool]:
    """Per sung syllable of ``lyrics``, in :func:`~mage_bridge.lyrics.timing.time_lyrics` order: stressed?"""
    return [flag for s in lyrics.sections for line in s.lines for flag in stressed_syllables(line)]


def vocal_melody(times: Sequence[SyllableTime], *, tonic_pc: int, scale: str,
                 chords: Sequence[ChordSpan] | ChordsAt, voice: str = "female", seed: int = 0,
                 lyrics: Lyrics | None = None) -> list[SyllableTime]:
    """``times`` with ``note`` (a MIDI note) set on every syllable: the sung melody.

    ``tonic_pc`` and ``scale`` (a key of :data:`mage_bridge.music.SCALES`) give the key; ``chords`` the
    harmony, as spans (:func:`score_chords` reads a composed score's) or a function from seconds to the
    pitch classes sounding. ``lyrics`` (those ``times`` were timed from) says which syllables are stressed
    and which sections are choruses (sung higher); without it a syllable that starts a line or a new chord
    counts as stressed and a section whose lines recur is taken for a chorus. The same ``seed`` gives the
    same notes. Raises :class:`InvalidInputError` for a bad argument.
    """
    check_inputs(times, tonic_pc=tonic_pc, scale=scale, voice=voice, lyrics=lyrics)
    if not times:
        return []
    at = chords_at(chords)
    ladder = _ladder(tonic_pc, scale, voice_range(voice))
    scale_pcs = {(tonic_pc + s) % 12 for s in SCALES[scale]}
    tonic_triad = [(tonic_pc + SCALES[scale][d]) % 12 for d in (0, 2, 4)]
    rng = np.random.default_rng(seed)
    lines = _group_lines(times)
    strong = _strong_flags(times, lines, at, lyrics)
    high_sections = _high_sections(times, lines, lyrics)
    last_line_of_section = {}
    for index, members in lines.items():
        last_line_of_section[times[members[0]].section] = index
    # the song's last line closes on the tonic, and so does every earlier singing of its words (a chorus's end)
    final_words = tuple(times[k].text.lower() for k in lines[max(lines)])
    notes: list[int] = [0] * len(times)
    sung: dict[tuple[tuple[str, ...], bool], list[int]] = {}
    previous: tuple[int, int] | None = None  # ladder indices of the last two notes sung
    for index in sorted(lines):
        members = lines[index]
        first = times[members[0]]
        cadence = last_line_of_section[first.section] == index
        key = (tuple(times[k].text.lower() for k in members), cadence)
        costs, clash = _unary(times, members, at, ladder, strong, scale_pcs, tonic_triad, cadence=cadence,
                              final=cadence and key[0] == final_words)
        shape = "descent" if cadence and rng.random() < 0.6 else ("arch", "descent")[int(rng.integers(2))]
        wobble = rng.normal(0.0, _WOBBLE, size=costs.shape)
        if key in sung:  # the words were sung before: the same notes, moved only where they would clash
            chosen = _reuse(sung[key], clash, ladder)
        else:
            target = _contour(len(members), shape, len(ladder), high=first.section in high_sections, rng=rng)
            contour = _CONTOUR * np.abs(np.arange(len(ladder))[None, :] - target[:, None])
            chosen = _search(costs + contour + wobble, previous)
            sung[key] = [ladder[i] for i in chosen]
        for k, i in zip(members, chosen):
            notes[k] = ladder[i]
        previous = (chosen[-2], chosen[-1]) if len(chosen) > 1 else (chosen[-1], chosen[-1])
    return [dc_replace(t, note=n) for t, n in zip(times, notes)]


def check_inputs(times: Sequence[SyllableTime], *, tonic_pc: int, scale: str, voice: str,
                 lyrics: Lyrics | None) -> None:
    """Every argument of :func:`vocal_melody` checked before any work, naming the one that is wrong."""
    if not isinstance(tonic_pc, int) or isinstance(tonic_pc, bool) or not 0 <= tonic_pc <= 11:
        raise InvalidInputError(f"tonic_pc must be a pitch class 0-11, got {tonic_pc!r}")
    if scale not in SCALES:
        raise InvalidInputError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
    voice_range(voice)
    if any(b.start < a.start for a, b in zip(times, times[1:])):
        raise InvalidInputError("times must be in order of their starts (as time_lyrics returns them)")
    if lyrics is not None and len(stressed_flags(lyrics)) != len(times):
        raise InvalidInputError(f"lyrics have {len(stressed_flags(lyrics))} syllables but {len(times)} times "
                                "were given; pass the lyrics the times were made from")


def vocal_part(times: Sequence[SyllableTime], score: Score, *, channel: int = 0,
               lyrics: Lyrics | None = None) -> Part:
    """The sung notes as the ``vocals`` :class:`Part` of ``score`` (its tempo's tick grid, tick 0 = second 0).

    Stressed syllables (when ``lyrics`` is given) are a little louder. Raises :class:`InvalidInputError`
    when a syllable has no note yet.
    """
    pitches = [t.note for t in times if t.note is not None]
    if len(pitches) != len(times):
        missing = next(t.text for t in times if t.note is None)
        raise InvalidInputError(f"{len(times) - len(pitches)} syllable(s) have no note (first: {missing!r}); "
                                "write the melody with vocal_melody first")
    accents = stressed_flags(lyrics) if lyrics is not None else [False] * len(times)
    ticks_per_s = score.bpm * PPQ / 60.0
    notes = []
    for t, pitch, accent in zip(times, pitches, accents):
        start = int(round(t.start * ticks_per_s))
        end = int(round(t.end * ticks_per_s))
        notes.append(Note(start, max(1, end - start), pitch, 100 if accent else 88))
    return Part(name="vocals", role="vocals", stem="vocals", channel=channel, bank=0, program=VOCAL_PROGRAM,
                notes=clean_notes(notes), volume=100, reverb=50)


def _ladder(tonic_pc: int, scale: str, span: tuple[int, int]) -> list[int]:
    """The scale's notes in a one-octave window of ``span`` from the tonic or the 5th degree up to the same,
    the one centred nearest the range's middle (an authentic or a plagal melody range)."""
    low, high = span
    middle = (low + high) / 2
    anchors = {tonic_pc % 12, (tonic_pc + SCALES[scale][4]) % 12}
    base = min((p for p in range(low, high - 11) if p % 12 in anchors),
               key=lambda p: (abs(p + 6 - middle), p % 12 != tonic_pc % 12, p))
    pcs = {(tonic_pc + s) % 12 for s in SCALES[scale]}
    return [p for p in range(base, base + 13) if p % 12 in pcs]


def _group_lines(times: Sequence[SyllableTime]) -> dict[int, list[int]]:
    lines: dict[int, list[int]] = {}
    for k, t in enumerate(times):
        lines.setdefault(t.line, []).append(k)
    return lines


def _strong_flags(times: Sequence[SyllableTime], lines: dict[int, list[int]], at: ChordsAt,
                  lyrics: Lyrics | None) -> list[bool]:
    if lyrics is not None:
        return stressed_flags(lyrics)
    firsts = {members[0] for members in lines.values()}
    out = []
    for k, t in enumerate(times):
        new_chord = k == 0 or set(at(t.start)) != set(at(times[k - 1].start))
        out.append(k in firsts or new_chord)
    return out


def _high_sections(times: Sequence[SyllableTime], lines: dict[int, list[int]], lyrics: Lyrics | None) -> set[int]:
    """Sections sung in the upper part of the window: choruses (and hooks)."""
    if lyrics is not None:
        return {i for i, s in enumerate(lyrics.sections) if s.name.lower().startswith(("chorus", "hook"))}
    texts: dict[int, set[tuple[str, ...]]] = {}
    for members in lines.values():
        texts.setdefault(times[members[0]].section, set()).add(tuple(times[k].text.lower() for k in members))
    return {s for s, own in texts.items() if any(own & other for o, other in texts.items() if o != s)}


def _unary(times: Sequence[SyllableTime], members: list[int], at: ChordsAt, ladder: list[int],
           strong: list[bool], scale_pcs: set[int], tonic_triad: list[int], *, cadence: bool,
           final: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cost of each ladder note on each syllable of a line, from the chords, stresses and cadence alone, and
    where a note would clash (off the chord on a stressed syllable or a phrase end, off the tonic triad on a
    section's last note) when another note would not."""
    pcs = np.array([p % 12 for p in ladder])
    costs = np.zeros((len(members), len(ladder)))
    clash = np.zeros((len(members), len(ladder)), dtype=bool)
    for j, k in enumerate(members):
        t = times[k]
        tones = set(at(t.start)) & scale_pcs
        off = ~np.isin(pcs, list(tones)) if tones else np.zeros(len(ladder), dtype=bool)
        last = j == len(members) - 1
        costs[j] += off * (_END_OFF_CHORD if last else _STRONG_OFF_CHORD if strong[k] else _WEAK_OFF_CHORD)
        if last or strong[k]:
            clash[j] |= off
        if last:
            for when in (t.start + (t.end - t.start) * f for f in (0.5, 0.9)):
                held = set(at(when))
                if held:
                    costs[j] += ~np.isin(pcs, list(held)) * _HOLD_OFF_CHORD
            if cadence:
                stable = [pc for pc in tonic_triad if pc in tones] if tones else list(tonic_triad)
                if stable:
                    costs[j] += ~np.isin(pcs, stable) * _UNSTABLE_CADENCE
                    clash[j] |= ~np.isin(pcs, stable)
                    costs[j] += (pcs != tonic_triad[0]) * (_NOT_TONIC_FINAL if final else _NOT_TONIC_CADENCE)
                    if final and tonic_triad[0] in stable:
                        clash[j] |= pcs != tonic_triad[0]
    return costs, clash


def _contour(n: int, shape: str, size: int, *, high: bool, rng: np.random.Generator) -> np.ndarray:
    """The ladder index the line aims at on each syllable: an arch (up to a peak past the middle and back)
    or a descent (from high to low); a chorus sits two steps higher."""
    lift = 2.0 if high else 0.0
    top = size - 1.0
    low = min(top, 1.0 + lift + rng.uniform(-0.5, 0.5))
    peak = min(top, 4.0 + lift + rng.uniform(-0.5, 1.0))
    x = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    if shape == "arch":
        apex = rng.uniform(0.45, 0.7)
        rise = np.where(x <= apex, x / apex, (1.0 - x) / (1.0 - apex))
        return low + (peak - low) * rise
    return peak + (low - peak) * x


def _search(costs: np.ndarray, previous: tuple[int, int] | None) -> list[int]:
    """The cheapest notes (ladder indices) for a line: unary ``costs`` (syllables x notes) plus the interval
    costs, over states (note before, note) so a leap can be required to turn back."""
    n, size = costs.shape
    idx = np.arange(size)
    steps = np.abs(idx[:, None] - idx[None, :])
    interval = _STEP_COST[np.minimum(steps, len(_STEP_COST) - 1)]  # [c, d]
    move = idx[None, :] - idx[:, None]  # [c, d]: d - c
    # recovery[p, c, d]: after a leap p->c of 3+ steps, d must step back (1-2 steps the other way)
    leap = move[:, :, None]  # p->c, broadcast over d
    back = move[None, :, :]  # c->d
    unrecovered = (np.abs(leap) >= 3) & ~((np.sign(back) == -np.sign(leap)) & (np.abs(back) <= 2))
    repeats = (move[:, :, None] == 0) & (move[None, :, :] == 0)
    second = unrecovered * _LEAP_NOT_RECOVERED + repeats * _THREE_REPEATS  # [p, c, d]
    state = np.full((size, size), np.inf)  # [c, d]: cost of a line ending ...c, d
    if previous is None:
        state[idx, idx] = costs[0]
    else:
        p, c = previous
        first = costs[0] + _BOUNDARY * (interval[c] + second[p, c])
        state[c, :] = first
    back_pointers = []
    for j in range(1, n):
        total = state[:, :, None] + second  # [p, c, d]
        best_p = np.argmin(total, axis=0)  # [c, d]
        best = np.take_along_axis(total, best_p[None], axis=0)[0] + interval + costs[j][None, :]
        back_pointers.append(best_p)
        state = best
    c, d = (int(v) for v in np.unravel_index(int(np.argmin(state)), state.shape))
    path = [d]
    for j in range(n - 1, 0, -1):
        path.append(c)
        c, d = int(back_pointers[j - 1][c, d]), c
    path.reverse()
    return path


def _reuse(notes: list[int], clash: np.ndarray, ladder: list[int]) -> list[int]:
    """Ladder indices of a line sung before; a note that would now clash (on a stressed syllable or the
    phrase end) moves to the nearest ladder note that does not."""
    out = []
    for j, note in enumerate(notes):
        i = ladder.index(note)
        if clash[j, i]:
            i = min(range(len(ladder)), key=lambda m: (bool(clash[j, m]), abs(m - i), m))
        out.append(i)
    return out


__all__ = ["VOICE_ALIASES", "VOICE_RANGES", "ChordSpan", "ChordsAt", "chords_at", "score_chords", "stressed_flags",
           "vocal_melody", "vocal_part", "voice_range"]
