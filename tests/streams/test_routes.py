"""Stream CRUD, aliases and bad input answered in Re:infer's envelope."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sanitas.db import Database
from tests.streams.helpers import BASE, create_stream, make_dataset, seed_model


def _dataset_id(client: TestClient) -> str:
    return str(client.get(BASE).json()["dataset"]["id"])


@pytest.mark.parametrize(("prefix", "kind"), [("/api/v1", "streams"), ("/api/preview", "triggers")])
def test_crud_on_every_alias(client: TestClient, prefix: str, kind: str) -> None:
    make_dataset(client)
    base = f"{prefix}/datasets/acme/support/{kind}"
    r = client.put(base, json={"stream": {"name": "dispute", "title": "T", "description": "D"}})
    assert r.status_code == 200, r.text
    created = r.json()["stream"]
    assert r.json()["status"] == "ok"
    assert {"id", "dataset_id", "name", "title", "description", "created_at", "updated_at", "context"} <= set(
        created
    )
    assert len(created["id"]) == 16
    # PUT on the collection with the same name updates and keeps the id.
    r = client.put(base, json={"stream": {"name": "dispute", "title": "T2"}})
    assert r.json()["stream"]["id"] == created["id"]
    assert r.json()["stream"]["title"] == "T2"
    # POST on the item updates only what it names.
    r = client.post(f"{base}/dispute", json={"stream": {"description": "D3"}})
    assert r.status_code == 200, r.text
    assert (r.json()["stream"]["title"], r.json()["stream"]["description"]) == ("T2", "D3")
    listed = client.get(base).json()
    assert [s["name"] for s in listed["streams"]] == ["dispute"]
    got = client.get(f"{base}/dispute").json()["stream"]
    assert got["id"] == created["id"]
    assert got["lag"] == {"backlog": 0, "oldest_unprocessed_age_seconds": None, "oldest_unprocessed_at": None}
    assert client.delete(f"{base}/dispute").json() == {"status": "ok"}
    r = client.get(f"{base}/dispute")
    assert r.status_code == 404
    assert r.json()["status"] == "error"


BAD_CREATE: list[tuple[str, dict[str, Any], int, str]] = [
    ("bad name", {"name": "has space"}, 422, "name"),
    ("unknown field", {"name": "s", "colour": "red"}, 422, "unknown field"),
    ("long title", {"name": "s", "title": "t" * 129}, 422, "title"),
    ("unknown version", {"name": "s", "model": {"version": 9}}, 422, "does not exist"),
    ("unpinned version", {"name": "s", "model": {"version": 2}}, 422, "not pinned"),
    ("version past a 32-bit integer", {"name": "s", "model": {"version": 2**31}}, 422, "version"),
    ("version zero", {"name": "s", "model": {"version": 0}}, 422, "version"),
    (
        "threshold over 1",
        {"name": "s", "model": {"version": 1, "label_thresholds": [{"name": ["A"], "threshold": 1.5}]}},
        422,
        "threshold",
    ),
    (
        "label not in taxonomy",
        {"name": "s", "model": {"version": 1, "label_thresholds": [{"name": ["Nope"], "threshold": 0.5}]}},
        422,
        "not in the taxonomy",
    ),
    (
        "bad property key",
        {"name": "s", "comment_filter": {"user_properties": {"Country": {"one_of": ["uk"]}}}},
        422,
        "string:<Name>",
    ),
    (
        "range on a string",
        {"name": "s", "comment_filter": {"user_properties": {"string:C": {"minimum": 1}}}},
        422,
        "number properties only",
    ),
    (
        "string value on a number",
        {"name": "s", "comment_filter": {"user_properties": {"number:N": {"one_of": ["x"]}}}},
        422,
        "must be numbers",
    ),
    (
        "empty property filter",
        {"name": "s", "comment_filter": {"user_properties": {"number:N": {}}}},
        422,
        "needs",
    ),
    ("bad start_at", {"name": "s", "start_at": "tomorrow"}, 422, "start_at"),
]


@pytest.mark.parametrize(("case", "stream", "status", "needle"), BAD_CREATE, ids=[c[0] for c in BAD_CREATE])
def test_bad_create_is_refused(
    client: TestClient, db: Database, case: str, stream: dict[str, Any], status: int, needle: str
) -> None:
    make_dataset(client, labels=[["A"], ["B", "C"]])
    dataset_id = _dataset_id(client)
    seed_model(db, dataset_id, 1, {})
    seed_model(db, dataset_id, 2, {})
    client.put(f"{BASE}/labellers/2/pin", json={})
    client.delete(f"{BASE}/labellers/2/pin")
    r = client.put(f"{BASE}/streams", json={"stream": stream})
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == "error"
    assert needle in body["message"]
    assert client.get(f"{BASE}/streams").json()["streams"] == []


@pytest.mark.parametrize(
    ("stream", "ok"),
    [
        ({"name": "s", "model": {"version": 1}}, True),
        (
            {
                "name": "s",
                "model": {"version": 1, "label_thresholds": [{"name": ["B", "C"], "threshold": 0}]},
            },
            True,
        ),
        ({"name": "s", "model": {"version": 1, "label_thresholds": [{"name": ["B"], "threshold": 1}]}}, True),
        (
            {"name": "s", "model": {"version": 1, "label_thresholds": [{"name": ["C"], "threshold": 1}]}},
            False,
        ),
    ],
)
def test_thresholds_need_taxonomy_labels(
    client: TestClient, db: Database, stream: dict[str, Any], ok: bool
) -> None:
    make_dataset(client, labels=[["A"], ["B", "C"]])
    seed_model(db, _dataset_id(client), 1, {})
    r = client.put(f"{BASE}/streams", json={"stream": stream})
    assert (r.status_code == 200) is ok, r.text


BAD_READS: list[tuple[str, str, str, dict[str, Any] | None, int]] = [
    ("size 0", "post", "streams/s/fetch", {"size": 0}, 422),
    ("size 1025", "post", "streams/s/fetch", {"size": 1025}, 422),
    ("max_filtered 0", "post", "streams/s/fetch", {"size": 1, "max_filtered": 0}, 422),
    ("max_filtered 1025", "post", "streams/s/fetch", {"size": 1, "max_filtered": 1025}, 422),
    ("max_results 2000", "get", "streams/s/results?max_results=2000", None, 422),
    ("unknown stream", "post", "streams/nope/fetch", {"size": 1}, 404),
    ("bad stream name", "post", "streams/b%20d/fetch", {"size": 1}, 422),
    ("advance forged", "post", "streams/s/advance", {"sequence_id": "qs8QcHIBAADJ1p3W2FtmBB3QiOJsCJlR"}, 400),
    ("advance nothing", "post", "streams/s/advance", {}, 422),
    ("reset bad time", "post", "streams/s/reset", {"to_comment_created_at": "yesterday"}, 422),
    (
        "tag unknown uid",
        "put",
        "streams/s/exceptions",
        {"exceptions": [{"uid": "0123456789abcdef.x", "metadata": {"type": "No Prediction"}}]},
        404,
    ),
    (
        "tag no type",
        "put",
        "streams/s/exceptions",
        {"exceptions": [{"uid": "0123456789abcdef.x", "metadata": {}}]},
        422,
    ),
    ("untag no uid", "delete", "streams/s/exceptions", None, 422),
]


@pytest.mark.parametrize(
    ("case", "method", "path", "body", "status"), BAD_READS, ids=[c[0] for c in BAD_READS]
)
def test_bad_requests_get_reinfer_errors(
    client: TestClient, case: str, method: str, path: str, body: dict[str, Any] | None, status: int
) -> None:
    make_dataset(client)
    create_stream(client)
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    r = client.request(method.upper(), f"{BASE}/{path}", **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["status"] == "error"
    assert r.json()["message"]


def test_unknown_dataset_is_404(client: TestClient) -> None:
    r = client.post("/api/v1/datasets/acme/nothing/streams/s/fetch", json={"size": 1})
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "dataset 'acme/nothing' not found"}


@pytest.mark.parametrize(
    ("role", "method", "path", "status"),
    [
        ("read", "post", "streams/s/fetch", 200),
        ("read", "post", "streams/s/advance", 403),
        ("write", "post", "streams/s/advance", 400),
        ("read", "put", "streams", 403),
    ],
)
def test_roles(client: TestClient, make_key: Any, role: str, method: str, path: str, status: int) -> None:
    make_dataset(client)
    create_stream(client)
    key = make_key(role=role, projects=["acme"])
    body = {"size": 1} if path.endswith("fetch") else {"sequence_id": "x" * 43}
    if path == "streams":
        body = {"stream": {"name": "t"}}
    r = client.request(
        method.upper(), f"{BASE}/{path}", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == status, r.text


def test_other_projects_streams_are_invisible(client: TestClient, make_key: Any) -> None:
    make_dataset(client)
    create_stream(client)
    key = make_key(role="admin", projects=["other"])
    r = client.get(f"{BASE}/streams/s", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 404
    assert r.json()["status"] == "error"
