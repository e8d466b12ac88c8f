"""The generator interface every generation backend implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.audio import Audio
from mage_bridge.config import Config
from mage_bridge.progress import ProgressFn

if TYPE_CHECKING:  # the lyric modules load with the lyrics, not with every generator
    from mage_bridge.lyrics.timing import SyllableTime

__all__ = ["EDIT_TASKS", "EditRequest", "GenerateRequest", "GeneratedClip", "Generator", "ProgressFn"]

#: The tasks that rework an existing clip (ACE-Step's names; ``extend`` is a repaint of a padded source).
EDIT_TASKS: tuple[str, ...] = ("repaint", "extend", "cover", "lego", "extract")


@dataclass(frozen=True)
class GenerateRequest:
    """What to generate. ``duration_s`` includes the one-bar lead-in and the lead-out."""

    analysis: PromptAnalysis
    seed: int = 0
    duration_s: float = 32.0
    lyrics: str | None = None
    lead_in_bars: int = 1
    #: Every sung syllable of ``lyrics`` timed on the clip's grid (notes not yet written), for a generator
    #: that sings them itself; ``None`` for an instrumental or when the lyrics were not timed.
    sung: tuple[SyllableTime, ...] | None = None


@dataclass(frozen=True)
class EditRequest:
    """Rework an existing clip with one of :data:`EDIT_TASKS`.

    ``source`` is the clip's mix at the generator's rate; ``stems`` its stems when known (a MAGE
    clip), so that what a task keeps stays bit-identical in every stem, not only in the mix.
    ``analysis`` describes the source (its manifest's, or measured from the audio) and carries the
    caption; ``lyrics`` the source's or new ones.

    - ``repaint``: regenerate ``[start_s, end_s)`` (``end_s`` ``None``: to the end); the rest is kept
      and the edges are crossfaded over ``crossfade_s``.
    - ``extend``: a new clip of ``duration_s`` that continues the source ``"after"`` its end (a
      Next/Outro) or leads into its start ``"before"`` it (an Intro/Previous).
    - ``cover``: the source's structure with the caption's style; ``strength`` 1.0 keeps the most.
    - ``lego``: the source plus one generated ``track`` (``"drums"``, ``"bass"``...).
    - ``extract``: the ``track`` taken out of the source.
    """

    task: str
    source: Audio
    analysis: PromptAnalysis
    seed: int = 0
    lyrics: str | None = None
    stems: dict[str, Audio] | None = None
    start_s: float = 0.0
    end_s: float | None = None
    crossfade_s: float = 0.05
    side: str = "after"
    duration_s: float = 0.0
    track: str | None = None
    strength: float = 1.0


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
    #: Which of :data:`EDIT_TASKS` :meth:`edit` can do.
    tasks: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def unavailable_reason(cls, config: Config) -> str | None:
        return None

    @classmethod
    def from_config(cls, config: Config, **options: Any) -> Generator:
        return cls(**options)

    def generate(self, request: GenerateRequest, *, progress: ProgressFn | None = None) -> GeneratedClip:
        raise NotImplementedError

    def edit(self, request: EditRequest, *, progress: ProgressFn | None = None) -> GeneratedClip:
        """Do ``request.task`` (one of :attr:`tasks`) and return the result's stems (same rate)."""
        from mage_bridge.errors import NotSupportedError
        from mage_bridge.generate import backends_for_task

        others = [n for n in backends_for_task(request.task) if n != self.name]
        who = f"the {' or '.join(repr(n) for n in others)} backend can" if others else "no backend here can"
        raise NotSupportedError(f"the {self.name!r} generator cannot {request.task}; {who}")
