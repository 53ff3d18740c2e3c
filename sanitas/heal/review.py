"""Review a finished heal job change by change: its changes as a filterable, paged list, and a summary.

A job's changes are the lines of its ``manifest.jsonl`` (every changed or flagged row), joined with the
rows' text on the branch the job healed and the suggestions of ``scores.jsonl``. Those files never change
once the job succeeded, so they are read once per process and job and kept (a few jobs at a time);
decisions live in the database (``heal_decisions``) and are read per request. Decisions and publishing
a branch are in ``heal.review_apply``.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from sanitas.datasets import branches
from sanitas.datasets.tables import Dataset
from sanitas.errors import Conflict, InvalidInput, NotFound
from sanitas.heal.review_schemas import ChangeFilter
from sanitas.heal.service import STATUS, job_file
from sanitas.heal.tables import HealDecision
from sanitas.jobs.tables import Job
from sanitas.timeutil import iso

#: the manifest's applied actions, as the review names them
ACTION_OF = {"removed": "remove", "relabeled": "relabel", "anonymized": "redact"}
SORTS = ("score_desc", "score_asc", "row")
BINS = 20
_NOT_SCORES = {"id", "uid", "suggested_label"}
_CACHED_JOBS = 4


@dataclass(frozen=True)
class Change:
    """One changed or flagged row of a heal job, as its files and the healed branch describe it."""

    index: int
    row_id: str
    text: str
    actions: tuple[str, ...]
    findings: tuple[dict[str, Any], ...]
    labels_before: tuple[str, ...]
    labels_after: tuple[str, ...]
    suggested_label: str | None
    entities: tuple[dict[str, Any], ...]

    @property
    def action(self) -> str:
        """The change's main action: remove, relabel, redact, or flag (found but not acted on)."""
        return self.actions[0] if self.actions else "flag"

    @property
    def checks(self) -> tuple[str, ...]:
        """The checks that flagged the row."""
        return tuple(f["check"] for f in self.findings)

    def score(self, checks: Iterable[str] | None = None) -> float:
        """The highest finding score (of ``checks`` only, when given)."""
        wanted = set(checks) if checks else None
        return max((f["score"] for f in self.findings if wanted is None or f["check"] in wanted), default=0.0)


@dataclass
class JobChanges:
    """Everything the review reads from one job's files, parsed once."""

    changes: list[Change]
    by_id: dict[str, Change]
    #: change indexes in each sort order (ties broken by manifest order, so every order is total)
    order: dict[str, list[int]]
    histograms: dict[str, dict[str, list[Any]]]
    thresholds: dict[str, float]
    checks: list[str] = field(default_factory=list)


_cache: OrderedDict[tuple[str, int, int], JobChanges] = OrderedDict()
_lock = threading.Lock()


def require_reviewable(job: Job) -> None:
    """Only a job that finished has changes to review; others are a 409 saying which state they are in."""
    if job.status != "succeeded":
        raise Conflict(
            f"healing job {job.id} is {STATUS[job.status]}: only a completed job has changes to review"
        )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _findings(line: dict[str, Any], entity_checks: set[str]) -> tuple[dict[str, Any], ...]:
    ents = [
        {"type": e.get("label", e.get("type")), "start": e["start"], "end": e["end"]}
        for e in line.get("entities") or []
    ]
    out = []
    for f in line.get("findings") or []:
        detail = f.get("detail") or {}
        out.append(
            {
                "check": f["check"],
                "score": float(f["score"]),
                "off_topic_score": f.get("off_topic_score"),
                "trigger": f.get("trigger", detail.get("trigger")),
                "entities": ents if f["check"] in entity_checks else [],
            }
        )
    # Entities of a check that is not known to find them still reach the reader, on the first finding.
    if ents and out and not any(f["entities"] for f in out):
        out[0]["entities"] = ents
    return tuple(out)


def _entity_checks() -> set[str]:
    """The checks whose flagged rows an anonymization acts on: their findings carry the entity spans."""
    from sanitas.heal.detectors import base

    registered = getattr(base, "registered", None)
    if registered is None:  # a build before checks declared their actions
        return {"sensitive"}
    return {c.name for c in registered() if any(f.action == "anonymize" for f in c.flags)}


def _branch_rows(session: Session, job: Job, dataset: Dataset, uids: set[str]) -> dict[str, branches.Row]:
    """The job's changed rows as the branch it healed holds them now (absent rows are left out)."""
    try:
        branch = branches.get_branch(session=session, dataset=dataset, branch_id=job.payload.get("branch_id"))
    except NotFound:
        return {}
    out: dict[str, branches.Row] = {}
    for batch in branches.iter_rows(session=session, dataset=dataset, branch=branch):
        out.update((r.uid, r) for r in batch if r.uid in uids)
    return out


def _histograms(scores: list[dict[str, Any]]) -> tuple[list[str], dict[str, dict[str, list[Any]]]]:
    edges = np.linspace(0.0, 1.0, BINS + 1)
    checks = [
        k
        for k, v in (scores[0] if scores else {}).items()
        if k not in _NOT_SCORES and isinstance(v, int | float)
    ]
    out: dict[str, dict[str, list[Any]]] = {}
    for name in checks:
        values = np.clip(np.array([float(s.get(name) or 0.0) for s in scores]), 0.0, 1.0)
        counts, _ = np.histogram(values, bins=edges)
        out[name] = {"edges": [round(float(e), 4) for e in edges], "counts": [int(c) for c in counts]}
    return checks, out


def _load(session: Session, job: Job, dataset: Dataset) -> JobChanges:
    manifest = _read_jsonl(job_file(job, "manifest.jsonl"))
    scores = _read_jsonl(job_file(job, "scores.jsonl"))
    suggested = {str(s.get("uid") or s.get("id")): s.get("suggested_label") for s in scores}
    uids = {str(m["uid"]) for m in manifest if m.get("uid")}
    rows = _branch_rows(session, job, dataset, uids)
    entity_checks = _entity_checks()
    changes = []
    for k, line in enumerate(manifest):
        row_id = str(line.get("uid") or line["id"])
        row = rows.get(row_id)
        current = [" > ".join(lab) for lab in (row.labels or [])] if row is not None else []
        before = line.get("labels_before")
        before = current if before is None else before
        after = line.get("labels_after") or before
        changes.append(
            Change(
                index=k,
                row_id=row_id,
                text=row.text if row is not None else "",
                actions=tuple(ACTION_OF.get(a, a) for a in line.get("actions") or []),
                findings=_findings(line, entity_checks),
                labels_before=tuple(before),
                labels_after=tuple(after),
                suggested_label=suggested.get(row_id),
                entities=tuple(line.get("entities") or []),
            )
        )
    score = [c.score() for c in changes]
    order = {
        "row": list(range(len(changes))),
        "score_desc": sorted(range(len(changes)), key=lambda i: (-score[i], i)),
        "score_asc": sorted(range(len(changes)), key=lambda i: (score[i], i)),
    }
    checks, histograms = _histograms(scores)
    known = (job.result or {}).get("manifest", {}).get("thresholds", {})
    thresholds = {k: float(v) for k, v in known.items() if v is not None}
    return JobChanges(changes, {c.row_id: c for c in changes}, order, histograms, thresholds, checks)


def job_changes(*, session: Session, job: Job, dataset: Dataset) -> JobChanges:
    """A succeeded job's changes, parsed once per process (keyed by the manifest's identity on disk)."""
    require_reviewable(job)
    stat = job_file(job, "manifest.jsonl").stat()
    key = (job.id, stat.st_mtime_ns, stat.st_size)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    data = _load(session, job, dataset)
    with _lock:
        _cache[key] = data
        while len(_cache) > _CACHED_JOBS:
            _cache.popitem(last=False)
    return data


def decisions_of(*, session: Session, job_id: str, row_ids: list[str] | None = None) -> dict[str, Any]:
    """The decisions taken on a job's changes (only ``row_ids``' when given), by row id, as plain rows
    with the table's attributes (ORM objects cost several times more over 10,000 decisions)."""
    d = HealDecision
    stmt = select(d.row_id, d.decision, d.label, d.decided_by, d.decided_at).where(d.job_id == job_id)
    if row_ids is None:
        return {row.row_id: row for row in session.execute(stmt)}
    out: dict[str, Any] = {}
    for k in range(0, len(row_ids), 900):
        out.update((r.row_id, r) for r in session.execute(stmt.where(d.row_id.in_(row_ids[k : k + 900]))))
    return out


def verdicts_of(*, session: Session, job_id: str) -> dict[str, str]:
    """Each decided row's verdict (``accept`` or ``reject``), by row id: what filters and counts need."""
    d = HealDecision
    return {
        rid: verdict
        for rid, verdict in session.execute(select(d.row_id, d.decision).where(d.job_id == job_id))
    }


def check_filter(data: JobChanges, flt: ChangeFilter) -> None:
    """A filter naming a check the job did not run is a precise 422, not an empty page."""
    known = set(data.checks) | {c for ch in data.changes for c in ch.checks}
    for name in flt.check or []:
        if name not in known:
            raise InvalidInput(
                f"check {name!r} is not one of this job's checks: {', '.join(sorted(known)) or 'none'}",
                field="check",
            )


def matches(change: Change, verdict: str | None, flt: ChangeFilter) -> bool:
    """Whether a change, with its verdict (None: undecided), passes every field of the filter."""
    if flt.check and not set(flt.check) & set(change.checks):
        return False
    if flt.action and change.action not in flt.action:
        return False
    if flt.score_min is not None or flt.score_max is not None:
        score = change.score(flt.check)
        if flt.score_min is not None and score < flt.score_min:
            return False
        if flt.score_max is not None and score > flt.score_max:
            return False
    if flt.decision is not None:
        if (verdict or "undecided") != flt.decision:
            return False
    return True


def render_change(change: Change, decision: Any) -> dict[str, Any]:
    """A change as the review API shows it."""
    return {
        "row_id": change.row_id,
        "text": change.text,
        "action": change.action,
        "actions": list(change.actions),
        "checks": list(change.checks),
        "score": change.score(),
        "findings": [dict(f) for f in change.findings],
        "labels_before": list(change.labels_before),
        "labels_after": list(change.labels_after),
        "suggested_label": change.suggested_label,
        "decision": decision.decision if decision else None,
        "decision_label": decision.label if decision else None,
        "decided_by": decision.decided_by if decision else None,
        "decided_at": iso(decision.decided_at) if decision else None,
    }


def _cursor(job_id: str, sort: str, rank: int) -> str:
    raw = orjson.dumps({"j": job_id, "s": sort, "r": rank})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _rank_after(cursor: str | None, job_id: str, sort: str) -> int:
    """The rank (position in the job's full sort order) a page continues after; -1 for the first page."""
    if not cursor:
        return -1
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        ok = isinstance(raw, dict) and isinstance(raw.get("r"), int) and raw.get("j") == job_id
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        ok = False
    if not ok:
        raise InvalidInput("cursor is not one this job's changes list handed out", field="cursor")
    if raw.get("s") != sort:
        raise InvalidInput(f"cursor was handed out for sort {raw.get('s')!r}, not {sort!r}", field="cursor")
    return int(raw["r"])


def list_changes(
    *,
    session: Session,
    job: Job,
    dataset: Dataset,
    flt: ChangeFilter,
    sort: str = "score_desc",
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page of a job's changes matching ``flt``, in ``sort`` order, and how many match in all.

    The cursor holds the rank of the page's last change in the job's full order, which never changes,
    so paging stays right while decisions move changes in and out of a decision filter.
    """
    data = job_changes(session=session, job=job, dataset=dataset)
    check_filter(data, flt)
    after = _rank_after(cursor, job.id, sort)
    # Verdicts only when the filter asks for them; the page's full decisions are read for it alone.
    verdicts = verdicts_of(session=session, job_id=job.id) if flt.decision is not None else {}
    chosen: list[Change] = []
    total, last, more = 0, -1, False
    for rank, i in enumerate(data.order[sort]):
        change = data.changes[i]
        if not matches(change, verdicts.get(change.row_id), flt):
            continue
        total += 1
        if rank <= after:
            continue
        if len(chosen) < limit:
            chosen.append(change)
            last = rank
        else:
            more = True
    decisions = decisions_of(session=session, job_id=job.id, row_ids=[c.row_id for c in chosen])
    return {
        "items": [render_change(c, decisions.get(c.row_id)) for c in chosen],
        "next_cursor": _cursor(job.id, sort, last) if more else None,
        "total": total,
    }


def summary(*, session: Session, job: Job, dataset: Dataset) -> dict[str, Any]:
    """Counts by check, action and decision; every check's score histogram over all rows; thresholds."""
    data = job_changes(session=session, job=job, dataset=dataset)
    verdicts = verdicts_of(session=session, job_id=job.id)
    by_check: dict[str, int] = dict.fromkeys(data.checks, 0)
    by_action: dict[str, int] = {}
    by_decision = {"undecided": 0, "accept": 0, "reject": 0}
    for c in data.changes:
        for name in c.checks:
            by_check[name] = by_check.get(name, 0) + 1
        by_action[c.action] = by_action.get(c.action, 0) + 1
        by_decision[verdicts.get(c.row_id, "undecided")] += 1
    return {
        "total": len(data.changes),
        "by_check": by_check,
        "by_action": by_action,
        "by_decision": by_decision,
        "histograms": data.histograms,
        "thresholds": data.thresholds,
    }
