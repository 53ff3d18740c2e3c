"""``SANITAS_JOB_MAX_ATTEMPTS`` decides how many attempts a new job gets."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sanitas.api.app import create_app
from sanitas.config import Settings, load_settings
from sanitas.db import Database
from sanitas.jobs import service as jobs
from sanitas.jobs.tables import Job


def _enqueue(db: Database) -> Job:
    with db.write() as s:
        return jobs.enqueue(session=s, kind="export", project="acme", payload={})


def test_without_a_setting_a_job_gets_three_attempts(db: Database) -> None:
    assert _enqueue(db).max_attempts == 3
    with db.write() as s:  # an explicit value wins over any setting
        assert (
            jobs.enqueue(session=s, kind="export", project="a", payload={}, max_attempts=1).max_attempts == 1
        )


def test_the_environment_reaches_jobs_created_over_http(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANITAS_JOB_MAX_ATTEMPTS", "6")
    configured = load_settings(home=settings.home, database_url=settings.database_url, secret_key=b"k")
    with TestClient(create_app(configured, db=db, auth=False)) as client:
        dataset_id = client.put("/api/v1/datasets/acme/chats", json={"dataset": {}}).json()["dataset"]["id"]
        r = client.post(f"/api/datasets/{dataset_id}/exports", json={"format": "jsonl"})
        assert r.status_code in (200, 201, 202), r.text
        job_id = r.json().get("id") or r.json()["job"]["id"]
    with db.read() as s:
        job = s.get(Job, job_id)
        assert job is not None and job.max_attempts == 6
