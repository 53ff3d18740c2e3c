"""Dataframer routes: ``/api/dataframer/anonymization-runs/…`` (with and without the trailing slash)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse

from sanitas.anonymization import service
from sanitas.anonymization.schemas import RunCreate
from sanitas.api.deps import (
    DB,
    Conf,
    Reader,
    Writer,
    public_base_url,
    visible_projects,
)
from sanitas.config import Settings
from sanitas.errors import Forbidden, NotFound
from sanitas.jobs import service as jobs

router = APIRouter(prefix="/api/dataframer/anonymization-runs", tags=["anonymization runs"])
LINK_TTL = 3600


def _sign(settings: Settings, path: str, expires: int) -> str:
    return hmac.new(settings.secret_key, f"{path}|{expires}".encode(), hashlib.sha256).hexdigest()


def _link(request: Request, settings: Settings, path: str) -> str:
    """A download URL that works without credentials for an hour (like a presigned URL)."""
    expires = int(time.time()) + LINK_TTL
    signature = _sign(settings, path, expires)
    return f"{public_base_url(request)}{path}?expires={expires}&signature={signature}"


def _check_link(settings: Settings, path: str, expires: int, signature: str) -> None:
    valid = signature.isascii() and hmac.compare_digest(_sign(settings, path, expires), signature)
    if expires < time.time() or not valid:
        raise Forbidden("the download link is invalid or has expired; ask for a new one")


@router.post("/", status_code=201)
@router.post("", status_code=201, include_in_schema=False)
def create_run(body: RunCreate, db: DB, who: Writer) -> dict[str, Any]:
    """Create a run; it answers PENDING at once and runs in the background."""
    with db.write() as s:
        return service.render_run(service.create_run(session=s, body=body, allowed=who.can_see))


@router.get("/")
@router.get("", include_in_schema=False)
def list_runs(db: DB, who: Reader) -> list[dict[str, Any]]:
    """Runs the key can see, newest first (deleted ones hidden); each with counts, not entity spans."""
    with db.read() as s:
        return service.list_runs(session=s, projects=visible_projects(who))


@router.get("/{run_id}/")
@router.get("/{run_id}", include_in_schema=False)
def get_run(run_id: str, db: DB, who: Reader) -> dict[str, Any]:
    """One run."""
    with db.read() as s:
        return service.render_run(service.get_run(session=s, run_id=run_id, allowed=who.can_see))


@router.delete("/{run_id}/", status_code=204)
@router.delete("/{run_id}", status_code=204, include_in_schema=False)
def delete_run(run_id: str, db: DB, who: Writer) -> Response:
    """Soft delete: hidden from lists and reads; a running run is cancelled first."""
    with db.write() as s:
        job = service.get_run(session=s, run_id=run_id, allowed=who.can_see)
        jobs.request_cancel(session=s, job=job)
        job.deleted = True
    return Response(status_code=204)


@router.post("/{run_id}/cancel/")
@router.post("/{run_id}/cancel", include_in_schema=False)
def cancel_run(run_id: str, db: DB, who: Writer) -> dict[str, Any]:
    """Cancel a pending or running run (our extension)."""
    with db.write() as s:
        job = service.get_run(session=s, run_id=run_id, allowed=who.can_see)
        return service.render_run(jobs.request_cancel(session=s, job=job))


@router.get("/{run_id}/files/{file_id}/download/")
@router.get("/{run_id}/files/{file_id}/download", include_in_schema=False)
def file_link(
    run_id: str,
    file_id: str,
    request: Request,
    db: DB,
    conf: Conf,
    who: Reader,
) -> dict[str, Any]:
    """A time-limited link to one anonymized file (Dataframer answers with a presigned URL)."""
    with db.read() as s:
        f = service.file_of(service.get_run(session=s, run_id=run_id, allowed=who.can_see), file_id)
    path = f"/api/dataframer/anonymization-runs/{run_id}/files/{file_id}/content/"
    return {
        "download_url": _link(request, conf, path),
        "file_name": f["path"],
        "content_type": f["content_type"],
    }


@router.get("/{run_id}/files/{file_id}/content/")
def file_content(
    run_id: str,
    file_id: str,
    db: DB,
    conf: Conf,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(max_length=128)],
) -> FileResponse:
    """The bytes behind a download link (authorised by the link's signature)."""
    _check_link(
        conf, f"/api/dataframer/anonymization-runs/{run_id}/files/{file_id}/content/", expires, signature
    )
    with db.read() as s:
        f = service.file_of(jobs.get_job(session=s, job_id=run_id, kind=service.KIND), file_id)
    return FileResponse(f["local_path"], filename=f["path"], media_type=f["content_type"])


@router.get("/{run_id}/download/")
@router.get("/{run_id}/download", include_in_schema=False)
def zip_link(run_id: str, request: Request, db: DB, conf: Conf, who: Reader) -> dict[str, Any]:
    """A link to a zip of every anonymized file (``status`` is ``ready`` once the run succeeded)."""
    with db.read() as s:
        job = service.get_run(session=s, run_id=run_id, allowed=who.can_see)
        if job.status != "succeeded":
            raise NotFound(
                f"run {run_id} has no files yet (status {service.STATUS[job.status]})", code="FILE_NOT_FOUND"
            )
    path = f"/api/dataframer/anonymization-runs/{run_id}/zip/"
    return {"download_url": _link(request, conf, path), "status": "ready"}


@router.get("/{run_id}/zip/")
def zip_content(
    run_id: str,
    db: DB,
    conf: Conf,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(max_length=128)],
) -> FileResponse:
    """The zip behind a download link."""
    _check_link(conf, f"/api/dataframer/anonymization-runs/{run_id}/zip/", expires, signature)
    with db.read() as s:
        job = jobs.get_job(session=s, job_id=run_id, kind=service.KIND)
        zpath = (job.result or {}).get("zip_path")
    if not zpath:
        raise NotFound(f"run {run_id} has no zip", code="FILE_NOT_FOUND")
    return FileResponse(zpath, filename=f"anonymization-run-{run_id}.zip", media_type="application/zip")
