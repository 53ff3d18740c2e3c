"""Durable jobs in a table: enqueue, claim with a lease, heartbeat, finish, fail, cancel.

Claiming uses ``FOR UPDATE SKIP LOCKED`` on PostgreSQL and the single ``BEGIN IMMEDIATE`` writer on
SQLite. A job whose lease expired is claimable again by the same query, so a killed worker's job is
picked up by the next claim without a separate sweeper. A worker that shuts down cleanly does not wait
for that: it releases its job (:func:`release`) so the next claim takes it at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import Session

from sanitas.db import Database
from sanitas.errors import NotFound
from sanitas.jobs.tables import Job
from sanitas.timeutil import utcnow

FINAL = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class ClaimedJob:
    """A detached snapshot of a job a worker now holds."""

    id: str
    kind: str
    project: str
    dataset_id: str | None
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Beat:
    """What a heartbeat learned: the lease is lost, or a cancel was requested."""

    lost: bool
    cancel: bool


def enqueue(
    *,
    session: Session,
    kind: str,
    project: str,
    payload: dict[str, Any],
    dataset_id: str | None = None,
    max_attempts: int | None = None,
    job_id: str | None = None,
) -> Job:
    """Add a queued job with ``max_attempts`` attempts (default: ``SANITAS_JOB_MAX_ATTEMPTS``, else 3)."""
    if max_attempts is None:
        max_attempts = int(session.info.get("job_max_attempts", 3))
    now = utcnow()
    job = Job(
        id=job_id or str(uuid.uuid4()),
        kind=kind,
        project=project,
        dataset_id=dataset_id,
        status="queued",
        payload=payload,
        progress=0.0,
        phase="queued",
        message="waiting for a worker",
        attempts=0,
        max_attempts=max_attempts,
        cancel_requested=False,
        deleted=False,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: str, kind: str | None = None) -> Job:
    """A job by id (optionally of one kind); NotFound otherwise."""
    job = session.get(Job, job_id)
    if job is None or job.deleted or (kind is not None and job.kind != kind):
        raise NotFound(f"job {job_id!r} not found", code="JOB_NOT_FOUND")
    return job


def list_query(
    *, projects: list[str] | None = None, kind: str | None = None, dataset_id: str | None = None
) -> Select[Job]:
    """The query of :func:`list_jobs`, for callers that load fewer columns (or more)."""
    stmt = select(Job).where(Job.deleted.is_(False)).order_by(Job.created_at.desc(), Job.id)
    if projects is not None:
        stmt = stmt.where(Job.project.in_(projects))
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    if dataset_id is not None:
        stmt = stmt.where(Job.dataset_id == dataset_id)
    return stmt


def list_jobs(
    *,
    session: Session,
    projects: list[str] | None = None,
    kind: str | None = None,
    dataset_id: str | None = None,
) -> list[Job]:
    """Jobs newest first, filtered by projects (``None`` = all), kind and dataset."""
    return list(session.scalars(list_query(projects=projects, kind=kind, dataset_id=dataset_id)))


def request_cancel(*, session: Session, job: Job) -> Job:
    """Cancel a queued job at once; ask a running one to stop at its next heartbeat. Final jobs stay."""
    now = utcnow()
    if job.status == "queued":
        job.status, job.phase, job.message, job.finished_at = "cancelled", "cancelled", "cancelled", now
    elif job.status == "running":
        job.cancel_requested = True
        job.message = "cancelling"
    job.updated_at = now
    return job


def claim(
    *, db: Database, worker_id: str, kinds: list[str], lease_seconds: int, job_id: str | None = None
) -> ClaimedJob | None:
    """Take the oldest runnable job (queued, or running with an expired lease) and lease it."""
    now = utcnow()
    with db.write() as s:
        runnable = or_(Job.status == "queued", and_(Job.status == "running", Job.lease_until < now))
        stmt = (
            select(Job)
            .where(runnable, Job.kind.in_(kinds), Job.deleted.is_(False))
            .order_by(Job.created_at, Job.id)
            .limit(8)
        )
        if job_id is not None:
            stmt = stmt.where(Job.id == job_id)
        if not db.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True)
        for job in s.scalars(stmt):
            if job.cancel_requested:
                job.status, job.phase, job.message, job.finished_at = (
                    "cancelled",
                    "cancelled",
                    "cancelled",
                    now,
                )
                continue
            if job.attempts >= job.max_attempts:
                job.status, job.phase, job.finished_at = "failed", "failed", now
                job.error = f"gave up after {job.attempts} attempts; last error: {job.error or 'worker lost'}"
                job.message = job.error
                continue
            job.status, job.worker_id, job.attempts = "running", worker_id, job.attempts + 1
            job.lease_until = now + timedelta(seconds=lease_seconds)
            job.started_at = job.started_at or now
            job.phase, job.message, job.updated_at = "starting", f"attempt {job.attempts}", now
            return ClaimedJob(job.id, job.kind, job.project, job.dataset_id, dict(job.payload), job.attempts)
    return None


def heartbeat(
    *,
    db: Database,
    job_id: str,
    worker_id: str,
    lease_seconds: int,
    progress: float | None = None,
    phase: str | None = None,
    message: str | None = None,
) -> Beat:
    """Renew the lease (and record progress); tells the worker if it lost the job or must cancel."""
    now = utcnow()
    values: dict[str, Any] = {"lease_until": now + timedelta(seconds=lease_seconds), "updated_at": now}
    if progress is not None:
        values["progress"] = max(0.0, min(100.0, float(progress)))
    if phase is not None:
        values["phase"] = phase
    if message is not None:
        values["message"] = message
    with db.write() as s:
        res = s.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == "running")
            .values(**values)
            .returning(Job.cancel_requested)
        ).first()
    if res is None:
        return Beat(lost=True, cancel=False)
    return Beat(lost=False, cancel=bool(res[0]))


def _owned(session: Session, job_id: str, worker_id: str) -> Job | None:
    job = session.get(Job, job_id, with_for_update=not session.bind.dialect.name == "sqlite")  # type: ignore[union-attr]
    if job is None or job.worker_id != worker_id or job.status != "running":
        return None
    return job


def finish(*, session: Session, job_id: str, worker_id: str, result: dict[str, Any]) -> bool:
    """Mark succeeded inside the caller's transaction (which publishes the outputs); False if not ours."""
    job = _owned(session, job_id, worker_id)
    if job is None:
        return False
    now = utcnow()
    job.status, job.result, job.progress, job.phase = "succeeded", result, 100.0, "done"
    job.message = str(result.get("message") or "done")
    job.finished_at, job.updated_at, job.lease_until = now, now, None
    return True


def fail(*, db: Database, job_id: str, worker_id: str, error: str, retry: bool) -> str | None:
    """Record a failure; requeue when retries remain. Returns the new status (None if not ours)."""
    now = utcnow()
    with db.write() as s:
        job = _owned(s, job_id, worker_id)
        if job is None:
            return None
        job.error, job.updated_at, job.lease_until, job.worker_id = error, now, None, None
        if retry and job.attempts < job.max_attempts:
            job.status, job.phase, job.message = "queued", "queued", f"retrying after error: {error}"
        else:
            job.status, job.phase, job.message, job.finished_at = "failed", "failed", error, now
        return job.status


def mark_cancelled(*, db: Database, job_id: str, worker_id: str) -> None:
    """Record that a running job stopped on request."""
    now = utcnow()
    with db.write() as s:
        job = _owned(s, job_id, worker_id)
        if job is not None:
            job.status, job.phase, job.message = "cancelled", "cancelled", "cancelled by request"
            job.finished_at, job.updated_at, job.lease_until = now, now, None


def release(*, db: Database, job_id: str, worker_id: str, reason: str) -> bool:
    """Give a running job back to the queue because its worker is shutting down; False if not ours.

    The attempt is not held against the job (a deploy is not the job's fault): ``max_attempts`` grows
    by one rather than ``attempts`` going back, so attempt numbers (and the temporary file names built
    from them) are never reused by the next worker.
    """
    now = utcnow()
    with db.write() as s:
        job = _owned(s, job_id, worker_id)
        if job is None:
            return False
        job.status, job.phase, job.message = "queued", "queued", f"released: {reason}; waiting for a worker"
        job.worker_id, job.lease_until, job.updated_at = None, None, now
        job.max_attempts += 1
        return True
