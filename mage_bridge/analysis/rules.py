"""Rule-based prompt reading: pure Python, always available, a few hundred microseconds.

The rules read what a prompt *states*: tempo, key and mode, metre, genres, moods,
instruments, exclusions and whether a voice is wanted. :func:`read_prompt` returns
those facts (a :class:`Reading`); :func:`assemble` fills what the prompt left out
from the genre table and records where every value came from. The embedding
backend reuses both and only adds a guess for what the rules could not find.

Conventions (documented in ``docs/prompt-analysis.md``):

* BPM is quarter-note BPM whatever the metre; stated BPM must lie in
  :data:`BPM_RANGE` or the prompt is rejected. A range ("120-125 bpm") gives its midpoint.
* "slow" / "mid-tempo" / "fast" pick the low end / default / high end of the
  genre's tempo range. "half-time" and "double-time" change the groove's *feel*
  only (``feel`` field); the BPM stays the grid tempo a DAW should run at.
* A malformed key ("H# major") is ignored with a warning, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from mage_bridge import genres as genre_table
from mage_bridge import instruments as instrument_table
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.errors import InvalidInputError
from mage_bridge.music import key_name, pitch_class

#: Longest prompt accepted, in characters (a DAW prompt is a sentence or two).
MAX_PROMPT_CHARS = 2000
#: Stated tempi outside this range (quarter-note BPM) are rejected as input errors.
BPM_RANGE = (40.0, 240.0)
#: Genre used when nothing in the prompt names or suggests one.
FALLBACK_GENRE = "pop"

_MODES = ("major", "minor")


# --- input checks -------------------------------------------------------------------------------

def check_prompt(prompt: object, lyrics: object = None) -> str:
    """The prompt stripped, or :class:`InvalidInputError` for a non-string, empty or too long one."""
    if not isinstance(prompt, str):
        raise InvalidInputError(f"prompt must be a string, got {type(prompt).__name__}")
    text = prompt.strip()
    if not text:
        raise InvalidInputError("prompt is empty: describe the music, e.g. 'deep house at 122 BPM in G minor'")
    if len(text) > MAX_PROMPT_CHARS:
        raise InvalidInputError(
            f"prompt is too long: {len(text)} characters, the limit is {MAX_PROMPT_CHARS}"
        )
    if lyrics is not None and not isinstance(lyrics, str):
        raise InvalidInputError(f"lyrics must be a string or None, got {type(lyrics).__name__}")
    return text


# --- small helpers ------------------------------------------------------------------------------

def _mask(text: str, start: int, end: int) -> str:
    """``text`` with ``[start, end)`` blanked, so later rules do not read it twice."""
    return text[:start] + " " * (end - start) + text[end:]


def _phrase(words: str) -> str:
    """Regex for a phrase: any run of spaces/hyphens between words, word boundaries around."""
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", words.strip()) if p]
    return r"(?<![\w&'])" + r"[\s\-]+".join(parts) + r"(?![\w&])"


def _normalise(prompt: str) -> str:
    """Same length as ``prompt``: typographic quotes/dashes to ASCII, ♯/♭ to #/b."""
    table = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "♯": "#", "♭": "b"})
    return prompt.translate(table)


# --- tempo --------------------------------------------------------------------------------------

_NUM = r"(\d{1,4}(?:\.\d+)?)"
_BPM_UNIT = r"(?:bpm|b\.p\.m\.?|beats?\s+per\s+minute)"
_BPM_EXPLICIT = (
    re.compile(rf"\bbetween\s+{_NUM}\s*(?:and|-)\s*{_NUM}\s*-?\s*{_BPM_UNIT}(?!\w)"),
    re.compile(rf"(?<![\w.]){_NUM}\s*(?:-|to|~)\s*{_NUM}\s*-?\s*{_BPM_UNIT}(?!\w)"),
    re.compile(rf"(?<![\w.]){_NUM}\s*-?\s*{_BPM_UNIT}(?!\w)"),
    re.compile(rf"\b(?:bpm|tempo)(?:\s*(?:of|is|=|:|at|around|about|~|near|roughly|approximately|approx\.?))*"
               rf"\s*~?\s*{_NUM}(?![\w.])"),
)
# "at 90", "@ 128": read as BPM only when plausible, since "at 3" may mean anything.
_BPM_LOOSE = re.compile(
    rf"(?:\bat|@|\baround)\s*~?\s*{_NUM}(?![\w.%/:])(?!\s*(?:%|hz|khz|db|ms|sec|second|minute|min\b|hour|am\b|pm\b"
    rf"|year|bars?\b|k\b|x\b|times|o'?clock|feet|miles|degrees|people|fps))"
)
_TEMPO_WORDS = (
    ("very slow", re.compile(r"\b(?:very|super|really|extremely)\s+slow\b")),
    ("very fast", re.compile(r"\b(?:very|super|really|extremely)\s+(?:fast|quick|uptempo|up-tempo)\b")),
    ("mid", re.compile(r"\b(?:mid|medium|moderate)[\s\-]?(?:tempo|paced?)\b|\bmoderato\b|\bmidtempo\b")),
    ("slow", re.compile(r"\b(?:slow|slowly|slower|slow[\s\-]paced|largo|adagio|lento)\b")),
    ("fast", re.compile(r"\b(?:fast|faster|quick|rapid|up[\s\-]?tempo|high[\s\-]tempo|allegro|presto)\b")),
)
_FEELS = (
    ("halftime", re.compile(r"\bhalf[\s\-]?time\b")),
    ("doubletime", re.compile(r"\bdouble[\s\-]?time\b")),
)


def _check_bpm(value: float, what: str) -> float:
    lo, hi = BPM_RANGE
    if not lo <= value <= hi:
        raise InvalidInputError(
            f"tempo must be from {lo:g} to {hi:g} BPM (quarter notes), got {value:g} from {what!r}"
        )
    return value


def parse_bpm(text: str) -> tuple[float | None, str, list[str]]:
    """Stated tempo in ``text`` (lower case): ``(bpm or None, text with it masked, warnings)``.

    Raises :class:`InvalidInputError` for an explicit tempo ("1000 bpm", "tempo 0")
    outside :data:`BPM_RANGE`; a loose "at 1000" is not a tempo and is left alone.
    """
    found: list[tuple[int, float, str]] = []
    for pattern in _BPM_EXPLICIT:
        for m in pattern.finditer(text):
            nums = [float(g) for g in m.groups() if g is not None]
            for n in nums:
                _check_bpm(n, m.group(0).strip())
            if len(nums) == 2 and nums[0] > nums[1]:
                nums.reverse()
            found.append((m.start(), sum(nums) / len(nums), m.group(0).strip()))
            text = _mask(text, m.start(), m.end())
    if not found:
        for m in _BPM_LOOSE.finditer(text):
            value = float(m.group(1))
            if BPM_RANGE[0] <= value <= BPM_RANGE[1]:
                found.append((m.start(), value, m.group(0).strip()))
                text = _mask(text, m.start(), m.end())
    warnings: list[str] = []
    if not found:
        return None, text, warnings
    found.sort()
    bpm = round(found[0][1], 2)
    others = sorted({f[1] for f in found[1:] if abs(f[1] - bpm) > 1e-6})
    if others:
        warnings.append(f"several tempi in the prompt; using {bpm:g} BPM, ignoring "
                        + ", ".join(f"{o:g}" for o in others))
    return bpm, text, warnings


def parse_tempo_word(text: str) -> str | None:
    """``"slow"``, ``"very slow"``, ``"mid"``, ``"fast"``, ``"very fast"`` or ``None``."""
    for name, pattern in _TEMPO_WORDS:
        if pattern.search(text):
            return name
    return None


def parse_feel(text: str) -> str:
    """``"halftime"``, ``"doubletime"`` or ``""``."""
    for name, pattern in _FEELS:
        if pattern.search(text):
            return name
    return ""


def tempo_from_word(word: str, genre: genre_table.Genre) -> float:
    """BPM for a tempo word inside ``genre``'s range (its low end for "slow", ...)."""
    lo, hi = genre.bpm_range
    value = {
        "very slow": lo * 0.85, "slow": lo, "mid": genre.default_bpm, "fast": hi, "very fast": hi * 1.15,
    }[word]
    return float(round(min(max(value, BPM_RANGE[0]), BPM_RANGE[1])))


# --- key and mode -------------------------------------------------------------------------------

_ACC = r"(?:\s*(?P<acc>[#b])(?![a-z])|[\s\-]*(?P<accw>sharp|flat)\b)?"
_NOTE = rf"(?<![\w#])(?P<letter>[A-Ga-g]){_ACC}"
_MODE_WORD = r"(?P<mode>major|minor|maj|min|moll|dur)\b"
_KEY_FULL = re.compile(rf"{_NOTE}[\s\-]*{_MODE_WORD}", re.IGNORECASE)
_KEY_SHORT = re.compile(r"(?<![\w#])(?P<letter>[A-G])(?P<acc>[#b])?(?P<m>m|M)(?![\w#])")
_KEY_OF = re.compile(rf"\bkey(?:\s+of|\s*[:=])?\s+{_NOTE}(?![\w#])", re.IGNORECASE)
_KEY_IN = re.compile(r"\bin\s+(?P<letter>[A-G])(?:(?P<acc>[#b])(?![\w#])|\s*[\-]?\s*(?P<accw>sharp|flat)\b|(?![\w#'’]))")
_KEY_BARE = re.compile(r"(?<![\w#/])(?P<letter>[A-G])(?P<acc>[#b])(?![\w#])")
_MODE_ONLY = re.compile(
    r"\b(?P<mode>minor|major)[\s\-]+(?:key|scale|mode|tonality|feel)\b|\bin\s+(?P<mode2>minor|major)\b"
    r"|\b(?P<mode3>minor)\b"
)
_CHURCH_MODES = {"dorian": "minor", "phrygian": "minor", "aeolian": "minor", "locrian": "minor",
                 "lydian": "major", "mixolydian": "major", "ionian": "major"}
_CHURCH = re.compile(r"\b(dorian|phrygian|aeolian|locrian|lydian|mixolydian|ionian)\b", re.IGNORECASE)
_NOT_A_KEY = re.compile(r"(?<![\w#])(?P<bad>[H-Z][#b]?|[A-G](?:##|bb|#b|b#))\s*-?\s*(?:major|minor)\b", re.IGNORECASE)
_ARTICLE_A = re.compile(r"\b(?:in\s+the\s+key\s+of|key\s*[:=]|in)\s*$", re.IGNORECASE)


def _tonic(letter: str, acc: str | None, accw: str | None) -> str:
    sign = acc or {"sharp": "#", "flat": "b"}.get((accw or "").lower(), "")
    return letter.upper() + sign


def _mode_of(word: str) -> str:
    w = word.lower()
    return "major" if w in ("major", "maj", "dur") else "minor"


def parse_key(text: str) -> tuple[str | None, str | None, str, list[str]]:
    """Stated tonic and mode in ``text`` (original case, normalised by :func:`_normalise`).

    Returns ``(tonic or None, mode or None, text with the key masked, warnings)``.
    ``"A minor"`` -> ("A", "minor"); ``"Am"`` / ``"F#m"`` (capital letter) -> minor;
    ``"in D"`` / ``"key of D"`` -> tonic only; ``"minor key"`` -> mode only. A lower-case
    ``"a minor ..."`` is the article unless preceded by "in"/"key of" ("in a minor"
    is A minor). Non-keys such as ``"H# major"`` are ignored with a warning.
    """
    warnings: list[str] = []
    for m in _NOT_A_KEY.finditer(text):
        warnings.append(f"{m.group(0).strip()!r} is not a key (tonics are A to G with one # or b); ignored")
        text = _mask(text, m.start(), m.end())

    tonic: str | None = None
    mode: str | None = None
    for m in _KEY_FULL.finditer(text):
        letter = m.group("letter")
        after = text[m.end():m.end() + 12].lower()
        if letter == "a" and not m.group("acc") and not m.group("accw"):
            before = text[:m.start()]
            if not _ARTICLE_A.search(before) or re.match(r"[\s\-]*(key|scale|mode|tonality)\b", after):
                continue  # "a minor key", "a major hit": the article, not the note
        if m.group("mode").lower() in ("min", "maj") and after[:1] == "u":  # "minute"/"majuscule" guard
            continue
        tonic = _tonic(letter, m.group("acc"), m.group("accw"))
        mode = _mode_of(m.group("mode"))
        text = _mask(text, m.start(), m.end())
        break
    if tonic is None:
        m = _KEY_SHORT.search(text)
        if m and m.group("m") == "m":
            tonic, mode = _tonic(m.group("letter"), m.group("acc"), None), "minor"
            text = _mask(text, m.start(), m.end())
    if tonic is None:
        for pattern in (_KEY_OF, _KEY_IN, _KEY_BARE):
            m = pattern.search(text)
            if m:
                groups = m.groupdict()
                tonic = _tonic(m.group("letter"), groups.get("acc"), groups.get("accw"))
                text = _mask(text, m.start(), m.end())
                break
    if tonic is not None:
        try:
            pitch_class(tonic)
        except InvalidInputError:
            warnings.append(f"{tonic!r} is not a key; ignored")
            tonic = None
    if mode is None:
        m = _MODE_ONLY.search(text.lower())
        if m:
            mode = m.group("mode") or m.group("mode2") or m.group("mode3")
            text = _mask(text, m.start(), m.end())
        else:
            m = _CHURCH.search(text)
            if m:
                mode = _CHURCH_MODES[m.group(1).lower()]
                warnings.append(f"{m.group(1).lower()} mode is rendered as its nearest of major/minor: {mode}")
                text = _mask(text, m.start(), m.end())
    return tonic, mode, text, warnings


# --- metre and swing ----------------------------------------------------------------------------

_TS_SLASH = re.compile(r"(?<![\w/.])(\d{1,2})\s*/\s*(\d{1,2})(?![\w/.])")
_TS_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "nine": 9, "eleven": 11, "twelve": 12,
}
_TS_WORD_PAIR = re.compile(
    r"\b(two|three|four|five|six|seven|nine|eleven|twelve)[\s\-]+(two|four|eight|sixteen)\b(?:[\s\-]+(?:time|metre|meter))?"
)
_TS_COUNT = re.compile(
    r"\bin\s+(3|4|5|6|7|three|four|five|six|seven)\b(?!\s*(?:/|-|minutes?|min\b|seconds?|sec\b|s\b|bars?|parts?|hours?"
    r"|days?|%|x\b|times|steps?|layers?|stems?|sections?|keys?|songs?|tracks?|movements?|variations?|versions?))"
)
_TS_NAMED = (
    (re.compile(r"\bwaltz(?:es|ing)?\b|\btriple\s+(?:time|metre|meter)\b"), (3, 4)),
    (re.compile(r"\bcompound\s+(?:time|metre|meter)\b"), (6, 8)),
    (re.compile(r"\bcommon\s+time\b"), (4, 4)),
)
_COUNT_METRE = {3: (3, 4), 4: (4, 4), 5: (5, 4), 6: (6, 8), 7: (7, 8)}
_DENOMINATORS = {"two": 2, "four": 4, "eight": 8, "sixteen": 16}


def parse_time_signature(text: str) -> tuple[tuple[int, int] | None, str]:
    """Stated metre in ``text`` (lower case) and the text with it masked.

    "3/4", "12/8", "seven-eight", "waltz" (3/4), "in 6" (6/8), "in 5" (5/4).
    A fraction that is not a metre (24/7, 50/50) is ignored.
    """
    for m in _TS_SLASH.finditer(text):
        num, den = int(m.group(1)), int(m.group(2))
        if den in (2, 4, 8, 16) and 2 <= num <= 15:
            return (num, den), _mask(text, m.start(), m.end())
    m = _TS_WORD_PAIR.search(text)
    if m:
        return (_TS_WORDS[m.group(1)], _DENOMINATORS[m.group(2)]), _mask(text, m.start(), m.end())
    for pattern, metre in _TS_NAMED:
        m = pattern.search(text)
        if m:
            return metre, text  # "waltz" stays readable as a genre word
    m = _TS_COUNT.search(text)
    if m:
        word = m.group(1)
        count = int(word) if word.isdigit() else _TS_WORDS[word]
        return _COUNT_METRE[count], _mask(text, m.start(), m.end())
    return None, text


_SWING_ON = re.compile(r"\b(?:swing|swung|swingy|swinging|shuffle|shuffled|shuffling|triplet\s+feel)\b")
_SWING_OFF = re.compile(r"\b(?:straight(?:\s+(?:eighths|8ths|sixteenths|16ths|feel|time))?|no\s+swing|unswung)\b")
#: Swing amount for "swung"/"shuffle" (1.0 = full triplet), unless the genre swings harder.
PROMPT_SWING = 0.6


def parse_swing(text: str) -> float | None:
    """``PROMPT_SWING`` for "swung"/"shuffle", ``0.0`` for "straight", else ``None``."""
    if _SWING_OFF.search(text):
        return 0.0
    if _SWING_ON.search(text):
        return PROMPT_SWING
    return None


# --- genres -------------------------------------------------------------------------------------

#: A genre's more general family, so "boom bap hip hop" picks the specific one.
PARENT: dict[str, str] = {
    "lofi": "hip hop", "boom bap": "hip hop", "trap": "hip hop", "drill": "trap", "phonk": "trap",
    "deep house": "house", "tech house": "house", "house": "edm", "techno": "edm", "trance": "edm",
    "dubstep": "edm", "drum and bass": "edm", "jungle": "drum and bass", "uk garage": "edm", "breakbeat": "edm",
    "grunge": "rock", "metal": "rock", "punk": "rock", "bossa nova": "latin", "reggaeton": "latin",
}
#: Adjectives that lean towards a genre without naming the piece's genre.
_ADJECTIVES = {"jazzy": "jazz", "funky": "funk", "bluesy": "blues", "soulful": "soul", "poppy": "pop",
               "folky": "folk", "punky": "punk", "housey": "house", "trappy": "trap",
               "orchestral": "cinematic", "latin-tinged": "latin", "gospel-tinged": "gospel",
               "electronic": "edm", "dubby": "reggae", "classical-style": "classical"}
_MODIFIER_AFTER = re.compile(
    r"^[\s\-]*(?:influenced|inspired|tinged|flavou?red|infused|elements|influences|touches|undertones|accents)\b"
)
_METRE_GENRES = frozenset({"waltz"})


@dataclass(frozen=True)
class GenreMatch:
    name: str
    start: int
    end: int
    weak: bool


@lru_cache(maxsize=1)
def _genre_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    phrases: list[tuple[str, str]] = []
    for g in genre_table.GENRES:
        for alias in (g.name, *g.aliases):
            phrases.append((alias.lower(), g.name))
    phrases.sort(key=lambda p: -len(p[0]))
    return tuple((re.compile(_phrase(alias)), name) for alias, name in phrases)


def find_genres(text: str, *, original: str | None = None) -> tuple[list[GenreMatch], str]:
    """Genres named in ``text`` (lower case), in prompt order, and the text with them masked.

    Longer aliases win ("deep house" over "house"). A match is *weak* when it only
    modifies something: an adjective ("jazzy"), "jazz-influenced", or a genre word
    directly before another ("lofi house" is house). ``original`` (same length, unmasked)
    decides what lies between two matches; default ``text``.
    """
    gaps = text if original is None else original
    matches: list[GenreMatch] = []
    for pattern, name in _genre_patterns():
        for m in pattern.finditer(text):
            after = text[m.end():m.end() + 24]
            weak = bool(_MODIFIER_AFTER.match(after)) or name in _METRE_GENRES
            matches.append(GenreMatch(name, m.start(), m.end(), weak))
            text = _mask(text, m.start(), m.end())
    for word, name in _ADJECTIVES.items():
        for m in re.finditer(_phrase(word), text):
            matches.append(GenreMatch(name, m.start(), m.end(), True))
            text = _mask(text, m.start(), m.end())
    matches.sort(key=lambda g: g.start)
    out: list[GenreMatch] = []
    for i, g in enumerate(matches):
        nxt = matches[i + 1] if i + 1 < len(matches) else None
        compound = (nxt is not None and nxt.name not in _METRE_GENRES
                    and re.fullmatch(r"[\s\-]*", gaps[g.end:nxt.start]) is not None)
        out.append(GenreMatch(g.name, g.start, g.end, g.weak or compound))
    return out, text


def _ancestors(name: str) -> list[str]:
    chain = []
    while name in PARENT:
        name = PARENT[name]
        chain.append(name)
    return chain


def choose_primary(matches: list[GenreMatch]) -> tuple[str | None, tuple[str, ...]]:
    """Primary genre (first strong match, then its most specific relative) and all genres in order."""
    if not matches:
        return None, ()
    ordered: list[str] = []
    for g in matches:
        if g.name not in ordered:
            ordered.append(g.name)
    strong = [g.name for g in matches if not g.weak]
    primary = strong[0] if strong else matches[0].name
    descendants = [n for n in ordered if primary in _ancestors(n)]
    if descendants:
        primary = max(descendants, key=lambda n: (len(_ancestors(n)), -ordered.index(n)))
    return primary, (primary, *[n for n in ordered if n != primary])


# --- moods --------------------------------------------------------------------------------------

MOODS: dict[str, tuple[str, ...]] = {
    "happy": ("happy", "joyful", "cheerful", "joyous", "feel good", "feel-good", "fun", "sunny", "carefree"),
    "sad": ("sad", "melancholic", "melancholy", "sorrowful", "heartbroken", "heartbreak", "mournful", "tearful",
            "depressing", "depressed", "somber", "sombre", "gloomy", "grief", "lonely", "longing"),
    "bittersweet": ("bittersweet", "wistful"),
    "dark": ("dark", "sinister", "ominous", "menacing", "evil", "brooding", "gritty", "moody"),
    "chill": ("chill", "chilled", "relaxed", "relaxing", "laid back", "laid-back", "mellow", "easygoing",
              "lazy", "cozy", "cosy", "smooth"),
    "calm": ("calm", "peaceful", "serene", "tranquil", "gentle", "soothing", "quiet", "soft", "meditative"),
    "energetic": ("energetic", "high energy", "high-energy", "driving", "pumping", "hype", "hyped", "upbeat",
                  "banging", "lively", "bouncy", "punchy"),
    "aggressive": ("aggressive", "angry", "hard-hitting", "hard hitting", "brutal", "furious", "raw", "rage",
                   "fierce", "hard"),
    "epic": ("epic", "heroic", "grand", "majestic", "massive", "huge", "powerful", "anthemic"),
    "triumphant": ("triumphant", "victorious", "victory", "celebratory", "celebration"),
    "dreamy": ("dreamy", "ethereal", "floaty", "hazy", "spacey", "spacy", "airy", "atmospheric", "lush"),
    "romantic": ("romantic", "sensual", "sexy", "love", "loving", "intimate", "tender", "passionate"),
    "nostalgic": ("nostalgic", "nostalgia", "throwback"),
    "mysterious": ("mysterious", "mystical", "mystery", "enigmatic", "magical"),
    "tense": ("tense", "tension", "suspense", "suspenseful", "anxious", "nervous", "urgent"),
    "uplifting": ("uplifting", "euphoric", "hopeful", "inspiring", "inspirational", "positive", "optimistic",
                  "motivational", "empowering"),
    "spooky": ("spooky", "eerie", "creepy", "haunting", "haunted", "scary", "horror", "halloween"),
    "groovy": ("groovy", "grooving", "danceable", "swaggy"),
    "playful": ("playful", "quirky", "whimsical", "silly", "cute", "cartoon"),
    "emotional": ("emotional", "heartfelt", "moving", "touching", "sentimental"),
    "hypnotic": ("hypnotic", "trippy", "psychedelic", "repetitive"),
}
#: Moods that imply a mode when the prompt states none.
MOOD_MODE: dict[str, str] = {
    "happy": "major", "uplifting": "major", "playful": "major", "triumphant": "major",
    "sad": "minor", "dark": "minor", "spooky": "minor", "tense": "minor", "mysterious": "minor",
    "aggressive": "minor",
}


@lru_cache(maxsize=1)
def _mood_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    pairs = [(word, mood) for mood, words in MOODS.items() for word in words]
    pairs.sort(key=lambda p: -len(p[0]))
    return tuple((re.compile(_phrase(w)), mood) for w, mood in pairs)


def find_moods(text: str) -> tuple[str, ...]:
    """Canonical mood names found in ``text`` (lower case), in prompt order."""
    hits: list[tuple[int, str]] = []
    for pattern, mood in _mood_patterns():
        for m in pattern.finditer(text):
            hits.append((m.start(), mood))
            text = _mask(text, m.start(), m.end())
    out: list[str] = []
    for _, mood in sorted(hits):
        if mood not in out:
            out.append(mood)
    return tuple(out)


def mode_from_moods(moods: tuple[str, ...]) -> str | None:
    """The mode the moods agree on, or ``None`` (no hint, or a contradiction)."""
    votes = {MOOD_MODE[m] for m in moods if m in MOOD_MODE}
    return votes.pop() if len(votes) == 1 else None


# --- instruments, exclusions, vocals --------------------------------------------------------------

#: Words that name an instrument family rather than one instrument; resolved against the genre.
GENERIC_ROLES: dict[str, str] = {
    "guitar": "guitar", "guitars": "guitar", "guitar riffs": "guitar", "riffs": "guitar",
    "bass": "bass", "bassline": "bass", "basslines": "bass", "bass line": "bass", "bass lines": "bass",
    "drum": "drums", "drum machine": "drums", "drum beat": "drums", "drum loop": "drums", "breakbeats": "drums",
    "beat": "drums", "beats": "drums", "horn section": "brass",
}
_VOCAL_WORDS = ("vocals", "vocal", "vocalist", "voice", "voices", "singer", "singers", "singing", "sung", "sing",
                "sings", "lyrics", "lyric", "rapper", "rapping", "rap vocals", "verses", "chorus vocals",
                "female vocals", "male vocals", "female vocal", "male vocal", "female singer", "male singer",
                "duet", "crooner", "crooning")
_NOT_VOCALS = re.compile(r"\bvocal\s+(?:chops?|samples?|stabs?|fx)\b|\bchopped\s+vocals?\b")
_INSTRUMENTAL = re.compile(r"\binstrumental(?:ly)?\b|\bno[\s\-]+vocals?\b|\bvocal[\s\-]?free\b|\bvoiceless\b")
_NEGATION = re.compile(
    r"\b(?:no|without|minus|sans|w/o|excluding|except(?:\s+for)?|leave\s+out|skip|lose\s+the|drop\s+the|zero)\s+"
)
_JOINER = re.compile(r"(?:\s*(?:,|/|&|\+|\band\b|\bor\b|\bnor\b|\bany\b|\bthe\b|\ba\b|\breal\b|\blive\b)\s*)*")
_SUFFIX_EXCLUSION = re.compile(r"\b(drum|vocal|bass|guitar|piano)(?:less|[\s\-]free)\b")
_DRUMS_NAME = "drums"
_VOCALS_NAME = "vocals"


@lru_cache(maxsize=1)
def _instrument_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    phrases: dict[str, str] = {}
    for inst in instrument_table.INSTRUMENTS:
        canonical = _VOCALS_NAME if inst.role == "vocals" else inst.name
        for alias in (inst.name, *inst.aliases):
            phrases.setdefault(alias.lower(), canonical)
            if not alias.endswith("s") and not alias[-1].isdigit():
                phrases.setdefault(alias.lower() + ("es" if alias.endswith(("sh", "ch", "x")) else "s"), canonical)
    for word in _VOCAL_WORDS:
        phrases.setdefault(word, _VOCALS_NAME)
    for word, role in GENERIC_ROLES.items():
        phrases.setdefault(word, "<" + role + ">")
    ordered = sorted(phrases.items(), key=lambda p: -len(p[0]))
    return tuple((re.compile(_phrase(alias)), name) for alias, name in ordered)


def _instrument_at(text: str, pos: int) -> tuple[str, int] | None:
    """The instrument phrase starting exactly at ``pos``: ``(name, end)``."""
    for pattern, name in _instrument_patterns():
        m = pattern.match(text, pos)
        if m:
            return name, m.end()
    return None


def find_instruments(text: str) -> tuple[list[str], list[str], bool | None, str]:
    """Instruments wanted and excluded, and the vocal intent, from ``text`` (lower case).

    Returns ``(instruments, excluded, vocals, text with all of it masked)``; names
    are canonical (instruments.py) or ``"<guitar>"``-style placeholders for generic
    words resolved later against the genre. ``vocals`` is ``True`` (asked for),
    ``False`` (excluded / "instrumental") or ``None`` (not said).
    """
    excluded: list[str] = []
    vocals: bool | None = None
    if _INSTRUMENTAL.search(text):
        vocals = False
        excluded.append(_VOCALS_NAME)
        text = _INSTRUMENTAL.sub(lambda m: " " * len(m.group(0)), text)
    text = _NOT_VOCALS.sub(lambda m: " " * len(m.group(0)), text)
    for m in _SUFFIX_EXCLUSION.finditer(text):
        name = {"drum": _DRUMS_NAME, "vocal": _VOCALS_NAME, "bass": "<bass>", "guitar": "<guitar>",
                "piano": "piano"}[m.group(1)]
        excluded.append(name)
        if name == _VOCALS_NAME:
            vocals = False
        text = _mask(text, m.start(), m.end())
    for neg in list(_NEGATION.finditer(text)):
        pos = neg.end()
        while True:
            joiner = _JOINER.match(text, pos)
            start = joiner.end() if joiner else pos
            hit = _instrument_at(text, start)
            if hit is None:
                break
            name, end = hit
            excluded.append(name)
            if name == _VOCALS_NAME:
                vocals = False
            text = _mask(text, neg.start(), end)
            pos = end
    wanted: list[tuple[int, str]] = []
    for pattern, name in _instrument_patterns():
        for m in pattern.finditer(text):
            if name == _VOCALS_NAME:
                if vocals is None:
                    vocals = True
            elif m.group(0) not in ("beat", "beats"):
                wanted.append((m.start(), name))
            text = _mask(text, m.start(), m.end())
    out: list[str] = []
    for _, name in sorted(wanted):
        if name not in out and name not in excluded:
            out.append(name)
    return out, list(dict.fromkeys(excluded)), vocals, text


def resolve_generic(name: str, genre: genre_table.Genre | None) -> str:
    """A placeholder like ``"<guitar>"`` -> the genre's instrument of that role (canonical name)."""
    if not name.startswith("<"):
        return name
    role = name[1:-1]
    if role == "bass":
        return genre.bass if genre is not None else "electric bass"
    if role == "drums":
        return _DRUMS_NAME
    if genre is not None:
        for inst_name in genre.instruments:
            if instrument_table.lookup(inst_name).role == role:
                return instrument_table.lookup(inst_name).name
    return {"guitar": "acoustic guitar", "brass": "brass"}.get(role, role)


# --- the whole prompt -----------------------------------------------------------------------------

@dataclass
class Reading:
    """What the prompt states, before any default is filled in."""

    prompt: str
    bpm: float | None = None
    tempo_word: str | None = None
    feel: str = ""
    tonic: str | None = None
    mode: str | None = None
    time_signature: tuple[int, int] | None = None
    swing: float | None = None
    genre_matches: list[GenreMatch] = field(default_factory=list)
    genre: str | None = None
    genres: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()
    instruments: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    vocals: bool | None = None
    warnings: list[str] = field(default_factory=list)
    #: The prompt less what the rules consumed (tempo, key, metre, genres, instruments):
    #: what is left for a model to interpret.
    residual: str = ""


def read_prompt(prompt: str) -> Reading:
    """Everything the rules can read from ``prompt`` (already checked by :func:`check_prompt`)."""
    original = _normalise(prompt)
    r = Reading(prompt=prompt)
    # Metre and tempo first, on lower case, so "3/4" and "122bpm" are not read as anything else.
    lower = original.lower()
    r.time_signature, lower = parse_time_signature(lower)
    r.bpm, lower, warnings = parse_bpm(lower)
    r.warnings.extend(warnings)
    # Keys need the original case ("Am" vs "am"); blank what the lower-case rules consumed.
    cased = "".join(c if lower[i] != " " or c == " " else " " for i, c in enumerate(original))
    r.tonic, r.mode, cased, warnings = parse_key(cased)
    r.warnings.extend(warnings)
    lower = cased.lower()
    r.moods = find_moods(lower)
    r.genre_matches, lower = find_genres(lower, original=original.lower())
    r.genre, r.genres = choose_primary(r.genre_matches)
    if r.bpm is None:  # "a 150 trap beat": a bare number right before a genre is its tempo
        for g in r.genre_matches:
            m = re.search(r"(?<![\w.#/])(\d{2,3}(?:\.\d+)?)\s*$", lower[:g.start])
            before = lower[:m.start()].rstrip() if m else ""
            if m and 60 <= float(m.group(1)) <= BPM_RANGE[1] and not before.endswith(("/", "#", "top")):
                r.bpm = float(m.group(1))
                lower = _mask(lower, m.start(), m.end())
                break
    r.instruments, r.excluded, r.vocals, lower = find_instruments(lower)
    r.tempo_word = parse_tempo_word(lower)
    r.feel = parse_feel(lower)
    r.swing = parse_swing(lower)
    r.residual = " ".join(lower.split())
    return r


_DEFAULT_TONIC: dict[str, str] = {
    "lofi": "D", "boom bap": "D", "hip hop": "C#", "trap": "C#", "drill": "F#", "phonk": "G",
    "house": "A", "deep house": "A", "tech house": "G", "techno": "F", "trance": "A", "edm": "F",
    "dubstep": "F", "drum and bass": "F", "jungle": "G", "uk garage": "G", "breakbeat": "E",
    "synthwave": "A", "disco": "A", "ambient": "D", "chillout": "E", "chiptune": "C",
    "pop": "C", "indie": "G", "rock": "E", "grunge": "E", "metal": "E", "punk": "A", "blues": "E",
    "jazz": "Bb", "r&b": "F", "soul": "F", "funk": "E", "gospel": "Ab", "reggae": "G", "reggaeton": "A",
    "latin": "A", "bossa nova": "F", "afrobeats": "G", "country": "G", "folk": "G", "waltz": "F",
    "classical": "C", "cinematic": "D", "lullaby": "C",
}


def default_key(genre: genre_table.Genre | None, mode: str) -> str:
    """A conventional tonic for ``genre`` in ``mode``: its usual key, or the relative of it."""
    if genre is None:
        return "A" if mode == "minor" else "C"
    pc = pitch_class(_DEFAULT_TONIC.get(genre.name, "A" if genre.mode == "minor" else "C"))
    if mode != genre.mode:
        pc = (pc + 3) % 12 if mode == "major" else (pc - 3) % 12
    return key_name(pc, mode)


def assemble(
    reading: Reading,
    *,
    backend: str,
    lyrics: str | None = None,
    genre: str | None = None,
    genre_source: str = "prompt",
    genres: tuple[str, ...] | None = None,
    moods: tuple[str, ...] | None = None,
    mood_source: str = "prompt",
    warnings: tuple[str, ...] = (),
) -> PromptAnalysis:
    """Fill what ``reading`` left out (genre defaults, then global ones) and record the sources.

    ``genre``/``moods`` override the reading's (the embedding backend's guesses).
    """
    sources: dict[str, str] = {}
    notes = list(reading.warnings) + list(warnings)
    name = genre if genre is not None else reading.genre
    if name is None:
        name, genre_source = FALLBACK_GENRE, "default"
        notes.append(f"no genre recognised in the prompt; using {FALLBACK_GENRE!r}")
    elif genre is None:
        genre_source = "prompt"
    sources["genre"] = genre_source
    g = genre_table.find(name)
    family_source = "genre" if genre_source == "prompt" else genre_source

    mood = tuple(moods) if moods is not None else reading.moods
    sources["mood"] = (mood_source if moods is not None else "prompt") if mood else "default"

    if reading.bpm is not None:
        bpm, sources["bpm"] = float(reading.bpm), "prompt"
    elif reading.tempo_word is not None and g is not None:
        bpm, sources["bpm"] = tempo_from_word(reading.tempo_word, g), "prompt"
    elif g is not None:
        bpm, sources["bpm"] = float(g.default_bpm), family_source
    else:
        bpm, sources["bpm"] = 110.0, "default"

    if reading.mode is not None:
        mode, sources["mode"] = reading.mode, "prompt"
    elif mode_from_moods(mood) is not None:
        mode, sources["mode"] = mode_from_moods(mood), "mood"
    elif g is not None:
        mode, sources["mode"] = g.mode, family_source
    else:
        mode, sources["mode"] = "major", "default"

    if reading.tonic is not None:
        key, sources["key"] = reading.tonic, "prompt"
    else:
        key, sources["key"] = default_key(g, mode), (family_source if g is not None else "default")

    if reading.time_signature is not None:
        metre, sources["time_signature"] = reading.time_signature, "prompt"
    elif g is not None:
        metre, sources["time_signature"] = g.time_signature, family_source
    else:
        metre, sources["time_signature"] = (4, 4), "default"

    if reading.swing is not None:
        swing = max(reading.swing, g.swing) if (g is not None and reading.swing > 0) else reading.swing
        sources["swing"] = "prompt"
    elif g is not None:
        swing, sources["swing"] = g.swing, family_source
    else:
        swing, sources["swing"] = 0.0, "default"

    excluded = tuple(dict.fromkeys(resolve_generic(n, g) for n in reading.excluded))
    wanted = tuple(n for n in dict.fromkeys(resolve_generic(n, g) for n in reading.instruments)
                   if n not in excluded)
    sources["instruments"] = "prompt" if wanted else "default"

    lyrics_given = bool(lyrics and lyrics.strip())
    if lyrics_given:
        vocals, sources["vocals"] = True, "lyrics"
        if reading.vocals is False:
            notes.append("the prompt asks for an instrumental but lyrics were given; the lyrics win")
            excluded = tuple(n for n in excluded if n != _VOCALS_NAME)
    elif reading.vocals is not None:
        vocals, sources["vocals"] = reading.vocals, "prompt"
    else:
        vocals, sources["vocals"] = False, "default"

    all_genres = genres if genres is not None else (reading.genres or (name,))
    if name not in all_genres:
        all_genres = (name, *all_genres)
    if reading.feel:
        sources["feel"] = "prompt"
    return PromptAnalysis(
        prompt=reading.prompt, genre=name, bpm=bpm, key=key, mode=mode,  # type: ignore[arg-type]
        time_signature=metre, genres=tuple(all_genres), swing=float(swing), mood=mood,
        instruments=wanted, exclude_instruments=excluded, vocals=vocals, sources=sources,
        warnings=tuple(dict.fromkeys(notes)), backend=backend, feel=reading.feel,
    )


class RulesAnalyzer:
    """Pure-Python analyser: reads what the prompt states, fills the rest from the genre table."""

    name = "rules"

    @classmethod
    def unavailable_reason(cls, config: object) -> str | None:
        return None

    @classmethod
    def from_config(cls, config: object, **options: object) -> RulesAnalyzer:
        if options:
            raise InvalidInputError(f"the rules analyser takes no options, got {sorted(options)}")
        return cls()

    def analyze(self, prompt: str, *, lyrics: str | None = None) -> PromptAnalysis:
        text = check_prompt(prompt, lyrics)
        return assemble(read_prompt(text), backend=self.name, lyrics=lyrics)
