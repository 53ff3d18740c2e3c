"""Re:infer routes for sources and comments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from sanitas.api.deps import DB, Reader, Writer, check_project, visible_projects
from sanitas.contention import write_with_retry
from sanitas.names import COMMENT_ID_PATTERN, NAME_PATTERN, PROJECT_PATTERN
from sanitas.sources import service
from sanitas.sources.schemas import SourcePut, SyncRequest

router = APIRouter(tags=["sources"])
ProjectName = Annotated[str, Path(pattern=PROJECT_PATTERN, description="project name")]
SourceName = Annotated[
    str, Path(pattern=r"^(id:[0-9a-f]{16}|[A-Za-z0-9_\-]{1,256})$", description="source name")
]
NewSourceName = Annotated[str, Path(pattern=NAME_PATTERN, description="source name")]
CommentId = Annotated[str, Path(max_length=1024, pattern=COMMENT_ID_PATTERN)]
IdList = Annotated[
    list[Annotated[str, Query(max_length=1024, pattern=COMMENT_ID_PATTERN)]],
    Query(min_length=1, max_length=1024),
]


@router.get("/sources")
def list_all_sources(db: DB, who: Reader) -> dict[str, Any]:
    """Every source the key can see."""
    with db.read() as s:
        rows = service.list_sources(session=s, projects=visible_projects(who))
        return {"status": "ok", "sources": [service.render_source(r) for r in rows]}


@router.get("/sources/{project}")
def list_project_sources(project: ProjectName, db: DB, who: Reader) -> dict[str, Any]:
    """Sources of one project."""
    check_project(who, project, "project")
    with db.read() as s:
        rows = service.list_sources(session=s, projects=[project])
        return {"status": "ok", "sources": [service.render_source(r) for r in rows]}


@router.put("/sources/{project}/{source}")
def put_source(
    project: ProjectName, source: NewSourceName, body: SourcePut, db: DB, who: Writer
) -> dict[str, Any]:
    """Create or update a source."""
    check_project(who, project, "project")
    with db.write() as s:
        row, _ = service.put_source(session=s, project=project, name=source, fields=body.source)
        return {"status": "ok", "source": service.render_source(row)}


@router.get("/sources/{project}/{source}")
def get_source(project: ProjectName, source: SourceName, db: DB, who: Reader) -> dict[str, Any]:
    """One source."""
    check_project(who, project, "source")
    with db.read() as s:
        return {
            "status": "ok",
            "source": service.render_source(service.get_source(session=s, project=project, name=source)),
        }


@router.delete("/sources/{project}/{source}")
def delete_source(project: ProjectName, source: SourceName, db: DB, who: Writer) -> dict[str, Any]:
    """Delete a source and its comments."""
    check_project(who, project, "source")
    with db.write() as s:
        service.delete_source(session=s, source=service.get_source(session=s, project=project, name=source))
    return {"status": "ok"}


@router.post("/sources/{project}/{source}/sync")
def sync(project: ProjectName, source: SourceName, body: SyncRequest, db: DB, who: Writer) -> dict[str, Any]:
    """Upsert up to 16,384 comments by id; answers ``{new, updated, unchanged}``."""
    check_project(who, project, "source")

    def work(s: Session) -> service.SyncResult:
        src = service.get_source(session=s, project=project, name=source)
        return service.sync_comments(session=s, source=src, comments=body.comments)

    res = write_with_retry(db, work, what="the sync")
    return {"status": "ok", "new": res.new, "updated": res.updated, "unchanged": res.unchanged}


@router.get("/sources/{project}/{source}/comments/{comment_id}")
def get_comment(
    project: ProjectName, source: SourceName, comment_id: CommentId, db: DB, who: Reader
) -> dict[str, Any]:
    """One comment by id."""
    check_project(who, project, "source")
    with db.read() as s:
        src = service.get_source(session=s, project=project, name=source)
        row = service.get_comments(session=s, source=src, ids=[comment_id])[0]
        marked = service.annotated(session=s, comments=[row])
        return {"status": "ok", "comment": service.render_comment(row, annotated=row.pk in marked)}


@router.get("/sources/{project}/{source}/comments")
def get_comments(project: ProjectName, source: SourceName, db: DB, who: Reader, id: IdList) -> dict[str, Any]:
    """Several comments by id (``?id=a&id=b``)."""
    check_project(who, project, "source")
    with db.read() as s:
        src = service.get_source(session=s, project=project, name=source)
        rows = service.get_comments(session=s, source=src, ids=list(dict.fromkeys(id)))
        marked = service.annotated(session=s, comments=rows)
        return {
            "status": "ok",
            "comments": [service.render_comment(r, annotated=r.pk in marked) for r in rows],
        }


@router.delete("/sources/{project}/{source}/comments")
def delete_comments(
    project: ProjectName, source: SourceName, db: DB, who: Writer, id: IdList
) -> dict[str, Any]:
    """Delete comments by id (``?id=a&id=b``); unknown ids are ignored."""
    check_project(who, project, "source")

    def work(s: Session) -> int:
        src = service.get_source(session=s, project=project, name=source)
        return service.delete_comments(session=s, source=src, ids=list(dict.fromkeys(id)))

    n = write_with_retry(db, work, what="the delete")
    return {"status": "ok", "deleted": n}
