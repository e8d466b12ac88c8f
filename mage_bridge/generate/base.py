"""The generator interface every generation backend implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.audio import Audio
from mage_bridge.config import Config
from mage_bridge.progress import ProgressFn

__all__ = ["GenerateRequest", "GeneratedClip", "Generator", "ProgressFn"]


@dataclass(frozen=True)
class GenerateRequest:
    """What to generate. ``duration_s`` includes the one-bar lead-in and the lead-out."""

    analysis: PromptAnalysis
    seed: int = 0
    duration_s: float = 32.0
    lyrics: str | None = None
    lead_in_bars: int = 1


@dataclass(frozen=True)
class GeneratedClip:
    """Stems at one sample rate, all the same length.

    ``details`` is JSON-ready data for the manifest: backend version, the chord
    progression, sections, lead-in/out lengths in seconds, anything needed to
    re-render exactly.
    """

    stems: dict[str, Audio]
    details: dict[str, Any] = field(default_factory=dict)
    #: The composed :class:`~mage_bridge.generate.compose.Score` for generators that write notes
    #: (its parts become MIDI files beside the stems); ``None`` for audio-only models.
    score: Any | None = None
    #: The clip's sections in play order (``structure`` of the manifest): ``[{"name", "bar", "bars", "start_s",
    #: "end_s"}]`` with ``bar`` counted from the clip start (0 = the lead-in's first bar); empty when unknown.
    structure: list[dict[str, Any]] = field(default_factory=list)


class Generator:
    """Base class: subclasses set ``name`` and implement :meth:`generate`."""

    name: ClassVar[str] = ""
    sample_rate: ClassVar[int] = 48_000

    @classmethod
    def unavailable_reason(cls, config: Config) -> str | None:
        return None

    @classmethod
    def from_config(cls, config: Config, **options: Any) -> Generator:
        return cls(**options)

    def generate(self, request: GenerateRequest, *, progress: ProgressFn | None = None) -> GeneratedClip:
        raise NotImplementedError
