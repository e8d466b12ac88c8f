"""The lyrics of a clip with vocals, where Live shows them: the vocals clip's name.

Live has no lyrics view, and the one text a clip carries in the Live Object Model is its ``name`` (get/set). So the
vocals clip is named after the first sung line of the manifest's ``lyrics`` (``♪ Tonight I keep the love door``),
cut after a whole word to :data:`CLIP_NAME_MAX` characters with ``…`` (a clip shows little more than that at the
usual zoom). The whole text and its timing stay in the files beside the stems: ``lyrics.txt`` (the tagged text),
``lyrics.lrc`` (a stamp per line, what LRC players read) and ``lyrics.enhanced.lrc`` (a stamp per word).
"""

from __future__ import annotations

import os

#: The longest clip name given (characters, the ``♪ `` included).
CLIP_NAME_MAX = 40
NOTE = "\u266a "  # ♪
ELLIPSIS = "\u2026"  # …


def first_line(manifest: dict) -> str | None:
    """The first sung line of ``manifest["lyrics"]`` (a line with a timed syllable), or None without lyrics."""
    lyrics = manifest.get("lyrics")
    if not isinstance(lyrics, dict):
        return None
    lines = [str(text) for section in (lyrics.get("sections") or []) if isinstance(section, dict)
             for text in (section.get("lines") or [])]
    sung = sorted({s["line"] for s in (lyrics.get("syllables") or [])
                   if isinstance(s, dict) and isinstance(s.get("line"), int) and 0 <= s["line"] < len(lines)})
    for index in sung:
        if lines[index].strip():
            return " ".join(lines[index].split())
    return None


def clip_name(manifest: dict, limit: int = CLIP_NAME_MAX) -> str | None:
    """``♪ `` and the first sung line, cut after a whole word to ``limit`` characters; None without lyrics."""
    line = first_line(manifest)
    if line is None:
        return None
    name = NOTE + line
    if len(name) <= limit:
        return name
    room = limit - len(ELLIPSIS)
    cut = name[:room + 1].rsplit(" ", 1)[0]  # the whole words that fit
    if len(cut) <= len(NOTE):  # one long first word: cut inside it
        cut = name[:room]
    return cut[:room].rstrip(" ,;:.-") + ELLIPSIS


def lrc_path(manifest: dict, folder: str) -> str | None:
    """The clip's line-level LRC file (``lyrics.lrc`` beside the stems), or None without lyrics."""
    lyrics = manifest.get("lyrics")
    if not isinstance(lyrics, dict) or not lyrics.get("lrc"):
        return None
    return os.path.join(folder, str(lyrics["lrc"]))
