"""The crash test in CI time: a few kill -9 cycles of the daemon and its workers during bursts of jobs.

``python -m tests.server.crash_cycles --cycles N`` runs as many as you like.
"""

from __future__ import annotations

from pathlib import Path

from tests.server.crash_cycles import run


def test_kill_9_cycles_lose_nothing_duplicate_nothing_and_every_job_ends_once_said(tmp_path: Path) -> None:
    lines: list[str] = []
    tally = run(3, seed=11, burst=24, root=tmp_path / "crash", drain_s=30.0, log=lines.append)
    print(lines[0])
    assert tally.accepted == tally.sent > 0, lines[0]
    assert tally.done > 0 and tally.failed > 0, lines[0]
    assert (tally.lost, tally.duplicated, tally.end_event_missing, tally.end_event_duplicated,
            tally.end_event_wrong, tally.staging_left, tally.unfinished) == (0, 0, 0, 0, 0, 0, 0), lines[0]
