"""Rule-based prompt reading: pure Python, always available, a few hundred microseconds.

The rules read what a prompt *states*: tempo, key and mode, metre, a length,
genres, moods, instruments, exclusions, whether the named instruments are the
whole ensemble and whether a voice is wanted. :func:`read_prompt` returns
those facts (a :class:`Reading`); :func:`assemble` fills what the prompt left out
from the genre table and records where every value came from. The embedding
backend reuses both and only adds a guess for what the rules could not find.

One module per thing a prompt states, each matching and blanking its words:
:mod:`.text` (the input check, shared helpers), :mod:`.tempo`, :mod:`.key`,
:mod:`.metre` (and swing), :mod:`.duration`, :mod:`.ensemble`, :mod:`.genre_words`
(and the genre a band implies when none is named), :mod:`.mood_words`,
:mod:`.instrument_words`; :mod:`.reading` runs them in order and
:mod:`.assembly` fills the defaults. Every public name is importable from here.

Conventions (documented in ``docs/prompt-analysis.md``):

* BPM is quarter-note BPM whatever the metre; stated BPM must lie in
  :data:`BPM_RANGE` or the prompt is rejected. A range ("120-125 bpm") gives its midpoint.
* "slow" / "mid-tempo" / "fast" pick the low end / default / high end of the
  genre's tempo range. "half-time" and "double-time" change the groove's *feel*
  only (``feel`` field); the BPM stays the grid tempo a DAW should run at.
* A malformed key ("H# major") is ignored with a warning, never an error.
"""

from __future__ import annotations

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.analysis.rules.assembly import FALLBACK_GENRE, assemble, default_key
from mage_bridge.analysis.rules.duration import parse_duration
from mage_bridge.analysis.rules.ensemble import IMPLIED_PLAYERS, read_ensemble
from mage_bridge.analysis.rules.genre_words import PARENT, GenreMatch, choose_primary, find_genres, genre_from_band
from mage_bridge.analysis.rules.instrument_words import GENERIC_ROLES, find_instruments, resolve_generic
from mage_bridge.analysis.rules.key import parse_key
from mage_bridge.analysis.rules.metre import PROMPT_SWING, parse_swing, parse_time_signature
from mage_bridge.analysis.rules.mood_words import MOOD_MODE, MOODS, find_moods, mode_from_moods
from mage_bridge.analysis.rules.reading import Reading, read_prompt
from mage_bridge.analysis.rules.tempo import BPM_RANGE, parse_bpm, parse_feel, parse_tempo_word, tempo_from_word
from mage_bridge.analysis.rules.text import MAX_PROMPT_CHARS, check_prompt
from mage_bridge.errors import InvalidInputError

__all__ = [
    "BPM_RANGE", "FALLBACK_GENRE", "GENERIC_ROLES", "IMPLIED_PLAYERS", "MAX_PROMPT_CHARS", "MOODS", "MOOD_MODE",
    "PARENT", "PROMPT_SWING", "GenreMatch", "Reading", "RulesAnalyzer", "assemble", "check_prompt",
    "choose_primary", "default_key", "find_genres", "find_instruments", "find_moods", "genre_from_band",
    "mode_from_moods", "parse_bpm", "parse_duration", "parse_feel", "parse_key", "parse_swing",
    "parse_tempo_word", "parse_time_signature", "read_ensemble", "read_prompt", "resolve_generic",
    "tempo_from_word",
]


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
