"""Where a stream stands: advance answers the actual position, lag counts the active branch, and the
comments it delivers say whether they are annotated and keep integer properties as integers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sanitas.datasets.branches import ChangeSet, create_branch
from sanitas.datasets.service import get_dataset, resolve_uids
from sanitas.db import Database
from tests.api.helpers import reinfer_error
from tests.streams.helpers import BASE, comment, create_stream, fetch, ids, make_dataset, upload


def _advance(client: TestClient, token: str) -> dict[str, Any]:
    r = client.post(f"{BASE}/streams/s/advance", json={"sequence_id": token})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_advancing_backwards_answers_where_the_cursor_is(client: TestClient) -> None:
    make_dataset(client)
    create_stream(client)
    upload(client, [comment(i) for i in range(6)])
    first = fetch(client, size=2)
    _advance(client, first["sequence_id"])
    second = fetch(client, size=2)
    assert _advance(client, second["sequence_id"])["sequence_id"] == second["sequence_id"]
    # An older token moves nothing and says so: the answer is the position the stream is really at.
    stale = _advance(client, first["sequence_id"])
    assert stale["sequence_id"] == stale["continuation"] == second["sequence_id"]
    assert ids(fetch(client, size=2)) == ["c4", "c5"]
    # Advancing with the token just answered is a no-op too.
    assert _advance(client, stale["sequence_id"])["sequence_id"] == second["sequence_id"]


def test_lag_counts_the_active_branch(client: TestClient, db: Database) -> None:
    source_id = make_dataset(client)
    create_stream(client)
    upload(client, [comment(i) for i in range(5)])
    with db.write() as s:
        ds = get_dataset(session=s, project="acme", name="support")
        pks = resolve_uids(session=s, dataset=ds, uids=[f"{source_id}.c0", f"{source_id}.c3"])
        create_branch(session=s, dataset=ds, changes=ChangeSet(excluded=set(pks.values())), activate=True)
    lag = client.get(f"{BASE}/streams/s").json()["stream"]["lag"]
    assert lag["backlog"] == 3 == len(fetch(client, size=10)["results"])


def test_delivered_comments_say_whether_they_are_annotated(client: TestClient, db: Database) -> None:
    source_id = make_dataset(client, labels=[["Billing"]])
    create_stream(client)
    upload(client, [comment(i) for i in range(3)])
    r = client.post(
        f"{BASE}/labellings/{source_id}.c1", json={"labelling": {"assigned": [{"name": ["Billing"]}]}}
    )
    assert r.status_code == 200, r.text
    flags = [res["comment"]["has_annotations"] for res in fetch(client)["results"]]
    assert flags == [False, True, False]
    # On a branch, the branch's labels count: c2 labelled there, c1's labels taken away.
    with db.write() as s:
        ds = get_dataset(session=s, project="acme", name="support")
        pks = resolve_uids(session=s, dataset=ds, uids=[f"{source_id}.c1", f"{source_id}.c2"])
        labels = {pks[f"{source_id}.c1"]: [], pks[f"{source_id}.c2"]: [["Billing"]]}
        create_branch(session=s, dataset=ds, changes=ChangeSet(labels=labels), activate=True)
    flags = [res["comment"]["has_annotations"] for res in fetch(client)["results"]]
    assert flags == [False, False, True]


def test_integer_properties_stay_integers(client: TestClient) -> None:
    make_dataset(client)
    create_stream(
        client,
        comment_filter={
            "user_properties": {"number:Pos": {"one_of": [1, 2.0, 2.5], "minimum": 0, "maximum": 10.0}}
        },
    )
    upload(client, [comment(0, **{"number:Pos": 1}), comment(1, **{"number:Pos": 2.5})])
    stream = client.get(f"{BASE}/streams/s").json()["stream"]
    spec = stream["comment_filter"]["user_properties"]["number:Pos"]
    assert spec == {"one_of": [1, 2, 2.5], "minimum": 0, "maximum": 10}
    assert all(
        type(v) is int for v in (spec["one_of"][0], spec["one_of"][1], spec["minimum"], spec["maximum"])
    )
    props = [r["comment"]["user_properties"]["number:Pos"] for r in fetch(client)["results"]]
    assert props == [1, 2.5] and type(props[0]) is int


@pytest.mark.parametrize(
    ("comment_filter", "needles"),
    [
        ({"user_properties": {"number:N": {"minimum": 5, "maximum": 1}}}, ["minimum (5)", "maximum (1)"]),
        ({"user_properties": {"number:N": {"minimum": "1"}}}, ["minimum", "number"]),
        ({"user_properties": {"number:N": {"one_of": [True]}}}, ["one_of"]),
        (
            {"timestamp": {"minimum": "2024-02-01T00:00:00Z", "maximum": "2024-01-01T00:00:00+00:00"}},
            ["timestamp", "minimum", "after maximum"],
        ),
        ({"timestamp": {"minimum": 1700000000}}, ["timestamp.minimum", "ISO 8601"]),
    ],
)
def test_impossible_or_mistyped_filters_are_refused(
    client: TestClient, comment_filter: dict[str, Any], needles: list[str]
) -> None:
    make_dataset(client)
    r = client.put(f"{BASE}/streams", json={"stream": {"name": "s", "comment_filter": comment_filter}})
    reinfer_error(r, 422, *needles)
    reinfer_error(client.get(f"{BASE}/streams/s"), 404)


@pytest.mark.parametrize(
    ("path", "body", "needles"),
    [
        ("fetch", {"size": "8"}, ["size", "integer"]),
        ("fetch", {"size": 8.0}, ["size", "integer"]),
        ("fetch", {"size": True}, ["size", "integer"]),
        ("fetch", {"size": 8, "max_filtered": "2"}, ["max_filtered"]),
        ("fetch", {"size": 8, "wait_seconds": "1"}, ["wait_seconds", "number"]),
        ("reset", {"to_comment_created_at": 1700000000}, ["to_comment_created_at", "ISO 8601"]),
        ("reset", {"to_comment_created_at": True}, ["to_comment_created_at", "ISO 8601"]),
    ],
)
def test_wrong_types_are_not_coerced(
    client: TestClient, path: str, body: dict[str, Any], needles: list[str]
) -> None:
    make_dataset(client)
    create_stream(client)
    reinfer_error(client.post(f"{BASE}/streams/s/{path}", json=body), 422, *needles)


def test_nan_size_gets_a_plain_message(client: TestClient) -> None:
    make_dataset(client)
    create_stream(client)
    for raw in (b'{"size": NaN}', b'{"size": Infinity}'):
        r = client.post(f"{BASE}/streams/s/fetch", content=raw, headers={"content-type": "application/json"})
        body = reinfer_error(r, 422, "size")
        assert "float" not in body["message"] and "nan" not in body["message"].lower()
