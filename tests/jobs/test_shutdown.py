"""A worker that shuts down gives its running job back to the queue: no frozen lease, no attempt lost.

The last test sends a real SIGTERM to a real ``sanitas worker`` in the middle of an export.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs import service as jobs
from sanitas.jobs.tables import Job
from sanitas.jobs.worker import Worker, shutdown_workers
from tests.jobs.helpers import BIG_EXPORT_ROWS, GATES, TEST_KINDS, bulk_dataset
from tests.jobs.test_kill import job_state, start_worker, wait_for
from tests.jobs.test_worker import add, state, wait


@pytest.fixture()
def running() -> Iterator[list[threading.Thread]]:
    """Worker threads started by a test; their gates are opened and they are joined at teardown."""
    threads: list[threading.Thread] = []
    yield threads
    for gate in GATES.values():
        gate.set()
    for t in threads:
        t.join(timeout=10)


def _start(worker: Worker, threads: list[threading.Thread]) -> None:
    t = threading.Thread(target=worker.run_forever, daemon=True)
    t.start()
    threads.append(t)


def _max_attempts(db: Database, job_id: str) -> int:
    with db.read() as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job.max_attempts


def test_shutdown_releases_a_job_that_stops_at_its_next_check(
    db: Database, settings: Settings, running: list[threading.Thread]
) -> None:
    worker = Worker(db=db, settings=settings, worker_id="w1", kinds=TEST_KINDS)
    job_id = add(db, "test.gate")
    GATES[job_id] = threading.Event()
    _start(worker, running)
    wait(db, job_id, lambda s: s["phase"] == "halfway")
    assert shutdown_workers([worker], grace=10) == [job_id]
    running[0].join(timeout=10)
    assert not running[0].is_alive()  # the worker loop ended too
    st = state(db, job_id)
    assert (st["status"], st["worker_id"], st["attempts"]) == ("queued", None, 1), st
    assert "shut down" in st["message"]
    # The attempt is not held against the job: three real attempts remain.
    assert _max_attempts(db, job_id) == 4
    GATES[job_id].set()
    other = Worker(db=db, settings=settings, worker_id="w2", kinds=TEST_KINDS)
    assert other.run_once(job_id=job_id)
    st = state(db, job_id)
    assert (st["status"], st["attempts"], st["result"]) == ("succeeded", 2, {"released": True})


def test_a_job_that_ignores_the_stop_is_released_after_the_grace_period(
    db: Database, settings: Settings, running: list[threading.Thread]
) -> None:
    worker = Worker(db=db, settings=settings, worker_id="w1", kinds=TEST_KINDS)
    job_id = add(db, "test.stubborn")
    GATES[job_id] = threading.Event()
    _start(worker, running)
    wait(db, job_id, lambda s: s["phase"] == "stubborn")
    started = time.monotonic()
    assert shutdown_workers([worker], grace=0.5) == [job_id]
    assert time.monotonic() - started < 5
    assert (state(db, job_id)["status"], state(db, job_id)["worker_id"]) == ("queued", None)
    # When the stubborn job finally returns, it no longer owns the job: nothing is published.
    GATES[job_id].set()
    running[0].join(timeout=10)
    st = state(db, job_id)
    assert (st["status"], st["result"]) == ("queued", None)
    folder = settings.files_dir / "jobs" / job_id
    assert list(folder.iterdir()) == []  # its partial file went with it


def test_a_job_claimed_while_stopping_is_handed_back_before_it_runs(db: Database, settings: Settings) -> None:
    worker = Worker(db=db, settings=settings, worker_id="w1", kinds=TEST_KINDS)
    job_id = add(db, "test.echo", value=1)
    worker.stop.set()  # the stop arrived between the loop's check and its claim
    assert worker.run_once(job_id=job_id)
    st = state(db, job_id)
    assert (st["status"], st["worker_id"], st["result"]) == ("queued", None, None)


def test_a_job_that_reports_any_stop_as_a_cancel_is_released_not_cancelled(
    db: Database, settings: Settings, running: list[threading.Thread]
) -> None:
    worker = Worker(db=db, settings=settings, worker_id="w1", kinds=TEST_KINDS)
    job_id = add(db, "test.polite")
    _start(worker, running)
    wait(db, job_id, lambda s: s["phase"] == "polite")
    shutdown_workers([worker], grace=10)
    st = state(db, job_id)
    assert (st["status"], st["worker_id"]) == ("queued", None), st


def test_a_cancel_is_still_a_cancel_during_shutdown(
    db: Database, settings: Settings, running: list[threading.Thread]
) -> None:
    worker = Worker(db=db, settings=settings, worker_id="w1", kinds=TEST_KINDS)
    job_id = add(db, "test.gate")
    GATES[job_id] = threading.Event()
    _start(worker, running)
    wait(db, job_id, lambda s: s["phase"] == "halfway")
    with db.write() as s:
        jobs.request_cancel(session=s, job=jobs.get_job(session=s, job_id=job_id))
    wait(db, job_id, lambda s: s["status"] == "cancelled")
    shutdown_workers([worker], grace=1)
    assert state(db, job_id)["status"] == "cancelled"


@pytest.mark.slow
def test_sigterm_of_a_real_worker_releases_its_job(db: Database, settings: Settings, tmp_path: Path) -> None:
    dataset_id = bulk_dataset(db, project="acme", name="big", n=BIG_EXPORT_ROWS)
    with db.write() as s:
        job_id = jobs.enqueue(
            session=s,
            kind="export",
            project="acme",
            dataset_id=dataset_id,
            payload={"dataset_id": dataset_id, "format": "jsonl", "batch_size": 40},
        ).id
    log = tmp_path / "worker.log"
    proc = start_worker(settings, log)
    try:
        wait_for(
            db,
            job_id,
            lambda st: st["status"] == "running" and 2 <= st["progress"] <= 90,
            "the export to be under way",
            timeout=120,
            proc=proc,
        )
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, log.read_text()[-3000:]
    st = job_state(db, job_id)
    # Released at once: claimable now, not after a lease period; the attempt was not spent.
    assert (st["status"], st["worker_id"], st["attempts"]) == ("queued", None, 1), st
    assert _max_attempts(db, job_id) == 4
    folder = settings.files_dir / "jobs" / job_id
    assert [p.name for p in folder.iterdir()] == []
    assert "released 1 running job" in log.read_text()
    finisher = Worker(db=db, settings=settings, worker_id="w2", kinds=["export"])
    assert finisher.run_once(job_id=job_id)
    done = job_state(db, job_id)
    assert (done["status"], done["attempts"], done["result"]["rows"]) == ("succeeded", 2, BIG_EXPORT_ROWS)
    assert sorted(p.name for p in folder.iterdir()) == ["export.jsonl"]


def test_the_app_releases_its_workers_job_however_it_was_started(db: Database, settings: Settings) -> None:
    """An app served by plain uvicorn (not ``sanitas serve``) gives its running job back at shutdown too."""
    from fastapi.testclient import TestClient

    from sanitas.api.app import create_app

    job_id = add(db, "test.gate")
    GATES[job_id] = threading.Event()
    app = create_app(settings, db=db, auth=False, workers=1)
    try:
        with TestClient(app):
            wait(db, job_id, lambda s: s["phase"] == "halfway")
        assert app.state.released == [job_id]
        st = state(db, job_id)
        assert (st["status"], st["worker_id"]) == ("queued", None), st
    finally:
        GATES[job_id].set()


def _interrupted(ctx: object) -> dict[str, object]:
    raise KeyboardInterrupt


def test_ctrl_c_of_a_foreground_run_hands_the_job_back(db: Database, settings: Settings) -> None:
    """``sanitas datasets export`` runs its job in the foreground: Ctrl-C must not leave it leased."""
    from sanitas.jobs.registry import KINDS, JobKind, register

    if "test.ctrl_c" not in KINDS:
        register(JobKind(name="test.ctrl_c", run=_interrupted))  # type: ignore[arg-type]
    job_id = add(db, "test.ctrl_c")
    worker = Worker(db=db, settings=settings, worker_id="fg", kinds=["test.ctrl_c"])
    with pytest.raises(KeyboardInterrupt):
        worker.run_once(job_id=job_id)
    st = state(db, job_id)
    assert (st["status"], st["worker_id"]) == ("queued", None), st
