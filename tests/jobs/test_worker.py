"""The worker loop: results, retries, failures, heartbeat progress, cancel and a lost lease."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import update

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs import service as jobs
from sanitas.jobs.tables import Job
from sanitas.jobs.worker import Worker
from tests.jobs.helpers import GATES, TEST_KINDS


def add(db: Database, kind: str, *, max_attempts: int = 3, value: Any = None) -> str:
    """Enqueue one test job."""
    with db.write() as s:
        return jobs.enqueue(
            session=s, kind=kind, project="acme", payload={"value": value}, max_attempts=max_attempts
        ).id


def state(db: Database, job_id: str) -> dict[str, Any]:
    """The job's public fields."""
    with db.read() as s:
        j = jobs.get_job(session=s, job_id=job_id)
        return {
            "status": j.status,
            "attempts": j.attempts,
            "progress": j.progress,
            "phase": j.phase,
            "message": j.message,
            "error": j.error,
            "result": j.result,
            "worker_id": j.worker_id,
        }


def wait(
    db: Database, job_id: str, ok: Callable[[dict[str, Any]], bool], timeout: float = 20
) -> dict[str, Any]:
    """Poll until ``ok(state)``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        st = state(db, job_id)
        if ok(st):
            return st
        time.sleep(0.05)
    pytest.fail(f"job never reached the expected state: {state(db, job_id)}")


@pytest.fixture()
def worker(db: Database, settings: Settings) -> Worker:
    """A worker of the test kinds (lease 2 s, so heartbeats every 0.5 s)."""
    return Worker(db=db, settings=settings, worker_id="tw", kinds=TEST_KINDS)


@pytest.fixture()
def in_thread(worker: Worker) -> Iterator[Callable[[str], threading.Thread]]:
    """Run ``worker.run_once(job_id=…)`` on a thread; every thread is joined at teardown."""
    threads: list[threading.Thread] = []

    def start(job_id: str) -> threading.Thread:
        t = threading.Thread(target=worker.run_once, kwargs={"job_id": job_id}, daemon=True)
        t.start()
        threads.append(t)
        return t

    yield start
    for gate in GATES.values():
        gate.set()
    for t in threads:
        t.join(timeout=10)


def test_a_job_runs_and_records_its_result(db: Database, worker: Worker) -> None:
    job_id = add(db, "test.echo", value=[1, "two"])
    assert worker.run_once()
    st = state(db, job_id)
    assert st["status"] == "succeeded" and st["progress"] == 100.0 and st["phase"] == "done"
    assert st["result"] == {"echo": [1, "two"], "attempt": 1}
    assert not worker.run_once()  # nothing left


def test_numpy_values_in_a_result_are_stored_as_plain_json(db: Database, worker: Worker) -> None:
    job_id = add(db, "test.numpy")
    assert worker.run_once()
    assert state(db, job_id)["result"] == {"score": 0.25, "count": 3, "hist": [1, 2], "tags": ["a", "b"]}


@pytest.mark.parametrize(
    ("kind", "max_attempts", "runs", "final", "error"),
    [
        ("test.boom", 3, 3, "failed", "RuntimeError: boom on attempt 3"),
        ("test.boom", 2, 2, "failed", "RuntimeError: boom on attempt 2"),
        ("test.boom_no_retry", 3, 1, "failed", "RuntimeError: boom on attempt 1"),
        ("test.refuse", 3, 1, "failed", "the payload names no dataset"),  # a SanitasError is not retried
        ("test.echo", 3, 1, "succeeded", None),
    ],
)
def test_errors_are_retried_up_to_the_limit_then_recorded(
    db: Database, worker: Worker, kind: str, max_attempts: int, runs: int, final: str, error: str | None
) -> None:
    job_id = add(db, kind, max_attempts=max_attempts)
    history = []
    while worker.run_once(job_id=job_id):
        history.append(state(db, job_id)["status"])
    assert history == ["queued"] * (runs - 1) + [final]
    st = state(db, job_id)
    assert st["attempts"] == runs and st["error"] == error
    if final == "failed":
        assert st["message"] == error and st["result"] is None


def test_heartbeat_writes_progress_phase_and_message_while_running(
    db: Database, in_thread: Callable[[str], threading.Thread]
) -> None:
    job_id = add(db, "test.gate")
    GATES[job_id] = threading.Event()
    t = in_thread(job_id)
    st = wait(db, job_id, lambda s: s["phase"] == "halfway")
    assert (st["status"], st["progress"], st["message"]) == ("running", 50.0, "half of the work done")
    with db.read() as s:
        lease1 = s.get(Job, job_id).lease_until  # type: ignore[union-attr]
    wait(db, job_id, lambda _: _lease(db, job_id) != lease1)  # renewed while the job waits
    GATES[job_id].set()
    t.join(timeout=10)
    assert state(db, job_id)["status"] == "succeeded"


def _lease(db: Database, job_id: str) -> Any:
    with db.read() as s:
        return s.get(Job, job_id).lease_until  # type: ignore[union-attr]


def test_cancel_stops_a_running_job_at_its_next_heartbeat(
    db: Database, in_thread: Callable[[str], threading.Thread]
) -> None:
    job_id = add(db, "test.gate")
    GATES[job_id] = threading.Event()
    t = in_thread(job_id)
    wait(db, job_id, lambda s: s["phase"] == "halfway")
    with db.write() as s:
        jobs.request_cancel(session=s, job=jobs.get_job(session=s, job_id=job_id))
    t.join(timeout=10)
    assert not t.is_alive()
    st = state(db, job_id)
    assert (st["status"], st["phase"], st["result"]) == ("cancelled", "cancelled", None)


def test_a_worker_that_lost_its_lease_stops_and_leaves_the_job_to_the_new_owner(
    db: Database, in_thread: Callable[[str], threading.Thread]
) -> None:
    job_id = add(db, "test.gate")
    GATES[job_id] = threading.Event()
    t = in_thread(job_id)
    wait(db, job_id, lambda s: s["phase"] == "halfway")
    with db.write() as s:  # another worker reclaimed the job after our lease looked expired
        s.execute(update(Job).where(Job.id == job_id).values(worker_id="other", attempts=2))
    t.join(timeout=10)
    assert not t.is_alive()
    st = state(db, job_id)
    assert (st["status"], st["worker_id"], st["attempts"], st["result"]) == ("running", "other", 2, None)


def test_two_workers_drain_the_queue_running_each_job_once(db: Database, settings: Settings) -> None:
    ids = [add(db, "test.echo", value=i) for i in range(12)]
    pool = [
        Worker(db=Database(settings.database_url), settings=settings, worker_id=f"p{i}", kinds=TEST_KINDS)
        for i in range(2)
    ]
    threads = [threading.Thread(target=w.run_forever, daemon=True) for w in pool]
    for t in threads:
        t.start()
    try:
        for job_id in ids:
            wait(db, job_id, lambda s: s["status"] == "succeeded")
    finally:
        for w in pool:
            w.stop.set()
        for t in threads:
            t.join(timeout=10)
        for w in pool:
            w.db.dispose()
    states = [state(db, job_id) for job_id in ids]
    assert [s["attempts"] for s in states] == [1] * len(ids)
    assert [s["result"]["echo"] for s in states] == list(range(12))
    assert {s["worker_id"] for s in states} <= {"p0", "p1"}
