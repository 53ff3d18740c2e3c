"""The native job object as the API, the CLI and the other domains show it."""

from __future__ import annotations

from typing import Any

from sanitas.jobs.tables import Job
from sanitas.timeutil import as_utc, iso, utcnow


def duration(job: Job) -> float | None:
    """Seconds from start to finish (or to now while running)."""
    if job.started_at is None:
        return None
    end = as_utc(job.finished_at) if job.finished_at else utcnow()
    return round((end - as_utc(job.started_at)).total_seconds(), 3)


def render_job(job: Job) -> dict[str, Any]:
    """The native job object."""
    return {
        "id": job.id,
        "kind": job.kind,
        "project": job.project,
        "dataset_id": job.dataset_id,
        "status": job.status,
        "progress": round(job.progress, 1),
        "phase": job.phase,
        "message": job.message,
        "error": job.error,
        "attempts": job.attempts,
        "result": job.result,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "duration_seconds": duration(job),
    }
