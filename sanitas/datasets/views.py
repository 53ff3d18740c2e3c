"""Re:infer routes for datasets and labellings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from sqlalchemy.orm import Session

from sanitas.api.deps import DB, Reader, Writer, check_project, visible_projects
from sanitas.contention import write_with_retry
from sanitas.datasets import service
from sanitas.datasets.schemas import BulkLabellingPut, DatasetPut, LabellingPut
from sanitas.names import NAME_PATTERN, PROJECT_PATTERN

router = APIRouter(tags=["datasets"])
ProjectName = Annotated[str, Path(pattern=PROJECT_PATTERN)]
DatasetName = Annotated[str, Path(pattern=r"^(id:[0-9a-fA-F-]{32,36}|[A-Za-z0-9_\-]{1,256})$")]
NewDatasetName = Annotated[str, Path(pattern=NAME_PATTERN)]
Uid = Annotated[
    str, Path(max_length=1041, pattern=r"^[0-9a-f]{16}\.[\w\x21-\x2e\x3a-\x40\x5b-\x60\x7b-\x7e]+$")
]


def _render(s: Any, row: Any) -> dict[str, Any]:
    return service.render_dataset(row, source_ids=service.source_ids(session=s, dataset=row))


@router.get("/datasets")
def list_all_datasets(db: DB, who: Reader) -> dict[str, Any]:
    """Every dataset the key can see."""
    with db.read() as s:
        rows = service.list_datasets(session=s, projects=visible_projects(who))
        return {"status": "ok", "datasets": [_render(s, r) for r in rows]}


@router.get("/datasets/{project}")
def list_project_datasets(project: ProjectName, db: DB, who: Reader) -> dict[str, Any]:
    """Datasets of one project."""
    check_project(who, project, "project")
    with db.read() as s:
        return {
            "status": "ok",
            "datasets": [_render(s, r) for r in service.list_datasets(session=s, projects=[project])],
        }


@router.put("/datasets/{project}/{dataset}")
def put_dataset(
    project: ProjectName, dataset: NewDatasetName, body: DatasetPut, db: DB, who: Writer
) -> dict[str, Any]:
    """Create or update a dataset (``source_ids`` attaches sources; existing comments join in order)."""
    check_project(who, project, "project")
    with db.write() as s:
        row, _ = service.put_dataset(session=s, project=project, name=dataset, fields=body.dataset)
        return {"status": "ok", "dataset": _render(s, row)}


@router.get("/datasets/{project}/{dataset}")
def get_dataset(project: ProjectName, dataset: DatasetName, db: DB, who: Reader) -> dict[str, Any]:
    """One dataset."""
    check_project(who, project, "dataset")
    with db.read() as s:
        return {
            "status": "ok",
            "dataset": _render(s, service.get_dataset(session=s, project=project, name=dataset)),
        }


@router.delete("/datasets/{project}/{dataset}")
def delete_dataset(project: ProjectName, dataset: DatasetName, db: DB, who: Writer) -> dict[str, Any]:
    """Delete a dataset with its branches, jobs and their files; its sources and comments stay."""
    check_project(who, project, "dataset")
    with db.write() as s:
        service.delete_dataset(
            session=s, dataset=service.get_dataset(session=s, project=project, name=dataset)
        )
    return {"status": "ok"}


@router.post("/datasets/{project}/{dataset}/labellings/{uid}")
def put_labelling(
    project: ProjectName, dataset: DatasetName, uid: Uid, body: LabellingPut, db: DB, who: Writer
) -> dict[str, Any]:
    """Set the labels of one comment (replacing earlier ones)."""
    check_project(who, project, "dataset")
    labels = {uid: [a.name for a in body.labelling.assigned]}
    write_with_retry(db, lambda s: _assign(s, project, dataset, labels), what="the labelling")
    return {"status": "ok"}


@router.post("/datasets/{project}/{dataset}/labellings")
def put_labellings(
    project: ProjectName, dataset: DatasetName, body: BulkLabellingPut, db: DB, who: Writer
) -> dict[str, Any]:
    """Set the labels of many comments in one transaction."""
    check_project(who, project, "dataset")
    labels = {item.uid: [a.name for a in item.assigned] for item in body.labellings}
    n = write_with_retry(db, lambda s: _assign(s, project, dataset, labels), what="the labelling")
    return {"status": "ok", "updated": n}


def _assign(s: Session, project: str, dataset: str, labels: dict[str, list[list[str]]]) -> int:
    """One labelling transaction (run again by ``write_with_retry`` if it lost a race)."""
    ds = service.get_dataset(session=s, project=project, name=dataset)
    return service.assign_labels(session=s, dataset=ds, labels_by_uid=labels)
