"""Lyrics: writing them from the prompt (or keeping the user's), their syllables, and their timing on the beat grid.

* :mod:`~mage_bridge.lyrics.syllables` - syllable count, split and stress of a word; rhymes.
* :mod:`~mage_bridge.lyrics.writer` - :func:`write_lyrics` in the modes generate, replace and append.
* :mod:`~mage_bridge.lyrics.timing` - :func:`time_lyrics`, LRC and enhanced LRC.
* :mod:`~mage_bridge.lyrics.melody` - the sung line: one note per syllable over the chords, in the voice's range
  (imported from there: it reads the composer's Score).

The CMU dictionary loads on the first word looked up, not at import.
"""

from __future__ import annotations

from mage_bridge.lyrics.syllables import count_syllables, rhymes, syllabify
from mage_bridge.lyrics.timing import SyllableTime, time_lyrics, timing_json, to_enhanced_lrc, to_lrc
from mage_bridge.lyrics.writer import Line, Lyrics, Section, Word, write_lyrics

__all__ = ["Line", "Lyrics", "Section", "SyllableTime", "Word", "count_syllables", "rhymes", "syllabify",
           "time_lyrics", "timing_json", "to_enhanced_lrc", "to_lrc", "write_lyrics"]
