"""Datasets: create, read, delete, sources, the per-dataset upload sequence, taxonomy and labels."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sanitas.auth.service import ensure_project
from sanitas.datasets.schemas import DatasetFields
from sanitas.datasets.tables import Branch, Dataset, DatasetComment, DatasetSource
from sanitas.errors import InvalidInput, NotFound
from sanitas.sources import feeds
from sanitas.sources.schemas import SourceFields
from sanitas.sources.service import put_source
from sanitas.sources.tables import Comment, Source
from sanitas.timeutil import iso, utcnow

_CHUNK = 900


def get_dataset(*, session: Session, project: str, name: str) -> Dataset:
    """A dataset by ``project``/``name`` (or ``id:<uuid>``)."""
    if name.startswith("id:"):
        row = session.get(Dataset, name[3:])
        if row is None or row.project != project:
            raise NotFound(f"dataset {name!r} not found", code="DATASET_NOT_FOUND")
        return row
    row = session.scalar(select(Dataset).where(Dataset.project == project, Dataset.name == name))
    if row is None:
        raise NotFound(f"dataset '{project}/{name}' not found", code="DATASET_NOT_FOUND")
    return row


def get_dataset_by_id(*, session: Session, dataset_id: str) -> Dataset:
    """A dataset by its UUID."""
    try:
        key = str(uuid.UUID(dataset_id))
    except ValueError as exc:
        raise NotFound(f"dataset {dataset_id!r} not found", code="DATASET_NOT_FOUND") from exc
    row = session.get(Dataset, key)
    if row is None:
        raise NotFound(f"dataset {dataset_id!r} not found", code="DATASET_NOT_FOUND")
    return row


def put_dataset(*, session: Session, project: str, name: str, fields: DatasetFields) -> tuple[Dataset, bool]:
    """Create or update a dataset; a new dataset gets its ``main`` branch, active."""
    ensure_project(session=session, name=project)
    now = utcnow()
    row = session.scalar(select(Dataset).where(Dataset.project == project, Dataset.name == name))
    created = row is None
    if row is None:
        row = Dataset(
            id=str(uuid.uuid4()),
            project=project,
            name=name,
            next_seq=1,
            created_at=now,
            updated_at=now,
            label_defs=[],
        )
        session.add(row)
        session.flush()
        main = Branch(
            id=str(uuid.uuid4()),
            dataset_id=row.id,
            name="main",
            is_main=True,
            origin="upload",
            created_at=now,
            updated_at=now,
        )
        session.add(main)
        row.active_branch_id = main.id
    row.title = fields.title
    row.description = fields.description
    if fields.label_defs:
        add_labels(dataset=row, names=[d.name for d in fields.label_defs])
    row.updated_at = now
    session.flush()
    for source_id in fields.source_ids:
        attach_source(session=session, dataset=row, source_id=source_id)
    return row, created


def attach_source(*, session: Session, dataset: Dataset, source_id: str) -> bool:
    """Feed a dataset from a source of the same project; existing comments join in upload order."""
    src = session.get(Source, source_id)
    if src is None or src.project != dataset.project:
        raise InvalidInput(
            f"source_ids: source {source_id!r} not found in project {dataset.project!r}", field="source_ids"
        )
    if session.get(DatasetSource, (dataset.id, source_id)) is not None:
        return False
    session.add(DatasetSource(dataset_id=dataset.id, source_id=source_id))
    session.flush()
    pks = list(session.scalars(select(Comment.pk).where(Comment.source_id == source_id).order_by(Comment.pk)))
    if pks:
        feeds.append(session=session, dataset_id=dataset.id, comment_pks=pks, created_at=utcnow())
    return True


# Kept for callers that build datasets by hand (the benchmarks, test fixtures); the code lives in feeds.
_reserve = feeds.reserve
append_to_datasets = feeds.append_to_datasets


def default_source(*, session: Session, dataset: Dataset) -> Source:
    """The source that file imports into this dataset write to (created on first use)."""
    name = f"{dataset.name}-files"[:256]
    src = session.scalar(select(Source).where(Source.project == dataset.project, Source.name == name))
    if src is None:
        src, _ = put_source(
            session=session,
            project=dataset.project,
            name=name,
            fields=SourceFields(title=f"Files imported into {dataset.name}"),
        )
    attach_source(session=session, dataset=dataset, source_id=src.id)
    return src


def list_datasets(*, session: Session, projects: Sequence[str] | None) -> list[Dataset]:
    """Datasets of the given projects (``None`` = all)."""
    stmt = select(Dataset).order_by(Dataset.project, Dataset.name)
    if projects is not None:
        stmt = stmt.where(Dataset.project.in_(list(projects)))
    return list(session.scalars(stmt))


def delete_dataset(*, session: Session, dataset: Dataset) -> None:
    """Delete a dataset, its branches and memberships (sources and comments stay).

    Everything derived from it goes too: a hook on the dataset table (``datasets/tables.py``) marks its
    jobs deleted (heal manifests, scores, reports, exports, anonymization runs) and removes their files
    once the transaction commits.
    """
    session.execute(delete(Branch).where(Branch.dataset_id == dataset.id))
    session.execute(delete(DatasetComment).where(DatasetComment.dataset_id == dataset.id))
    session.execute(delete(DatasetSource).where(DatasetSource.dataset_id == dataset.id))
    session.delete(dataset)


def source_ids(*, session: Session, dataset: Dataset) -> list[str]:
    """Ids of the sources feeding a dataset."""
    return sorted(
        session.scalars(select(DatasetSource.source_id).where(DatasetSource.dataset_id == dataset.id))
    )


def count_comments(*, session: Session, dataset: Dataset) -> int:
    """Number of comments on main."""
    stmt = select(func.count()).select_from(DatasetComment).where(DatasetComment.dataset_id == dataset.id)
    return int(session.scalar(stmt) or 0)


def taxonomy(dataset: Dataset) -> list[tuple[str, ...]]:
    """Every label of the taxonomy, parents included, sorted."""
    names: set[tuple[str, ...]] = set()
    for d in dataset.label_defs:
        parts = tuple(d["name"])
        for k in range(1, len(parts) + 1):
            names.add(parts[:k])
    return sorted(names)


def add_labels(*, dataset: Dataset, names: Iterable[Sequence[str]]) -> None:
    """Extend the taxonomy with any label it does not have yet."""
    known = {tuple(d["name"]) for d in dataset.label_defs}
    added = [list(n) for n in dict.fromkeys(tuple(n) for n in names) if n not in known]
    if added:
        dataset.label_defs = [*dataset.label_defs, *({"name": n, "description": ""} for n in added)]


def assign_labels(*, session: Session, dataset: Dataset, labels_by_uid: dict[str, list[list[str]]]) -> int:
    """Replace the assigned labels of comments given by uid; unknown uids are a NotFound naming the first."""
    pk_by_uid = resolve_uids(session=session, dataset=dataset, uids=list(labels_by_uid))
    # Rows are written in pk order, so two labelling requests lock shared rows in the same order.
    for uid, labels in sorted(labels_by_uid.items(), key=lambda item: pk_by_uid[item[0]]):
        add_labels(dataset=dataset, names=labels)
        session.execute(
            update(DatasetComment)
            .where(DatasetComment.dataset_id == dataset.id, DatasetComment.comment_pk == pk_by_uid[uid])
            .values(labels=labels)
        )
    dataset.updated_at = utcnow()
    return len(labels_by_uid)


def resolve_uids(*, session: Session, dataset: Dataset, uids: Sequence[str]) -> dict[str, int]:
    """Map ``<source_id>.<id>`` uids to comment pks within a dataset; NotFound for the first unknown."""
    out: dict[str, int] = {}
    wanted: dict[str, list[str]] = {}
    for uid in uids:
        source_id, dot, cid = uid.partition(".")
        if not dot:
            raise InvalidInput(f"uid {uid!r} is not '<source_id>.<comment_id>'", field="uid")
        wanted.setdefault(source_id, []).append(cid)
    for source_id, ids in wanted.items():
        for k in range(0, len(ids), _CHUNK):
            stmt = (
                select(Comment.id, Comment.pk)
                .join(DatasetComment, DatasetComment.comment_pk == Comment.pk)
                .where(
                    DatasetComment.dataset_id == dataset.id,
                    Comment.source_id == source_id,
                    Comment.id.in_(ids[k : k + _CHUNK]),
                )
            )
            for cid, pk in session.execute(stmt):
                out[f"{source_id}.{cid}"] = pk
    missing = [u for u in uids if u not in out]
    if missing:
        raise NotFound(
            f"comment {missing[0]!r} not found in dataset {dataset.name!r}", code="COMMENT_NOT_FOUND"
        )
    return out


def render_dataset(dataset: Dataset, *, source_ids: list[str]) -> dict[str, Any]:
    """The Re:infer dataset object (plus our ``active_branch_id``)."""
    return {
        "id": dataset.id,
        "owner": dataset.project,
        "name": dataset.name,
        "title": dataset.title,
        "description": dataset.description,
        "source_ids": source_ids,
        "label_defs": [
            {"name": d["name"], "description": d.get("description", "")} for d in dataset.label_defs
        ],
        "active_branch_id": dataset.active_branch_id,
        "created": iso(dataset.created_at),
        "last_modified": iso(dataset.updated_at),
    }
