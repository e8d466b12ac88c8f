"""The vocal melody measured on its output: in the scale and the voice's range, singable intervals, chord tones
where they are heard, choruses repeated, seeds honoured; and the notes as a MIDI part of a composed clip."""

from __future__ import annotations

import time
from dataclasses import replace
from functools import cache

import mido
import pytest

from mage_bridge.analysis import analyze
from mage_bridge.errors import InvalidInputError
from mage_bridge.generate.compose import compose
from mage_bridge.generate.harmony import parse_progression, parse_roman
from mage_bridge.generate.metre import PPQ
from mage_bridge.generate.midifile import write_score_midi
from mage_bridge.lyrics.melody import (
    VOICE_RANGES,
    ChordSpan,
    chords_at,
    score_chords,
    stressed_flags,
    vocal_melody,
    vocal_part,
    voice_range,
)
from mage_bridge.lyrics.timing import SyllableTime, beat_sixteenths, time_lyrics
from mage_bridge.lyrics.writer import Lyrics, sixteenths_per_bar, write_lyrics
from mage_bridge.music import SCALES, bar_seconds

LEAD_IN_S, LEAD_OUT_S, DURATION_S = 1.5, 2.8, 60.0
PROMPTS = ("pop song about summer love", "melancholic indie ballad about the sea", "upbeat rock song about freedom",
           "dreamy folk song in 6/8 about autumn")
#: (tonic pc, scale, progression): plain major and minor, a minor with a major V (its 3rd outside the scale),
#: and modal vamps.
KEYS = ((0, "major", "I-V-vi-IV"), (9, "minor", "i-VI-III-VII"), (4, "minor", "i-iv-VI-V"),
        (2, "dorian", "i-IV-VII-IV"), (7, "mixolydian", "I-bVII-IV-I"), (4, "phrygian", "i-bII-bIII-bII"),
        (5, "lydian", "I-II"))
VOICES = ("soprano", "tenor", "bass")
SEEDS = range(20)


@cache
def _lyric_set(seed: int) -> tuple[Lyrics, tuple[SyllableTime, ...], float, tuple[int, int]]:
    analysis = analyze(PROMPTS[seed % len(PROMPTS)], backend="rules")
    lyrics = write_lyrics(analysis, seed=seed, duration_s=DURATION_S, lead_in_s=LEAD_IN_S, lead_out_s=LEAD_OUT_S)
    times = time_lyrics(lyrics, bpm=analysis.bpm, time_signature=analysis.time_signature, lead_in_s=LEAD_IN_S,
                        duration_s=DURATION_S, lead_out_s=LEAD_OUT_S)
    return lyrics, tuple(times), analysis.bpm, analysis.time_signature


def _spans(tonic_pc: int, scale: str, progression: str, bpm: float, metre: tuple[int, int]) -> list[ChordSpan]:
    """One chord a bar from the body's first bar, the loop restarting every pass (as a band plays it)."""
    chords = parse_progression(progression, tonic_pc=tonic_pc, mode=scale)
    bar_s = bar_seconds(bpm, metre)
    bars = int(DURATION_S / bar_s) + 1
    return [ChordSpan(LEAD_IN_S + b * bar_s, LEAD_IN_S + (b + 1) * bar_s, chords[b % len(chords)].pitch_classes)
            for b in range(bars)]


def _scale_steps(a: int, b: int, pcs: set[int]) -> int:
    """Scale steps from ``a`` to ``b``: the scale notes passed going from one to the other."""
    lo, hi = sorted((a, b))
    return sum(1 for p in range(lo + 1, hi + 1) if p % 12 in pcs)


def _line_groups(times: list[SyllableTime]) -> dict[int, list[SyllableTime]]:
    out: dict[int, list[SyllableTime]] = {}
    for t in times:
        out.setdefault(t.line, []).append(t)
    return out


def test_melodies_are_singable_in_key_range_and_harmony() -> None:
    """20 lyric sets x 7 keys and modes x 3 voices, measured; the rates are printed (pytest -s)."""
    notes = intervals = small = 0
    stressed_on_beat = stressed_chord = 0
    ends = ends_on_chord = cadences = cadences_stable = cadences_possible = 0
    finals = finals_tonic = 0
    repeats = repeats_same = 0
    shaped = shaped_lines = 0
    worst_leap = leaps = recovered = 0
    melodies, spent = 0, 0.0
    lifts: list[float] = []
    for seed in SEEDS:
        lyrics, times, bpm, metre = _lyric_set(seed)
        stressed = stressed_flags(lyrics)
        beat_s = bar_seconds(bpm, metre) / sixteenths_per_bar(metre) * beat_sixteenths(metre)
        for tonic_pc, scale, progression in KEYS:
            spans = _spans(tonic_pc, scale, progression, bpm, metre)
            at = chords_at(spans)
            pcs = {(tonic_pc + s) % 12 for s in SCALES[scale]}
            triad = {(tonic_pc + SCALES[scale][d]) % 12 for d in (0, 2, 4)}
            for voice in VOICES:
                low, high = VOICE_RANGES[voice]
                began = time.perf_counter()
                sung = vocal_melody(list(times), tonic_pc=tonic_pc, scale=scale, chords=spans, voice=voice,
                                    seed=seed, lyrics=lyrics)
                spent += time.perf_counter() - began
                melodies += 1
                assert len(sung) == len(times)
                pitches = [t.note for t in sung]
                assert all(p is not None for p in pitches)
                song = [int(p) for p in pitches if p is not None]
                assert all(p % 12 in pcs for p in song), (seed, scale, voice)
                assert all(low <= p <= high for p in song), (seed, scale, voice, min(song), max(song))
                notes += len(song)
                for a, b in zip(song, song[1:]):
                    intervals += 1
                    small += _scale_steps(a, b, pcs) <= 2
                    worst_leap = max(worst_leap, abs(a - b))
                for line in _line_groups(sung).values():  # a leap (a 4th or more) inside a phrase turns back
                    tune = [int(t.note or 0) for t in line]
                    for a, b, c in zip(tune, tune[1:], tune[2:]):
                        if _scale_steps(a, b, pcs) >= 3:
                            leaps += 1
                            recovered += (c - b) * (b - a) < 0 and _scale_steps(b, c, pcs) <= 2
                for t, flag in zip(sung, stressed):
                    beats = (t.start - LEAD_IN_S) / beat_s
                    if flag and abs(beats - round(beats)) < 1e-6:
                        stressed_on_beat += 1
                        stressed_chord += int(t.note or 0) % 12 in at(t.start)
                lines = _line_groups(sung)
                last_of_section = {ln[0].section: index for index, ln in lines.items()}
                by_words: dict[tuple[tuple[str, ...], bool], list[int | None]] = {}
                for index, line in lines.items():
                    end = line[-1]
                    tones = set(at(end.start))
                    ends += 1
                    ends_on_chord += int(end.note or 0) % 12 in tones
                    cadence = last_of_section[end.section] == index
                    if cadence:
                        cadences += 1
                        cadences_stable += int(end.note or 0) % 12 in triad
                        if tones & triad:
                            cadences_possible += 1
                            assert int(end.note or 0) % 12 in triad, (seed, scale, voice, index)
                    key = (tuple(t.text for t in line), cadence)
                    melody = [t.note for t in line]
                    if key in by_words:
                        repeats += 1
                        repeats_same += by_words[key] == melody
                    by_words.setdefault(key, melody)
                    if len(line) >= 5:
                        shaped_lines += 1
                        top = max(range(len(line)), key=lambda k: (melody[k] or 0, -k))
                        shaped += (melody[-1] or 0) < (melody[top] or 0) and top < len(line) - 1
                chorus = [int(t.note or 0) for t in sung if lyrics.sections[t.section].name == "chorus"]
                verse = [int(t.note or 0) for t in sung if lyrics.sections[t.section].name == "verse"]
                if chorus and verse:
                    lifts.append(sum(chorus) / len(chorus) - sum(verse) / len(verse))
                final = sung[-1]
                if tonic_pc in at(final.start):
                    finals += 1
                    finals_tonic += int(final.note or 0) % 12 == tonic_pc
    step_rate = small / intervals
    chord_rate = stressed_chord / stressed_on_beat
    print(f"\n{len(SEEDS)} lyric sets x {len(KEYS)} keys/modes x {len(VOICES)} voices: {notes} notes; 100% in the "
          f"scale and the voice's range; widest leap {worst_leap} semitones; {step_rate:.1%} of {intervals} "
          f"intervals within 2 scale steps; {recovered}/{leaps} leaps inside a phrase followed by a step back; "
          f"{chord_rate:.1%} of {stressed_on_beat} stressed on-beat syllables "
          f"on chord tones; {ends_on_chord / ends:.1%} of {ends} phrase ends on chord tones; "
          f"{cadences_stable / cadences:.1%} of {cadences} section ends on the tonic triad "
          f"({cadences_possible} where the chord holds one of it: all of those); "
          f"{finals_tonic / finals:.1%} of the {finals} songs whose last chord holds the tonic end on it; "
          f"{repeats_same}/{repeats} repeated lines sung to the same notes; choruses higher than verses in "
          f"{sum(d > 0 for d in lifts)}/{len(lifts)} songs (by {sum(lifts) / len(lifts):.1f} semitones on average); "
          f"{shaped / shaped_lines:.1%} of {shaped_lines} lines of 5+ syllables peak before their end and fall; "
          f"{spent / melodies * 1000:.1f} ms a {DURATION_S:g} s song")
    assert worst_leap <= 12
    assert step_rate >= 0.70
    assert recovered >= 0.8 * leaps
    assert chord_rate >= 0.80
    assert ends_on_chord == ends
    assert repeats > 0 and repeats_same == repeats
    assert shaped / shaped_lines >= 0.6
    assert finals > 0 and finals_tonic == finals
    assert lifts and sum(d > 0 for d in lifts) >= 0.9 * len(lifts)


def test_same_seed_same_notes_other_seed_other_notes() -> None:
    lyrics, times, bpm, metre = _lyric_set(2)
    spans = _spans(9, "minor", "i-VI-III-VII", bpm, metre)

    def notes(seed: int) -> list[int | None]:
        return [t.note for t in vocal_melody(list(times), tonic_pc=9, scale="minor", chords=spans,
                                             voice="female", seed=seed, lyrics=lyrics)]

    assert notes(7) == notes(7)
    others = [notes(seed) for seed in range(8, 13)]
    assert all(other != notes(7) for other in others)
    changed = sum(a != b for a, b in zip(notes(7), notes(8))) / len(times)
    print(f"\nseeds 7 and 8 differ on {changed:.0%} of {len(times)} syllables")
    assert changed >= 0.2


def test_voices_sing_in_their_own_registers() -> None:
    lyrics, times, bpm, metre = _lyric_set(1)
    spans = _spans(0, "major", "I-V-vi-IV", bpm, metre)
    means = {}
    for voice in ("soprano", "female", "tenor", "male", "baritone", "bass"):
        low, high = voice_range(voice)
        sung = [int(t.note or 0) for t in vocal_melody(list(times), tonic_pc=0, scale="major", chords=spans,
                                                       voice=voice, seed=1, lyrics=lyrics)]
        assert low <= min(sung) and max(sung) <= high
        means[voice] = sum(sung) / len(sung)
    assert means["soprano"] > means["tenor"] > means["bass"]
    assert means["female"] > means["male"]


def test_without_lyrics_a_recurring_section_still_repeats_its_notes() -> None:
    """Only the timings and a chord function: stresses come from line starts and chord changes, the chorus
    from recurring lines."""
    _, times, bpm, metre = _lyric_set(4)
    spans = _spans(2, "dorian", "i-IV", bpm, metre)
    sung = vocal_melody(list(times), tonic_pc=2, scale="dorian", chords=chords_at(spans), voice="alto", seed=3)
    assert sung == vocal_melody(list(times), tonic_pc=2, scale="dorian", chords=spans, voice="alto", seed=3)
    seen: dict[tuple[str, ...], list[int | None]] = {}
    repeats = 0
    last_of_section = {ln[0].section: i for i, ln in _line_groups(sung).items()}
    for index, line in _line_groups(sung).items():
        key = tuple(t.text for t in line) + (str(last_of_section[line[0].section] == index),)
        if key in seen:
            repeats += 1
            assert seen[key] == [t.note for t in line]
        seen.setdefault(key, [t.note for t in line])
        assert int(line[-1].note or 0) % 12 in chords_at(spans)(line[-1].start)
    assert repeats > 0


def test_a_chorus_over_other_chords_keeps_its_tune_and_moves_only_clashing_notes() -> None:
    """The second chorus lands on a shifted loop: same words, mostly the same notes, no phrase end off the chord."""
    lyrics, times, bpm, metre = _lyric_set(0)
    bar_s = bar_seconds(bpm, metre)
    chords = parse_progression("I-V-vi-IV", tonic_pc=0, mode="major")
    shifted = [ChordSpan(LEAD_IN_S + b * bar_s, LEAD_IN_S + (b + 1) * bar_s,
                         chords[(b + (1 if b >= 12 else 0)) % 4].pitch_classes) for b in range(60)]
    sung = vocal_melody(list(times), tonic_pc=0, scale="major", chords=shifted, voice="tenor", seed=5,
                        lyrics=lyrics)
    at = chords_at(shifted)
    by_words: dict[tuple[str, ...], list[int | None]] = {}
    same = total = 0
    for line in _line_groups(sung).values():
        assert int(line[-1].note or 0) % 12 in at(line[-1].start)
        key = tuple(t.text for t in line)
        if key in by_words:
            total += len(line)
            same += sum(a == t.note for a, t in zip(by_words[key], line))
        by_words.setdefault(key, [t.note for t in line])
    assert total > 0
    print(f"\nchorus over shifted chords: {same / total:.0%} of its notes as first sung")
    assert same / total >= 0.5


def test_a_composed_clip_gets_a_vocals_track_in_its_midi(tmp_path) -> None:
    """The melody over a real score: its chords under every phrase end, and the notes back out of parts.mid."""
    analysis = replace(analyze("pop song with female vocals about summer love", backend="rules"), key="G",
                       mode="minor", scale="dorian")
    score = compose(analysis, seed=4, duration_s=40.0)
    spans = score_chords(score)
    bar_ticks = score.metre.bar_ticks
    for b, symbol in enumerate(score.progression[:-1]):  # one span a body bar, the chord the score plays
        start_s = (score.lead_in_bars + b) * bar_ticks * 60.0 / (score.bpm * PPQ)
        assert tuple(chords_at(spans)(start_s + 0.01)) == parse_roman(symbol, tonic_pc=7, mode="dorian").pitch_classes
    lead_in_s = score.body_start_tick * 60.0 / (score.bpm * PPQ)
    lead_out_s = 40.0 - score.lead_out_tick * 60.0 / (score.bpm * PPQ)
    lyrics = write_lyrics(analysis, seed=4, duration_s=40.0, lead_in_s=lead_in_s, lead_out_s=lead_out_s)
    times = time_lyrics(lyrics, bpm=score.bpm, time_signature=analysis.time_signature, lead_in_s=lead_in_s,
                        duration_s=40.0, lead_out_s=lead_out_s)
    sung = vocal_melody(times, tonic_pc=score.tonic_pc, scale=score.scale, chords=spans, voice="female", seed=4,
                        lyrics=lyrics)
    for line in _line_groups(sung).values():
        assert int(line[-1].note or 0) % 12 in chords_at(spans)(line[-1].start)
    part = vocal_part(sung, score, lyrics=lyrics)
    assert part.stem == "vocals" and len(part.notes) == len(sung)
    entry = write_score_midi(replace(score, parts=score.parts + (part,)), tmp_path)
    assert [p["name"] for p in entry["parts"]][-1] == "vocals"
    midi = mido.MidiFile(str(tmp_path / "parts.mid"))
    track = next(t for t in midi.tracks if any(m.type == "track_name" and m.name == "vocals" for m in t))
    now, onsets = 0, []
    for msg in track:
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            onsets.append((now, msg.note))
    assert [n for _, n in onsets] == [t.note for t in sung]
    for (tick, _), t in zip(onsets, sung):
        assert abs(tick * 60.0 / (score.bpm * PPQ) - t.start) < 1.0 / (score.bpm * PPQ / 60.0) + 1e-9
    assert {m.type for m in track} >= {"program_change", "note_on", "note_off"}


def test_bad_arguments_are_refused_by_name() -> None:
    lyrics, times, bpm, metre = _lyric_set(0)
    spans = _spans(0, "major", "I-IV", bpm, metre)
    with pytest.raises(InvalidInputError, match="voice"):
        vocal_melody(list(times), tonic_pc=0, scale="major", chords=spans, voice="robot")
    with pytest.raises(InvalidInputError, match="scale"):
        vocal_melody(list(times), tonic_pc=0, scale="blues", chords=spans)
    with pytest.raises(InvalidInputError, match="tonic_pc"):
        vocal_melody(list(times), tonic_pc=12, scale="major", chords=spans)
    with pytest.raises(InvalidInputError, match="lyrics"):
        vocal_melody(list(times)[:-1], tonic_pc=0, scale="major", chords=spans, lyrics=lyrics)
    with pytest.raises(InvalidInputError, match="order"):
        vocal_melody(list(reversed(times)), tonic_pc=0, scale="major", chords=spans)
    assert vocal_melody([], tonic_pc=0, scale="major", chords=spans) == []
    score = compose(analyze("pop song", backend="rules"), seed=0, duration_s=20.0)
    with pytest.raises(InvalidInputError, match="no note"):
        vocal_part(list(times), score)


def test_user_lyrics_with_long_lines_spelled_letters_and_unicode_get_a_note_each() -> None:
    """Kept user lines: a 16-syllable line, a one-word line, FBI spelled out, accents and a repeated chorus."""
    analysis = analyze("slow soul ballad with male vocals", backend="rules")
    text = ("[verse]\nThe FBI came knocking at the café door at seven in the evening light\nOh\n"
            "Naïve hearts are singing\n\n[chorus]\nHold on, hold on\nWe were never alone\n\n"
            "[chorus]\nHold on, hold on\nWe were never alone")
    lyrics = write_lyrics(analysis, mode="replace", user_lyrics=text, seed=0, duration_s=DURATION_S,
                          lead_in_s=LEAD_IN_S, lead_out_s=LEAD_OUT_S)
    times = time_lyrics(lyrics, bpm=analysis.bpm, time_signature=analysis.time_signature, lead_in_s=LEAD_IN_S,
                        duration_s=DURATION_S, lead_out_s=LEAD_OUT_S)
    spans = _spans(5, "major", "I-vi-IV-V", analysis.bpm, analysis.time_signature)
    sung = vocal_melody(times, tonic_pc=5, scale="major", chords=spans, voice="male", seed=9, lyrics=lyrics)
    low, high = voice_range("male")
    assert [t.text for t in sung] == [t.text for t in times]
    assert all(t.note is not None and low <= t.note <= high and (t.note - 5) % 12 in SCALES["major"] for t in sung)
    lines = list(_line_groups(sung).values())
    assert max(len(line) for line in lines) >= 16 and min(len(line) for line in lines) == 1
    at = chords_at(spans)
    for again, first in ((lines[-2], lines[-4]), (lines[-1], lines[-3])):  # the second chorus: same tune where
        for a, b in zip(again, first):  # the same chord sounds (these sections are not 4 bars apart)
            if set(at(a.start)) == set(at(b.start)):
                assert a.note == b.note, (a, b)
        assert int(again[-1].note or 0) % 12 in at(again[-1].start)
