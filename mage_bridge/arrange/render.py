"""Rendering a planned song: each clip conformed, trimmed to its first bar line, faded and summed.

A function of the plan and the clips' audio only, so the same document and the same clips give
the same samples: Rubber Band in offline mode is deterministic, and nothing here is random.
"""

from __future__ import annotations

from collections.abc import Sequence

from mage_bridge.arrange.conform import conform
from mage_bridge.arrange.crossfade import Placed, assemble
from mage_bridge.arrange.timeline import SongPlan
from mage_bridge.audio import Audio
from mage_bridge.errors import InvalidInputError, MageError
from mage_bridge.progress import ProgressFn, no_progress


def render_song(plan: SongPlan, audios: Sequence[Audio], *, progress: ProgressFn | None = None) -> Audio:
    """The song ``plan`` lays out, stereo, from the clips' audio in slot order (all at the plan's rate).

    Reports ``conform`` (per clip) and ``render``. The result has exactly ``plan.frames`` frames.
    """
    progress = progress or no_progress
    if len(audios) != len(plan.clips):
        raise InvalidInputError(f"the plan has {len(plan.clips)} clips, {len(audios)} were given")
    placed = []
    for i, (clip, audio) in enumerate(zip(plan.clips, audios)):
        progress("conform", i / len(audios))
        fitted = conform(audio, clip.conform)
        if clip.trim_head:
            fitted = Audio(fitted.samples[:, clip.trim_head:], fitted.sample_rate)
        placed.append(Placed(fitted, clip.start, fade_in=clip.fade_in, fade_out=clip.fade_out,
                             fade_in_kind=plan.junctions[i - 1].kind if i else "equal-power",
                             fade_out_kind=plan.junctions[i].kind if i < len(plan.junctions) else "equal-power",
                             gain=float(10.0 ** (clip.slot.gain_db / 20.0))))
    progress("conform", 1.0)
    progress("render", 0.0)
    song = assemble(placed)
    progress("render", 1.0)
    if song.frames != plan.frames:  # the plan is the contract: a mismatch is a bug, said plainly
        raise MageError(f"rendered {song.frames} frames where the plan has {plan.frames}")
    return song
