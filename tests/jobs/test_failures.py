"""Permanent errors fail at once with their reason; failed and killed attempts leave no temporary files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs import service as jobs
from sanitas.jobs.context import remove_attempt_files
from sanitas.jobs.failures import permanent_reason
from sanitas.jobs.worker import Worker
from tests.jobs.helpers import TEST_KINDS
from tests.jobs.test_worker import add, state


@pytest.fixture()
def worker(db: Database, settings: Settings) -> Worker:
    """A worker of the test kinds."""
    return Worker(db=db, settings=settings, worker_id="tw", kinds=TEST_KINDS)


def _leftovers(settings: Settings, job_id: str) -> list[str]:
    folder = settings.files_dir / "jobs" / job_id
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("error", "needle"),
    [
        ("read-only", "Read-only file system"),
        ("no-space", "No space left on device"),
        ("permission", "Permission denied"),
        ("bad-config", "LlmNotConfiguredError"),
    ],
)
def test_a_permanent_error_fails_at_once_with_its_reason(
    db: Database, worker: Worker, settings: Settings, error: str, needle: str
) -> None:
    job_id = add(db, "test.fail", value=error)
    assert worker.run_once(job_id=job_id)
    st = state(db, job_id)
    assert (st["status"], st["attempts"]) == ("failed", 1), st
    assert needle in st["error"] and st["message"] == st["error"]
    assert not worker.run_once(job_id=job_id)  # nothing left to retry
    assert _leftovers(settings, job_id) == []  # the failed attempt's partial file is gone


@pytest.mark.parametrize("error", ["io-error", "connection"])
def test_a_transient_error_is_retried_and_no_attempt_leaves_a_file(
    db: Database, worker: Worker, settings: Settings, error: str
) -> None:
    job_id = add(db, "test.fail", value=error)
    runs = 0
    while worker.run_once(job_id=job_id):
        runs += 1
        assert _leftovers(settings, job_id) == []
    st = state(db, job_id)
    assert (runs, st["status"], st["attempts"]) == (3, "failed", 3)


def test_the_next_attempt_removes_what_a_killed_one_left(
    db: Database, worker: Worker, settings: Settings
) -> None:
    job_id = add(db, "test.echo", value=1)
    # A worker killed during attempt 1 and 2 left its partial outputs; the finished files stay.
    folder = settings.files_dir / "jobs" / job_id
    folder.mkdir(parents=True)
    for name in (".out.jsonl.attempt1", ".anonymized.zip.attempt2", "out.jsonl", "report.html"):
        (folder / name).write_bytes(b"partial")
    with db.write() as s:
        jobs.get_job(session=s, job_id=job_id).attempts = 2
    assert worker.run_once(job_id=job_id)
    assert state(db, job_id)["status"] == "succeeded"
    assert _leftovers(settings, job_id) == ["out.jsonl", "report.html"]


def test_remove_attempt_files_spares_newer_attempts_and_other_names(tmp_path: Path) -> None:
    for name in (".a.attempt1", ".a.attempt3", ".b.attempt2", "a.attempt1", ".a.attempt", ".a.attemptx"):
        (tmp_path / name).write_bytes(b"")
    assert remove_attempt_files(tmp_path, before=3) == 2
    assert remove_attempt_files(tmp_path, attempt=3) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".a.attempt", ".a.attemptx", "a.attempt1"]
    assert remove_attempt_files(tmp_path / "missing", before=9) == 0


def test_a_full_sqlite_database_is_a_permanent_error(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'full.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x TEXT)"))
        with pytest.raises(OperationalError) as caught, engine.begin() as conn:
            # The page limit makes the database as full as a full disk would.
            conn.execute(text("PRAGMA max_page_count = 3"))
            for _ in range(50):
                conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": "y" * 4000})
    finally:
        engine.dispose()
    assert isinstance(caught.value.orig, sqlite3.OperationalError)
    assert permanent_reason(caught.value) == "the database or its disk is full"


def test_transient_errors_have_no_permanent_reason() -> None:
    assert permanent_reason(RuntimeError("boom")) is None
    assert permanent_reason(TimeoutError()) is None
    assert permanent_reason(ConnectionResetError(104, "Connection reset by peer")) is None
    # Wrapped: the cause decides.
    try:
        try:
            raise OSError(28, "No space left on device")
        except OSError as exc:
            raise RuntimeError("could not write the report") from exc
    except RuntimeError as wrapped:
        assert permanent_reason(wrapped) == "no space left on the device"
