"""Dataframer anonymization runs over HTTP: lifecycle, files, soft delete, and every bad-input rule."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs.worker import Worker

BASE = "/api/dataframer/anonymization-runs"
EMPTY_RESULTS = {"entity_summary": {}, "samples_processed": 0, "entities_found": [], "error": None}
ROWS = [
    {"id": "a", "text": "Please email me at jane.doe@example.com about my order"},
    {"id": "b", "text": "My card number is 4111 1111 1111 1111, call 415-555-0132"},
    {"id": "c", "text": "Nothing personal in this one"},
]


def make_dataset(client: TestClient, project: str = "acme", name: str = "chats") -> str:
    """A dataset holding ROWS; returns its id."""
    r = client.put(f"/api/v1/datasets/{project}/{name}", json={"dataset": {}})
    assert r.status_code == 200, r.text
    dataset_id = r.json()["dataset"]["id"]
    body = b"".join(orjson.dumps(row) + b"\n" for row in ROWS)
    r = client.post(f"/api/datasets/{dataset_id}/files?filename=rows.jsonl", content=body)
    assert r.status_code == 200, r.text
    return str(dataset_id)


def run_all(db: Database, settings: Settings) -> None:
    """Run queued jobs in this process."""
    worker = Worker(db=db, settings=settings)
    while worker.run_once():
        pass


def test_run_lifecycle_files_and_soft_delete(client: TestClient, db: Database, settings: Settings) -> None:
    dataset_id = make_dataset(client)
    body = {
        "dataset_id": dataset_id,
        "pii_types": ["email", "credit_card", "PHONE_NUMBER"],
        "detection_method": "heuristics",
        "mask_config": {"email": "<EMAIL>"},
    }
    r = client.post(f"{BASE}/", json=body)
    assert r.status_code == 201, r.text
    run = r.json()
    # An object before any result, as the vendor types it (never null).
    assert run["status"] == "PENDING" and run["results"] == EMPTY_RESULTS
    assert run["pii_types"] == ["email", "credit_card", "phone_number"]
    run_all(db, settings)
    done = client.get(f"{BASE}/{run['id']}/").json()
    assert done["status"] == "SUCCEEDED", done
    results = done["results"]
    assert results["samples_processed"] == 3
    assert results["entity_summary"].get("email") == 1
    assert results["entity_summary"].get("credit_card") == 1
    for e in results["entities_found"]:
        assert {"start", "end", "label", "score", "sample_id", "message_index", "field"} <= set(e)
        assert e["field"] == "body" and e["message_index"] == 0
    assert [f["id"] for f in done["anonymized_files"]] == ["f1"]
    link = client.get(f"{BASE}/{run['id']}/files/f1/download/").json()
    assert set(link) == {"download_url", "file_name", "content_type"}
    content = client.get(link["download_url"], headers={"Authorization": ""})
    assert content.status_code == 200
    text = content.content.decode()
    assert "jane.doe@example.com" not in text and "<EMAIL>" in text
    assert "4111 1111 1111 1111" not in text
    tampered = link["download_url"].replace("signature=", "signature=0")
    assert client.get(tampered).status_code == 403
    z = client.get(f"{BASE}/{run['id']}/download/").json()
    assert z["status"] == "ready"
    archive = zipfile.ZipFile(io.BytesIO(client.get(z["download_url"]).content))
    assert archive.namelist() == [link["file_name"]]
    assert client.delete(f"{BASE}/{run['id']}/").status_code == 204
    assert client.get(f"{BASE}/{run['id']}/").status_code == 404
    assert all(x["id"] != run["id"] for x in client.get(f"{BASE}/").json())


def test_list_newest_first_and_cancel(client: TestClient) -> None:
    dataset_id = make_dataset(client)
    ids = []
    for _ in range(3):
        r = client.post(
            BASE + "/",
            json={"dataset_id": dataset_id, "pii_types": ["email"], "detection_method": "heuristics"},
        )
        ids.append(r.json()["id"])
    listed = [x["id"] for x in client.get(BASE + "/").json()]
    assert listed == list(reversed(ids))
    r = client.post(f"{BASE}/{ids[0]}/cancel/")
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
    assert r.json()["results"] == EMPTY_RESULTS
    assert client.get(f"{BASE}/{ids[0]}/").json()["results"] == EMPTY_RESULTS


def test_the_list_carries_counts_and_the_run_its_entities(
    client: TestClient, db: Database, settings: Settings
) -> None:
    dataset_id = make_dataset(client)
    body = {"dataset_id": dataset_id, "pii_types": ["email", "credit_card"], "detection_method": "heuristics"}
    run_id = client.post(BASE + "/", json=body).json()["id"]
    run_all(db, settings)
    full = client.get(f"{BASE}/{run_id}/").json()["results"]
    assert len(full["entities_found"]) == 2
    [listed] = client.get(BASE + "/").json()
    # Every run's spans in a list would grow without bound: the list has the counts only.
    assert listed["results"] == {
        "entity_summary": {"credit_card": 1, "email": 1},
        "samples_processed": 3,
        "error": None,
    }
    assert listed["anonymized_files"] == client.get(f"{BASE}/{run_id}/").json()["anonymized_files"]


def _valid(dataset_id: str) -> dict[str, Any]:
    return {"dataset_id": dataset_id, "pii_types": ["email"], "detection_method": "aimon_pii_m1"}


BAD = [
    ("unknown pii type", {"pii_types": ["email", "shoe_size"]}, 422, "shoe_size"),
    ("unknown method", {"detection_method": "magic"}, 422, "aimon_pii_m1"),
    ("llm without model", {"detection_method": "llm"}, 422, "llm_model_name"),
    ("llm not configured", {"detection_method": "llm", "llm_model_name": "gpt"}, 422, "SANITAS_LLM_BASE_URL"),
    ("threshold above 1", {"threshold": 1.5}, 422, "threshold"),
    ("threshold below 0", {"threshold": -0.1}, 422, "threshold"),
    ("dataset not a uuid", {"dataset_id": "nope"}, 422, "dataset_id"),
    ("unknown dataset", {"dataset_id": str(uuid.uuid4())}, 404, "not found"),
    ("mask for unrequested type", {"mask_config": {"person": "REDACT"}}, 422, "mask_config"),
    ("empty pii_types", {"pii_types": []}, 422, "pii_types"),
    ("unknown field", {"colour": "red"}, 422, "colour"),
    ("wrong type", {"threshold": "high"}, 422, "threshold"),
]


@pytest.mark.parametrize(("case", "change", "status", "needle"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_precise_4xx(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    change: dict[str, Any],
    status: int,
    needle: str,
) -> None:
    monkeypatch.delenv("SANITAS_LLM_BASE_URL", raising=False)
    dataset_id = make_dataset(client)
    r = client.post(BASE + "/", json={**_valid(dataset_id), **change})
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= {"detail", "code"}
    assert needle in body["detail"]


def test_valid_request_is_accepted(client: TestClient) -> None:
    r = client.post(BASE + "/", json=_valid(make_dataset(client)))
    assert r.status_code == 201


def test_other_project_runs_are_invisible(
    client: TestClient, anon: TestClient, make_key: Callable[..., str]
) -> None:
    dataset_id = make_dataset(client, project="acme")
    run_id = client.post(BASE + "/", json=_valid(dataset_id)).json()["id"]
    other = {"Authorization": f"Bearer {make_key(role='write', projects=['other'])}"}
    assert anon.get(f"{BASE}/{run_id}/", headers=other).status_code == 404
    assert anon.get(f"{BASE}/", headers=other).json() == []
    r = anon.post(BASE + "/", json=_valid(dataset_id), headers=other)
    assert r.status_code == 404


def test_the_list_reads_no_stored_spans(client: TestClient, db: Database, settings: Settings) -> None:
    from sqlalchemy import event

    from sanitas.anonymization import service

    dataset_id = make_dataset(client)
    body = {"dataset_id": dataset_id, "pii_types": ["email"], "detection_method": "heuristics"}
    run_id = client.post(BASE + "/", json=body).json()["id"]
    run_all(db, settings)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = db.read_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with db.read() as s:
            [listed] = service.list_runs(session=s, projects=["acme"])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert listed["id"] == run_id and listed["results"]["entity_summary"] == {"email": 1}
    assert listed["anonymized_files"][0]["id"] == "f1"
    # The whole stored result (with every span) is never selected, only its summary parts.
    selects = [st for st in statements if "FROM jobs" in st]
    parts_only = [re.sub(r"JSON_EXTRACT\(jobs\.result,|jobs\.result ->", "", st) for st in selects]
    assert selects and not any("jobs.result" in st for st in parts_only), selects
