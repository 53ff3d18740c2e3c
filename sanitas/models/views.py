"""Re:infer model routes: train a version (a job), list, pin/unpin, predict documents or comments."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path
from sqlalchemy.orm import Session

from sanitas.api.deps import DB, Reader, Writer, check_project
from sanitas.auth.service import Principal
from sanitas.datasets.service import get_dataset
from sanitas.datasets.tables import Dataset
from sanitas.db import Database
from sanitas.jobs.schemas import render_job
from sanitas.models import service
from sanitas.models.schemas import PredictComments, PredictDocuments, PredictOptions, TrainRequest
from sanitas.models.tables import ModelVersion
from sanitas.names import PROJECT_PATTERN
from sanitas.sources.text import comment_text
from sanitas.timeutil import iso

router = APIRouter(tags=["models"])
ProjectName = Annotated[str, Path(pattern=PROJECT_PATTERN)]
DatasetName = Annotated[str, Path(pattern=r"^(id:[0-9a-fA-F-]{32,36}|[A-Za-z0-9_\-]{1,256})$")]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]
BASE = "/datasets/{project}/{dataset}/labellers"


def _choose(
    raw: list[Any], opts: PredictOptions, version: ModelVersion, dataset: Dataset
) -> list[dict[str, Any]]:
    """Labels as asked: a list with thresholds, one threshold, the model's own (``auto``), or all."""
    if opts.labels is not None:
        return service.render_labels(raw, {tuple(lt.name): lt.threshold for lt in opts.labels})
    if opts.threshold == "auto":
        own = version.thresholds if isinstance(version.thresholds, dict) else {}
        out = []
        for lb in raw:
            t = own.get(" > ".join(lb["name"]))
            if isinstance(t, int | float) and lb["probability"] >= t:
                out.append({**lb, "auto_thresholds": ["balanced"]})
        return out
    if isinstance(opts.threshold, float):
        cut = opts.threshold
        return [lb for lb in raw if lb["probability"] >= cut]
    return raw


def _predict(
    db: Database, s: Session, version: ModelVersion, items: list[service.Item]
) -> dict[str, tuple[list[Any], list[Any]]]:
    found = service.predictions(db=db, session=s, version=version, items=items)
    return {h: (orjson.loads(labels), orjson.loads(ents)) for h, (labels, ents) in found.items()}


@router.post(f"{BASE}/train")
def train(
    project: ProjectName, dataset: DatasetName, db: DB, who: Writer, body: TrainRequest | None = None
) -> dict[str, Any]:
    """Queue a training job on the dataset's active branch; the version number is given when it ends."""
    check_project(who, project, "dataset")
    with db.write() as s:
        ds = get_dataset(session=s, project=project, name=dataset)
        job = service.enqueue_training(session=s, dataset=ds, seed=(body or TrainRequest()).seed)
        return {"status": "ok", "job": render_job(job)}


@router.get(BASE)
def list_versions(project: ProjectName, dataset: DatasetName, db: DB, who: Reader) -> dict[str, Any]:
    """Every model version of the dataset."""
    check_project(who, project, "dataset")
    with db.read() as s:
        ds = get_dataset(session=s, project=project, name=dataset)
        rows = service.list_versions(session=s, dataset=ds)
        return {"status": "ok", "models": [service.render_version(r) for r in rows]}


@router.get(f"{BASE}/{{version}}")
def get_version(project: ProjectName, dataset: DatasetName, version: Version, db: DB, who: Reader) -> Any:
    """One version with its validation metrics and thresholds."""
    check_project(who, project, "dataset")
    with db.read() as s:
        ds = get_dataset(session=s, project=project, name=dataset)
        row = service.get_version(session=s, dataset=ds, version=version)
        return {"status": "ok", "model": service.render_version(row)}


def _pin(project: str, dataset: str, version: int, db: Database, who: Principal, pinned: bool) -> Any:
    check_project(who, project, "dataset")
    with db.write() as s:
        ds = get_dataset(session=s, project=project, name=dataset)
        row = service.set_pinned(session=s, dataset=ds, version=version, pinned=pinned)
        return {"status": "ok", "model": service.render_version(row)}


@router.put(f"{BASE}/{{version}}/pin")
def pin(project: ProjectName, dataset: DatasetName, version: Version, db: DB, who: Writer) -> Any:
    """Pin a version (streams may only use pinned versions)."""
    return _pin(project, dataset, version, db, who, True)


@router.delete(f"{BASE}/{{version}}/pin")
def unpin(project: ProjectName, dataset: DatasetName, version: Version, db: DB, who: Writer) -> Any:
    """Unpin a version (existing streams keep working; new ones cannot choose it)."""
    return _pin(project, dataset, version, db, who, False)


@router.post(f"{BASE}/{{version}}/predict")
def predict(
    project: ProjectName, dataset: DatasetName, version: Version, body: PredictDocuments, db: DB, who: Reader
) -> Any:
    """Predict labels and entities for documents (comment-shaped, not stored)."""
    check_project(who, project, "dataset")
    with db.read() as s:
        ds = get_dataset(session=s, project=project, name=dataset)
        row = service.get_version(session=s, dataset=ds, version=version)
        service.check_labels(dataset=ds, labels=body.labels)
        items = []
        for d in body.documents:
            messages = [m.model_dump(mode="json", by_alias=True, exclude_none=True) for m in d.messages]
            items.append(service.Item(service.content_hash(messages), comment_text(messages), messages))
        preds = _predict(db, s, row, items)
        out = [
            {"labels": _choose(preds[i.content_hash][0], body, row, ds), "entities": preds[i.content_hash][1]}
            for i in items
        ]
        return {
            "status": "ok",
            "predictions": out,
            "model": {"version": row.version, "time": iso(row.created_at)},
        }


@router.post(f"{BASE}/{{version}}/predict-comments")
def predict_comments(
    project: ProjectName, dataset: DatasetName, version: Version, body: PredictComments, db: DB, who: Reader
) -> Any:
    """Predict for comments of the dataset, by uid (as they read on the active branch)."""
    check_project(who, project, "dataset")
    with db.read() as s:
        ds = get_dataset(session=s, project=project, name=dataset)
        row = service.get_version(session=s, dataset=ds, version=version)
        service.check_labels(dataset=ds, labels=body.labels)
        items = service.comment_items(session=s, dataset=ds, uids=list(dict.fromkeys(body.uids)))
        preds = _predict(db, s, row, list(items.values()))
        out = []
        for uid in body.uids:
            raw, ents = preds[items[uid].content_hash]
            out.append({"uid": uid, "labels": _choose(raw, body, row, ds), "entities": ents})
        return {
            "status": "ok",
            "predictions": out,
            "model": {"version": row.version, "time": iso(row.created_at)},
        }
