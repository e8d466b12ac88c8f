"""Another seed writes other parts (tempo and key at seed 1 are checked in test_accuracy.py)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.slow
def test_another_seed_gives_other_parts(rendered, rendered_other_seed) -> None:
    for case_id, r0 in rendered.items():
        r1 = rendered_other_seed[case_id]
        a, b = r0.mix.samples, r1.mix.samples
        n = min(a.shape[1], b.shape[1])
        difference = np.sum((a[:, :n] - b[:, :n]) ** 2) / np.sum(a[:, :n] ** 2)
        assert difference > 0.01, f"{case_id}: seed 0 and seed 1 sound the same"
