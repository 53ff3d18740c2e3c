"""Anonymization runs: validate and enqueue, render in Dataframer's shape, locate output files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, defer

from sanitas.anonymization.schemas import RunCreate
from sanitas.config import current
from sanitas.datasets.service import get_dataset_by_id
from sanitas.errors import InvalidInput, NotFound
from sanitas.jobs import service as jobs
from sanitas.jobs.tables import Job
from sanitas.timeutil import as_utc, iso

KIND = "anonymization"
STATUS = {
    "queued": "PENDING",
    "running": "PROCESSING",
    "succeeded": "SUCCEEDED",
    "failed": "FAILED",
    "cancelled": "CANCELLED",
}
STRATEGIES = ("REDACT", "REPLACE", "MASK", "HASH", "FAKE", "ENCRYPT")
# The parts of a run's stored result that a list of runs shows.
SUMMARY_KEYS = ("entity_summary", "samples_processed", "files")


def validate(body: RunCreate) -> dict[str, Any]:
    """Normalise types and method, check the LLM settings and mask_config; returns the job payload."""
    from sanitas.pii.types import UnknownMethodError, UnknownPiiTypeError, normalize_method, normalize_types

    try:
        types = normalize_types(body.pii_types)
    except UnknownPiiTypeError as exc:
        raise InvalidInput(str(exc), field="pii_types") from exc
    try:
        method = normalize_method(body.detection_method)
    except UnknownMethodError as exc:
        raise InvalidInput(str(exc), field="detection_method") from exc
    if "llm" in method or method == "all":
        if not body.llm_model_name:
            raise InvalidInput(
                f"llm_model_name is required when detection_method is {method!r}", field="llm_model_name"
            )
        if not current().llm_base_url:
            raise InvalidInput(
                "the llm detection method is not configured on this server: "
                "set SANITAS_LLM_BASE_URL to an OpenAI-compatible endpoint",
                field="detection_method",
            )
    masks: dict[str, str] = {}
    for key, value in body.mask_config.items():
        try:
            name = normalize_types([key])[0]
        except UnknownPiiTypeError as exc:
            raise InvalidInput(f"mask_config: {exc}", field="mask_config") from exc
        if name not in types:
            raise InvalidInput(
                f"mask_config names {key!r}, which is not among the requested pii_types", field="mask_config"
            )
        if not value:
            raise InvalidInput(
                f"mask_config[{key!r}] is empty; use a literal or one of {', '.join(STRATEGIES)}",
                field="mask_config",
            )
        masks[name] = value
    return {
        "dataset_id": str(body.dataset_id),
        "pii_types": types,
        "detection_method": method,
        "requested_method": body.detection_method,
        "llm_model_name": body.llm_model_name,
        "mask_config": masks,
        "threshold": body.threshold,
    }


def create_run(*, session: Session, body: RunCreate, allowed: Any) -> Job:
    """Validate, check the dataset is visible (``allowed(project)``), and enqueue the run."""
    payload = validate(body)
    dataset = get_dataset_by_id(session=session, dataset_id=str(body.dataset_id))
    if not allowed(dataset.project):
        raise NotFound(f"dataset {body.dataset_id} not found", code="DATASET_NOT_FOUND")
    payload["dataset_name"] = dataset.name
    payload["branch_id"] = dataset.active_branch_id
    return jobs.enqueue(
        session=session, kind=KIND, project=dataset.project, dataset_id=dataset.id, payload=payload
    )


def get_run(*, session: Session, run_id: str, allowed: Any) -> Job:
    """A visible, not deleted run."""
    job = jobs.get_job(session=session, job_id=run_id, kind=KIND)
    if not allowed(job.project):
        raise NotFound(f"anonymization run {run_id} not found", code="RUN_NOT_FOUND")
    return job


def list_runs(*, session: Session, projects: list[str] | None) -> list[dict[str, Any]]:
    """Runs newest first, as summaries: counts and files, never the entity spans.

    A run's result holds up to 100,000 spans; a list repeating them for every run would grow without
    bound, so only the summary's parts of the stored result are read from the database.
    """
    parts = [Job.result[key] for key in SUMMARY_KEYS]
    stmt = jobs.list_query(projects=projects, kind=KIND).options(defer(Job.result)).add_columns(*parts)
    out = []
    for job, *values in session.execute(stmt):
        summary = {k: v for k, v in zip(SUMMARY_KEYS, values, strict=True) if v is not None}
        out.append(render_run(job, entities=False, result=summary))
    return out


def render_results(
    job: Job, *, entities: bool = True, result: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The run's ``results`` object: always an object (empty counts until the run has some).

    ``entities=False`` leaves out ``entities_found`` (up to 100,000 spans per run), which a list of runs
    must not repeat for every run: the counts per type stay, the spans are on the run itself.
    """
    if result is None:
        result = job.result or {}
    results: dict[str, Any] = {
        "entity_summary": result.get("entity_summary", {}),
        "samples_processed": result.get("samples_processed", 0),
    }
    if entities:
        results["entities_found"] = result.get("entities_found", [])
    results["error"] = job.error if job.status == "failed" else None
    return results


def render_run(job: Job, *, entities: bool = True, result: dict[str, Any] | None = None) -> dict[str, Any]:
    """Dataframer's AnonymizationRun object (``entities=False``: the summary a list carries; ``result``:
    the parts of the stored result already loaded, when the full one was not)."""
    p = job.payload
    if result is None:
        result = job.result or {}
    duration = None
    if job.started_at and job.finished_at:
        duration = int(round((as_utc(job.finished_at) - as_utc(job.started_at)).total_seconds()))
    return {
        "id": job.id,
        "status": STATUS[job.status],
        "dataset_id": p["dataset_id"],
        "dataset_name": p.get("dataset_name"),
        "pii_types": p["pii_types"],
        "detection_method": p.get("requested_method", p["detection_method"]),
        "llm_model_name": p.get("llm_model_name"),
        "mask_config": p.get("mask_config", {}),
        "threshold": p.get("threshold"),
        "created_by_email": None,
        "duration_seconds": duration,
        "progress": round(job.progress, 1),
        "message": job.message,
        "results": render_results(job, entities=entities, result=result),
        "anonymized_files": [
            {k: f[k] for k in ("id", "path", "size_in_bytes", "content_type")}
            for f in result.get("files", [])
        ],
        "completed_at": iso(job.finished_at),
        "created_at": iso(job.created_at),
    }


def file_of(job: Job, file_id: str) -> dict[str, Any]:
    """An output file of a succeeded run."""
    if job.status != "succeeded":
        raise NotFound(f"run {job.id} has no files yet (status {STATUS[job.status]})", code="FILE_NOT_FOUND")
    for f in (job.result or {}).get("files", []):
        if f["id"] == file_id and Path(f["local_path"]).exists():
            return dict(f)
    raise NotFound(f"file {file_id!r} not found in run {job.id}", code="FILE_NOT_FOUND")
