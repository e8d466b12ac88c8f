"""Generated clips measure as requested: tempo, key, format, gain staging, a lead-out that rings out."""

from __future__ import annotations

import numpy as np
import pytest

from mage_bridge.effects.loudness import integrated_loudness, true_peak_dbtp
from mage_bridge.generate.mix import CEILING_DBTP, TARGET_LUFS
from mage_bridge.music import same_key

from .cases import CASES

IDS = [c.id for c in CASES]


@pytest.mark.slow
@pytest.mark.parametrize("case_id", IDS)
def test_format_gain_and_lead_out(rendered, case_id: str) -> None:
    r = rendered[case_id]
    m = r.mix
    assert m.sample_rate == 48_000 and m.channels == 2
    assert m.frames == round(32.0 * 48_000)
    assert set(r.stems) <= {"drums", "bass", "other"} and "vocals" not in r.stems
    assert ("drums" in r.stems) == r.case.has_drums
    for stem in r.stems.values():
        assert stem.sample_rate == 48_000 and stem.channels == 2 and stem.frames == m.frames
    total = np.sum([s.samples.astype(np.float64) for s in r.stems.values()], axis=0)
    residual = total - m.samples.astype(np.float64)
    residual_db = 10 * np.log10(np.sum(residual**2) / np.sum(total**2) + 1e-30)
    assert residual_db < -60.0
    assert true_peak_dbtp(m) <= CEILING_DBTP
    assert abs(integrated_loudness(m) - TARGET_LUFS) <= 0.5  # levelled to the target, not left quiet
    tail = np.abs(m.samples[:, -4800:]).max()
    assert 20 * np.log10(tail + 1e-12) < -60.0
    assert r.details["tail_peak_dbfs_before_fade"] is None or r.details["tail_peak_dbfs_before_fade"] < -60.0
    first_body_frame = round(r.details["lead_in_s"] * 48_000)
    assert abs(r.details["lead_in_s"] - r.details["bar_s"]) < 1e-5
    assert np.abs(m.samples[:, :first_body_frame]).max() > 10 ** (-40 / 20)  # the lead-in is music


# Users get random seeds: accuracy is checked at seed 0 and at seed 1 (the sweep benchmark covers 0-5).
SEEDS = pytest.mark.parametrize("clips", ["rendered", "rendered_other_seed"], ids=["seed0", "seed1"])


@pytest.mark.slow
@SEEDS
@pytest.mark.parametrize("case_id", [c.id for c in CASES if c.has_drums])
def test_tempo_measures_as_requested(request, clips: str, case_id: str) -> None:
    r = request.getfixturevalue(clips)[case_id]
    assert abs(r.bpm / r.case.bpm - 1.0) <= 0.02, f"asked {r.case.bpm} BPM, measured {r.bpm:.2f}"


@pytest.mark.slow
@SEEDS
def test_key_measures_as_requested_in_nine_of_ten(request, clips: str) -> None:
    results = list(request.getfixturevalue(clips).values())
    misses = [f"{r.case.id}: asked {r.case.key} {r.case.mode}, got {r.tonic} {r.mode}"
              for r in results if not same_key(r.tonic, r.mode, r.case.key, r.case.mode)]
    assert len(misses) <= 0.1 * len(results), misses


def test_cases_cover_genres_metres_and_keys() -> None:
    metres = {c.time_signature for c in CASES}
    assert {(4, 4), (3, 4), (6, 8), (12, 8)} <= metres
    assert len(CASES) >= 20
    assert {c.mode for c in CASES} == {"major", "minor"}
    assert any("#" in c.key for c in CASES) and any("b" in c.key for c in CASES)
    assert sum(not c.has_drums for c in CASES) >= 2
