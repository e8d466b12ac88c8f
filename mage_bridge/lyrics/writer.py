"""The embedded lyric writer: tagged sections, lines fitted to the phrases' syllable targets, end rhymes.

Three modes. ``"generate"`` writes a song form ([verse], [pre-chorus], [chorus], [bridge]) from the prompt's
mood, genre and topic with a seeded grammar; the chorus is written once and sung verbatim each time.
``"replace"`` keeps the user's lyrics word for word (tags kept, or added where missing) and only fits them
to the bars. ``"append"`` keeps the user's lines and continues them, rhyming on their last sound with their
syllable counts. Lyrics that cannot fit the clip are refused whole, saying how many lines would fit.
"""

from __future__ import annotations

import math
import random
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from typing import Any, Literal

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.errors import InvalidInputError
from mage_bridge.lyrics import vocabulary as vocab
from mage_bridge.lyrics.syllables import count_syllables, last_word, rhyme_key, rhymes, syllabify, words_of
from mage_bridge.music import bar_seconds

Mode = Literal["generate", "replace", "append"]
MODES: tuple[str, ...] = ("generate", "replace", "append")
SECTION_NAMES: tuple[str, ...] = ("intro", "verse", "pre-chorus", "chorus", "bridge", "outro", "hook")

#: Song forms, largest first: the writer takes the largest that fits the clip's bars (the rest is instrumental).
FORMS: tuple[tuple[tuple[str, int], ...], ...] = (
    (("verse", 8), ("pre-chorus", 4), ("chorus", 8), ("verse", 8), ("pre-chorus", 4), ("chorus", 8),
     ("bridge", 8), ("chorus", 8)),
    (("verse", 8), ("chorus", 8), ("verse", 8), ("chorus", 8), ("bridge", 4), ("chorus", 8)),
    (("verse", 8), ("chorus", 8), ("verse", 8), ("chorus", 8)),
    (("verse", 4), ("chorus", 8), ("verse", 4), ("chorus", 8)),
    (("verse", 8), ("chorus", 8)),
    (("verse", 8), ("chorus", 4)),
    (("verse", 4), ("chorus", 4)),
)
#: The song form when neither sections nor a duration are given.
DEFAULT_FORM = FORMS[1]
#: Longest and shortest line a generated phrase asks for, in syllables.
MIN_TARGET, MAX_TARGET = 6, 10
#: The range a continuation follows the user's syllable counts in (the grammar's shortest and longest lines).
MIN_APPEND_TARGET, MAX_APPEND_TARGET = 4, 13
_TAG = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*$")
_TOPIC = re.compile(r"\b(?:about|of|on|regarding|concerning|themed around|inspired by)\s+"
                    r"((?:[^\W\d_][\w'-]*\s*){1,5}?)(?=$|[,.;:!?]|\s(?:with|in|at|for|and|featuring|feat|ft|"
                    r"\d)\b)", re.IGNORECASE)
_STOP = frozenset("a an the my your our their his her its of to and or in on at for with this that some "
                  "song songs track music lyrics tune".split())


@dataclass(frozen=True)
class Word:
    """One word as sung: the text shown and its syllables (with CMU stresses where known)."""

    text: str
    syllables: tuple[str, ...]
    stresses: tuple[int, ...] | None


@dataclass(frozen=True)
class Line:
    """One lyric line: its text (verbatim for user lines), words, and the phrase it is sung in.

    ``target`` is the syllable count the phrase asks for (``None`` for user lines, which keep theirs);
    ``bars`` how many bars the phrase lasts; ``rhyme`` the label of its rhyme in the section ("A", "B", or
    ``""`` for none); ``user`` whether the user wrote it; ``origin`` who wrote it: ``"user"``,
    ``"embedded"`` (this module's grammar) or ``"model"`` (a lyric backend's language model).
    """

    text: str
    words: tuple[Word, ...]
    target: int | None
    bars: int
    rhyme: str = ""
    user: bool = False
    origin: str = "embedded"

    @property
    def syllable_count(self) -> int:
        """The number of sung syllables in the line."""
        return sum(len(w.syllables) for w in self.words)


@dataclass(frozen=True)
class Section:
    """A tagged section ("verse", "chorus"...), its lines and its length in bars."""

    name: str
    lines: tuple[Line, ...]
    bars: int


@dataclass(frozen=True)
class Lyrics:
    """Lyrics in sections, each line with its words, syllables and syllable target; seeded and reproducible."""

    sections: tuple[Section, ...]
    mode: str
    seed: int
    theme: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: The tempo (quarter-note BPM) and metre the phrases were fitted to.
    bpm: float = 120.0
    time_signature: tuple[int, int] = (4, 4)
    #: The lyric backend that wrote them, and the model folder it used (``None`` when no model wrote a line).
    backend: str = "embedded"
    model: str | None = None

    def text(self) -> str:
        """The tagged text, ACE-Step style: ``"[verse]\\nline\\n...\\n\\n[chorus]\\n..."``."""
        return "\n\n".join(f"[{s.name}]\n" + "\n".join(line.text for line in s.lines) for s in self.sections)

    @property
    def bars(self) -> int:
        """Bars the sections span, from the first phrase to the last."""
        return sum(s.bars for s in self.sections)

    @property
    def fallbacks(self) -> tuple[tuple[int, int], ...]:
        """``(section, line)`` of each line a model-backed writer left to the embedded grammar (``()`` for
        the embedded writer itself, whose lines are all its own)."""
        if self.backend == "embedded":
            return ()
        return tuple((i, j) for i, s in enumerate(self.sections) for j, ln in enumerate(s.lines)
                     if ln.origin == "embedded")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary for a manifest: mode, seed, theme, backend, the tagged text and each section's
        bars, lines and who wrote each line."""
        return {"mode": self.mode, "seed": self.seed, "theme": list(self.theme), "text": self.text(),
                "backend": self.backend, "model": self.model,
                "sections": [{"name": s.name, "bars": s.bars, "lines": [ln.text for ln in s.lines],
                              "origins": [ln.origin for ln in s.lines]} for s in self.sections],
                "fallbacks": [list(f) for f in self.fallbacks], "warnings": list(self.warnings)}


def make_line(text: str, *, target: int | None, bars: int, rhyme: str = "", user: bool = False,
              origin: str = "embedded") -> Line:
    """A :class:`Line` of ``text`` with its words split into syllables (``origin`` is ``"user"`` for ``user``)."""
    words = []
    for token in words_of(text):
        syl = syllabify(token)
        words.append(Word(token, syl.pieces, syl.stresses))
    return Line(text, tuple(words), target, bars, rhyme, user, "user" if user else origin)


def sixteenths_per_bar(time_signature: tuple[int, int]) -> int:
    """Sixteenth notes in one bar (16 in 4/4, 12 in 6/8)."""
    return time_signature[0] * 16 // time_signature[1]


def phrase_bars(bpm: float, time_signature: tuple[int, int]) -> int:
    """Bars per sung phrase: 1, 2 or 4, whichever makes a phrase nearest 4 s (a breath's length)."""
    bar_s = bar_seconds(bpm, time_signature)
    return min((1, 2, 4), key=lambda n: abs(n * bar_s - 4.0))


def syllable_target(bpm: float, time_signature: tuple[int, int], genre: str) -> int:
    """Syllables a generated phrase holds: about 2.2 a second (3 for rap), within 6-10."""
    seconds = phrase_bars(bpm, time_signature) * bar_seconds(bpm, time_signature) * 0.8
    rate = 3.0 if any(g in genre.lower() for g in ("hip", "rap", "trap", "drill")) else 2.2
    return max(MIN_TARGET, min(MAX_TARGET, round(seconds * rate)))


def fit_form(bars: int) -> tuple[tuple[str, int], ...]:
    """The largest of :data:`FORMS` that fits ``bars``; a single verse for clips under 8 bars."""
    for form in FORMS:
        if sum(b for _, b in form) <= bars:
            return form
    return (("verse", bars),) if bars > 0 else ()


def topic_words(analysis: PromptAnalysis) -> tuple[str, ...]:
    """The topic the prompt names ("a ballad about summer love" -> ``("summer", "love")``), lower case."""
    m = _TOPIC.search(analysis.prompt)
    if not m:
        return ()
    words = [w.lower().strip("'-") for w in m.group(1).split()]
    return tuple(w for w in words if w and w not in _STOP)[:4]


def check_inputs(mode: str, user_lyrics: str | None, seed: object, sections: Sequence[tuple[str, int]] | None,
                 duration_s: float | None = None, lead_in_s: float = 0.0, lead_out_s: float = 0.0) -> None:
    """Validate :func:`write_lyrics`'s arguments before any work, naming the argument and the value received."""
    if mode not in MODES:
        raise InvalidInputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if user_lyrics is not None and not isinstance(user_lyrics, str):
        raise InvalidInputError(f"user_lyrics must be a string or None, got {type(user_lyrics).__name__}")
    if mode == "generate" and user_lyrics and user_lyrics.strip():
        raise InvalidInputError("mode 'generate' writes new lyrics; use mode 'replace' or 'append' for the user's")
    if mode != "generate" and not (user_lyrics and user_lyrics.strip()):
        raise InvalidInputError(f"mode {mode!r} needs the user's lyrics, got {user_lyrics!r}")
    for name, value in (("duration_s", duration_s), ("lead_in_s", lead_in_s), ("lead_out_s", lead_out_s)):
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise InvalidInputError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise InvalidInputError(f"seed must be an int, got {seed!r}")
    for item in sections or ():
        if (not isinstance(item, (tuple, list)) or len(item) != 2 or not isinstance(item[0], str)
                or not isinstance(item[1], int) or isinstance(item[1], bool) or item[1] < 1):
            raise InvalidInputError(f"each section must be (name, bars) with bars >= 1, got {item!r}")


def parse_user_lyrics(text: str) -> list[tuple[str, list[str], bool]]:
    """The user's text as ``(tag, lines, tagged)`` blocks: a ``[tag]`` line or an empty line starts a block.

    Untagged blocks are named "verse", or "chorus" when the same block comes back verbatim; a block after a
    blank line inside a tagged section keeps that tag. Lines keep their
    text exactly, less trailing whitespace (and a carriage return); blank lines only separate blocks.
    """
    blocks: list[tuple[str, list[str], bool]] = []
    tag, tagged = "verse", False
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        m = _TAG.match(line)
        if m:
            if lines:
                blocks.append((tag, lines, tagged))
            tag, lines, tagged = m.group(1).strip(), [], True
        elif not line.strip():
            if lines:
                blocks.append((tag, lines, tagged))
                tag, lines, tagged = ("verse", [], False) if not tagged else (tag, [], True)
        else:
            lines.append(line)
    if lines:
        blocks.append((tag, lines, tagged))
    seen = [tuple(b[1]) for b in blocks]
    return [(("chorus" if seen.count(tuple(lines)) > 1 else tag) if not tagged else tag, lines, tagged)
            for tag, lines, tagged in blocks]


def _user_sections(text: str, bpm: float, ts: tuple[int, int]) -> list[Section]:
    """The user's blocks as sections; each line gets the phrase bars its syllables need (at least the usual)."""
    per_bar = sixteenths_per_bar(ts) - 1
    usual = phrase_bars(bpm, ts)
    out = []
    for tag, lines, _ in parse_user_lyrics(text):
        made = []
        for line in lines:
            count = count_syllables(line)
            bars = 0 if count == 0 else max(usual, math.ceil(count / per_bar))
            made.append(make_line(line, target=None, bars=bars, user=True))
        out.append(Section(tag, tuple(made), sum(ln.bars for ln in made)))
    return out


def _capacity_error(sections: list[Section], bars: int, bpm: float, ts: tuple[int, int]) -> InvalidInputError:
    lines = [ln for s in sections for ln in s.lines if ln.bars]
    fit, used = 0, 0
    for ln in lines:
        if used + ln.bars > bars:
            break
        used, fit = used + ln.bars, fit + 1
    need = sum(ln.bars for ln in lines)
    return InvalidInputError(
        f"the lyrics do not fit the clip: {len(lines)} sung lines need {need} bars of {ts[0]}/{ts[1]} at "
        f"{bpm:g} BPM, the clip holds {bars}; at most {fit} of these lines fit")


def write_lyrics(
    analysis: PromptAnalysis,
    *,
    mode: Mode = "generate",
    user_lyrics: str | None = None,
    seed: int = 0,
    sections: Sequence[tuple[str, int]] | None = None,
    duration_s: float | None = None,
    lead_in_s: float = 0.0,
    lead_out_s: float = 0.0,
) -> Lyrics:
    """Lyrics for the clip ``analysis`` describes: written, the user's kept (``"replace"``), or continued.

    ``sections`` is the song form as ``(name, bars)`` (in ``"append"``, the continuation's form; in
    ``"replace"`` unused: the user's text is the form); by default
    it is fitted to the bars between ``lead_in_s`` and ``duration_s - lead_out_s`` (``duration_s`` defaults
    to the prompt's stated length), or :data:`DEFAULT_FORM` when no length is known. User section tags are
    kept as written ("[Verse 1]"); blocks without one are tagged. Lines the user wrote are never changed.
    The same ``seed`` gives the same text. Raises
    :class:`InvalidInputError` for a bad argument or for lyrics that cannot fit, naming how many lines would.
    """
    check_inputs(mode, user_lyrics, seed, sections, duration_s, lead_in_s, lead_out_s)
    bpm, ts = analysis.bpm, analysis.time_signature
    duration = duration_s if duration_s is not None else analysis.duration_s
    capacity: int | None = None
    if duration is not None:
        capacity = math.floor((duration - lead_in_s - lead_out_s) / bar_seconds(bpm, ts) + 1e-9)
        if capacity < 1:
            raise InvalidInputError(f"a {duration:g} s clip with {lead_in_s:g} s lead-in and {lead_out_s:g} s "
                                    f"lead-out has no whole bar at {bpm:g} BPM for lyrics")
    asked = sum(b for _, b in sections) if sections is not None else 0
    if mode == "generate" and capacity is not None and asked > capacity:
        raise InvalidInputError(f"the sections span {asked} bars; the clip holds {capacity} between its lead-in "
                                f"and lead-out at {bpm:g} BPM")
    rng = random.Random(seed)
    grammar = Grammar(analysis, rng)
    warnings: list[str] = []
    user: list[Section] = []
    if mode != "generate":
        user = _user_sections(user_lyrics or "", bpm, ts)
        used = sum(s.bars for s in user)
        if capacity is not None and used > capacity:
            raise _capacity_error(user, capacity, bpm, ts)
        if mode == "replace":
            return Lyrics(tuple(user), mode, seed, grammar.theme, (), bpm, ts)
    form: Sequence[tuple[str, int]]
    if mode == "append":
        remaining = None if capacity is None else capacity - sum(s.bars for s in user)
        if sections is not None:
            form = sections
            if remaining is not None and sum(b for _, b in sections) > remaining:
                raise InvalidInputError(f"the continuation's sections span {sum(b for _, b in sections)} bars; "
                                        f"{remaining} are left after the user's lines")
        else:
            form = DEFAULT_FORM[1:] if remaining is None else fit_form(remaining)
        if not form:
            warnings.append("the user's lyrics fill the clip; nothing was appended")
        user_lines = [ln for s in user for ln in s.lines if ln.bars]
        target = None
        if user_lines:  # the user's metre, within what a grammar line can say and a phrase can hold
            most = min(MAX_APPEND_TARGET, phrase_bars(bpm, ts) * sixteenths_per_bar(ts) - 1)
            target = max(MIN_APPEND_TARGET, min(most, round(statistics.median(ln.syllable_count
                                                                              for ln in user_lines))))
        sound = last_word(user_lines[-1].text) if user_lines else ""
        written = _generate(form, grammar, target=target, first_sound=sound, warnings=warnings)
        return Lyrics(tuple(user + written), mode, seed, grammar.theme, tuple(warnings), bpm, ts)
    form = sections if sections is not None else (fit_form(capacity) if capacity is not None else DEFAULT_FORM)
    if capacity is not None and not form:
        raise InvalidInputError("the clip has no bars for lyrics")
    written = _generate(form, grammar, target=None, first_sound="", warnings=warnings)
    return Lyrics(tuple(written), mode, seed, grammar.theme, tuple(warnings), bpm, ts)


def _generate(form: Sequence[tuple[str, int]], grammar: Grammar, *, target: int | None, first_sound: str,
              warnings: list[str]) -> list[Section]:
    """Sections for ``form``: each chorus sung verbatim, AABB in verses, ABAB in choruses and bridges."""
    bpm, ts = grammar.analysis.bpm, grammar.analysis.time_signature
    per_line = phrase_bars(bpm, ts)
    base = target if target is not None else syllable_target(bpm, ts, grammar.analysis.genre)
    # the chorus is written once, as long as the longest chorus in the form; a shorter one sings its opening
    chorus_lines = max((b // min(per_line, b) for n, b in form if n.strip().lower() == "chorus"), default=0)
    chorus: tuple[Line, ...] = ()
    out: list[Section] = []
    for index, (name, bars) in enumerate(form):
        name = name.strip().lower()
        line_bars = min(per_line, bars)
        count = bars // line_bars
        if name == "chorus" and chorus:
            sung = tuple(dc_replace(line, bars=line_bars) for line in chorus[:count])
            out.append(Section(name, sung, bars))
            continue
        if name == "chorus":
            count = chorus_lines
        scheme = "AABB" if name in ("verse", "pre-chorus", "intro", "outro") or count < 4 else "ABAB"
        labels = [scheme[i % 4] if count > 1 else "" for i in range(count)]
        # pairs in order: lines (0,1),(2,3) for AABB; (0,2),(1,3) for ABAB; an odd last line rhymes with none
        line_target = base - 1 if name == "chorus" and target is None else base
        sounds = grammar.pick_sounds(2 * math.ceil(count / 4), prefer=first_sound if index == 0 else "")
        if index == 0 and first_sound and not (sounds and rhymes(first_sound, sounds[0][0])):
            warnings.append(f"no rhyme for {first_sound!r} in the vocabulary; the continuation starts a new sound")
        lines: list[Line] = []
        for i, label in enumerate(labels):
            group = (i // 4) * 2 + (0 if label == "A" else 1)
            pool = sounds[group] if label and group < len(sounds) else []
            text = grammar.line(line_target, pool)
            lines.append(make_line(text, target=line_target, bars=line_bars, rhyme=label))
        if name == "chorus":
            chorus = tuple(lines)
            lines = lines[:bars // line_bars]
        out.append(Section(name, tuple(lines), bars))  # a bar left over after the last phrase stays instrumental
    return out


def opener_of(line: str) -> tuple[str, ...]:
    """The filler a line opens with ("so tonight", "oh"), if any: ``()`` or a one-item tuple."""
    lower = line.lower()
    found = [o for o in vocab.OPENERS if lower.startswith(o + " ")]
    return (max(found, key=len),) if found else ()


class Grammar:
    """A seeded phrase grammar: lines of an exact syllable count ending on a chosen rhyme word.

    Lines are ``[opener] subject verb [adverb] preposition the [adjective] noun`` and a few other shapes;
    words come from the mood's palette and the theme's nouns. No line is written twice in one song.
    """

    def __init__(self, analysis: PromptAnalysis, rng: random.Random) -> None:
        self.analysis, self.rng = analysis, rng
        topic = topic_words(analysis)
        themes = [name for name, (_, triggers) in vocab.THEMES.items() if set(topic) & set(triggers)]
        if not themes:
            genre = analysis.genre.lower()
            themes = [t for key, ts in vocab.GENRE_THEMES.items() if key in genre for t in ts][:2]
        self.theme = tuple(dict.fromkeys(list(topic) + themes))
        palettes = [vocab.MOOD_PALETTE[m] for m in analysis.mood if m in vocab.MOOD_PALETTE] or ["bright"]
        self.palette = vocab.PALETTES[palettes[0]]
        theme_nouns = [n for t in themes for n in vocab.THEMES[t][0]]
        # "summer love", "open road": the last word is the noun, the ones before it describe it
        head = [w for w in topic[-1:] if w.isalpha()]
        self.head = head[0] if head else ""
        self.adjectives = [w for w in topic[:-1] if w.isalpha()] * 2 + list(self.palette.adjectives)
        known_topic = [w for w in head if syllabify(w).source == "cmu"]  # a rhyme needs the dictionary
        self.nouns = list(dict.fromkeys(known_topic + theme_nouns)) or list(vocab.COMMON_NOUNS[:20])
        self.ends = list(dict.fromkeys(self.nouns + list(vocab.COMMON_NOUNS)))
        # singular nouns only: an image is the subject of a third-person verb ("my heart aches")
        self.images = [n for n in dict.fromkeys(head + theme_nouns + list(vocab.COMMON_NOUNS[:12]))
                       if not n.endswith("s") or n.endswith("ss")]
        self.used_lines: set[str] = set()
        self.used_ends: set[str] = set()
        self.ends_sung: set[str] = set()
        self.openers_sung: set[str] = set()
        self._by_sound: dict[tuple[str, ...], list[str]] = {}
        for word in self.ends:
            self._by_sound.setdefault(rhyme_key(word), []).append(word)

    def pick_sounds(self, n: int, *, prefer: str = "") -> list[list[str]]:
        """``n`` rhyme groups of at least two unused end words each; the first rhymes with ``prefer`` if it can."""
        groups = [(k, [w for w in ws if w not in self.used_ends]) for k, ws in self._by_sound.items()]
        groups = [(k, ws) for k, ws in groups if len(ws) >= 2]
        theme = set(self.nouns)
        self.rng.shuffle(groups)
        groups.sort(key=lambda kw: -min(2, sum(w in theme for w in kw[1])))
        chosen: list[list[str]] = []
        if prefer:  # by the dictionary, or by spelling when the user's word is not in it ("starlight-ish")
            match = [w for w in self.ends if rhymes(prefer, w)]
            if match:
                chosen.append(match)
                groups = [(k, ws) for k, ws in groups if not rhymes(prefer, ws[0])]
        for _, words in groups:
            if len(chosen) >= n:
                break
            chosen.append(words)
        for words in chosen:
            self.used_ends.update(words[:2])
        return chosen

    def _candidate(self, end: str) -> str:
        r, p = self.rng, self.palette
        subject, adj, noun = r.choice(vocab.SUBJECTS), r.choice(self.adjectives), r.choice(self.images)
        if self.head and r.random() < 0.3:  # the topic's own noun comes back often
            noun = self.head
        maybe = lambda words: r.choice(words) + " " if words and r.random() < 0.5 else ""
        openers = [o for o in vocab.OPENERS if o not in self.openers_sung]  # a filler is sung once a song
        shape = r.randrange(6)
        if shape == 0:
            text = (f"{maybe(openers)}{subject} {r.choice(p.verbs)} {maybe(vocab.ADVERBS)}"
                    f"{r.choice(vocab.PREPOSITIONS)} the {maybe(self.adjectives)}{end}")
        elif shape == 1:
            text = f"{maybe(openers)}{subject} {r.choice(p.transitive)} the {maybe(self.adjectives)}{end}"
        elif shape == 2:
            text = (f"{r.choice(vocab.POSSESSIVES)} {maybe(self.adjectives)}{noun} {r.choice(p.third_person)} "
                    f"{r.choice(vocab.PREPOSITIONS)} the {end}")
        elif shape == 3:
            article = "an" if adj[0] in "aeiou" else "a"
            text = f"like {article} {adj} {noun} {r.choice(vocab.PREPOSITIONS)} the {maybe(self.adjectives)}{end}"
        elif shape == 4:
            text = (f"{maybe(openers)}{subject} {r.choice(p.transitive)} "
                    f"{r.choice(vocab.POSSESSIVES)} {maybe(self.adjectives)}{end}")
        else:
            text = f"{maybe(openers)}{subject} {r.choice(p.verbs)} {maybe(vocab.ADVERBS)}with the {end}"
        return text[0].upper() + text[1:]

    def line(self, target: int, ends: list[str]) -> str:
        """A new line of ``target`` syllables (±1 when no exact one is found) ending on one of ``ends``.

        With no ``ends`` the line ends on any image noun (a line that rhymes with none).
        """
        # a rhymed pair's two lines take the group's first two words in turn
        fresh = ([w for w in ends if w not in self.ends_sung][:1] or ends[:1]) if ends else list(self.images)
        best, best_gap = "", 99
        for _ in range(600):
            end = self.rng.choice(fresh)
            text = self._candidate(end)
            if text.lower() in self.used_lines:
                continue
            gap = abs(count_syllables(text) - target)
            if gap < best_gap:
                best, best_gap = text, gap
            if gap == 0:
                break
        self.used_lines.add(best.lower())
        self.ends_sung.add(last_word(best))
        self.openers_sung.update(opener_of(best))
        return best


class EmbeddedLyricWriter:
    """The ``"embedded"`` lyric backend: :func:`write_lyrics`, pure Python, always available."""

    name = "embedded"

    @classmethod
    def unavailable_reason(cls, config: Any) -> str | None:
        return None

    @classmethod
    def from_config(cls, config: Any, **options: Any) -> EmbeddedLyricWriter:
        if options:
            raise InvalidInputError(f"unknown embedded lyric writer option(s): {sorted(options)}")
        return cls()

    def write(self, analysis: PromptAnalysis, *, mode: Mode = "generate", user_lyrics: str | None = None,
              seed: int = 0, sections: Sequence[tuple[str, int]] | None = None, duration_s: float | None = None,
              lead_in_s: float = 0.0, lead_out_s: float = 0.0) -> Lyrics:
        """:func:`write_lyrics` with these arguments."""
        return write_lyrics(analysis, mode=mode, user_lyrics=user_lyrics, seed=seed, sections=sections,
                            duration_s=duration_s, lead_in_s=lead_in_s, lead_out_s=lead_out_s)


__all__ = ["DEFAULT_FORM", "FORMS", "EmbeddedLyricWriter", "Line", "Lyrics", "Section", "Word", "fit_form",
           "make_line", "parse_user_lyrics", "phrase_bars", "syllable_target", "topic_words", "write_lyrics"]
