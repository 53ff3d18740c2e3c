"""Heal jobs over HTTP: branches, files, bad input, and the request and response documented by
Blindsight Antidote's "Start Healing" API reference (docs.blindsight.io)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs.worker import Worker

# 100 BANKING77 queries, four intents (CC BY 4.0; origin and licence in tests/data/SOURCES.md).
BANKING77_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "banking77_sample.csv"
RESPONSE_FIELDS = {
    "id",
    "dataset_id",
    "status",
    "progress",
    "fix_mislabeled",
    "remove_outliers",
    "remove_poisoned",
    "remove_off_topics",
    "remove_injection",
    "remove_sensitive_information",
    "anonymize_sensitive_information",
    "created_at",
    "message",
    "off_topic_score_min",
    "off_topic_score_max",
    "output_filename",
    "manifest",
    "started_at",
    "finished_at",
    "duration_seconds",
    "target",
    "activated",
    "created_branch_id",
    "created_branch_name",
}
SCORE_KEYS = {
    "id",
    "uid",
    "mislabeled",
    "outlier",
    "poisoned",
    "off_topic",
    "injection",
    "sensitive",
    "suggested_label",
}


def sample_rows(per_class: int = 25) -> list[dict[str, Any]]:
    """A small labelled set from BANKING77 (four classes), plus rows with obvious defects."""
    wanted = ["card_arrival", "exchange_rate", "lost_or_stolen_card", "top_up_failed"]
    counts = dict.fromkeys(wanted, 0)
    rows = []
    with open(BANKING77_SAMPLE, newline="") as fh:
        for rec in csv.DictReader(fh):
            if rec["category"] in counts and counts[rec["category"]] < per_class:
                counts[rec["category"]] += 1
                rows.append({"id": f"r{len(rows)}", "text": rec["text"], "label": rec["category"]})
    rows.append(
        {
            "id": "pii",
            "text": "My card is lost, call me on +1 415 555 0132 or jane.doe@example.com",
            "label": "lost_or_stolen_card",
        }
    )
    rows.append({"id": "junk", "text": "asdkj qwpoe zzxq 9981 ## $$ %% qpwoeiruty", "label": "card_arrival"})
    return rows


def make_dataset(client: TestClient, rows: list[dict[str, Any]], name: str = "tickets") -> str:
    r = client.put(f"/api/v1/datasets/acme/{name}", json={"dataset": {}})
    dataset_id = r.json()["dataset"]["id"]
    if rows:
        body = b"".join(orjson.dumps(row) + b"\n" for row in rows)
        r = client.post(f"/api/datasets/{dataset_id}/files?filename=rows.jsonl", content=body)
        assert r.status_code == 200, r.text
    return str(dataset_id)


def run_jobs(db: Database, settings: Settings) -> None:
    worker = Worker(db=db, settings=settings)
    while worker.run_once():
        pass


def read_jsonl(content: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in content.splitlines() if line.strip()]


@pytest.fixture()
def healed(client: TestClient, db: Database, settings: Settings) -> dict[str, Any]:
    """One heal with every check on, target=dataset, run to completion."""
    rows = sample_rows()
    dataset_id = make_dataset(client, rows)
    body = {
        "target": "dataset",
        "remove_off_topics": True,
        "remove_injection": True,
        "remove_sensitive_information": True,
    }
    r = client.post(f"/api/datasets/{dataset_id}/heal", json=body)
    assert r.status_code == 200, r.text
    assert set(r.json()) >= RESPONSE_FIELDS
    assert r.json()["status"] == "queued"
    run_jobs(db, settings)
    job = client.get(f"/api/healing/{r.json()['id']}").json()
    return {"dataset_id": dataset_id, "rows": rows, "job": job}


def test_heal_creates_an_inactive_branch_and_leaves_main_untouched(
    client: TestClient, healed: dict[str, Any]
) -> None:
    job, dataset_id = healed["job"], healed["dataset_id"]
    assert job["status"] == "completed", job
    assert job["progress"] == 100 and job["duration_seconds"] is not None
    assert set(job) >= RESPONSE_FIELDS
    assert job["created_branch_id"] and job["created_branch_name"] and job["activated"] is False
    assert job["manifest"]["rows"] == len(healed["rows"])
    listing = client.get(f"/api/datasets/{dataset_id}/branches").json()
    assert listing["branch_count"] == 2
    child = next(b for b in listing["branches"] if b["dataset_id"] == job["created_branch_id"])
    assert child["created_from_healing_job_id"] == job["id"] and not child["is_main_branch"]
    main = next(b for b in listing["branches"] if b["is_main_branch"])
    assert listing["selected_branch_id"] == main["dataset_id"]
    manifest = read_jsonl(client.get(f"/api/healing/{job['id']}/manifest.jsonl").content)
    removed = {m["id"] for m in manifest if "removed" in m["actions"]}
    assert "pii" in removed
    for m in manifest:
        assert set(m) >= {"id", "uid", "actions", "findings"}
        for f in m["findings"]:
            assert f["check"] in {"mislabeled", "outlier", "poisoned", "off_topic", "injection", "sensitive"}
            assert 0.0 <= f["score"] <= 1.0
    scores = read_jsonl(client.get(f"/api/healing/{job['id']}/scores.jsonl").content)
    assert len(scores) == len(healed["rows"])
    assert all(set(s) >= SCORE_KEYS for s in scores)
    r = client.get(f"/api/healing/{job['id']}/report")
    assert r.status_code == 200 and b"<html" in r.content.lower()
    # Exports of main and of the healed branch differ exactly by the removed rows.
    ex_main = client.post(f"/api/datasets/{dataset_id}/exports?format=jsonl&branch=main").json()
    ex_child = client.post(
        f"/api/datasets/{dataset_id}/exports?format=jsonl&branch={job['created_branch_id']}"
    )
    assert ex_main["status"] == "queued" and ex_child.status_code == 202


def test_branch_contents_and_activation(
    client: TestClient, healed: dict[str, Any], db: Database, settings: Settings
) -> None:
    job, dataset_id = healed["job"], healed["dataset_id"]
    exports = {}
    for ref in ("main", job["created_branch_id"]):
        exports[ref] = client.post(f"/api/datasets/{dataset_id}/exports?format=jsonl&branch={ref}").json()[
            "id"
        ]
    run_jobs(db, settings)
    main_rows = read_jsonl(client.get(f"/api/jobs/{exports['main']}/download").content)
    child_rows = read_jsonl(client.get(f"/api/jobs/{exports[job['created_branch_id']]}/download").content)
    manifest = read_jsonl(client.get(f"/api/healing/{job['id']}/manifest.jsonl").content)
    removed = {m["id"] for m in manifest if "removed" in m["actions"]}
    assert len(main_rows) == len(healed["rows"])
    assert {r["id"] for r in child_rows} == {r["id"] for r in main_rows} - removed
    r = client.post(f"/api/datasets/{dataset_id}/branches/{job['created_branch_id']}/activate")
    assert r.json()["selected_branch_id"] == job["created_branch_id"]
    r = client.post(f"/api/datasets/{dataset_id}/branches/main/activate")
    assert r.json()["selected_branch_id"] != job["created_branch_id"]


def test_download_target_and_activate(client: TestClient, db: Database, settings: Settings) -> None:
    dataset_id = make_dataset(client, sample_rows(10))
    r = client.post(f"/api/datasets/{dataset_id}/heal", json={"target": "download"})
    run_jobs(db, settings)
    job = client.get(f"/api/healing/{r.json()['id']}").json()
    assert job["status"] == "completed" and job["output_filename"].endswith(".jsonl")
    assert job["created_branch_id"] is None
    healed_rows = read_jsonl(client.get(f"/api/healing/{job['id']}/download").content)
    assert healed_rows and set(healed_rows[0]) == {"id", "text", "label"}
    r = client.post(f"/api/datasets/{dataset_id}/heal", json={"activate": True})
    run_jobs(db, settings)
    job = client.get(f"/api/healing/{r.json()['id']}").json()
    assert job["activated"] is True
    listing = client.get(f"/api/datasets/{dataset_id}/branches").json()
    assert listing["selected_branch_id"] == job["created_branch_id"]
    jobs = client.get(f"/api/datasets/{dataset_id}/healing").json()["jobs"]
    assert [j["id"] for j in jobs][0] == job["id"] and len(jobs) == 2


def test_unlabelled_dataset_skips_mislabeled_and_says_why(
    client: TestClient, db: Database, settings: Settings
) -> None:
    rows = [{"id": r["id"], "text": r["text"]} for r in sample_rows(8)]
    dataset_id = make_dataset(client, rows)
    r = client.post(f"/api/datasets/{dataset_id}/heal", json={"fix_mislabeled": True})
    run_jobs(db, settings)
    job = client.get(f"/api/healing/{r.json()['id']}").json()
    assert job["status"] == "completed"
    assert "mislabeled" in job["manifest"]["skipped"]
    assert "mislabeled" in job["message"]


def test_empty_dataset_finishes_with_nothing_to_do(
    client: TestClient, db: Database, settings: Settings
) -> None:
    dataset_id = make_dataset(client, [], name="empty")
    r = client.post(f"/api/datasets/{dataset_id}/heal", json={})
    run_jobs(db, settings)
    job = client.get(f"/api/healing/{r.json()['id']}").json()
    assert job["status"] == "completed"
    assert job["manifest"]["rows"] == 0


def test_cancel_a_queued_heal(client: TestClient) -> None:
    dataset_id = make_dataset(client, sample_rows(3))
    job_id = client.post(f"/api/datasets/{dataset_id}/heal", json={}).json()["id"]
    r = client.post(f"/api/healing/{job_id}/cancel")
    assert r.json()["status"] == "cancelled"


BAD = [
    ("min above max", {"off_topic_score_min": 80, "off_topic_score_max": 20}, 422, "off_topic_score_min"),
    ("min below 0", {"off_topic_score_min": -1}, 422, "off_topic_score_min"),
    ("max above 100", {"off_topic_score_max": 101}, 422, "off_topic_score_max"),
    ("unknown target", {"target": "s3"}, 422, "dataset"),
    ("wrong type", {"fix_mislabeled": "yes"}, 422, "fix_mislabeled"),
    ("float score", {"off_topic_score_min": 1.5}, 422, "off_topic_score_min"),
    ("unknown field", {"remove_everything": True}, 422, "remove_everything"),
]


@pytest.mark.parametrize(("case", "body", "status", "needle"), BAD, ids=[b[0] for b in BAD])
def test_bad_heal_requests(
    client: TestClient, case: str, body: dict[str, Any], status: int, needle: str
) -> None:
    dataset_id = make_dataset(client, [])
    r = client.post(f"/api/datasets/{dataset_id}/heal", json=body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] and needle in err["message"]


@pytest.mark.parametrize("dataset_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_unknown_dataset_is_404(client: TestClient, dataset_id: str) -> None:
    r = client.post(f"/api/datasets/{dataset_id}/heal", json={})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "DATASET_NOT_FOUND"


def test_unknown_job_is_404(client: TestClient) -> None:
    r = client.get("/api/healing/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and r.json()["error"]["code"] == "JOB_NOT_FOUND"
