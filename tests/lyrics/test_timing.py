"""Timing markers: syllables on the beat grid inside the clip's body, phrases on bar lines, LRC round trips."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from mage_bridge.analysis import analyze
from mage_bridge.errors import InvalidInputError
from mage_bridge.lyrics.timing import (
    beat_sixteenths,
    place_line,
    stressed_syllables,
    time_lyrics,
    timing_json,
    to_enhanced_lrc,
    to_lrc,
)
from mage_bridge.lyrics.writer import Lyrics, make_line, write_lyrics
from mage_bridge.music import bar_seconds

LEAD_IN_S, LEAD_OUT_S = 1.5, 2.8


def _grid_case(bpm: float, metre: tuple[int, int], duration_s: float = 40.0) -> tuple[Lyrics, list]:
    analysis = replace(analyze("pop song about summer love", backend="rules"), bpm=bpm, time_signature=metre)
    lyrics = write_lyrics(analysis, seed=5, duration_s=duration_s, lead_in_s=LEAD_IN_S, lead_out_s=LEAD_OUT_S)
    times = time_lyrics(lyrics, bpm=bpm, time_signature=metre, lead_in_s=LEAD_IN_S, duration_s=duration_s,
                        lead_out_s=LEAD_OUT_S)
    return lyrics, times


@pytest.mark.parametrize("metre", [(4, 4), (6, 8)], ids=["4-4", "6-8"])
@pytest.mark.parametrize("bpm", [72.0, 120.0, 168.0], ids=["72", "120", "168"])
def test_syllables_sit_on_the_grid_inside_the_body(bpm: float, metre: tuple[int, int]) -> None:
    lyrics, times = _grid_case(bpm, metre)
    assert times
    assert len(times) == sum(ln.syllable_count for s in lyrics.sections for ln in s.lines)
    bar_s = bar_seconds(bpm, metre)
    sixteenth_s = bar_s / (metre[0] * 16 // metre[1])
    body_end = 40.0 - LEAD_OUT_S
    for prev, t in zip(times, times[1:]):
        assert t.start >= prev.end - 1e-9 and t.start > prev.start  # monotonic, never overlapping
    for t in times:
        assert LEAD_IN_S - 1e-9 <= t.start < t.end <= body_end + 1e-9
        assert abs((t.start - LEAD_IN_S) / sixteenth_s - round((t.start - LEAD_IN_S) / sixteenth_s)) < 1e-6
    first_of_line = {}
    for t in times:
        first_of_line.setdefault(t.line, t)
    for t in first_of_line.values():  # every phrase starts on a bar line of the body
        bars = (t.start - LEAD_IN_S) / bar_s
        assert abs(bars - round(bars)) < 1e-6, (t, bars)
    stressed = [flag for s in lyrics.sections for ln in s.lines for flag in stressed_syllables(ln)]
    beat = beat_sixteenths(metre)
    on_beat = [round((t.start - LEAD_IN_S) / sixteenth_s) % beat == 0 for t, flag in zip(times, stressed) if flag]
    rate = sum(on_beat) / len(on_beat)
    print(f"\n{bpm:g} BPM {metre[0]}/{metre[1]}: {rate:.0%} of stressed syllables on a beat")
    assert rate >= (0.9 if metre == (4, 4) else 0.5)


def test_stressed_syllables_land_on_beats_when_the_phrase_has_room() -> None:
    line = make_line("remember the summer", target=None, bars=2)
    places = place_line(line, phrase_sixteenths=32, time_signature=(4, 4))
    stressed = [places[1][0], places[4][0]]  # re-MEM-ber the SUM-mer
    assert all(p % 4 == 0 for p in stressed), places
    assert places[-1][1] == 31  # the line's end is held to a sixteenth before the next phrase


def test_a_dense_line_moves_to_sixteenths_and_a_too_dense_one_is_refused() -> None:
    dense = make_line("la " * 14, target=None, bars=1)
    places = place_line(dense, phrase_sixteenths=16, time_signature=(4, 4))
    assert [p[0] for p in places] == list(range(14))
    with pytest.raises(InvalidInputError, match="16 syllables; its 1 bar"):
        place_line(make_line("la " * 16, target=None, bars=1), phrase_sixteenths=16, time_signature=(4, 4))


def test_a_section_with_a_spare_bar_moves_the_next_section_to_its_own_bar() -> None:
    analysis = analyze("pop at 120 bpm", backend="rules")
    lyrics = write_lyrics(analysis, seed=1, sections=[("verse", 5), ("chorus", 4)])
    times = time_lyrics(lyrics, bpm=120.0, time_signature=(4, 4), lead_in_s=0.0, duration_s=30.0, lead_out_s=0.0)
    chorus_start = min(t.start for t in times if t.section == 1)
    assert chorus_start == pytest.approx(5 * 2.0)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"time_signature": (4, 5)}, "time_signature must be"),
    ({"lead_in_s": 39.0}, "must be non-negative and under duration_s"),
    ({"duration_s": float("nan")}, "must be non-negative and under duration_s"),
    ({"bpm": 0.0}, "bpm must be a positive number"),
], ids=["metre", "lead-in", "nan", "bpm"])
def test_bad_timing_arguments_are_named(kwargs: dict[str, object], match: str) -> None:
    lyrics, _ = _grid_case(120.0, (4, 4))
    args: dict[str, object] = {"bpm": 120.0, "time_signature": (4, 4), "lead_in_s": 1.0, "duration_s": 40.0,
                               "lead_out_s": 2.0}
    with pytest.raises(InvalidInputError, match=match):
        time_lyrics(lyrics, **{**args, **kwargs})  # type: ignore[arg-type]


def test_lyrics_longer_than_the_clip_are_refused_naming_what_fits() -> None:
    lyrics, _ = _grid_case(120.0, (4, 4), duration_s=60.0)
    with pytest.raises(InvalidInputError, match=r"holds \d+ after its lead-in and lead-out: at most the first \d+"):
        time_lyrics(lyrics, bpm=120.0, time_signature=(4, 4), lead_in_s=LEAD_IN_S, duration_s=20.0,
                    lead_out_s=LEAD_OUT_S)


_STAMP = re.compile(r"(\d+):(\d\d)\.(\d\d)")


def _seconds(stamp: str) -> float:
    m = _STAMP.fullmatch(stamp)
    assert m, stamp
    return int(m.group(1)) * 60 + int(m.group(2)) + int(m.group(3)) / 100


def _parse_lrc(text: str) -> list[tuple[float, str]]:
    """A tiny LRC reader: ``[mm:ss.xx]text`` lines."""
    out = []
    for row in text.splitlines():
        m = re.fullmatch(r"\[([^\]]+)\](.*)", row)
        assert m, row
        out.append((_seconds(m.group(1)), m.group(2)))
    return out


def _parse_enhanced(text: str) -> list[tuple[float, list[tuple[float, str]], float]]:
    """A tiny enhanced-LRC reader: ``[line]<word>text <word>text ...<end>``."""
    out = []
    for row in text.splitlines():
        m = re.fullmatch(r"\[([^\]]+)\](.*)<([^>]+)>", row)
        assert m, row
        words = [(_seconds(s), w.strip()) for s, w in re.findall(r"<([^>]+)>([^<]*)", m.group(2))]
        out.append((_seconds(m.group(1)), words, _seconds(m.group(3))))
    return out


def test_lrc_parses_back_to_the_same_times() -> None:
    lyrics, times = _grid_case(96.0, (4, 4))
    lines = [ln for s in lyrics.sections for ln in s.lines]
    parsed = [(t, text) for t, text in _parse_lrc(to_lrc(lyrics, times)) if text]
    firsts = {}
    for t in times:
        firsts.setdefault(t.line, t)
    assert [text for _, text in parsed] == [lines[i].text for i in sorted(firsts)]
    assert all(abs(t - firsts[i].start) <= 0.0051 for (t, _), i in zip(parsed, sorted(firsts)))

    enhanced = _parse_enhanced(to_enhanced_lrc(lyrics, times))
    assert len(enhanced) == len(firsts)
    for (start, words, end), index in zip(enhanced, sorted(firsts)):
        sung = [t for t in times if t.line == index]
        word_starts = {}
        for t in sung:
            word_starts.setdefault(t.word, t.start)
        assert abs(start - sung[0].start) <= 0.0051 and abs(end - sung[-1].end) <= 0.0051
        assert [w for _, w in words] == [lines[index].words[i].text for i in sorted(word_starts)]
        assert all(abs(ws - word_starts[i]) <= 0.0051 for (ws, _), i in zip(words, sorted(word_starts)))


def test_user_lyrics_with_unicode_and_numbers_are_timed_and_exported() -> None:
    analysis = analyze("indie pop at 110 bpm", backend="rules")
    user = "[verse]\nZorblat dreams in 1999 —\nünïcödé whispers, 東京 at night\n— … —\n\n\n[chorus]\nOh oh oh\n"
    lyrics = write_lyrics(analysis, mode="replace", user_lyrics=user, seed=0)
    times = time_lyrics(lyrics, bpm=110.0, time_signature=(4, 4), lead_in_s=0.0, duration_s=30.0, lead_out_s=2.0)
    assert [t.text for t in times if t.line == 0][:4] == ["Zor", "blat", "dreams", "in"]
    assert sum(t.line == 0 for t in times) == 3 + 1 + 5  # Zor-blat dreams in nine-teen-nine-ty-nine
    lrc = to_enhanced_lrc(lyrics, times)
    assert "<" in lrc and "1999 —<" in lrc and "東京" in lrc
    assert "— … —" in lyrics.text() and not [t for t in times if t.line == 2]  # kept, but nothing to sing
    assert min(t.start for t in times if t.line == 3) == pytest.approx(2 * bar_seconds(110.0, (4, 4)) * 2)
    rows = json.loads(json.dumps(timing_json(times)))
    assert set(rows[0]) >= {"text", "start", "end", "note"} and rows[0]["note"] is None
