"""Heal jobs: enqueue, render in Antidote's HealingJob shape, locate their files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sanitas.datasets.branches import visible_dataset
from sanitas.datasets.files import MEDIA_TYPES
from sanitas.datasets.tables import Dataset
from sanitas.errors import NotFound
from sanitas.heal.detectors.contract import request_flags
from sanitas.heal.schemas import HealRequest
from sanitas.jobs import service as jobs
from sanitas.jobs.schemas import duration
from sanitas.jobs.tables import Job
from sanitas.timeutil import iso

KIND = "heal"
STATUS = {
    "queued": "queued",
    "running": "running",
    "succeeded": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
}
FILES = {
    "manifest.jsonl": "application/x-ndjson",
    "scores.jsonl": "application/x-ndjson",
    "report.html": "text/html; charset=utf-8",
}


def start_heal(*, session: Session, dataset: Dataset, body: HealRequest) -> Job:
    """Enqueue a heal of the dataset's active branch (as it is now)."""
    payload = {
        "dataset_id": dataset.id,
        "dataset_name": dataset.name,
        "branch_id": dataset.active_branch_id,
        "target": body.target,
        "activate": body.activate,
        "dry_run": body.dry_run,
        "branch_name": body.branch_name,
        "options": body.options(),
    }
    return jobs.enqueue(
        session=session, kind=KIND, project=dataset.project, dataset_id=dataset.id, payload=payload
    )


def get_heal(*, session: Session, job_id: str, allowed: Any) -> Job:
    """A heal job the caller may see."""
    job = jobs.get_job(session=session, job_id=job_id, kind=KIND)
    if not allowed(job.project):
        raise NotFound(f"healing job {job_id} not found", code="JOB_NOT_FOUND")
    return job


def get_heal_with_dataset(*, session: Session, job_id: str, allowed: Any) -> tuple[Job, Dataset]:
    """A heal job the caller may see, with its dataset; a job of a deleted dataset is gone too."""
    job = get_heal(session=session, job_id=job_id, allowed=allowed)
    try:
        dataset = visible_dataset(session=session, dataset_id=job.dataset_id or "", allowed=allowed)
    except NotFound:
        # What a heal derived from a dataset (manifests with entity spans, scores) leaves with it.
        raise NotFound(f"healing job {job_id} not found", code="JOB_NOT_FOUND") from None
    return job, dataset


def render_heal(job: Job, *, active_branch_id: str | None = None) -> dict[str, Any]:
    """Antidote's HealingJob object.

    ``activated`` says whether the job's branch is the dataset's active branch: true when it was
    activated on creation or later, false again after another branch was activated.
    """
    p, r = job.payload, job.result or {}
    created = r.get("created_branch_id")
    activated = created is not None and created == active_branch_id
    opts = p["options"]
    secs = duration(job)
    return {
        "id": job.id,
        "dataset_id": p["dataset_id"],
        "status": STATUS[job.status],
        "progress": int(job.progress),
        **{flag.name: bool(opts.get(flag.name, flag.default)) for _, flag in request_flags()},
        "created_at": iso(job.created_at),
        "message": job.error if job.status == "failed" else job.message,
        "off_topic_score_min": opts["off_topic_score_min"],
        "off_topic_score_max": opts["off_topic_score_max"],
        "output_filename": r.get("output_filename"),
        "manifest": r.get("manifest", {}),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "duration_seconds": secs,
        "target": p["target"],
        "activated": activated,
        "created_branch_id": r.get("created_branch_id"),
        "created_branch_name": r.get("created_branch_name"),
        "phase": job.phase,
    }


def job_file(job: Job, name: str) -> Path:
    """One of a finished heal job's files (manifest, scores, report, healed download)."""
    if job.status != "succeeded":
        raise NotFound(
            f"healing job {job.id} has no {name} (status {STATUS[job.status]})", code="FILE_NOT_FOUND"
        )
    files = (job.result or {}).get("files", {})
    path = files.get(name)
    if not path or not Path(path).exists():
        raise NotFound(f"healing job {job.id} has no {name}", code="FILE_NOT_FOUND")
    return Path(path)


def download_name(job: Job) -> tuple[str, str]:
    """The healed file's download name and media type (the format the dataset was imported in)."""
    r = job.result or {}
    fmt = r.get("format", "jsonl")
    name = r.get("filename") or f"{job.payload.get('dataset_name', 'dataset')}-healed.{fmt}"
    return name, MEDIA_TYPES.get(fmt, "application/octet-stream")
