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
    """Places are counted per client (an app's address and port, a DAW's id), not per host: two apps on
    one machine are two clients."""
    me, app2 = "osc:127.0.0.1:1", "osc:127.0.0.1:99"
    for i in range(2):
        store.submit("k", {}, req_id=str(i), max_queue=5, max_per_client=2, client=("127.0.0.1", 1), client_key=me)
    with pytest.raises(QueueFullError, match="osc:127.0.0.1:1 already has 2 jobs waiting.*max_queue_per_client=2"):
        store.submit("k", {}, req_id="x", max_queue=5, max_per_client=2, client=("127.0.0.1", 1), client_key=me)
    store.submit("k", {}, req_id="y", max_queue=5, max_per_client=2, client=("127.0.0.1", 99), client_key=app2)
    store.submit("k", {}, req_id="midi", max_queue=5, max_per_client=2)  # no client: MIDI


def test_the_last_places_are_kept_for_daws(store: JobStore) -> None:
    for i in range(6):
        store.submit("k", {}, req_id=f"a{i}", max_queue=8, max_per_client=99, client_key=f"osc:h:{i}", reserve=2)
    with pytest.raises(QueueFullError, match="kept for DAWs"):
        store.submit("k", {}, req_id="b", max_queue=8, max_per_client=99, client_key="osc:h:9", reserve=2)
    for i in range(2):  # a DAW's request has no reserve to respect
        store.submit("k", {}, req_id=f"d{i}", max_queue=8, max_per_client=99, client_key="daw:reaper")
    with pytest.raises(QueueFullError, match="the queue is full"):
        store.submit("k", {}, req_id="d9", max_queue=8, max_per_client=99, client_key="daw:reaper")


def test_a_request_id_is_found_per_client_and_within_a_time(store: JobStore) -> None:
    job = store.submit("k", {}, req_id="r1", max_queue=9, client_key="osc:h:1")
    assert store.find_request("osc:h:1", "r1") == job
    assert store.find_request("osc:h:2", "r1") is None
    assert store.find_request("osc:h:1", "r1", since=job.created + 1) is None
