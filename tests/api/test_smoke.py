"""End-to-end smoke: a source, a dataset, a sync, a read, on both backends."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_source_dataset_sync_roundtrip(client: TestClient) -> None:
    r = client.put("/api/v1/sources/acme/tickets", json={"source": {"title": "Tickets"}})
    assert r.status_code == 200, r.text
    source_id = r.json()["source"]["id"]
    r = client.put("/api/v1/datasets/acme/support", json={"dataset": {"source_ids": [source_id]}})
    assert r.status_code == 200, r.text
    comments = [
        {"id": f"c{i}", "timestamp": "2024-01-01T00:00:00Z", "messages": [{"body": {"text": f"hello {i}"}}]}
        for i in range(10)
    ]
    r = client.post("/api/v1/sources/acme/tickets/sync", json={"comments": comments})
    assert r.json() == {"status": "ok", "new": 10, "updated": 0, "unchanged": 0}
    comments[3]["messages"][0]["body"]["text"] = "changed"
    r = client.post("/api/v1/sources/acme/tickets/sync", json={"comments": comments})
    assert r.json() == {"status": "ok", "new": 0, "updated": 1, "unchanged": 9}
    r = client.get("/api/v1/sources/acme/tickets/comments/c3")
    assert r.status_code == 200
    body = r.json()["comment"]
    assert body["uid"] == f"{source_id}.c3"
    assert body["messages"][0]["body"]["text"] == "changed"
    r = client.get("/api/preview/sources/acme/tickets/comments/c3")
    assert r.status_code == 200


def test_no_key_is_401(anon: TestClient) -> None:
    r = anon.get("/api/v1/sources")
    assert r.status_code == 401
    assert r.json()["status"] == "error"
