"""One ACE-Step pipeline call in MAGE's terms, and the mapping from a prompt's analysis to it.

:class:`AceStepCall` is what every route (diffusers or native) runs: the caption, lyrics and
metadata ACE-Step conditions on, the schedule, the task and its source audio. It holds no torch
object, so it can be built, logged and compared without loading anything.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.errors import InvalidInputError

#: The rate ACE-Step 1.5 takes and gives (its VAE runs at 48 kHz).
SAMPLE_RATE = 48_000
#: ACE-Step's latent frame: 1920 samples at 48 kHz (25 latents/s); lengths are rounded up to it.
LATENT_FRAMES = 1920
#: The pipeline's task names (``extend`` is a repaint of a padded source, so it is not among them).
PIPELINE_TASKS = ("text2music", "repaint", "cover", "extract", "lego", "complete")
#: Diffusion steps when the config says 0: the distilled turbo model is made for 8, base/SFT for about 50.
DEFAULT_STEPS = {True: 8, False: 50}
INSTRUMENTAL = "[Instrumental]"


@dataclass(frozen=True)
class AceStepCall:
    """Everything one ACE-Step generation needs.

    ``src_audio`` is the source as float32 ``(2, frames)`` at 48 kHz for the tasks that rework
    audio; ``repainting_start``/``repainting_end`` (seconds, ``None``: to the end) bound the window
    repaint and lego regenerate. ``duration_s`` is the exact length of what the route returns.
    """

    caption: str
    lyrics: str
    duration_s: float
    bpm: int | None
    keyscale: str | None
    timesignature: str | None
    seed: int
    steps: int
    guidance: float
    shift: float
    task_type: str = "text2music"
    track_name: str | None = None
    src_audio: np.ndarray | None = None
    repainting_start: float | None = None
    repainting_end: float | None = None
    audio_cover_strength: float = 1.0
    vocal_language: str = "en"

    def __post_init__(self) -> None:
        if self.task_type not in PIPELINE_TASKS:
            raise InvalidInputError(f"ACE-Step task must be one of {', '.join(PIPELINE_TASKS)}, "
                                    f"got {self.task_type!r}")
        if not self.duration_s > 0:
            raise InvalidInputError(f"duration_s must be positive, got {self.duration_s!r}")
        if self.steps < 1:
            raise InvalidInputError(f"steps must be at least 1, got {self.steps!r}")
        if self.src_audio is not None:
            src = np.asarray(self.src_audio, dtype=np.float32)
            if src.ndim != 2 or src.shape[0] != 2:
                raise InvalidInputError(f"src_audio must be stereo (2, frames), got shape {src.shape!r}")
            object.__setattr__(self, "src_audio", src)

    @property
    def frames(self) -> int:
        """The length the route returns, in samples at 48 kHz."""
        return int(round(self.duration_s * SAMPLE_RATE))

    def details(self) -> dict[str, Any]:
        """JSON-ready: every field but the source audio, enough to re-render with the same model."""
        out = {k: v for k, v in self.__dict__.items() if k != "src_audio"}
        out["src_frames"] = None if self.src_audio is None else int(self.src_audio.shape[1])
        return out

    def with_source(self, src_audio: np.ndarray, **changes: Any) -> AceStepCall:
        """The same request reworking ``src_audio`` (``task_type`` and window in ``changes``)."""
        return replace(self, src_audio=src_audio, **changes)


def latent_time(frames: int) -> float:
    """Seconds that the pipeline's ``int(t * 25)`` reads as exactly ``frames // 1920`` latents.

    A boundary sent as plain ``frames / 48000`` can come back one latent short through float
    rounding (``int(51.99999...)``); a microsecond more cannot.
    """
    return (frames // LATENT_FRAMES) * LATENT_FRAMES / SAMPLE_RATE + 1e-6


def fit_frames(audio: np.ndarray, frames: int) -> np.ndarray:
    """Stereo float32 ``(2, frames)``: trimmed (the 40 ms latent rounding) or padded with silence.

    Every route ends with it, so what a route returns is exactly :attr:`AceStepCall.frames` long.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.shape[0] == 1:
        audio = np.repeat(audio, 2, axis=0)
    if audio.shape[1] >= frames:
        return np.ascontiguousarray(audio[:2, :frames])
    return np.concatenate([audio[:2], np.zeros((2, frames - audio.shape[1]), np.float32)], axis=1)


def caption_for(analysis: PromptAnalysis) -> str:
    """A comma-separated caption: genre, mood, instruments, vocals (ACE-Step's training captions look so)."""
    parts: list[str] = [analysis.genre] if analysis.genre else []
    parts += [g for g in analysis.genres if g not in parts]
    parts += list(analysis.mood)
    parts += list(analysis.instruments)
    if analysis.vocals:
        parts.append("vocals")
    else:
        parts.append("instrumental")
    if analysis.feel:
        parts.append(analysis.feel)
    if analysis.exclude_instruments:
        parts.append("no " + ", no ".join(analysis.exclude_instruments))
    unique: list[str] = []
    for part in parts:
        if part and part.lower() not in (u.lower() for u in unique):
            unique.append(part)
    return ", ".join(unique) or analysis.prompt


def keyscale_for(analysis: PromptAnalysis) -> str:
    """``"F# minor"``: the tonic and the major/minor family ACE-Step's metadata knows."""
    return f"{analysis.key} {analysis.mode}"


def lyrics_for(analysis: PromptAnalysis, lyrics: str | None) -> str:
    """The user's lyrics (with their [verse]/[chorus] tags); ``[Instrumental]`` when there are no vocals."""
    text = (lyrics or "").strip()
    if text:
        return text
    return "" if analysis.vocals else INSTRUMENTAL


def steps_for(configured: int, is_turbo: bool) -> int:
    """The configured steps, or the variant's default when 0."""
    if configured < 0:
        raise InvalidInputError(f"acestep.steps must be 0 (the variant's default) or more, got {configured!r}")
    return configured or DEFAULT_STEPS[is_turbo]


def call_for(analysis: PromptAnalysis, *, duration_s: float, seed: int, is_turbo: bool, steps: int = 0,
             guidance: float = 7.0, shift: float = 3.0, lyrics: str | None = None,
             task_type: str = "text2music") -> AceStepCall:
    """The call that renders ``analysis`` for ``duration_s`` (the clip's whole length, lead-in and lead-out in).

    On turbo the guidance is 1.0: the distilled model has no classifier-free guidance, and the
    pipeline warns on every call that asks for more.
    """
    return AceStepCall(
        caption=caption_for(analysis), lyrics=lyrics_for(analysis, lyrics), duration_s=float(duration_s),
        bpm=int(round(analysis.bpm)), keyscale=keyscale_for(analysis),
        timesignature=str(analysis.time_signature[0]), seed=int(seed), steps=steps_for(steps, is_turbo),
        guidance=1.0 if is_turbo else float(guidance), shift=float(shift), task_type=task_type,
    )
