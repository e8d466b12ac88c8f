"""Syllables, stresses and rhymes: the CMU dictionary first, the spelling estimator for what it lacks."""

from __future__ import annotations

import pronouncing
import pytest

from mage_bridge.lyrics.syllables import count_syllables, number_words, rhymes, syllabify


@pytest.mark.parametrize(("word", "pieces", "stresses"), [
    ("summer", ("sum", "mer"), (1, 0)),
    ("beautiful", ("beau", "ti", "ful"), (1, 0, 0)),
    ("love", ("love",), (1,)),
    ("piano", ("pi", "a", "no"), (0, 1, 0)),
], ids=["summer", "beautiful", "love", "piano"])
def test_dictionary_words_split_with_their_stresses(word: str, pieces: tuple[str, ...],
                                                     stresses: tuple[int, ...]) -> None:
    syl = syllabify(word)
    assert (syl.pieces, syl.stresses, syl.source) == (pieces, stresses, "cmu")


def test_pieces_keep_the_words_case_and_punctuation() -> None:
    assert syllabify('"Summer,').pieces == ('"Sum', "mer,")
    assert syllabify("Don’t").count == 1  # a curly apostrophe is looked up as a straight one


@pytest.mark.parametrize(("word", "count"), [
    ("blorfing", 2), ("groovin'", 2), ("zyxxplorf", 2), ("café", 2), ("naïve", 2), ("Mädchen", 2),
    ("東京", 2), ("привет", 2), ("hmm", 1), ("snurble", 2), ("flumped", 1), ("zadio", 3),
], ids=lambda v: str(v))
def test_words_missing_from_the_dictionary_are_estimated(word: str, count: int) -> None:
    syl = syllabify(word)
    assert syl.source == "estimate" and syl.count == count
    assert "".join(syl.pieces) == word  # the split pieces spell the word


def test_spelled_out_letters_get_a_piece_each_and_never_an_empty_one() -> None:
    assert syllabify("FBI,").pieces == ("F", "B", "I,")
    assert syllabify("tv").pieces == ("t", "v")
    assert syllabify("w").pieces == ("w", "~", "~")  # "double-u": three syllables on one letter


def test_numbers_are_sung_as_words() -> None:
    assert number_words(1999) == "nineteen ninety nine"
    assert number_words(2024) == "two thousand twenty four"
    assert syllabify("1999").count == 5 and syllabify("1999").source == "number"
    assert count_syllables("7 nights") == 3
    assert syllabify("10,000").count == 3  # ten thousand


def test_punctuation_alone_has_no_syllable_and_ampersand_is_and() -> None:
    assert syllabify("—").count == 0 and syllabify("...").count == 0
    assert syllabify("&").count == 1


def test_estimator_agrees_with_the_dictionary_on_most_words() -> None:
    """The estimator (used only for unknown words) is measured against the dictionary on common words."""
    from mage_bridge.lyrics import syllables as s

    words = [w for w in ("morning evening window river yesterday somebody forever golden shadow city highway "
                         "wonderful remember darkness together silence history beautiful orange animal "
                         "mountain ocean thunder whisper tomorrow").split()]
    agree = sum(len(s._estimated_nuclei(w)) == pronouncing.syllable_count(pronouncing.phones_for_word(w)[0])
                for w in words)
    assert agree / len(words) >= 0.8, agree


def test_rhymes_by_the_dictionary_and_by_spelling() -> None:
    assert rhymes("through the night", "in the light")
    assert rhymes("above", "love,")
    assert not rhymes("sun", "night")
    assert not rhymes("night", "Night")  # a word repeated is not a rhyme
    assert rhymes("a blorf", "a dorf")  # neither in the dictionary: the spelling decides
    assert not rhymes("", "night")


def test_any_token_with_a_letter_or_digit_has_syllables_none_empty() -> None:
    """Seeded random tokens over Latin, accented, Greek, Cyrillic, CJK, Arabic, digits and punctuation."""
    import random

    alphabet = "abcdefghijklmnopqrstuvwxyzäéïøçñ'’-αβγδεжзиклм東京の歌سلام0123456789.,!?&—"
    rng = random.Random(11)
    for _ in range(3000):
        token = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        syl = syllabify(token)
        assert all(syl.pieces), (token, syl)
        if any(ch.isalnum() for ch in token.replace("&", "")):
            assert syl.count >= 1, (token, syl)
