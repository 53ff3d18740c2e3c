"""Copy-on-write branches: a branch stores only its changes; reads overlay them on ``main``.

Main holds the uploaded comments and their assigned labels. A child branch holds rows of
``branch_changes`` (excluded, rewritten messages, new labels); the nearest branch in the chain wins.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from sanitas.datasets.service import get_dataset_by_id
from sanitas.datasets.tables import Branch, BranchChange, Dataset, DatasetComment
from sanitas.errors import Conflict, InvalidInput, NotFound
from sanitas.sources.tables import Comment
from sanitas.sources.text import comment_text
from sanitas.timeutil import iso, utcnow

_CHUNK = 900


@dataclass
class Row:
    """A comment as seen on one branch."""

    pk: int
    source_id: str
    id: str
    seq: int
    created_at: datetime
    body: dict[str, Any]
    text: str
    labels: list[list[str]] | None

    @property
    def uid(self) -> str:
        """``<source_id>.<id>``."""
        return f"{self.source_id}.{self.id}"


@dataclass
class ChangeSet:
    """What a new branch changes, keyed by comment pk."""

    excluded: set[int] = field(default_factory=set)
    messages: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    labels: dict[int, list[list[str]]] = field(default_factory=dict)

    def pks(self) -> set[int]:
        """Every comment the change set touches."""
        return self.excluded | set(self.messages) | set(self.labels)


def visible_dataset(*, session: Session, dataset_id: str, allowed: Callable[[str], bool]) -> Dataset:
    """A dataset by id that the caller may see; others are a 404, as if absent (no existence oracle)."""
    ds = get_dataset_by_id(session=session, dataset_id=dataset_id)
    if not allowed(ds.project):
        raise NotFound("dataset not found", code="DATASET_NOT_FOUND")
    return ds


def resolve_branch(*, session: Session, dataset: Dataset, ref: str | None = None) -> Branch:
    """A branch by id or name, or the active branch when ``ref`` is None."""
    if ref:
        return find_branch(session=session, dataset=dataset, ref=ref)
    return get_branch(session=session, dataset=dataset)


def get_branch(*, session: Session, dataset: Dataset, branch_id: str | None = None) -> Branch:
    """A branch of the dataset (the active one when ``branch_id`` is None)."""
    key = branch_id or dataset.active_branch_id
    row = session.get(Branch, key) if key else None
    if row is None or row.dataset_id != dataset.id:
        raise NotFound(f"branch {branch_id!r} not found in dataset {dataset.id}", code="BRANCH_NOT_FOUND")
    return row


def find_branch(*, session: Session, dataset: Dataset, ref: str) -> Branch:
    """A branch by id or by name."""
    row = session.scalar(select(Branch).where(Branch.dataset_id == dataset.id, Branch.name == ref))
    return row if row is not None else get_branch(session=session, dataset=dataset, branch_id=ref)


def chain(*, session: Session, branch: Branch) -> list[Branch]:
    """The branch and its ancestors, nearest first, ending with main."""
    out = [branch]
    while out[-1].parent_id is not None:
        parent = session.get(Branch, out[-1].parent_id)
        if parent is None:
            break
        out.append(parent)
    return out


def merged_changes(
    *, session: Session, branch: Branch, pks: list[int] | None = None
) -> dict[int, dict[str, Any]]:
    """The branch chain's changes, oldest ancestor first so the nearest branch wins:
    ``{pk: {excluded, messages, labels}}`` (only for ``pks`` when given)."""
    merged: dict[int, dict[str, Any]] = {}
    for b in reversed(chain(session=session, branch=branch)):
        if b.is_main:
            continue
        stmt = select(BranchChange).where(BranchChange.branch_id == b.id)
        if pks is not None:
            stmt = stmt.where(BranchChange.comment_pk.in_(pks))
        for ch in session.scalars(stmt):
            cur = merged.setdefault(ch.comment_pk, {"excluded": False, "messages": None, "labels": None})
            cur["excluded"] = cur["excluded"] or ch.excluded
            if ch.messages is not None:
                cur["messages"] = ch.messages
            if ch.labels is not None:
                cur["labels"] = ch.labels
    return merged


def _overlay(*, session: Session, branch: Branch) -> dict[int, BranchChange]:
    merged = merged_changes(session=session, branch=branch)
    return {pk: BranchChange(comment_pk=pk, **v) for pk, v in merged.items()}


def iter_rows(
    *, session: Session, dataset: Dataset, branch: Branch | None = None, batch_size: int = 2000
) -> Iterator[list[Row]]:
    """Rows of a branch in upload order, in batches (keyset pagination on the sequence number)."""
    branch = branch or get_branch(session=session, dataset=dataset)
    overlay = _overlay(session=session, branch=branch)
    last = 0
    while True:
        stmt = (
            select(
                Comment.pk,
                Comment.source_id,
                Comment.id,
                DatasetComment.seq,
                DatasetComment.created_at,
                Comment.body,
                Comment.text,
                DatasetComment.labels,
            )
            .join(DatasetComment, DatasetComment.comment_pk == Comment.pk)
            .where(DatasetComment.dataset_id == dataset.id, DatasetComment.seq > last)
            .order_by(DatasetComment.seq)
            .limit(batch_size)
        )
        batch = [Row(*r) for r in session.execute(stmt)]
        if not batch:
            return
        last = batch[-1].seq
        out: list[Row] = []
        for row in batch:
            ch = overlay.get(row.pk)
            if ch is not None:
                if ch.excluded:
                    continue
                if ch.messages is not None:
                    row.body = {**row.body, "messages": ch.messages}
                    row.text = comment_text(ch.messages)
                if ch.labels is not None:
                    row.labels = ch.labels
            out.append(row)
        if out:
            yield out


def create_branch(
    *,
    session: Session,
    dataset: Dataset,
    changes: ChangeSet,
    name: str | None = None,
    parent: Branch | None = None,
    origin: str = "healing",
    job_id: str | None = None,
    activate: bool = False,
) -> Branch:
    """Create a child branch holding only ``changes``, in the caller's transaction (parent untouched)."""
    parent = parent or get_branch(session=session, dataset=dataset)
    if parent.dataset_id != dataset.id:
        raise NotFound(f"branch {parent.id!r} not found in dataset {dataset.id}", code="BRANCH_NOT_FOUND")
    now = utcnow()
    name = name or f"{origin}-{now.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    if session.scalar(select(Branch.id).where(Branch.dataset_id == dataset.id, Branch.name == name)):
        raise Conflict(f"branch {name!r} already exists in dataset {dataset.id}")
    wanted = sorted(changes.pks())
    known: set[int] = set()
    # Only the touched comments are looked up, so a small change to a big dataset stays cheap.
    for k in range(0, len(wanted), _CHUNK):
        stmt = select(DatasetComment.comment_pk).where(
            DatasetComment.dataset_id == dataset.id, DatasetComment.comment_pk.in_(wanted[k : k + _CHUNK])
        )
        known.update(session.scalars(stmt))
    unknown = set(wanted) - known
    if unknown:
        raise InvalidInput(
            f"{len(unknown)} changed comments are not in dataset {dataset.id}", field="changes"
        )
    branch = Branch(
        id=str(uuid.uuid4()),
        dataset_id=dataset.id,
        name=name,
        parent_id=parent.id,
        is_main=False,
        origin=origin,
        created_from_job_id=job_id,
        created_at=now,
        updated_at=now,
    )
    session.add(branch)
    session.flush()
    rows = [
        {
            "branch_id": branch.id,
            "comment_pk": pk,
            "excluded": pk in changes.excluded,
            "messages": changes.messages.get(pk),
            "labels": changes.labels.get(pk),
        }
        for pk in sorted(changes.pks())
    ]
    if rows:
        session.execute(insert(BranchChange), rows)
    if activate:
        dataset.active_branch_id = branch.id
    return branch


def activate_branch(*, session: Session, dataset: Dataset, branch_id: str) -> Branch:
    """Make a branch the active one (instant and reversible)."""
    branch = find_branch(session=session, dataset=dataset, ref=branch_id)
    dataset.active_branch_id = branch.id
    dataset.updated_at = utcnow()
    return branch


def list_branches(*, session: Session, dataset: Dataset) -> list[Branch]:
    """Every branch of a dataset, main first then by creation."""
    rows = list(
        session.scalars(select(Branch).where(Branch.dataset_id == dataset.id).order_by(Branch.created_at))
    )
    return sorted(rows, key=lambda b: (not b.is_main, b.created_at))


def render_branches(*, session: Session, dataset: Dataset, branches: list[Branch]) -> dict[str, Any]:
    """Antidote's ``GET /api/datasets/{id}/branches`` body."""
    items = []
    for b in branches:
        items.append(
            {
                "dataset_id": b.id,
                "dataset_name": dataset.name if b.is_main else f"{dataset.name}@{b.name}",
                "branch_name": b.name,
                "branch_family_uuid": dataset.id,
                "is_main_branch": b.is_main,
                "branch_origin": b.origin,
                "source_branch_uuid": b.parent_id,
                "created_from_healing_job_id": b.created_from_job_id,
                "source_snapshot_created_at": iso(b.created_at),
                "created_at": iso(b.created_at),
                "updated_at": iso(b.updated_at),
                "can_edit": True,
                "has_drift_snapshots": False,
                "drift_snapshot_count": 0,
                "current_snapshot_created_at": iso(b.updated_at),
                "is_active": b.id == dataset.active_branch_id,
            }
        )
    return {
        "family_dataset_id": dataset.id,
        "family_name": dataset.name,
        "selected_branch_id": dataset.active_branch_id,
        "branch_count": len(items),
        "branches": items,
    }
