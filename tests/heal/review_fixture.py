"""A finished heal job without running the detectors: a dataset uploaded through the API, a heal job
enqueued through the API, and the job's files (manifest.jsonl, scores.jsonl) written as a heal writes
them, so review tests control every change exactly and need no model.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi.testclient import TestClient

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs.tables import Job
from sanitas.timeutil import utcnow

LABELS = ("card_arrival", "exchange_rate", "lost_or_stolen_card", "top_up_failed")
CHECKS = ("mislabeled", "outlier", "poisoned", "off_topic", "injection", "sensitive")
THRESHOLDS = {
    "mislabeled": 0.5,
    "outlier": 0.6,
    "poisoned": 0.5,
    "off_topic": 0.55,
    "injection": 0.5,
    "sensitive": 0.5,
}
PII_TEXT = "call me on 415 555 0132 please"


@dataclass
class FakeHeal:
    """A heal job of ``project`` whose changes are ``manifest`` (row ids are uids)."""

    job_id: str
    dataset_id: str
    source_id: str
    rows: list[dict[str, Any]]
    manifest: list[dict[str, Any]]
    uid: dict[str, str] = field(default_factory=dict)


def dataset_rows(n: int) -> list[dict[str, Any]]:
    """``n`` labelled rows ``r0..``; ``r2`` holds a phone number."""
    rows = [
        {"id": f"r{i}", "text": f"row {i} about my card", "label": LABELS[i % len(LABELS)]} for i in range(n)
    ]
    if n > 2:
        rows[2]["text"] = PII_TEXT
    return rows


def standard_changes(uid: dict[str, str]) -> list[dict[str, Any]]:
    """Six changes, one of each kind a heal writes (scores differ so every sort order is known)."""
    return [
        {
            "id": "r0",
            "uid": uid["r0"],
            "actions": ["removed"],
            "findings": [{"check": "outlier", "score": 0.91}],
        },
        {
            "id": "r1",
            "uid": uid["r1"],
            "actions": ["relabeled"],
            "findings": [
                {"check": "mislabeled", "score": 0.8, "detail": {"suggested_label": "top_up_failed"}}
            ],
            "labels_before": [LABELS[1]],
            "labels_after": ["top_up_failed"],
        },
        {
            "id": "r2",
            "uid": uid["r2"],
            "actions": ["anonymized"],
            "findings": [{"check": "sensitive", "score": 0.7}],
            "entities": [{"start": 11, "end": 23, "label": "phone_number", "score": 0.7}],
        },
        {
            "id": "r3",
            "uid": uid["r3"],
            "actions": [],
            "findings": [{"check": "off_topic", "score": 0.6, "off_topic_score": 70}],
        },
        {
            "id": "r4",
            "uid": uid["r4"],
            "actions": ["removed"],
            "findings": [
                {
                    "check": "poisoned",
                    "score": 0.95,
                    "detail": {"trigger": "cf zx", "target_label": "exchange_rate"},
                },
                {"check": "outlier", "score": 0.65},
            ],
        },
        {
            "id": "r5",
            "uid": uid["r5"],
            "actions": ["removed"],
            "findings": [{"check": "outlier", "score": 0.62}],
        },
    ]


def scores_for(
    rows: list[dict[str, Any]], uid: dict[str, str], manifest: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A scores.jsonl line per row: every check's score (a flagged row's finding score), the suggestion."""
    found = {m["id"]: {f["check"]: f["score"] for f in m["findings"]} for m in manifest}
    out = []
    for k, r in enumerate(rows):
        line: dict[str, Any] = {"id": r["id"], "uid": uid[r["id"]]}
        for c in CHECKS:
            line[c] = found.get(r["id"], {}).get(c, round((k % 10) / 40, 4))
        line["suggested_label"] = "top_up_failed" if r["id"] == "r1" else r["label"]
        out.append(line)
    return out


def make_fake_heal(
    client: TestClient,
    db: Database,
    settings: Settings,
    *,
    project: str = "acme",
    n: int = 12,
    manifest: list[dict[str, Any]] | None = None,
    status: str = "succeeded",
) -> FakeHeal:
    """Upload ``n`` rows to a new dataset of ``project`` and finish a heal job on it with fixed files."""
    name = f"review-{uuid.uuid4().hex[:8]}"
    r = client.put(f"/api/v1/datasets/{project}/{name}", json={"dataset": {}})
    assert r.status_code == 200, r.text
    dataset_id = r.json()["dataset"]["id"]
    rows = dataset_rows(n)
    body = b"".join(orjson.dumps(row) + b"\n" for row in rows)
    r = client.post(f"/api/datasets/{dataset_id}/files?filename=rows.jsonl", content=body)
    assert r.status_code == 200, r.text
    source_id = client.get(f"/api/v1/datasets/{project}/{name}").json()["dataset"]["source_ids"][0]
    uid = {row["id"]: f"{source_id}.{row['id']}" for row in rows}
    r = client.post(f"/api/datasets/{dataset_id}/heal", json={"target": "download"})
    assert r.status_code == 200, r.text
    job_id = r.json()["id"]
    lines = standard_changes(uid) if manifest is None else manifest
    out = settings.files_dir / "jobs" / job_id
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.jsonl").write_bytes(b"".join(orjson.dumps(m) + b"\n" for m in lines))
    (out / "scores.jsonl").write_bytes(
        b"".join(orjson.dumps(s) + b"\n" for s in scores_for(rows, uid, lines))
    )
    with db.write() as s:
        job = s.get(Job, job_id)
        assert job is not None
        job.status, job.progress, job.finished_at = status, 100.0, utcnow()
        job.result = {
            "manifest": {"rows": n, "thresholds": THRESHOLDS},
            "files": {
                "manifest.jsonl": str(out / "manifest.jsonl"),
                "scores.jsonl": str(out / "scores.jsonl"),
            },
        }
    return FakeHeal(job_id, dataset_id, source_id, rows, lines, uid)
