"""Lyrics: writing them from the prompt (or keeping the user's), their syllables, and their timing on the beat grid.

* :mod:`~mage_bridge.lyrics.syllables` - syllable count, split and stress of a word; rhymes.
* :mod:`~mage_bridge.lyrics.writer` - :func:`write_lyrics` in the modes generate, replace and append.
* :mod:`~mage_bridge.lyrics.timing` - :func:`time_lyrics`, LRC and enhanced LRC.
* :mod:`~mage_bridge.lyrics.melody` - the sung line: one note per syllable over the chords, in the voice's range
  (imported from there: it reads the composer's Score).
* :mod:`~mage_bridge.lyrics.modelwriter`, :mod:`~mage_bridge.lyrics.lm` - the ``"transformers"`` writer and its
  causal language model; :mod:`~mage_bridge.lyrics.training` - ``train-lyrics``, which makes one.

Lyric writer backends, heavy first (``"auto"`` takes the first that can run here; a ``backend`` of ``None``
means the config's ``backends.lyrics``, env ``MAGE_LYRICS_BACKEND``):

* ``"transformers"`` - a GPT-2-class causal language model from ``<models_dir>/lyrics`` (config
  ``lyrics.model_dir``) writes the lines, held to the embedded writer's song form, syllable targets and rhyme
  scheme (:mod:`~mage_bridge.lyrics.modelwriter`); never downloaded. ``mage-bridge train-lyrics`` makes one.
* ``"embedded"`` - the seeded grammar of :mod:`~mage_bridge.lyrics.writer`, always available.

The CMU dictionary loads on the first word looked up, not at import; no model loads at import.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.backends import Registry
from mage_bridge.config import Config, load_config
from mage_bridge.lyrics.syllables import count_syllables, rhymes, syllabify
from mage_bridge.lyrics.timing import SyllableTime, time_lyrics, timing_json, to_enhanced_lrc, to_lrc
from mage_bridge.lyrics.writer import Line, Lyrics, Mode, Section, Word, write_lyrics

REGISTRY = Registry("lyrics")
REGISTRY.register("transformers", "mage_bridge.lyrics.modelwriter:ModelLyricWriter",
                  requires=("transformers", "torch"), extra="transformers",
                  summary="a GPT-2-class causal LM from <models_dir>/lyrics, held to the song's form (heavy, optional)")
REGISTRY.register("embedded", "mage_bridge.lyrics.writer:EmbeddedLyricWriter",
                  summary="seeded phrase grammar, CMU rhymes, lines fitted to the phrases' syllables")


class LyricWriter(Protocol):
    """What :func:`create_lyric_writer` returns: build once (a model loads at most once), write many songs."""

    name: str

    def write(self, analysis: PromptAnalysis, *, mode: Mode = "generate", user_lyrics: str | None = None,
              seed: int = 0, sections: Sequence[tuple[str, int]] | None = None, duration_s: float | None = None,
              lead_in_s: float = 0.0, lead_out_s: float = 0.0) -> Lyrics: ...


_WRITERS: dict[tuple[str | None, Config], LyricWriter] = {}


def create_lyric_writer(backend: str | None = None, config: Config | None = None) -> LyricWriter:
    """The lyric writer ``backend`` (``None``: the config's ``backends.lyrics``; ``"auto"``: the model when its
    folder is usable, else the embedded writer), cached per backend and config so a daemon's worker loads a
    model once. Raises :class:`~mage_bridge.errors.BackendUnavailableError` saying what a named backend lacks.
    """
    cfg = config if config is not None else load_config()
    key = (backend, cfg)
    if key not in _WRITERS:
        _WRITERS[key] = REGISTRY.create(backend, cfg)
    return _WRITERS[key]


__all__ = ["REGISTRY", "Line", "LyricWriter", "Lyrics", "Section", "SyllableTime", "Word", "count_syllables",
           "create_lyric_writer", "rhymes", "syllabify", "time_lyrics", "timing_json", "to_enhanced_lrc", "to_lrc",
           "write_lyrics"]
