"""Model versions: list, pin/unpin, predict routes (documents and comments), training job errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs.worker import Worker
from tests.streams.helpers import BASE, comment, make_dataset, seed_model, upload

SCORES = {
    "0": {("A",): 0.7, ("B",): 0.3, ("B", "C"): 0.25},
    "1": {("A",): 0.1, ("B",): 0.6, ("B", "C"): 0.55},
}


def _setup(client: TestClient, db: Database) -> str:
    source_id = make_dataset(client, labels=[["A"], ["B", "C"]])
    dataset_id = client.get(BASE).json()["dataset"]["id"]
    seed_model(db, dataset_id, 1, SCORES)
    upload(client, [comment(0), comment(1)])
    return source_id


def test_list_get_pin_unpin(client: TestClient, db: Database) -> None:
    _setup(client, db)
    models = client.get(f"{BASE}/labellers").json()["models"]
    assert [(m["version"], m["pinned"]) for m in models] == [(1, True)]
    r = client.delete(f"{BASE}/labellers/1/pin")
    assert r.json()["model"]["pinned"] is False
    assert client.get(f"{BASE}/labellers/1").json()["model"]["pinned"] is False
    r = client.put(f"{BASE}/streams", json={"stream": {"name": "s", "model": {"version": 1}}})
    assert r.status_code == 422 and "not pinned" in r.json()["message"]
    assert client.put(f"{BASE}/labellers/1/pin").json()["model"]["pinned"] is True
    assert (
        client.put(f"{BASE}/streams", json={"stream": {"name": "s", "model": {"version": 1}}}).status_code
        == 200
    )
    r = client.get(f"{BASE}/labellers/7")
    assert r.status_code == 404 and r.json()["status"] == "error"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, [[["A"], ["B"], ["B", "C"]], [["B"], ["B", "C"], ["A"]]]),
        ({"threshold": 0.55}, [[["A"]], [["B"], ["B", "C"]]]),
        ({"labels": [{"name": ["B", "C"], "threshold": 0.25}]}, [[["B", "C"]], [["B", "C"]]]),
        ({"labels": [{"name": ["A"], "threshold": 0.71}]}, [[], []]),
    ],
)
def test_predict_comments_and_documents(
    client: TestClient, db: Database, options: dict[str, Any], expected: list[Any]
) -> None:
    source_id = _setup(client, db)
    r = client.post(
        f"{BASE}/labellers/1/predict-comments",
        json={"uids": [f"{source_id}.c0", f"{source_id}.c1"], **options},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [p["uid"] for p in body["predictions"]] == [f"{source_id}.c0", f"{source_id}.c1"]
    assert [[lb["name"] for lb in p["labels"]] for p in body["predictions"]] == expected
    docs = [{"messages": comment(i)["messages"]} for i in (0, 1)]
    r = client.post(f"{BASE}/labellers/1/predict", json={"documents": docs, **options})
    assert r.status_code == 200, r.text
    assert [[lb["name"] for lb in p["labels"]] for p in r.json()["predictions"]] == expected
    assert r.json()["model"]["version"] == 1


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("labellers/2/predict", {"documents": [{"messages": [{"body": {"text": "x"}}]}]}, 404),
        ("labellers/1/predict", {"documents": []}, 422),
        (
            "labellers/1/predict",
            {"documents": [{"messages": [{"body": {"text": "x"}}]}], "threshold": 2},
            422,
        ),
        (
            "labellers/1/predict",
            {"documents": [{"messages": [{"body": {"text": "x"}}]}], "threshold": "auto-ish"},
            422,
        ),
        ("labellers/1/predict-comments", {"uids": ["0123456789abcdef.nope"]}, 404),
        ("labellers/1/predict-comments", {"uids": ["bad"]}, 422),
        (
            "labellers/1/predict-comments",
            {"uids": ["0123456789abcdef.x"], "labels": [{"name": ["Z"], "threshold": 0.5}]},
            422,
        ),
        ("labellers/0/predict-comments", {"uids": ["0123456789abcdef.x"]}, 422),
    ],
)
def test_predict_bad_input(
    client: TestClient, db: Database, path: str, body: dict[str, Any], status: int
) -> None:
    _setup(client, db)
    r = client.post(f"{BASE}/{path}", json=body)
    assert r.status_code == status, r.text
    assert r.json()["status"] == "error"


@pytest.mark.parametrize(
    ("labelled", "message"), [(0, "at least 2 different labels"), (1, "at least 2 different labels")]
)
def test_training_without_enough_labels_fails_cleanly(
    client: TestClient, db: Database, settings: Settings, labelled: int, message: str
) -> None:
    source_id = make_dataset(client)
    upload(client, [comment(i) for i in range(3)])
    for i in range(labelled):
        client.post(
            f"{BASE}/labellings/{source_id}.c{i}", json={"labelling": {"assigned": [{"name": ["A"]}]}}
        )
    r = client.post(f"{BASE}/labellers/train", json={})
    assert r.status_code == 200, r.text
    job_id = r.json()["job"]["id"]
    assert Worker(db=db, settings=settings).run_once(job_id=job_id)
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "failed" and message in job["error"]
    assert client.get(f"{BASE}/labellers").json()["models"] == []
