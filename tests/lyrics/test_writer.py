"""The embedded lyric writer: form tags, syllable targets, CMU rhymes, no repeats, and the user's lyrics kept."""

from __future__ import annotations

import pronouncing
import pytest

from mage_bridge.analysis import analyze
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.errors import InvalidInputError
from mage_bridge.lyrics.syllables import clean_word, count_syllables, last_word, rhymes
from mage_bridge.lyrics.writer import Lyrics, opener_of, parse_user_lyrics, topic_words, write_lyrics

PROMPTS = (
    "a sad piano ballad about summer love",
    "energetic hip hop beat at 95 bpm with vocals",
    "dreamy synthwave about the city at night",
    "happy country song about the open road",
    "dark techno 130 bpm",
    "calm folk waltz in 3/4 about the river",
    "epic rock anthem about freedom",
    "romantic r&b slow jam",
    "a 6/8 irish folk song about the sea",
    "uplifting pop song about dreams, 45 seconds",
)


def _analysis(prompt: str) -> PromptAnalysis:
    return analyze(prompt, backend="rules")


def _cmu_rhyme(a: str, b: str) -> bool:
    """An independent check: the two line ends share a CMU rhyming part (and are different words)."""
    wa, wb = clean_word(last_word(a)), clean_word(last_word(b))
    parts_a = {pronouncing.rhyming_part(p) for p in pronouncing.phones_for_word(wa)}
    parts_b = {pronouncing.rhyming_part(p) for p in pronouncing.phones_for_word(wb)}
    return wa != wb and bool(parts_a & parts_b)


def _rhyme_pairs(lyrics: Lyrics) -> list[tuple[str, str]]:
    """Line pairs meant to rhyme: consecutive lines with the same label within each group of four."""
    pairs = []
    for section in lyrics.sections:
        lines = section.lines
        for start in range(0, len(lines), 4):
            group = lines[start:start + 4]
            by_label: dict[str, list[str]] = {}
            for line in group:
                if line.rhyme:
                    by_label.setdefault(line.rhyme, []).append(line.text)
            pairs.extend((ls[0], ls[1]) for ls in by_label.values() if len(ls) >= 2)
    return pairs


def test_twenty_generated_lyric_sets_meet_the_must_show() -> None:
    pairs_total = pairs_rhyming = lines_total = 0
    for prompt in PROMPTS:
        analysis = _analysis(prompt)
        for seed in (1, 2):
            lyrics = write_lyrics(analysis, seed=seed)
            text = lyrics.text()
            assert "[verse]" in text and "[chorus]" in text, text
            choruses = [s.lines for s in lyrics.sections if s.name == "chorus"]
            assert choruses and all(c == choruses[0] for c in choruses), "the chorus is sung verbatim"
            outside = [ln.text.lower() for s in lyrics.sections if s.name != "chorus" for ln in s.lines]
            chorus_lines = [ln.text.lower() for ln in choruses[0]]
            assert len(set(outside)) == len(outside), f"a line repeats outside the chorus:\n{text}"
            assert not set(outside) & set(chorus_lines)
            assert len(set(chorus_lines)) == len(chorus_lines)
            fillers = [opener_of(line) for line in set(outside) | set(chorus_lines)]
            assert len([f for f in fillers if f]) == len({f for f in fillers if f}), f"a filler repeats:\n{text}"
            for section in lyrics.sections:
                for line in section.lines:
                    lines_total += 1
                    assert line.target is not None
                    assert abs(count_syllables(line.text) - line.target) <= 1, (line.text, line.target)
            pairs = _rhyme_pairs(lyrics)
            assert pairs, text
            pairs_total += len(pairs)
            pairs_rhyming += sum(_cmu_rhyme(a, b) for a, b in pairs)
    rate = pairs_rhyming / pairs_total
    print(f"\n20 lyric sets: {lines_total} lines, {pairs_rhyming}/{pairs_total} rhyme pairs rhyme by CMU "
          f"({rate:.1%})")
    assert rate >= 0.8


def test_lyrics_summary_is_json_ready() -> None:
    import json

    lyrics = write_lyrics(_analysis(PROMPTS[2]), seed=1)
    data = json.loads(json.dumps(lyrics.to_dict()))
    assert data["text"] == lyrics.text() and data["mode"] == "generate" and data["seed"] == 1
    assert [s["name"] for s in data["sections"]] == [s.name for s in lyrics.sections]


def test_same_seed_same_text_other_seed_other_text() -> None:
    analysis = _analysis(PROMPTS[0])
    assert write_lyrics(analysis, seed=7).text() == write_lyrics(analysis, seed=7).text()
    assert write_lyrics(analysis, seed=7).text() != write_lyrics(analysis, seed=8).text()


def test_theme_comes_from_the_topic_mood_and_genre() -> None:
    analysis = _analysis("a sad piano ballad about summer love")
    assert topic_words(analysis) == ("summer", "love")
    lyrics = write_lyrics(analysis, seed=3)
    assert lyrics.theme[:2] == ("summer", "love")
    words = {clean_word(w.text) for s in lyrics.sections for ln in s.lines for w in ln.words}
    assert words & {"summer", "love", "sun", "beach", "waves", "heat", "heart", "kiss", "flame"}
    assert words & {"empty", "fading", "broken", "lonely", "silent", "hollow", "faded", "weary", "colder",
                    "distant", "wait", "cry", "fall", "fade", "drift", "break", "wander", "miss", "remember"}


def test_form_fits_the_clip_and_sections_are_followed() -> None:
    analysis = _analysis("pop song at 120 bpm")
    short = write_lyrics(analysis, seed=1, duration_s=32.0, lead_in_s=2.0, lead_out_s=2.8)
    assert 0 < short.bars <= 13  # 32 s - 4.8 s at 2 s a bar
    given = write_lyrics(analysis, seed=1, sections=[("verse", 4), ("pre-chorus", 2), ("chorus", 4)])
    assert [s.name for s in given.sections] == ["verse", "pre-chorus", "chorus"]
    assert [s.bars for s in given.sections] == [4, 2, 4]
    assert "[pre-chorus]" in given.text()


USER = """[Verse]
Walking home beneath the café light
Every street is singing through the night

Zorblat dreams in 1999 —
ünïcödé whispers, all is fine
"""


def test_replace_keeps_the_users_text_verbatim_and_adds_missing_tags() -> None:
    lyrics = write_lyrics(_analysis("indie pop"), mode="replace", user_lyrics=USER, seed=1)
    user_lines = [ln for ln in USER.splitlines() if ln.strip() and not ln.startswith("[")]
    assert [ln.text for s in lyrics.sections for ln in s.lines] == user_lines
    assert [s.name for s in lyrics.sections] == ["Verse", "Verse"]  # the user's tag as written, for both blocks
    assert lyrics.text().startswith("[Verse]\nWalking home") and "\n\n[Verse]\nZorblat" in lyrics.text()
    untagged = write_lyrics(_analysis("indie pop"), mode="replace", user_lyrics="just one line", seed=1)
    assert untagged.text() == "[verse]\njust one line"
    assert all(ln.user and ln.bars >= 1 for s in lyrics.sections for ln in s.lines)


def test_untagged_blocks_get_tags_and_a_repeated_block_is_the_chorus() -> None:
    hook = "the hook is this\nsing it back"
    text = f"one line here\nanother line\n\n{hook}\n\nthird block\n\n{hook}"
    assert [tag for tag, _, _ in parse_user_lyrics(text)] == ["verse", "chorus", "verse", "chorus"]


def test_append_continues_with_the_users_rhyme_and_syllables() -> None:
    user = "We were running through the night\nChasing every fading light\n"
    lyrics = write_lyrics(_analysis("synth pop"), mode="append", user_lyrics=user, seed=4)
    lines = [ln for s in lyrics.sections for ln in s.lines]
    assert [ln.text for ln in lines[:2]] == user.splitlines()
    generated = [ln for ln in lines if not ln.user]
    assert generated, lyrics.text()
    a_lines = [ln for ln in lyrics.sections[1].lines[:4] if ln.rhyme == "A"]  # the first sound is the user's
    assert len(a_lines) == 2 and all(_cmu_rhyme(ln.text, "light") for ln in a_lines), lyrics.text()
    assert all(abs(count_syllables(ln.text) - 7) <= 1 for ln in generated), lyrics.text()
    assert not lyrics.warnings


def test_append_rhymes_by_spelling_on_a_word_the_dictionary_lacks() -> None:
    user = "We were dancing in the glimmerlight\n"
    lyrics = write_lyrics(_analysis("synth pop"), mode="append", user_lyrics=user, seed=4)
    a_lines = [ln for ln in lyrics.sections[1].lines[:4] if ln.rhyme == "A"]
    assert a_lines and all(rhymes(ln.text, "glimmerlight") for ln in a_lines), lyrics.text()
    assert not lyrics.warnings


def test_append_follows_the_given_sections_and_refuses_more_than_is_left() -> None:
    user = "We were running through the night\nChasing every fading light\n"
    analysis = _analysis("synth pop at 120 bpm")
    lyrics = write_lyrics(analysis, mode="append", user_lyrics=user, seed=2, sections=[("chorus", 4)])
    assert [s.name for s in lyrics.sections] == ["verse", "chorus"] and lyrics.sections[1].bars == 4
    with pytest.raises(InvalidInputError, match="the continuation's sections span 16 bars; 8 are left"):
        write_lyrics(analysis, mode="append", user_lyrics=user, seed=2, sections=[("chorus", 16)], duration_s=24.0)


def test_append_to_very_long_lines_stays_singable() -> None:
    user = "and so we went out walking down the avenue of everything we ever wanted to become tonight\n"
    lyrics = write_lyrics(_analysis("pop at 120 bpm"), mode="append", user_lyrics=user, seed=3)
    generated = [ln for s in lyrics.sections for ln in s.lines if not ln.user]
    assert generated and all(ln.target == 13 and abs(count_syllables(ln.text) - 13) <= 1 for ln in generated)


def test_a_section_longer_than_its_phrases_keeps_its_bars() -> None:
    lyrics = write_lyrics(_analysis("pop at 120 bpm"), seed=1, sections=[("verse", 5), ("chorus", 4)])
    assert [s.bars for s in lyrics.sections] == [5, 4]
    assert [ln.bars for ln in lyrics.sections[0].lines] == [2, 2]  # the fifth bar is instrumental


def test_a_shorter_chorus_sings_the_opening_of_the_chorus() -> None:
    form = [("verse", 4), ("chorus", 8), ("verse", 4), ("chorus", 4)]
    lyrics = write_lyrics(_analysis("pop at 120 bpm"), seed=6, sections=form)
    first, second = (s.lines for s in lyrics.sections if s.name == "chorus")
    assert len(first) == 4 and [ln.text for ln in second] == [ln.text for ln in first[:2]]


def test_empty_lines_and_carriage_returns_are_only_separators() -> None:
    lyrics = write_lyrics(_analysis("folk"), mode="replace", user_lyrics="\r\n\r\nfirst line\r\n\r\n\r\nsecond\r\n",
                          seed=0)
    assert [ln.text for s in lyrics.sections for ln in s.lines] == ["first line", "second"]


def test_five_thousand_lines_are_refused_saying_how_many_fit() -> None:
    user = "\n".join(f"line number {i} of the song" for i in range(5000))
    with pytest.raises(InvalidInputError, match=r"5000 sung lines need .* at most (\d+) of these lines fit") as e:
        write_lyrics(_analysis("pop at 120 bpm"), mode="replace", user_lyrics=user, seed=0, duration_s=32.0,
                     lead_in_s=2.0, lead_out_s=2.8)
    assert "at most 6 of these lines fit" in str(e.value)  # 13 bars, two a line


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"mode": "remix"}, "mode must be one of"),
    ({"mode": "replace"}, "needs the user's lyrics"),
    ({"mode": "append", "user_lyrics": "  \n \n"}, "needs the user's lyrics"),
    ({"seed": "x"}, "seed must be an int"),
    ({"sections": [("verse", 0)]}, "each section must be"),
    ({"user_lyrics": "my own words"}, "mode 'generate' writes new lyrics"),
    ({"lead_in_s": -1.0}, "lead_in_s must be a finite number of seconds >= 0, got -1.0"),
    ({"duration_s": float("inf")}, "duration_s must be a finite number"),
    ({"sections": [("verse", 8), ("chorus", 8)], "duration_s": 20.0}, "the sections span 16 bars; the clip holds"),
], ids=["mode", "replace-none", "append-blank", "seed", "sections", "generate-with-lyrics", "lead-in", "inf",
         "sections-too-long"])
def test_bad_arguments_are_named(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        write_lyrics(_analysis("pop"), **kwargs)  # type: ignore[arg-type]
