"""A clip made for a DAW project: the project's tempo and metre, a whole number of bars.

A producer who triggers "deep house at 122 BPM" into a 100 BPM session wants a clip that plays
in that session: the project's tempo and metre win over what the prompt says, unless the request
set ``bpm`` / ``time_signature`` explicitly (then the request wins, and the DAW places the clip
as it is). The clip's length becomes a whole number of the bars it is played in, so its end falls
on a bar line like every loop in the session. :func:`fit_to_project` returns the decision and the
``daw`` record of the manifest that says what was asked, what was used and why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.errors import InvalidInputError
from mage_bridge.music import bar_seconds

#: The tempo range the generators render; project tempos outside it are folded by octaves.
MIN_BPM, MAX_BPM = 40.0, 240.0
#: Metres the composer writes (``Metre``): n/d with n in 1..16 and d in 2, 4, 8, 16.
_DENOMINATORS = (2, 4, 8, 16)


@dataclass(frozen=True)
class ProjectTime:
    """What the DAW said about its project: quarter-note tempo and metre."""

    bpm: float
    numerator: int
    denominator: int

    @classmethod
    def from_mapping(cls, value: Mapping[str, Any]) -> ProjectTime:
        """From ``{"bpm", "numerator", "denominator"}`` (the daemon's DAW context)."""
        try:
            bpm, num, den = float(value["bpm"]), int(value["numerator"]), int(value["denominator"])
        except (KeyError, TypeError, ValueError):
            raise InvalidInputError(f"project must hold bpm, numerator and denominator, got {value!r}") from None
        if not math.isfinite(bpm) or bpm <= 0 or num < 1 or den < 1:
            raise InvalidInputError(f"project tempo and metre out of range, got {value!r}")
        return cls(bpm, num, den)


def fold_bpm(bpm: float) -> float:
    """``bpm`` doubled or halved until it lies in the generators' range (beats still fall on beats)."""
    while bpm < MIN_BPM:
        bpm *= 2.0
    while bpm > MAX_BPM:
        bpm /= 2.0
    return bpm


def fit_to_project(analysis: PromptAnalysis, options: Mapping[str, Any],
                   project: ProjectTime) -> tuple[PromptAnalysis, dict[str, Any]]:
    """The analysis with the project's tempo and metre where the request did not set them.

    ``options`` are the request's checked options: an explicit ``bpm`` or ``time_signature`` there
    wins. Returns the new analysis and the manifest's ``daw`` record (``used.bars`` is filled in by
    :func:`whole_bars`).
    """
    sources = dict(analysis.sources)
    why: list[str] = []
    bpm = analysis.bpm
    if "bpm" in options:
        tempo_from = "option"
        why.append(f"the request set bpm={options['bpm']:g}, which wins over the project's {project.bpm:g}")
    else:
        tempo_from = "project"
        bpm = fold_bpm(project.bpm)
        sources["bpm"] = "daw_project"
        if bpm != project.bpm:
            why.append(f"the project's {project.bpm:g} BPM is outside {MIN_BPM:g}-{MAX_BPM:g}: rendered at "
                       f"{bpm:g}, which keeps its beat grid")
        elif abs(analysis.bpm - bpm) > 1e-9:
            why.append(f"the project's {bpm:g} BPM wins over the prompt's {analysis.bpm:g}")
    metre = analysis.time_signature
    project_metre = (project.numerator, project.denominator)
    if "time_signature" in options:
        why.append(f"the request set time_signature={metre[0]}/{metre[1]}")
    elif 1 <= project.numerator <= 16 and project.denominator in _DENOMINATORS:
        if metre != project_metre:
            why.append(f"the project's {project.numerator}/{project.denominator} wins over the prompt's "
                       f"{metre[0]}/{metre[1]}")
        metre = project_metre
        sources["time_signature"] = "daw_project"
    else:
        why.append(f"the project's {project.numerator}/{project.denominator} cannot be composed; kept "
                   f"{metre[0]}/{metre[1]}")
    fitted = replace(analysis, bpm=bpm, time_signature=metre, sources=sources)
    record = {
        "project": {"bpm": project.bpm, "time_signature": list(project_metre)},
        "prompt": {"bpm": analysis.bpm, "time_signature": list(analysis.time_signature)},
        "used": {"bpm": bpm, "time_signature": list(metre), "bars": None},
        "tempo_from": tempo_from,
        "why": "; ".join(why) or "the prompt already matched the project",
    }
    return fitted, record


def whole_bars(duration_s: float, bpm: float, time_signature: tuple[int, int], *, min_s: float,
               max_s: float, min_bars: int = 1) -> tuple[int, float]:
    """The whole number of bars nearest ``duration_s`` that fits ``[min_s, max_s]`` and ``min_bars``.

    Returns ``(bars, seconds)``; raises :class:`InvalidInputError` when no whole number of bars fits.
    """
    bar_s = bar_seconds(bpm, time_signature)
    low = max(min_bars, math.ceil(min_s / bar_s - 1e-9))
    high = math.floor(max_s / bar_s + 1e-9)
    if low > high:
        raise InvalidInputError(f"no whole number of {time_signature[0]}/{time_signature[1]} bars at {bpm:g} BPM "
                                f"({bar_s:.2f} s each, at least {min_bars}) fits {min_s:g}-{max_s:g} s")
    bars = min(high, max(low, int(round(duration_s / bar_s))))
    return bars, bars * bar_s
