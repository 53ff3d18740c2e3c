"""Acceptance: a real ``sanitas worker`` killed with SIGKILL mid-export; another finishes the job once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from sanitas.config import Settings
from sanitas.datasets import branches
from sanitas.datasets.files import simple_record
from sanitas.datasets.service import get_dataset_by_id
from sanitas.db import Database
from sanitas.jobs import service as jobs
from tests.jobs.helpers import bulk_dataset, label_of, text_of

N_COMMENTS = 100_000
LEASE_SECONDS = 2


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """A ``sanitas worker`` process on the test's database and home."""
    env = {
        **os.environ,
        "SANITAS_HOME": str(settings.home),
        "SANITAS_DATABASE_URL": settings.database_url,
        "SANITAS_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "SANITAS_SECRET_KEY": "test-secret",
        "HF_HUB_OFFLINE": "1",
    }
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "sanitas.cli.main", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def job_state(db: Database, job_id: str) -> dict[str, Any]:
    """The job's status, attempts, progress and worker."""
    with db.read() as s:
        job = jobs.get_job(session=s, job_id=job_id)
        return {
            "status": job.status,
            "attempts": job.attempts,
            "progress": job.progress,
            "worker_id": job.worker_id,
            "result": job.result,
            "error": job.error,
        }


def wait_for(
    db: Database, job_id: str, ok: Any, what: str, timeout: float, proc: Any = None
) -> dict[str, Any]:
    """Poll the job until ``ok(state)``; fails with the last state after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    state = job_state(db, job_id)
    while time.monotonic() < end:
        state = job_state(db, job_id)
        if ok(state):
            return state
        if state["status"] in jobs.FINAL:
            pytest.fail(f"the job ended before {what}: {state}")
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"worker exited with {proc.returncode} while waiting for {what}; job: {state}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}; job: {state}")


@pytest.mark.slow
def test_worker_killed_mid_export_job_completes_exactly_once(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    dataset_id = bulk_dataset(db, project="acme", name="big", n=N_COMMENTS)
    with db.write() as s:
        job = jobs.enqueue(
            session=s,
            kind="export",
            project="acme",
            dataset_id=dataset_id,
            # Small batches make the export long enough (and its progress fine-grained enough) to kill
            # the worker in the middle.
            payload={"dataset_id": dataset_id, "format": "jsonl", "batch_size": 40},
        )
        job_id = job.id
    log = tmp_path / "workers.log"
    first = start_worker(settings, log)
    try:
        mid = wait_for(
            db,
            job_id,
            lambda st: st["status"] == "running" and 5 <= st["progress"] <= 90,
            "progress between 5% and 90%",
            timeout=120,
            proc=first,
        )
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    killed = job_state(db, job_id)
    assert killed["status"] == "running" and killed["attempts"] == 1, killed
    assert killed["progress"] < 100, (mid, killed)

    second = start_worker(settings, log)
    try:
        done = wait_for(
            db, job_id, lambda st: st["status"] in jobs.FINAL, "the job to finish", timeout=180, proc=second
        )
        # The second worker keeps running: nothing may pick the job up a third time.
        time.sleep(LEASE_SECONDS + 1)
        assert job_state(db, job_id) == done
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=20)
        except subprocess.TimeoutExpired:
            second.kill()
            second.wait()

    assert second.returncode == 0  # SIGTERM stops a worker cleanly
    assert done["status"] == "succeeded", (done, log.read_text()[-3000:])
    assert done["attempts"] == 2
    assert done["worker_id"] != mid["worker_id"]
    out_dir = settings.files_dir / "jobs" / job_id
    assert sorted(p.name for p in out_dir.iterdir()) == ["export.jsonl"]
    assert Path(done["result"]["path"]) == out_dir / "export.jsonl"
    assert done["result"]["rows"] == N_COMMENTS

    got = [orjson.loads(line) for line in (out_dir / "export.jsonl").read_bytes().splitlines()]
    with db.read() as s:
        ds = get_dataset_by_id(session=s, dataset_id=dataset_id)
        want = [simple_record(r) for batch in branches.iter_rows(session=s, dataset=ds) for r in batch]
    assert len(want) == N_COMMENTS
    assert got == want


def test_the_bulk_fixture_writes_what_an_import_would(db: Database) -> None:
    dataset_id = bulk_dataset(db, project="acme", name="small", n=30)
    with db.read() as s:
        ds = get_dataset_by_id(session=s, dataset_id=dataset_id)
        rows = [r for batch in branches.iter_rows(session=s, dataset=ds) for r in batch]
    assert [(r.id, r.seq, r.text, r.labels) for r in rows] == [
        (f"c{i:07d}", i + 1, text_of(i), label_of(i)) for i in range(30)
    ]
    assert rows[3].body["messages"] == [{"body": {"text": text_of(3)}}]
