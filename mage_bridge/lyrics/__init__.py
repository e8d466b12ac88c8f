"""Lyrics: writing them from the prompt (or keeping the user's), their syllables, and their timing on the beat grid.

* :mod:`~mage_bridge.lyrics.syllables` - syllable count, split and stress of a word; rhymes.
* :mod:`~mage_bridge.lyrics.writer` - :func:`write_lyrics` in the modes generate, replace and append.
* :mod:`~mage_bridge.lyrics.timing` - :func:`time_lyrics`, LRC and enhanced LRC.
"""

from __future__ import annotations
