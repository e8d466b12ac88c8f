"""A test generator that has every edit task and keeps the source: the edit API's writing path, without a model.

``repaint``, ``cover``, ``lego`` and ``extract`` return the source's stems (or its mix as ``other``)
unchanged; ``extend`` returns ``duration_s`` of silence. Registered as ``keeper`` by the tests' fixture.
"""

from __future__ import annotations

import numpy as np

from mage_bridge.audio import Audio, seconds_to_frames
from mage_bridge.generate.base import EDIT_TASKS, EditRequest, GeneratedClip, Generator
from mage_bridge.progress import ProgressFn


class KeeperGenerator(Generator):
    name = "keeper"
    tasks = frozenset(EDIT_TASKS)

    def edit(self, request: EditRequest, *, progress: ProgressFn | None = None) -> GeneratedClip:
        rate = request.source.sample_rate
        if request.task == "extend":
            silence = Audio(np.zeros((2, seconds_to_frames(request.duration_s, rate)), np.float32), rate)
            stems = {"other": silence}
        else:
            stems = dict(request.stems) if request.stems else {"other": request.source}
        return GeneratedClip(stems=stems, details={"task": request.task, "track": request.track})
