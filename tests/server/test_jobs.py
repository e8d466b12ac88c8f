"""The SQLite job queue on its own: ordering, bounds, state changes, crash recovery."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mage_bridge.server.jobs import JobNotFoundError, JobStore, QueueFullError


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    s = JobStore(tmp_path / "jobs.sqlite3")
    yield s
    s.close()


def test_wal_mode_and_fifo_order(store: JobStore, tmp_path: Path) -> None:
    assert sqlite3.connect(tmp_path / "jobs.sqlite3").execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    a = store.submit("generate", {"prompt": "a"}, req_id="1", max_queue=10, client=("127.0.0.1", 5000))
    b = store.submit("generate", {"prompt": "b"}, req_id="2", max_queue=10)
    assert (a.state, a.client, b.client) == ("queued", ("127.0.0.1", 5000), None)
    first = store.claim_next()
    assert first is not None and (first.id, first.state, first.attempts) == (a.id, "running", 1)
    assert store.claim_next().id == b.id  # type: ignore[union-attr]
    assert store.claim_next() is None


def test_queue_bound_counts_waiting_jobs_only(store: JobStore) -> None:
    for i in range(2):
        store.submit("k", {}, req_id=str(i), max_queue=2)
    with pytest.raises(QueueFullError) as e:
        store.submit("k", {}, req_id="x", max_queue=2)
    assert e.value.code == "queue_full"
    store.claim_next()
    store.submit("k", {}, req_id="y", max_queue=2)


def test_finish_fail_cancel(store: JobStore) -> None:
    a, b, c = (store.submit("k", {}, req_id=str(i), max_queue=9) for i in range(3))
    store.claim_next()
    assert store.finish(a.id, "/x/manifest.json").state == "done"
    assert store.fail(b.id, "boom", "it broke").error_code == "boom"
    assert store.cancel(c.id).state == "cancelled"
    assert store.finish(c.id, "late").state == "cancelled"  # a finished job stays finished
    with pytest.raises(JobNotFoundError):
        store.get("nope")


def test_recover_requeues_once_then_fails(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    s = JobStore(path)
    job = s.submit("k", {"n": 1}, req_id="r", max_queue=9)
    s.claim_next()
    s.close()  # the daemon "crashed" with the job running
    s = JobStore(path)
    requeued, failed = s.recover()
    assert [j.id for j in requeued] == [job.id] and not failed
    assert "interrupted" in (s.get(job.id).note or "")
    assert s.claim_next().attempts == 2  # type: ignore[union-attr]
    requeued, failed = s.recover()
    assert not requeued and [j.id for j in failed] == [job.id]
    assert s.get(job.id).error_code == "interrupted"
    s.close()


def test_clean_requeue_keeps_the_retry(store: JobStore) -> None:
    job = store.submit("k", {}, req_id="r", max_queue=9)
    store.claim_next()
    again = store.requeue(job.id, note="stopped", count_attempt=False)
    assert (again.state, again.attempts) == ("queued", 0)


def test_one_client_cannot_fill_the_queue(store: JobStore) -> None:
    me, other = ("127.0.0.1", 1), ("10.0.0.2", 1)
    for i in range(2):
        store.submit("k", {}, req_id=str(i), max_queue=5, max_per_client=2, client=me)
    with pytest.raises(QueueFullError, match="max_queue_per_client=2"):
        store.submit("k", {}, req_id="x", max_queue=5, max_per_client=2, client=("127.0.0.1", 99))
    store.submit("k", {}, req_id="y", max_queue=5, max_per_client=2, client=other)
    store.submit("k", {}, req_id="midi", max_queue=5, max_per_client=2)  # no client: MIDI
