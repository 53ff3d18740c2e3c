"""Decide on a heal job's changes (one, or every change a filter matches) and publish the accepted ones.

Publishing creates a copy-on-write branch from the branch the job healed, through the same
``datasets.branches.create_branch`` the heal job uses, holding only the accepted changes (and the
undecided ones when asked); rejected changes leave their rows as they were. The decisions the branch
was built from are kept with it (``heal_review_applies``) and served as its manifest.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sanitas.datasets import branches
from sanitas.datasets.service import taxonomy
from sanitas.datasets.tables import Dataset
from sanitas.errors import InvalidInput, NotFound
from sanitas.heal.redact import redact_messages
from sanitas.heal.review import (
    Change,
    check_filter,
    decisions_of,
    job_changes,
    matches,
    render_change,
    verdicts_of,
)
from sanitas.heal.review_schemas import ApplyRequest, BulkDecision, ChangeDecision
from sanitas.heal.tables import HealDecision, HealReviewApply
from sanitas.jobs.tables import Job
from sanitas.timeutil import iso, utcnow

# Bound parameters per statement stay under 999, the limit of SQLite builds before 3.32.
_CHUNK = 900
_UPSERT_ROWS = _CHUNK // 6


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write decisions, replacing a row's earlier one (two people deciding at once: the last one wins)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert: Any = dialect.insert
    for k in range(0, len(rows), _UPSERT_ROWS):
        stmt = insert(HealDecision).values(rows[k : k + _UPSERT_ROWS])
        stmt = stmt.on_conflict_do_update(
            index_elements=[HealDecision.job_id, HealDecision.row_id],
            set_={c: stmt.excluded[c] for c in ("decision", "label", "decided_by", "decided_at")},
        )
        session.execute(stmt)


def _forget(session: Session, job_id: str, row_ids: list[str]) -> None:
    for k in range(0, len(row_ids), _CHUNK):
        session.execute(
            delete(HealDecision).where(
                HealDecision.job_id == job_id, HealDecision.row_id.in_(row_ids[k : k + _CHUNK])
            )
        )


def _check_label(change: Change, label: str, dataset: Dataset) -> None:
    if "relabel" not in change.actions and change.action != "flag":
        raise InvalidInput(
            f"a label can be chosen only for a relabel or flag change; row {change.row_id!r} is a "
            f"{change.action} change",
            field="label",
        )
    known = {" > ".join(parts) for parts in taxonomy(dataset)}
    if label not in known:
        shown = ", ".join(sorted(known)[:20]) + (" ..." if len(known) > 20 else "")
        raise InvalidInput(
            f"label {label!r} is not one of the dataset's labels ({shown or 'none'})", field="label"
        )


def decide_one(
    *, session: Session, job: Job, dataset: Dataset, row_id: str, body: ChangeDecision, actor: str
) -> dict[str, Any]:
    """Accept, reject or clear (``null``) one change; returns the change as the list shows it."""
    data = job_changes(session=session, job=job, dataset=dataset)
    change = data.by_id.get(row_id)
    if change is None:
        raise NotFound(f"healing job {job.id} has no change for row {row_id!r}", code="CHANGE_NOT_FOUND")
    if body.label is not None:
        _check_label(change, body.label, dataset)
    if body.decision is None:
        _forget(session, job.id, [row_id])
    else:
        row = {"job_id": job.id, "row_id": row_id, "decision": body.decision, "label": body.label}
        _upsert(session, [{**row, "decided_by": actor, "decided_at": utcnow()}])
    session.flush()
    session.expire_all()
    return render_change(change, session.get(HealDecision, (job.id, row_id)))


def decide_many(
    *, session: Session, job: Job, dataset: Dataset, body: BulkDecision, actor: str
) -> dict[str, int]:
    """Give every change the filter matches one decision (``null`` clears them); returns how many."""
    data = job_changes(session=session, job=job, dataset=dataset)
    check_filter(data, body.filter)
    verdicts = verdicts_of(session=session, job_id=job.id)
    ids = [c.row_id for c in data.changes if matches(c, verdicts.get(c.row_id), body.filter)]
    if body.decision is None:
        _forget(session, job.id, ids)
    else:
        now = utcnow()
        _upsert(
            session,
            [
                {"job_id": job.id, "row_id": i, "decision": body.decision, "label": None}
                | {"decided_by": actor, "decided_at": now}
                for i in ids
            ],
        )
    return {"updated": len(ids)}


def _record(change: Change, d: Any, applied: bool) -> dict[str, Any]:
    return {
        "row_id": change.row_id,
        "action": change.action,
        "decision": d.decision if d else None,
        "label": d.label if d else None,
        "decided_by": d.decided_by if d else None,
        "decided_at": iso(d.decided_at) if d else None,
        "applied": applied,
    }


def apply_review(
    *, session: Session, job: Job, dataset: Dataset, body: ApplyRequest, actor: str
) -> dict[str, Any]:
    """Publish a branch of the healed branch holding the accepted changes (see the module docstring)."""
    data = job_changes(session=session, job=job, dataset=dataset)
    decisions = decisions_of(session=session, job_id=job.id)
    parent = branches.get_branch(session=session, dataset=dataset, branch_id=job.payload.get("branch_id"))
    take = []
    for c in data.changes:
        d = decisions.get(c.row_id)
        verdict = d.decision if d is not None else ("accept" if body.undecided == "as_decided" else None)
        if verdict == "accept":
            take.append((c, d))
    wanted = {c.row_id for c, _ in take}
    rows: dict[str, branches.Row] = {}
    for batch in branches.iter_rows(session=session, dataset=dataset, branch=parent):
        rows.update((r.uid, r) for r in batch if r.uid in wanted)
    changes = branches.ChangeSet()
    counts = {"removed": 0, "relabeled": 0, "redacted": 0}
    applied: set[str] = set()
    for c, d in take:
        row = rows.get(c.row_id)
        if row is None:
            continue  # no longer on the branch the job healed: nothing to change
        label = d.label if d is not None else None
        if "remove" in c.actions:
            changes.excluded.add(row.pk)
            counts["removed"] += 1
        else:
            label = label or (c.labels_after[0] if "relabel" in c.actions and c.labels_after else None)
            if label is not None:
                changes.labels[row.pk] = [[p.strip() for p in label.split(">")]]
                counts["relabeled"] += 1
            if "redact" in c.actions and c.entities:
                changes.messages[row.pk] = redact_messages(row.body.get("messages", []), list(c.entities))
                counts["redacted"] += 1
        if row.pk in changes.pks():
            applied.add(c.row_id)
    name = body.name or f"reviewed-{job.id[:8]}-{uuid.uuid4().hex[:6]}"
    branch = branches.create_branch(
        session=session,
        dataset=dataset,
        changes=changes,
        parent=parent,
        origin="review",
        job_id=job.id,
        name=name,
        activate=body.activate,
    )
    by_decision = {"accept": 0, "reject": 0, "undecided": 0}
    for c in data.changes:
        d = decisions.get(c.row_id)
        by_decision[d.decision if d is not None else "undecided"] += 1
    record = HealReviewApply(
        branch_id=branch.id,
        job_id=job.id,
        applied_by=actor,
        applied_at=utcnow(),
        undecided=body.undecided,
        counts={"applied": counts, "decisions": by_decision},
        decisions=[_record(c, decisions.get(c.row_id), c.row_id in applied) for c in data.changes],
    )
    session.add(record)
    return {
        "branch_id": branch.id,
        "branch_name": branch.name,
        "activated": body.activate,
        "applied": counts,
        "decisions": by_decision,
    }


def branch_manifest(*, session: Session, dataset: Dataset, branch_ref: str) -> dict[str, Any]:
    """The manifest of a branch published by a review: the decisions it was built from, who and when."""
    branch = branches.find_branch(session=session, dataset=dataset, ref=branch_ref)
    rec = session.scalar(select(HealReviewApply).where(HealReviewApply.branch_id == branch.id))
    if rec is None:
        raise NotFound(
            f"branch {branch.name!r} was not published by a heal review: it has no review manifest",
            code="MANIFEST_NOT_FOUND",
        )
    return {
        "branch_id": branch.id,
        "branch_name": branch.name,
        "dataset_id": dataset.id,
        "job_id": rec.job_id,
        "applied_by": rec.applied_by,
        "applied_at": iso(rec.applied_at),
        "undecided": rec.undecided,
        "applied": rec.counts.get("applied", {}),
        "decisions_count": rec.counts.get("decisions", {}),
        "decisions": rec.decisions,
    }
