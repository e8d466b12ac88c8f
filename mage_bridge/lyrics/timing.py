"""Timing markers: every sung syllable placed on the clip's beat grid, and its LRC / enhanced LRC exports.

A phrase (one lyric line) starts on a bar line of the body (bar 0 begins at ``lead_in_s``, where the body's
beat 1 falls) and lasts the bars the writer gave it. Its syllables sit on quarter, eighth or sixteenth notes
(the longest step that leaves a quarter of the phrase free), stressed syllables pushed onto beats while the
phrase has room, and the last syllable held until a sixteenth before the next phrase. Nothing is placed
past ``duration_s - lead_out_s``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mage_bridge.errors import InvalidInputError
from mage_bridge.lyrics.writer import Line, Lyrics, sixteenths_per_bar
from mage_bridge.music import bar_seconds

#: One-syllable words sung off the beat when the phrase has room to put a content word on it instead.
FUNCTION_WORDS = frozenset("a an the and or but of to in on at by for with from as is are was be am i you we "
                           "they he she it my your our their his her its so oh like".split())


@dataclass(frozen=True)
class SyllableTime:
    """One sung syllable: its text, start and end in seconds from the clip's start, and its place in the lyrics.

    ``note`` is the MIDI note sung (``None`` until a melody is written); ``line`` indexes the lyrics' lines
    in order over all sections; ``section`` indexes :attr:`Lyrics.sections`; ``word`` indexes the line's words.
    """

    text: str
    start: float
    end: float
    note: int | None
    line: int
    section: int
    word: int

    def to_dict(self) -> dict[str, Any]:
        """The manifest's form: ``{"text", "start", "end", "note", "line", "section", "word"}``."""
        return {"text": self.text, "start": round(self.start, 6), "end": round(self.end, 6), "note": self.note,
                "line": self.line, "section": self.section, "word": self.word}


def beat_sixteenths(time_signature: tuple[int, int]) -> int:
    """Sixteenths per strong beat: a quarter in x/4, a dotted quarter in compound metres (6/8, 9/8, 12/8)."""
    num, den = time_signature
    if den == 8 and num % 3 == 0 and num > 3:
        return 6
    return 16 // den


def stressed_syllables(line: Line) -> list[bool]:
    """Per syllable of ``line``: whether it wants a strong beat (a primary stress, or a content monosyllable)."""
    out: list[bool] = []
    for word in line.words:
        n = len(word.syllables)
        if n == 1:
            out.append(word.text.strip(".,;:!?\"'()").lower() not in FUNCTION_WORDS)
        elif word.stresses is not None and len(word.stresses) == n:
            out.extend(s == 1 for s in word.stresses)
        else:  # unknown word: English stresses the first syllable most often
            out.extend(i == 0 for i in range(n))
    return out


def place_line(line: Line, *, phrase_sixteenths: int, time_signature: tuple[int, int]) -> list[tuple[int, int]]:
    """``(start, end)`` of each syllable of ``line`` in sixteenths from the phrase's start.

    Raises :class:`InvalidInputError` when the syllables do not fit on sixteenths in the phrase.
    """
    n = line.syllable_count
    if n == 0:
        return []
    if n + 1 > phrase_sixteenths:
        raise InvalidInputError(f"the line {line.text!r} has {n} syllables; its {line.bars} bar(s) hold at most "
                                f"{phrase_sixteenths - 1}")
    usable = phrase_sixteenths - max(1, phrase_sixteenths // 8)  # the last eighth of the phrase: hold and breath
    steps = (4, 2, 1) if time_signature[1] <= 4 else (2, 1)
    step = next((s for s in steps if n * s <= phrase_sixteenths * 3 // 4), 1)
    beat = beat_sixteenths(time_signature)
    spare = max(0, usable - n * step)
    starts: list[int] = []
    pos = 0
    for i, strong in enumerate(stressed_syllables(line)):
        off = pos % beat
        if i and strong and off and beat - off <= spare:
            spare -= beat - off
            pos += beat - off
        starts.append(pos)
        pos += step
    ends = starts[1:] + [phrase_sixteenths - 1]
    return list(zip(starts, ends))


def time_lyrics(lyrics: Lyrics, *, bpm: float, time_signature: tuple[int, int], lead_in_s: float,
                duration_s: float, lead_out_s: float) -> list[SyllableTime]:
    """Every sung syllable of ``lyrics`` on the clip's grid, in order (starts non-decreasing).

    Raises :class:`InvalidInputError` when the lyrics' bars do not fit between ``lead_in_s`` and
    ``duration_s - lead_out_s``, saying how many lines would.
    """
    if not (bpm > 0 and math.isfinite(bpm)):
        raise InvalidInputError(f"bpm must be a positive number, got {bpm!r}")
    num, den = time_signature
    if not (isinstance(num, int) and isinstance(den, int) and num >= 1 and den in (1, 2, 4, 8, 16)):
        raise InvalidInputError(f"time_signature must be (beats, 1|2|4|8|16), got {time_signature!r}")
    if not all(math.isfinite(v) for v in (lead_in_s, duration_s, lead_out_s)) or not (
            0 <= lead_in_s and 0 <= lead_out_s and lead_in_s + lead_out_s < duration_s):
        raise InvalidInputError(f"lead_in_s ({lead_in_s!r}) + lead_out_s ({lead_out_s!r}) must be non-negative "
                                f"and under duration_s ({duration_s!r})")
    bar_s = bar_seconds(bpm, time_signature)
    per_bar = sixteenths_per_bar(time_signature)
    sixteenth_s = bar_s / per_bar
    bars_available = math.floor((duration_s - lead_out_s - lead_in_s) / bar_s + 1e-9)
    if lyrics.bars > bars_available:
        fit, used = 0, 0
        for line in (ln for s in lyrics.sections for ln in s.lines):
            if used + line.bars > bars_available:
                break
            used, fit = used + line.bars, fit + 1
        raise InvalidInputError(f"the lyrics need {lyrics.bars} bars; a {duration_s:g} s clip at {bpm:g} BPM in "
                                f"{time_signature[0]}/{time_signature[1]} holds {bars_available} after its lead-in "
                                f"and lead-out: at most the first {fit} lines fit")
    out: list[SyllableTime] = []
    bar, line_index = 0, 0
    for section_index, section in enumerate(lyrics.sections):
        section_bar = bar
        for line in section.lines:
            origin = lead_in_s + bar * bar_s
            places = place_line(line, phrase_sixteenths=line.bars * per_bar, time_signature=time_signature)
            k = 0
            for word_index, word in enumerate(line.words):
                for piece in word.syllables:
                    start, end = places[k]
                    out.append(SyllableTime(piece, origin + start * sixteenth_s, origin + end * sixteenth_s,
                                            None, line_index, section_index, word_index))
                    k += 1
            bar += line.bars
            line_index += 1
        bar = max(bar, section_bar + section.bars)
    return out


def _stamp(seconds: float) -> str:
    """``mm:ss.xx`` (minutes may pass 59), rounded to the centisecond."""
    centis = round(seconds * 100)
    minutes, centis = divmod(centis, 6000)
    return f"{minutes:02d}:{centis // 100:02d}.{centis % 100:02d}"


def _lines(lyrics: Lyrics) -> list[Line]:
    return [line for section in lyrics.sections for line in section.lines]


def to_lrc(lyrics: Lyrics, times: list[SyllableTime]) -> str:
    """Line-level LRC: ``[mm:ss.xx]text`` at each sung line's first syllable, and an empty stamp at its end."""
    lines = _lines(lyrics)
    first: dict[int, SyllableTime] = {}
    last: dict[int, SyllableTime] = {}
    for t in times:
        first.setdefault(t.line, t)
        last[t.line] = t
    out = []
    order = sorted(first)
    for index, following in zip(order, order[1:] + [None]):
        out.append(f"[{_stamp(first[index].start)}]{lines[index].text}")
        if following is None or first[following].start - last[index].end > 1e-6:
            out.append(f"[{_stamp(last[index].end)}]")
    return "\n".join(out) + "\n"


def to_enhanced_lrc(lyrics: Lyrics, times: list[SyllableTime]) -> str:
    """Enhanced (word-level) LRC: ``[mm:ss.xx]<mm:ss.xx>word <mm:ss.xx>word ...<mm:ss.xx>`` per sung line.

    Each word's stamp is its first syllable's start; the last stamp is the line's end.
    """
    lines = _lines(lyrics)
    by_line: dict[int, list[SyllableTime]] = {}
    for t in times:
        by_line.setdefault(t.line, []).append(t)
    out = []
    for index in sorted(by_line):
        sung = by_line[index]
        starts: dict[int, float] = {}
        for t in sung:
            starts.setdefault(t.word, t.start)
        # a word with no syllable ("-", "...") is shown, unstamped, after the word before it
        parts = [f"<{_stamp(starts[w])}>{word.text}" if w in starts else word.text
                 for w, word in enumerate(lines[index].words)]
        out.append(f"[{_stamp(sung[0].start)}]" + " ".join(parts) + f"<{_stamp(sung[-1].end)}>")
    return "\n".join(out) + "\n"


def timing_json(times: list[SyllableTime]) -> list[dict[str, Any]]:
    """The syllable timings as JSON-ready dicts, for the manifest's ``lyrics.syllables``."""
    return [t.to_dict() for t in times]


__all__ = ["SyllableTime", "place_line", "time_lyrics", "timing_json", "to_enhanced_lrc", "to_lrc"]
