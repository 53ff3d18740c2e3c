"""Antidote routes: start, read, list, cancel heal jobs and fetch their files; review their changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import FileResponse
from pydantic import ValidationError

from sanitas.api.deps import DB, Reader, Writer
from sanitas.auth.service import Principal
from sanitas.datasets.branches import visible_dataset
from sanitas.db import Database
from sanitas.errors import InvalidInput
from sanitas.heal import review, review_apply, service
from sanitas.heal.review_schemas import (
    ActionName,
    ApplyRequest,
    BulkDecision,
    ChangeDecision,
    ChangeFilter,
    DecisionFilter,
    SortName,
)
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


# Review: every change of a succeeded job, decided one by one or by filter, published as a new branch.
Checks = Annotated[list[str] | None, Query(description="check names (repeatable)")]
Actions = Annotated[list[ActionName] | None, Query(description="actions (repeatable)")]
Score = Annotated[float | None, Query(ge=0.0, le=1.0)]


def _filter(**fields: Any) -> ChangeFilter:
    """The query's filter; what FastAPI's parsing cannot check (check names, min above max) is a 422
    naming the field."""
    try:
        return ChangeFilter.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = str(err["loc"][0]) if err.get("loc") else "query"
        raise InvalidInput(f"{where}: {err['msg'].removeprefix('Value error, ')}", field=where) from None


@router.get("/api/healing/{job_id}/changes")
def list_changes(
    job_id: str,
    db: DB,
    who: Reader,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    check: Checks = None,
    action: Actions = None,
    score_min: Score = None,
    score_max: Score = None,
    decision: DecisionFilter | None = None,
    sort: SortName = "score_desc",
) -> dict[str, Any]:
    """A page of the job's changed and flagged rows, filtered and sorted; ``next_cursor`` continues."""
    flt = _filter(check=check, action=action, score_min=score_min, score_max=score_max, decision=decision)
    with db.read() as s:
        job, ds = service.get_heal_with_dataset(session=s, job_id=job_id, allowed=who.can_see)
        return review.list_changes(
            session=s, job=job, dataset=ds, flt=flt, sort=sort, limit=limit, cursor=cursor
        )


@router.get("/api/healing/{job_id}/changes/summary")
def changes_summary(job_id: str, db: DB, who: Reader) -> dict[str, Any]:
    """Counts by check, action and decision, each check's score histogram over every row, thresholds."""
    with db.read() as s:
        job, ds = service.get_heal_with_dataset(session=s, job_id=job_id, allowed=who.can_see)
        return review.summary(session=s, job=job, dataset=ds)


@router.post("/api/healing/{job_id}/changes/decisions")
def decide_many(job_id: str, body: BulkDecision, db: DB, who: Writer) -> dict[str, Any]:
    """One decision (or ``null``: none) for every change the filter matches."""
    with db.write() as s:
        job, ds = service.get_heal_with_dataset(session=s, job_id=job_id, allowed=who.can_see)
        return review_apply.decide_many(session=s, job=job, dataset=ds, body=body, actor=who.actor)


@router.patch("/api/healing/{job_id}/changes/{row_id:path}")
def decide_one(job_id: str, row_id: str, body: ChangeDecision, db: DB, who: Writer) -> dict[str, Any]:
    """Accept or reject one change (``null`` clears), optionally with another label; returns the change."""
    with db.write() as s:
        job, ds = service.get_heal_with_dataset(session=s, job_id=job_id, allowed=who.can_see)
        return review_apply.decide_one(
            session=s, job=job, dataset=ds, row_id=row_id, body=body, actor=who.actor
        )


# Every field has a default, so an empty body applies the decisions as they stand.
OptionalApply = Annotated[ApplyRequest | None, Body()]


@router.post("/api/healing/{job_id}/apply")
def apply_review(job_id: str, db: DB, who: Writer, body: OptionalApply = None) -> dict[str, Any]:
    """Publish a new branch holding only the accepted changes (and undecided ones when asked)."""
    with db.write() as s:
        job, ds = service.get_heal_with_dataset(session=s, job_id=job_id, allowed=who.can_see)
        return review_apply.apply_review(
            session=s, job=job, dataset=ds, body=body or ApplyRequest(), actor=who.actor
        )


@router.get("/api/datasets/{dataset_id}/branches/{branch_id}/manifest")
def branch_manifest(dataset_id: str, branch_id: str, db: DB, who: Reader) -> dict[str, Any]:
    """The decisions a review-published branch was built from: row, action, decision, who and when."""
    with db.read() as s:
        ds = visible_dataset(session=s, dataset_id=dataset_id, allowed=who.can_see)
        return review_apply.branch_manifest(session=s, dataset=ds, branch_ref=branch_id)
