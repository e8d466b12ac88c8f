"""Syllables of sung words: how many, where the spelling splits, which are stressed, and what rhymes.

The CMU pronouncing dictionary (the ``pronouncing`` package) answers first: it is what a singer would say.
Words it lacks (names, slang such as "singin'", other languages, "1999") go to a spelling-based
estimator, so that every line of user lyrics can be timed, whatever it holds. Numbers are read as words
("1999" is "nineteen ninety-nine", five syllables) because that is how they are sung.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

#: Vowel letters of the Latin, Greek and Cyrillic alphabets once diacritics are removed ("y" counts as a vowel).
_VOWELS = frozenset("aeiouy" "αεηιουω" "аеёиоуыэюяіїє")
#: Scripts in which every letter is one syllable (Chinese characters, kana, Hangul blocks).
_ONE_PER_CHAR = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")
#: The text of a syllable that has no letter of its own ("w" is sung "dou-ble-u": "w", "~", "~").
HELD = "~"
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


@dataclass(frozen=True)
class WordSyllables:
    """One word split into sung syllables.

    ``pieces`` are the spelling's syllables (``"sum", "mer"``) and join back to the word, except for numbers,
    whose pieces are the spoken syllables ("nine", "teen", ...). ``stresses`` holds one CMU stress per syllable
    (1 primary, 2 secondary, 0 none) when the dictionary knows the word, else ``None``. ``source`` is
    ``"cmu"``, ``"estimate"`` or ``"number"``.
    """

    word: str
    pieces: tuple[str, ...]
    stresses: tuple[int, ...] | None
    source: str

    @property
    def count(self) -> int:
        """The number of syllables (0 for a token with no letters or digits, such as "&" or "-")."""
        return len(self.pieces)


def clean_word(token: str) -> str:
    """``token`` without the punctuation around it, apostrophes made straight, in lower case ("Don’t," -> "don't")."""
    text = token.translate(_APOSTROPHES).lower()
    return text.strip(" \t.,;:!?\"()[]{}<>«»“”„-–—…*_~/\\|")


def number_words(value: int) -> str:
    """``value`` (0 to 999 999) spelled as sung; four-digit numbers from 1100 to 1999 are read as years."""
    if value < 20:
        return _ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if 1100 <= value < 2000 and value % 100:
        return f"{number_words(value // 100)} {number_words(value % 100)}"
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    thousands, rest = divmod(value, 1000)
    return f"{number_words(thousands)} thousand" + (f" {number_words(rest)}" if rest else "")


@lru_cache(maxsize=65536)
def _cmu(word: str) -> tuple[str, ...]:
    import pronouncing  # the dictionary loads on first use, not at import

    return tuple(pronouncing.phones_for_word(word))


def _base_letters(word: str) -> str:
    """``word`` with diacritics removed, one output letter per input letter (so indices line up)."""
    out = []
    for ch in word:
        base = unicodedata.normalize("NFKD", ch)[:1] or ch
        out.append(base.lower())
    return "".join(out)


def _one_per_char(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(_ONE_PER_CHAR)


def _nuclei(word: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the vowel groups in ``word``: the spelling's candidate syllable nuclei."""
    base = _base_letters(word)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(base):
        if _one_per_char(word[i]):
            spans.append((i, i + 1))
            i += 1
            continue
        if base[i] in _VOWELS and not (base[i] == "y" and i == 0):
            j = i + 1
            while (j < len(base) and base[j] in _VOWELS and not _one_per_char(word[j])
                   and unicodedata.normalize("NFKD", word[j])[1:] != "\u0308"):  # a diaeresis starts a syllable
                j += 1
            spans.append((i, j))
            i = j
            continue
        i += 1
    return spans


def _estimated_nuclei(word: str) -> list[tuple[int, int]]:
    """The vowel groups of ``word`` less the silent ones English spelling has (a final "e", "-es", "-ed")."""
    spans = _nuclei(word)
    base = _base_letters(word)
    if len(spans) > 1:
        start, end = spans[-1]
        tail = base[start:]
        before = base[start - 1] if start > 0 else ""
        consonant_le = before == "l" and start >= 2 and base[start - 2] not in _VOWELS  # "table", "little"
        silent_e = tail == "e" and word[start] == "e" and not consonant_le
        silent_es_ed = tail in ("es", "ed") and before not in ("t", "d", "s", "z", "x", "c", "g", "h")
        if silent_e or silent_es_ed:
            spans.pop()
    # "ia", "io", "eo" and "ua" usually hold two syllables ("piano", "video", "radio", "duet").
    split: list[tuple[int, int]] = []
    for start, end in spans:
        group = base[start:end]
        if end - start == 2 and group in ("ia", "io", "eo", "ua", "ue", "uo", "iu") and start > 0:
            split.extend([(start, start + 1), (start + 1, end)])
        else:
            split.append((start, end))
    return split


def _fit_nuclei(word: str, spans: list[tuple[int, int]], count: int) -> list[tuple[int, int]]:
    """``spans`` merged or split until there are ``count`` of them (the dictionary's count wins over spelling)."""
    spans = list(spans) or [(0, len(word))]
    while len(spans) > count and len(spans) > 1:
        if word[spans[-1][0]:].lower() in ("e", "es", "ed"):
            spans.pop()
            continue
        gaps = [spans[i + 1][0] - spans[i][1] for i in range(len(spans) - 1)]
        i = gaps.index(min(gaps))
        spans[i:i + 2] = [(spans[i][0], spans[i + 1][1])]
    while len(spans) < count:
        widths = [end - start for start, end in spans]
        i = widths.index(max(widths))
        start, end = spans[i]
        if end - start < 2:
            break
        spans[i:i + 1] = [(start, start + 1), (start + 1, end)]
    if len(spans) < count:  # spelled-out letters ("fbi", "tv"): one nucleus per letter, spread evenly
        if len(word) >= count:
            return [(k * len(word) // count, k * len(word) // count + 1) for k in range(count)]
        # more syllables than letters ("w" is "double-u"): the extra syllables hold the last one (empty pieces)
        return [(k, k + 1) for k in range(len(word))] + [(len(word), len(word))] * (count - len(word))
    return spans


def _split_at(word: str, spans: list[tuple[int, int]]) -> tuple[str, ...]:
    """Cut ``word`` between its nuclei: one consonant goes with the next syllable, a cluster splits after its first."""
    cuts = [0]
    for (_, end), (start, _) in zip(spans, spans[1:]):
        consonants = start - end
        cuts.append(end if consonants <= 1 else end + 1)
    cuts.append(len(word))
    return tuple(word[a:b] for a, b in zip(cuts, cuts[1:]))


def _stresses(phones: str) -> tuple[int, ...]:
    return tuple(int(ch) for ch in phones if ch.isdigit())


@lru_cache(maxsize=65536)
def syllabify(token: str) -> WordSyllables:
    """The syllables of one whitespace-free ``token`` as it appears in a lyric line (punctuation allowed).

    The CMU dictionary gives the count and stresses; the spelling gives where the pieces split. Unknown words
    are estimated from their vowel groups (unicode letters included); numbers are read as words.
    """
    word = clean_word(token)
    if word == "&":
        word = "and"
    if not word:
        return WordSyllables(token, (), None, "estimate")
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", word):  # "1,000" is sung as "one thousand"
        word = word.replace(",", "")
    if word.isdigit() and len(word) <= 6:
        spoken = number_words(int(word)).split()
        pieces: list[str] = []
        for part in spoken:
            pieces.extend(syllabify(part).pieces)
        return WordSyllables(token, tuple(pieces), None, "number")
    phones = _cmu(word) or _cmu(word.strip("'"))
    stresses = _stresses(phones[0]) if phones else ()
    if stresses:
        spans = _fit_nuclei(word, _nuclei(word), len(stresses))
        shown = _shown(token, word, _split_at(word, spans))
        return WordSyllables(token, tuple(piece or HELD for piece in shown), stresses, "cmu")
    letters = [ch for ch in word if ch.isalnum()]
    if not letters:
        return WordSyllables(token, (), None, "estimate")
    spans = _estimated_nuclei(word)
    if not spans:  # consonants only ("hmm", "brr", or a script without marked vowels): about one per 3 letters
        count = max(1, round(len(letters) / 3))
        spans = _fit_nuclei(word, [(0, len(word))], count)
    return WordSyllables(token, _shown(token, word, _split_at(word, spans)), None, "estimate")


def _shown(token: str, word: str, pieces: tuple[str, ...]) -> tuple[str, ...]:
    """``pieces`` of the cleaned ``word`` spelled as in ``token``: its case, and its punctuation on the ends."""
    folded = token.translate(_APOSTROPHES).lower()
    at = folded.find(word)
    if at < 0 or len(folded) != len(token) or not pieces:
        return pieces
    out, pos = [], at
    for piece in pieces:
        out.append(token[pos:pos + len(piece)])
        pos += len(piece)
    out[0] = token[:at] + out[0]
    out[-1] = out[-1] + token[pos:]
    return tuple(out)


def words_of(line: str) -> list[str]:
    """The whitespace-separated tokens of a lyric line, punctuation kept on them (the text shown)."""
    return line.split()


def count_syllables(text: str) -> int:
    """Syllables in a word or a whole line of text."""
    return sum(syllabify(token).count for token in words_of(text))


def last_word(line: str) -> str:
    """The last token of ``line`` that holds a syllable, cleaned ("" when there is none)."""
    for token in reversed(words_of(line)):
        if syllabify(token).count:
            return clean_word(token)
    return ""


@lru_cache(maxsize=65536)
def rhyme_key(word: str) -> tuple[str, ...]:
    """The sounds a rhyme of ``word`` must share: CMU rhyming parts (one per pronunciation), else spelled.

    The spelled key is the last vowel group and what follows it, silent final "e" left out ("blorf" -> "orf").
    """
    import pronouncing

    word = clean_word(word)
    phones = _cmu(word)
    if phones:
        return tuple(sorted({pronouncing.rhyming_part(p) for p in phones}))
    spans = _estimated_nuclei(word) or _nuclei(word)
    if not spans:
        return (f"~{_base_letters(word)}",)
    return (f"~{_base_letters(word)[spans[-1][0]:]}",)


def rhymes(a: str, b: str) -> bool:
    """Whether the words (or line ends) ``a`` and ``b`` rhyme: the CMU rhyming parts agree.

    When either word is missing from the dictionary both are compared by spelling. The same word twice is
    not a rhyme (it is a repetition).
    """
    wa, wb = last_word(a), last_word(b)
    if not wa or not wb or wa == wb:
        return False
    ka, kb = rhyme_key(wa), rhyme_key(wb)
    if any(k.startswith("~") for k in ka + kb):
        ka, kb = _spelled_key(wa), _spelled_key(wb)
    return bool(set(ka) & set(kb))


def _spelled_key(word: str) -> tuple[str, ...]:
    spans = _estimated_nuclei(word) or _nuclei(word)
    base = _base_letters(word)
    return (f"~{base[spans[-1][0]:]}",) if spans else (f"~{base}",)
