""""Fill the gap": the generate request for a clip that fits a song around its focus clip.

The new clip (an Intro, a Previous, a Next or an Outro) is asked for at the song's tempo, metre and
key (by default the focus clip's) and in the focus clip's style: its genre as an explicit option,
and its own prompt, which carries its instruments, mood and vocals, with a few words for the part
it plays. Its length is whole bars, by default as many as the focus clip has, so it meets the
focus clip on bar lines. The request is plain data (:class:`FillRequest`); running it is
``mage_bridge.api.generate``'s job.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mage_bridge.arrange.clips import ClipInfo
from mage_bridge.errors import InvalidInputError
from mage_bridge.music import bar_seconds

#: The roles a clip can be made for, and the words that tell the generator which part it plays.
ROLE_WORDS: dict[str, str] = {
    "intro": "intro, sparse at first and building up",
    "previous": "an earlier section leading into the main part",
    "next": "the next section, a variation that carries the song on",
    "outro": "outro, winding down to an ending",
}
#: The length of clip generate makes (seconds), lead-in and lead-out included.
MIN_FILL_S, MAX_FILL_S = 4.0, 120.0
#: Longest prompt the new clip gets (generate's limit is larger; the role words must fit after the focus's).
_MAX_BASE_PROMPT_CHARS = 1_500


@dataclass(frozen=True)
class FillRequest:
    """A generate request: ``prompt`` and ``options`` (``bpm``, ``key``, ``mode``, ``time_signature``,
    ``genre``, ``bars``), and ``lineage`` naming the focus clip it was made to fit."""

    role: str
    prompt: str
    options: dict[str, Any]
    lineage: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "prompt": self.prompt, "options": dict(self.options), "lineage": self.lineage}


def fill_request(focus: ClipInfo, *, role: str = "next", bpm: float | None = None,
                 time_signature: tuple[int, int] | None = None, key: str | None = None, mode: str | None = None,
                 bars: int | None = None, duration_s: float | None = None, frames: int | None = None,
                 sample_rate: int = 48_000) -> FillRequest:
    """The request for a ``role`` clip fitting ``focus`` (and the song's ``bpm``/metre/key where given).

    ``bars`` (or ``duration_s``, rounded to whole bars) sets its length; by default the focus clip's
    length in bars at the song's tempo (``frames`` at ``sample_rate``, or the manifest's), kept
    within generate's 4-120 s.
    """
    if role not in ROLE_WORDS:
        raise InvalidInputError(f"role must be one of {', '.join(ROLE_WORDS)}, got {role!r}")
    if bars is not None and duration_s is not None:
        raise InvalidInputError("give bars or duration_s, not both")
    data = focus.data
    song_bpm = float(bpm) if bpm is not None else focus.bpm
    ts = time_signature or focus.time_signature
    if key is None:
        key, mode = focus.key, focus.mode
    bar_s = bar_seconds(song_bpm, ts)
    fewest, most = math.ceil(MIN_FILL_S / bar_s - 1e-9), math.floor(MAX_FILL_S / bar_s + 1e-9)
    if bars is None:
        if duration_s is not None:
            length_s = float(duration_s)
        else:
            clip_s = (frames / sample_rate) if frames is not None else float(data.get("duration_s") or 0.0)
            length_s = clip_s * focus.bpm / song_bpm
        bars = min(most, max(fewest, int(round(length_s / bar_s))))
    elif isinstance(bars, bool) or not isinstance(bars, int) or not fewest <= bars <= most:
        raise InvalidInputError(f"bars must be a whole number from {fewest} to {most} at {song_bpm:g} BPM "
                                f"({MIN_FILL_S:g}-{MAX_FILL_S:g} s), got {bars!r}")
    options: dict[str, Any] = {"bpm": round(song_bpm, 6), "time_signature": list(ts), "bars": bars}
    if key is not None and mode is not None:
        options.update(key=key, mode=mode)
    analysis = data.get("analysis") if isinstance(data.get("analysis"), Mapping) else {}
    genre = analysis.get("genre") if isinstance(analysis, Mapping) else None
    if isinstance(genre, str) and genre.strip():
        options["genre"] = genre
    base = _focus_prompt(data, genre)
    return FillRequest(role=role, prompt=f"{base}; {ROLE_WORDS[role]}", options=options,
                       lineage={"parent": str(focus.manifest_path), "parent_job": data.get("job_id"),
                                "parent_clip": focus.clip_id, "fill": role})


def _focus_prompt(data: Mapping[str, Any], genre: object) -> str:
    """The focus clip's own prompt (its request's, else its analysis's), else its genre."""
    for section in ("request", "analysis"):
        part = data.get(section)
        prompt = part.get("prompt") if isinstance(part, Mapping) else None
        if isinstance(prompt, str) and prompt.strip():
            return prompt.strip()[:_MAX_BASE_PROMPT_CHARS]
    if isinstance(genre, str) and genre.strip():
        return genre.strip()
    return "instrumental music"
