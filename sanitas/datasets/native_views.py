"""Native and Antidote-family dataset routes: file import, branches, exports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from sanitas.api.deps import DB, Reader, Writer, check_project
from sanitas.auth.service import Principal
from sanitas.datasets import branches
from sanitas.datasets.export_job import enqueue_export
from sanitas.datasets.files import FORMATS, MEDIA_TYPES, detect_format, parse_file
from sanitas.datasets.imports import import_rows
from sanitas.db import Database
from sanitas.errors import BadRequest, Conflict, InvalidInput, NotFound
from sanitas.jobs import service as jobs
from sanitas.jobs.schemas import render_job

router = APIRouter(tags=["files and branches"])


def load_dataset(s: Any, who: Principal, dataset_id: str) -> Any:
    """A dataset by id that the key may see (others are 404, as if absent)."""
    return branches.visible_dataset(session=s, dataset_id=dataset_id, allowed=who.can_see)


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post("/api/datasets/{dataset_id}/files", openapi_extra=UPLOAD_BODY)
async def upload_file(
    dataset_id: str,
    request: Request,
    db: DB,
    who: Writer,
    format: Annotated[
        str | None, Query(description="jsonl, csv or parquet (default: from the file name)")
    ] = None,
    filename: Annotated[str, Query(max_length=512)] = "upload.jsonl",
) -> dict[str, Any]:
    """Import a JSONL, CSV or Parquet file (multipart ``file`` or raw body); all rows or none."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        # The context manager closes the spooled temporary files behind every part.
        async with request.form() as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInput("multipart body needs a 'file' part", field="file")
            data = await upload.read()
            filename = upload.filename or filename
    else:
        data = await request.body()
    if not data:
        raise BadRequest("the uploaded file is empty", field="file")
    fmt = detect_format(filename, format)
    return await _import(db, who, dataset_id, data, fmt)


async def _import(db: Database, who: Principal, dataset_id: str, data: bytes, fmt: str) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    def work() -> dict[str, Any]:
        with db.read() as s:
            load_dataset(s, who, dataset_id)
        rows = parse_file(data, fmt)
        with db.write() as s:
            ds = load_dataset(s, who, dataset_id)
            res = import_rows(session=s, dataset=ds, rows=rows, fmt=fmt)
            return {"dataset_id": ds.id, "format": fmt, **res.__dict__}

    return await run_in_threadpool(work)


@router.get("/api/datasets/{dataset_id}/branches")
def get_branches(
    dataset_id: str, db: DB, who: Reader, branch: Annotated[str | None, Query(max_length=256)] = None
) -> dict[str, Any]:
    """Antidote's branch listing (optionally one branch by id or name)."""
    with db.read() as s:
        ds = load_dataset(s, who, dataset_id)
        rows = branches.list_branches(session=s, dataset=ds)
        if branch:
            rows = [b for b in rows if branch in (b.id, b.name)]
            if not rows:
                raise NotFound(f"branch {branch!r} not found", code="BRANCH_NOT_FOUND")
        return branches.render_branches(session=s, dataset=ds, branches=rows)


@router.post("/api/datasets/{dataset_id}/branches/{branch_id}/activate")
def activate(dataset_id: str, branch_id: str, db: DB, who: Writer) -> dict[str, Any]:
    """Make a branch the dataset's active branch (instant, reversible)."""
    with db.write() as s:
        ds = load_dataset(s, who, dataset_id)
        branches.activate_branch(session=s, dataset=ds, branch_id=branch_id)
        return branches.render_branches(
            session=s, dataset=ds, branches=branches.list_branches(session=s, dataset=ds)
        )


@router.post("/api/datasets/{dataset_id}/exports", status_code=202)
def start_export(
    dataset_id: str,
    db: DB,
    who: Writer,
    format: Annotated[Literal["jsonl", "csv", "parquet"], Query(description=", ".join(FORMATS))] = "jsonl",
    branch: Annotated[str | None, Query(max_length=256)] = None,
) -> dict[str, Any]:
    """Start an export job of a branch (the active one by default)."""
    with db.write() as s:
        ds = load_dataset(s, who, dataset_id)
        return render_job(enqueue_export(session=s, dataset=ds, fmt=format, branch_ref=branch))


@router.get("/api/jobs/{job_id}/download")
def download_export(job_id: str, db: DB, who: Reader) -> FileResponse:
    """The file a job wrote: an export, or the healed dataset of a heal job."""
    with db.read() as s:
        job = jobs.get_job(session=s, job_id=job_id)
        check_project(who, job.project, "job")
        if job.dataset_id is not None:
            try:
                load_dataset(s, who, job.dataset_id)
            except NotFound:
                # A deleted dataset takes what was derived from it along.
                raise NotFound(f"job {job_id!r} not found", code="JOB_NOT_FOUND") from None
        if job.status != "succeeded" or not job.result or "path" not in job.result:
            raise Conflict(f"job {job_id} has no file to download (status {job.status})")
        result = dict(job.result)
    media = MEDIA_TYPES.get(result.get("format", ""), "application/octet-stream")
    return FileResponse(result["path"], media_type=media, filename=result.get("filename", "export"))
