"""Generic job routes (export jobs; heal and anonymization have their own families)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from sanitas.api.deps import DB, Reader, Writer, check_project, visible_projects
from sanitas.jobs import service
from sanitas.jobs.schemas import render_job

router = APIRouter(tags=["jobs"])


@router.get("/api/jobs")
def list_jobs(
    db: DB,
    who: Reader,
    kind: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Jobs the key can see, newest first."""
    with db.read() as s:
        return {
            "jobs": [
                render_job(j) for j in service.list_jobs(session=s, projects=visible_projects(who), kind=kind)
            ]
        }


@router.get("/api/jobs/{job_id}")
def get_job(job_id: str, db: DB, who: Reader) -> dict[str, Any]:
    """One job."""
    with db.read() as s:
        job = service.get_job(session=s, job_id=job_id)
        check_project(who, job.project, "job")
        return render_job(job)


@router.post("/api/jobs/{job_id}/cancel")
def cancel_job(job_id: str, db: DB, who: Writer) -> dict[str, Any]:
    """Cancel a job (queued: at once; running: at its next heartbeat)."""
    with db.write() as s:
        job = service.get_job(session=s, job_id=job_id)
        check_project(who, job.project, "job")
        return render_job(service.request_cancel(session=s, job=job))
