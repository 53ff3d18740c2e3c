"""The export job end to end: JSONL, CSV and Parquet files hold exactly the branch's rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from sanitas.config import Settings
from sanitas.datasets import branches
from sanitas.datasets.files import parse_file
from sanitas.datasets.imports import import_rows
from sanitas.datasets.schemas import DatasetFields
from sanitas.datasets.service import get_dataset_by_id, put_dataset, resolve_uids
from sanitas.db import Database
from sanitas.jobs import service as jobs
from sanitas.jobs.worker import Worker

TEXTS = [
    "plain text",
    'with "quotes", commas, and a\nnewline',
    "ünïcödé — emoji 🎉",
    "  leading and trailing spaces  ",
    "tab\there",
]


def source_lines() -> list[dict[str, Any]]:
    """Twenty rows: labelled, multi-labelled and unlabelled, with texts that stress every writer."""
    rows: list[dict[str, Any]] = []
    for i in range(20):
        row: dict[str, Any] = {"id": f"r{i:02d}", "text": f"{TEXTS[i % len(TEXTS)]} #{i}"}
        if i % 4 == 1:
            row["label"] = "Billing > Refund"
        elif i % 4 == 2:
            row["labels"] = [["Cards"], ["Cards", "Lost"]]
        elif i % 4 == 3:
            row["label"] = "Transfers"
        rows.append(row)
    return rows


def expected(changes: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The export records, computed independently from the source rows and a change description."""
    changes = changes or {}
    out = []
    for row in source_lines():
        if row["id"] in changes.get("excluded", ()):
            continue
        if "labels" in row:
            labels = [" > ".join(x) for x in row["labels"]]
        else:
            labels = [row["label"]] if "label" in row else []
        labels = changes.get("labels", {}).get(row["id"], labels)
        text = changes.get("texts", {}).get(row["id"], row["text"])
        rec: dict[str, Any] = {"id": row["id"], "text": text, "label": labels[0] if labels else None}
        if len(labels) > 1:
            rec["labels"] = labels
        out.append(rec)
    return out


CHILD = {
    "excluded": {"r03", "r10"},
    "labels": {"r00": ["Billing"], "r02": ["Transfers"]},
    "texts": {"r05": "rewritten, with a comma"},
}


@pytest.fixture()
def dataset(db: Database) -> dict[str, str]:
    """A dataset imported from JSONL, plus a child branch applying ``CHILD``."""
    data = b"\n".join(orjson.dumps(r) for r in source_lines())
    with db.write() as s:
        ds, _ = put_dataset(session=s, project="acme", name="tickets", fields=DatasetFields())
        res = import_rows(session=s, dataset=ds, rows=parse_file(data, "jsonl"))
        uids = [
            f"{res.source_id}.{cid}"
            for cid in sorted({*CHILD["excluded"], *CHILD["labels"], *CHILD["texts"]})
        ]
        pk = {uid.split(".", 1)[1]: p for uid, p in resolve_uids(session=s, dataset=ds, uids=uids).items()}
        change = branches.ChangeSet(
            excluded={pk[c] for c in CHILD["excluded"]},
            labels={pk[c]: [lab.split(" > ") for lab in v] for c, v in CHILD["labels"].items()},
            messages={pk[c]: [{"body": {"text": t}}] for c, t in CHILD["texts"].items()},
        )
        child = branches.create_branch(session=s, dataset=ds, changes=change, name="healed")
        return {"dataset_id": ds.id, "main": ds.active_branch_id or "", "child": child.id}


def read_back(path: Path, fmt: str) -> list[dict[str, Any]]:
    """Records from an exported file, in the JSONL record shape (CSV: empty label = none)."""
    if fmt == "jsonl":
        return [orjson.loads(line) for line in path.read_bytes().splitlines()]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        return [{**r, "label": r["label"] or None} for r in rows]
    return pq.read_table(path).to_pylist()


def comparable(records: list[dict[str, Any]], fmt: str) -> list[dict[str, Any]]:
    """CSV and Parquet carry only ``id, text, label``."""
    if fmt == "jsonl":
        return records
    return [{k: r[k] for k in ("id", "text", "label")} for r in records]


def run_export(db: Database, settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """Enqueue and run one export job; returns the finished job's result."""
    with db.write() as s:
        job_id = jobs.enqueue(session=s, kind="export", project="acme", payload=payload).id
    assert Worker(db=db, settings=settings, kinds=["export"]).run_once(job_id=job_id)
    with db.read() as s:
        job = jobs.get_job(session=s, job_id=job_id)
        assert job.status == "succeeded", job.error
        assert job.result is not None
        return dict(job.result)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
@pytest.mark.parametrize(("branch", "changes"), [("main", None), ("child", CHILD)])
def test_export_writes_the_branch_rows(
    db: Database, settings: Settings, dataset: dict[str, str], fmt: str, branch: str, changes: Any
) -> None:
    payload = {
        "dataset_id": dataset["dataset_id"],
        "branch_id": dataset[branch],
        "format": fmt,
        "batch_size": 7,
    }
    result = run_export(db, settings, payload)
    want = comparable(expected(changes), fmt)
    assert result["rows"] == len(want) and result["branch_id"] == dataset[branch]
    assert read_back(Path(result["path"]), fmt) == want
    # The branch reader agrees with the independent expectation too.
    with db.read() as s:
        ds = get_dataset_by_id(session=s, dataset_id=dataset["dataset_id"])
        br = branches.get_branch(session=s, dataset=ds, branch_id=dataset[branch])
        ids = [r.id for batch in branches.iter_rows(session=s, dataset=ds, branch=br) for r in batch]
    assert ids == [r["id"] for r in want]


def test_export_of_a_missing_dataset_fails_without_retry(db: Database, settings: Settings) -> None:
    with db.write() as s:
        job_id = jobs.enqueue(
            session=s,
            kind="export",
            project="acme",
            payload={"dataset_id": "00000000-0000-0000-0000-000000000000", "format": "jsonl"},
        ).id
    Worker(db=db, settings=settings, kinds=["export"]).run_once(job_id=job_id)
    with db.read() as s:
        job = jobs.get_job(session=s, job_id=job_id)
        assert (job.status, job.attempts) == ("failed", 1)
        assert job.error is not None and "not found" in job.error


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_over_http_then_download(
    client: TestClient, db: Database, settings: Settings, dataset: dict[str, str], fmt: str
) -> None:
    r = client.post(
        f"/api/datasets/{dataset['dataset_id']}/exports", params={"format": fmt, "branch": "healed"}
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and job["kind"] == "export"
    assert client.get(f"/api/jobs/{job['id']}/download").status_code == 409  # nothing to download yet
    assert Worker(db=db, settings=settings, kinds=["export"]).run_once(job_id=job["id"])
    r = client.get(f"/api/jobs/{job['id']}")
    assert r.json()["status"] == "succeeded" and r.json()["progress"] == 100
    r = client.get(f"/api/jobs/{job['id']}/download")
    assert r.status_code == 200
    path = settings.home / f"download.{fmt}"
    path.write_bytes(r.content)
    assert read_back(path, fmt) == comparable(expected(CHILD), fmt)
