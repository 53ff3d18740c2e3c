"""Antidote routes: start, read, list, cancel heal jobs and fetch their files."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import FileResponse

from sanitas.api.deps import DB, Reader, Writer
from sanitas.auth.service import Principal
from sanitas.datasets.branches import visible_dataset
from sanitas.db import Database
from sanitas.heal import service
from sanitas.heal.schemas import HealRequest
from sanitas.jobs import service as jobs

router = APIRouter(tags=["healing"])


# Every field has a default, so Antidote's clients may send no body at all.
OptionalHeal = Annotated[HealRequest | None, Body()]


@router.post("/api/datasets/{dataset_id}/heal")
def start_heal(dataset_id: str, db: DB, who: Writer, body: OptionalHeal = None) -> dict[str, Any]:
    """Start healing the dataset's active branch; poll ``GET /api/healing/{id}``."""
    with db.write() as s:
        ds = visible_dataset(session=s, dataset_id=dataset_id, allowed=who.can_see)
        job = service.start_heal(session=s, dataset=ds, body=body or HealRequest())
        return service.render_heal(job, active_branch_id=ds.active_branch_id)


@router.get("/api/datasets/{dataset_id}/healing")
def list_heals(dataset_id: str, db: DB, who: Reader) -> dict[str, Any]:
    """Heal jobs of a dataset, newest first."""
    with db.read() as s:
        ds = visible_dataset(session=s, dataset_id=dataset_id, allowed=who.can_see)
        rows = jobs.list_jobs(session=s, kind=service.KIND, dataset_id=ds.id)
        return {"jobs": [service.render_heal(j, active_branch_id=ds.active_branch_id) for j in rows]}


@router.get("/api/healing/{job_id}")
def get_heal(job_id: str, db: DB, who: Reader) -> dict[str, Any]:
    """One heal job."""
    with db.read() as s:
        job, ds = service.get_heal_with_dataset(session=s, job_id=job_id, allowed=who.can_see)
        return service.render_heal(job, active_branch_id=ds.active_branch_id)


@router.post("/api/healing/{job_id}/cancel")
def cancel_heal(job_id: str, db: DB, who: Writer) -> dict[str, Any]:
    """Cancel a heal job at any time (a running one stops at its next check; nothing is published)."""
    with db.write() as s:
        job, ds = service.get_heal_with_dataset(session=s, job_id=job_id, allowed=who.can_see)
        return service.render_heal(
            jobs.request_cancel(session=s, job=job), active_branch_id=ds.active_branch_id
        )


def _file(
    db: Database, who: Principal, job_id: str, name: str, media: str, *, inline: bool = False
) -> FileResponse:
    with db.read() as s:
        job, _ = service.get_heal_with_dataset(session=s, job_id=job_id, allowed=who.can_see)
        path = service.job_file(job, name)
    # The report is a page to read in the browser; the data files are downloads.
    disposition = "inline" if inline else "attachment"
    return FileResponse(path, media_type=media, filename=path.name, content_disposition_type=disposition)


@router.get("/api/healing/{job_id}/manifest.jsonl")
def manifest(job_id: str, db: DB, who: Reader) -> FileResponse:
    """One line per changed comment."""
    return _file(db, who, job_id, "manifest.jsonl", "application/x-ndjson")


@router.get("/api/healing/{job_id}/scores.jsonl")
def scores(job_id: str, db: DB, who: Reader) -> FileResponse:
    """One line per comment with every check's score and the suggested label."""
    return _file(db, who, job_id, "scores.jsonl", "application/x-ndjson")


@router.get("/api/healing/{job_id}/report")
def report(job_id: str, db: DB, who: Reader) -> FileResponse:
    """A readable HTML report of what the job found and did."""
    return _file(db, who, job_id, "report.html", "text/html; charset=utf-8", inline=True)


@router.get("/api/healing/{job_id}/download")
def download(job_id: str, db: DB, who: Reader) -> FileResponse:
    """The healed dataset, in the shape and format it was imported in (named ``output_filename``)."""
    with db.read() as s:
        job, _ = service.get_heal_with_dataset(session=s, job_id=job_id, allowed=who.can_see)
        path = service.job_file(job, "download")
        filename, media = service.download_name(job)
    return FileResponse(path, media_type=media, filename=filename)
