"""The progress callback every long job takes, and the four stems every clip has.

``progress(stage, fraction)`` is called with a short stage name (``"render"``,
``"separate"``, ``"limit"``...) and how much of that stage is done, 0.0-1.0. It
must be cheap: jobs call it from their inner loops. The CLI draws it as a bar,
the daemon turns it into ``/mage/job/progress`` events.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[str, float], None]

#: The stems of a clip, in the order manifests, folders and DAW tracks list them.
STEM_NAMES: tuple[str, ...] = ("vocals", "drums", "bass", "other")


def no_progress(stage: str, fraction: float) -> None:
    """The callback for callers that do not watch."""
