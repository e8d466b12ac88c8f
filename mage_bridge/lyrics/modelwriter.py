"""The ``"transformers"`` lyric backend: a causal language model writes the lines of the embedded writer's song.

The embedded writer (:func:`~mage_bridge.lyrics.writer.write_lyrics`) first plans the song with the same
arguments and seed: its sections and tags, how many lines each holds, each line's syllable target and bars,
which lines rhyme, and which chorus lines come back verbatim. The model then writes each planned line in
order, prompted by a line naming the mood, genre and theme ("dreamy pop song about summer love") and the lines
sung so far (the user's lines first, in ``"append"`` mode). Sampled candidates are cut at a word boundary to
their target's syllables (±1, the repo's syllable counter), never end on an article or a preposition, never
repeat a line, and rhyme with their rhyme partner: the partner's line as written, or, while it is still to
come, the embedded line it falls back to, so a pair rhymes however it ends up written. A candidate that fits
but does not rhyme gets an end word among the partner's CMU rhymes, the one the model finds likeliest. A line
the model cannot fill within ``lyrics.tries`` candidates is the embedded writer's line: the result's
:attr:`~mage_bridge.lyrics.writer.Lyrics.fallbacks` and a warning say which. ``"replace"`` needs no model.

The draws come from a ``torch.Generator`` seeded with the request's seed: the same seed, model and arguments
give the same lyrics.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.errors import BackendUnavailableError, ConfigError
from mage_bridge.lyrics.lm import CausalLM, check_device, clean_sample, why_folder_unusable
from mage_bridge.lyrics.syllables import count_syllables, last_word, rhymes
from mage_bridge.lyrics.writer import Line, Lyrics, Mode, Section, make_line, write_lyrics

#: Candidates sampled at once.
BATCH = 8
#: Lines of the song so far the model sees (after the header line).
CONTEXT_LINES = 8
#: Rhyme words offered to the model when a candidate fits but does not rhyme.
MAX_RHYME_WORDS = 32
#: Words a line does not end on.
WEAK_ENDINGS = frozenset("a an the and or but nor so of to in on at by for from with into onto upon as than "
                         "my your our their his her its this that these those is are was were be if".split())


def model_folder(config: Any) -> Path:
    """The lyric model's folder: ``lyrics.model_dir``, else ``<models_dir>/lyrics``."""
    return Path(config.lyrics.resolved_model_dir(config.models_dir))


def header_line(analysis: PromptAnalysis, theme: Sequence[str]) -> str:
    """The line the model is prompted with: mood, genre and theme in words ("sad folk song about rain")."""
    mood = " ".join(analysis.mood[:2])
    about = f" about {' '.join(theme[:3])}" if theme else ""
    return " ".join(f"{mood} {analysis.genre} song{about}".split()).lower()


def fit_words(words: Sequence[str], target: int, *, weak_end: bool = False) -> str | None:
    """The longest opening of ``words`` whose syllables are within ±1 of ``target`` (closest first) and that
    does not end on a weak word unless ``weak_end`` (an opening a rhyme word will end); ``None`` when none fits."""
    best: tuple[int, int] | None = None
    total = 0
    for k, word in enumerate(words, start=1):
        total += count_syllables(word)
        if total > target + 1:
            break
        gap = abs(total - target)
        if gap <= 1 and (weak_end or last_word(word) not in WEAK_ENDINGS) and (best is None or gap <= best[1]):
            best = (k, gap)
    return " ".join(words[:best[0]]) if best else None


@functools.lru_cache(maxsize=4096)
def rhyme_words(word: str) -> tuple[str, ...]:
    """Plain words that rhyme with ``word`` by the CMU dictionary (none when it is not in it)."""
    import pronouncing

    return tuple(w for w in pronouncing.rhymes(word)
                 if w.isalpha() and w.islower() and len(w) > 1 and w not in WEAK_ENDINGS and rhymes(word, w))


@dataclass
class _Song:
    """What is written so far: the lines sung in order, and every line text taken (lower case)."""

    header: str
    sung: list[str]
    taken: set[str]

    def prompt(self, begun: str = "") -> str:
        lines = [self.header, *self.sung[-CONTEXT_LINES:]]
        return "\n".join(lines) + "\n" + begun


class ModelLyricWriter:
    """Lyrics whose lines a local causal LM writes, on the embedded writer's form, syllables and rhymes."""

    name = "transformers"

    def __init__(self, *, model_dir: Path, device: str = "auto", tries: int = 32) -> None:
        if isinstance(tries, bool) or not isinstance(tries, int) or tries < 1:
            raise ConfigError(f"lyrics.tries must be an int >= 1, got {tries!r}")
        check_device(device)
        self.model_dir, self.device, self.tries = Path(model_dir), device, tries
        self._lm: CausalLM | None = None

    @classmethod
    def unavailable_reason(cls, config: Any) -> str | None:
        return why_folder_unusable(model_folder(config))

    @classmethod
    def from_config(cls, config: Any, **options: Any) -> ModelLyricWriter:
        if options:
            raise ConfigError(f"unknown transformers lyric writer option(s): {sorted(options)}")
        folder = model_folder(config)
        reason = why_folder_unusable(folder)
        if reason is not None:
            raise BackendUnavailableError(f"lyrics backend 'transformers' is unavailable: {reason}")
        return cls(model_dir=folder, device=config.lyrics.device, tries=config.lyrics.tries)

    def model(self) -> CausalLM:
        """The loaded model (loaded on first use, once)."""
        if self._lm is None:
            self._lm = CausalLM(self.model_dir, device=self.device)
        return self._lm

    def write(self, analysis: PromptAnalysis, *, mode: Mode = "generate", user_lyrics: str | None = None,
              seed: int = 0, sections: Sequence[tuple[str, int]] | None = None, duration_s: float | None = None,
              lead_in_s: float = 0.0, lead_out_s: float = 0.0) -> Lyrics:
        """Lyrics as :func:`~mage_bridge.lyrics.writer.write_lyrics` plans them, their lines by the model.

        Same arguments, checks and errors as ``write_lyrics`` (everything is checked before the model loads).
        """
        plan = write_lyrics(analysis, mode=mode, user_lyrics=user_lyrics, seed=seed, sections=sections,
                            duration_s=duration_s, lead_in_s=lead_in_s, lead_out_s=lead_out_s)
        if mode == "replace" or all(ln.user for s in plan.sections for ln in s.lines):
            return dc_replace(plan, backend=self.name)
        lm = self.model()
        with lm.lock:
            return self._fill(lm, plan, analysis, seed)

    def _fill(self, lm: CausalLM, plan: Lyrics, analysis: PromptAnalysis, seed: int) -> Lyrics:
        import torch

        generator = torch.Generator().manual_seed(seed)
        song = _Song(header_line(analysis, plan.theme), [],
                     {ln.text.lower() for s in plan.sections for ln in s.lines})
        decided: dict[str, Line] = {}
        out: list[Section] = []
        written = fallen = 0
        for section in plan.sections:
            lines: list[Line] = []
            for j, planned in enumerate(section.lines):
                if planned.user:
                    line = planned
                elif planned.text in decided:  # a chorus sung again: the same words
                    line = dc_replace(decided[planned.text], bars=planned.bars)
                else:
                    partners = [decided.get(p.text, p).text for k, p in enumerate(section.lines)
                                if k != j and p.rhyme and p.rhyme == planned.rhyme and k // 4 == j // 4 and not p.user]
                    text = self._line(lm, song, planned.target or 0, partners, generator)
                    line = planned if text is None else make_line(text, target=planned.target, bars=planned.bars,
                                                                   rhyme=planned.rhyme, origin="model")
                    decided[planned.text] = line
                    written += 1
                    fallen += text is None
                    song.taken.add(line.text.lower())
                lines.append(line)
                if line.bars:
                    song.sung.append(line.text)
            out.append(Section(section.name, tuple(lines), section.bars))
        warnings = list(plan.warnings)
        if fallen:
            warnings.append(f"{fallen} of {written} written lines are the embedded writer's: the model wrote no "
                            f"line of their syllables (±1) and rhyme in {self.tries} tries")
        return dc_replace(plan, sections=tuple(out), warnings=tuple(warnings), backend=self.name,
                          model=str(self.model_dir))

    def _line(self, lm: CausalLM, song: _Song, target: int, partners: list[str], generator: Any) -> str | None:
        """A model line of ``target`` syllables (±1) rhyming with every one of ``partners``; ``None`` when
        ``self.tries`` candidates give none."""
        max_new = min(64, 3 * (target + 2))
        left = self.tries
        while left > 0:
            n = min(BATCH, left)
            left -= n
            samples = lm.sample_lines(song.prompt(), n=n, max_new_tokens=max_new, generator=generator,
                                      enough=lambda text: count_syllables(text) > target + 2)
            words_of_samples = []
            for sample in samples:
                line = clean_sample(sample)
                if line is None:
                    continue
                words_of_samples.append(line.split())
                fitted = fit_words(line.split(), target)
                if fitted is not None and fitted.lower() not in song.taken and all(rhymes(fitted, p) for p in partners):
                    return fitted[0].upper() + fitted[1:]
            for words in words_of_samples[:2] if partners else ():
                ended = self._rhymed(lm, song, words, target, partners)
                if ended is not None:
                    return ended[0].upper() + ended[1:]
        return None

    def _rhymed(self, lm: CausalLM, song: _Song, words: list[str], target: int, partners: list[str]) -> str | None:
        """``words`` cut and ended on the rhyme of ``partners[0]`` the model finds likeliest, within ±1 syllable
        of ``target``; ``None`` when no rhyme word fits."""
        end = last_word(partners[0])
        options = sorted(rhyme_words(end), key=lambda w: (len(lm.encode(" " + w)), w))[:MAX_RHYME_WORDS]
        by_opening: dict[str, list[str]] = {}
        for word in options:
            room = target - count_syllables(word)
            opening = fit_words(words, room, weak_end=True) if room >= 1 else None
            if opening is not None:
                by_opening.setdefault(opening, []).append(word)
        best: tuple[float, str] | None = None
        for opening, ends in by_opening.items():
            scores = lm.ending_logprobs(song.prompt(opening), [" " + w for w in ends])
            for word, score in zip(ends, scores):
                text = f"{opening} {word}"
                if (best is None or score > best[0]) and text.lower() not in song.taken \
                        and all(rhymes(text, p) for p in partners):
                    best = (score, text)
        return best[1] if best else None
