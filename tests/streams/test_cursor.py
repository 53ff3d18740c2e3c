"""Cursor semantics: fetch never moves, advance is monotonic and idempotent, reset, start_at, filters."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sanitas.datasets.branches import ChangeSet, create_branch
from sanitas.datasets.service import get_dataset, resolve_uids
from sanitas.db import Database
from tests.streams.helpers import BASE, comment, create_stream, fetch, ids, make_dataset, upload


def _advance(client: TestClient, token: str, name: str = "s") -> Any:
    return client.post(f"{BASE}/streams/{name}/advance", json={"sequence_id": token})


def test_fetch_does_not_move_and_advance_does(client: TestClient) -> None:
    make_dataset(client)
    create_stream(client)
    upload(client, [comment(i) for i in range(10)])
    first = fetch(client, size=4)
    again = fetch(client, size=4)
    assert first == again
    assert ids(first) == ["c0", "c1", "c2", "c3"]
    assert first["sequence_id"] == first["results"][-1]["sequence_id"]
    assert first["filtered"] == 0 and first["is_end_sequence"] is False
    r = _advance(client, first["sequence_id"])
    assert r.json() == {
        "status": "ok",
        "sequence_id": first["sequence_id"],
        "continuation": first["sequence_id"],
    }
    second = fetch(client, size=4)
    assert ids(second) == ["c4", "c5", "c6", "c7"]
    # Per-comment advance: only c4 is done.
    assert _advance(client, second["results"][0]["sequence_id"]).status_code == 200
    assert ids(fetch(client, size=2)) == ["c5", "c6"]
    # Idempotent, and never backwards: the older batch token changes nothing.
    assert _advance(client, second["results"][0]["sequence_id"]).status_code == 200
    assert _advance(client, first["sequence_id"]).status_code == 200
    assert ids(fetch(client, size=2)) == ["c5", "c6"]
    last = fetch(client, size=100)
    assert ids(last) == ["c5", "c6", "c7", "c8", "c9"] and last["is_end_sequence"] is True
    _advance(client, last["sequence_id"])
    empty = fetch(client, size=5)
    assert empty["results"] == [] and empty["is_end_sequence"] is True and empty["filtered"] == 0
    assert empty["sequence_id"] == last["sequence_id"]


def test_results_and_fetch_share_one_cursor(client: TestClient) -> None:
    make_dataset(client)
    create_stream(client)
    upload(client, [comment(i) for i in range(5)])
    r = client.get(f"{BASE}/streams/s/results", params={"max_results": 2})
    assert r.status_code == 200
    body = r.json()
    assert [x["comment"]["id"] for x in body["results"]] == ["c0", "c1"]
    assert body["results"][0]["continuation"] == body["results"][0]["sequence_id"]
    r = client.post(f"{BASE}/streams/s/advance", json={"continuation": body["continuation"]})
    assert r.status_code == 200, r.text
    assert ids(fetch(client, size=10)) == ["c2", "c3", "c4"]


def test_tokens_of_other_streams_and_before_reset_move_nothing(client: TestClient) -> None:
    make_dataset(client)
    create_stream(client, "a")
    create_stream(client, "b")
    upload(client, [comment(i) for i in range(6)])
    tok_b = fetch(client, "b", size=3)["sequence_id"]
    r = _advance(client, tok_b, "a")
    assert r.status_code == 400 and "another stream" in r.json()["message"]
    tok_a = fetch(client, "a", size=3)["sequence_id"]
    r = client.post(f"{BASE}/streams/a/reset", json={"to_comment_created_at": "2000-01-01T00:00:00Z"})
    assert r.status_code == 200
    assert set(r.json()) == {"status", "sequence_id", "stream"}
    r = _advance(client, tok_a, "a")
    assert r.status_code == 409 and r.json()["status"] == "error"
    assert ids(fetch(client, "a", size=10)) == [f"c{i}" for i in range(6)]
    # The token returned by reset is current: advancing to it is a no-op.
    assert (
        _advance(client, client.get(f"{BASE}/streams/a").json()["stream"]["sequence_id"], "a").status_code
        == 200
    )


def test_reset_moves_both_ways(client: TestClient) -> None:
    make_dataset(client)
    create_stream(client)
    upload(client, [comment(i) for i in range(3)])
    upload(client, [comment(i) for i in range(3, 6)])
    first = fetch(client, size=100)
    mid = first["results"][3]["comment"]["created_at"]
    _advance(client, first["sequence_id"])
    assert fetch(client)["results"] == []
    r = client.post(f"{BASE}/streams/s/reset", json={"to_comment_created_at": mid})
    assert r.status_code == 200
    assert ids(fetch(client)) == ["c3", "c4", "c5"]
    r = client.post(f"{BASE}/streams/s/reset", json={"to_comment_created_at": "2999-01-01T00:00:00"})
    assert fetch(client)["results"] == []
    r = client.post(f"{BASE}/streams/s/reset", json={"to_comment_created_at": "2000-01-01T00:00:00"})
    assert ids(fetch(client)) == [f"c{i}" for i in range(6)]


@pytest.mark.parametrize(
    ("start_at", "expected"),
    [
        (None, ["c3", "c4"]),
        ("latest", ["c3", "c4"]),
        ("earliest", ["c0", "c1", "c2", "c3", "c4"]),
        ("mid", ["c3", "c4"]),
    ],
)
def test_start_at(client: TestClient, start_at: str | None, expected: list[str]) -> None:
    make_dataset(client)
    upload(client, [comment(i) for i in range(3)])
    fields: dict[str, Any] = {"name": "s"}
    if start_at == "mid":
        create_stream(client, "probe")
        fields["start_at"] = client.get(f"{BASE}/streams/probe").json()["stream"]["created_at"]
    elif start_at is not None:
        fields["start_at"] = start_at
    assert client.put(f"{BASE}/streams", json={"stream": fields}).status_code == 200
    upload(client, [comment(i) for i in range(3, 5)])
    assert ids(fetch(client, size=10)) == expected


FILTER = {"user_properties": {"string:C": {"one_of": ["uk"]}}}


@pytest.mark.parametrize(
    ("size", "max_filtered", "expected", "filtered", "end"),
    [
        (4, None, ["c1", "c3"], 2, False),
        (4, 2, ["c1", "c3", "c5"], 3, False),
        (2, 10, ["c1", "c3"], 2, False),
        (20, None, ["c1", "c3", "c5", "c7", "c9"], 5, True),
        (1, None, [], 1, False),
    ],
)
def test_filtered_and_max_filtered(
    client: TestClient, size: int, max_filtered: int | None, expected: list[str], filtered: int, end: bool
) -> None:
    make_dataset(client)
    create_stream(client, comment_filter=FILTER)
    upload(client, [comment(i, **{"string:C": "uk" if i % 2 else "de"}) for i in range(10)])
    body: dict[str, Any] = {"size": size}
    if max_filtered is not None:
        body["max_filtered"] = max_filtered
    batch = fetch(client, **body)
    assert (ids(batch), batch["filtered"], batch["is_end_sequence"]) == (expected, filtered, end)
    # Advancing to the batch token skips the filtered comments too.
    _advance(client, batch["sequence_id"])
    rest = fetch(client, size=100)
    assert set(ids(rest)).isdisjoint(expected)
    assert len(ids(rest)) + len(expected) == 5


def test_max_filtered_without_filter_changes_nothing(client: TestClient) -> None:
    make_dataset(client)
    create_stream(client)
    upload(client, [comment(i) for i in range(5)])
    assert ids(fetch(client, size=2, max_filtered=100)) == ["c0", "c1"]


def test_long_poll_returns_when_a_comment_arrives(client: TestClient) -> None:
    make_dataset(client)
    create_stream(client)
    started = threading.Event()

    def produce() -> None:
        started.wait(5)
        upload(client, [comment(7)])

    t = threading.Thread(target=produce)
    t.start()
    started.set()
    batch = fetch(client, size=5, wait_seconds=15)
    t.join()
    assert ids(batch) == ["c7"]


def test_lag_counts_the_backlog(client: TestClient) -> None:
    make_dataset(client)
    create_stream(client)
    upload(client, [comment(i) for i in range(7)])
    _advance(client, fetch(client, size=3)["sequence_id"])
    lag = client.get(f"{BASE}/streams/s").json()["stream"]["lag"]
    assert lag["backlog"] == 4
    assert lag["oldest_unprocessed_age_seconds"] >= 0


def test_comments_excluded_on_the_active_branch_are_not_streamed(client: TestClient, db: Database) -> None:
    source_id = make_dataset(client)
    create_stream(client)
    upload(client, [comment(i) for i in range(4)])
    with db.write() as s:
        ds = get_dataset(session=s, project="acme", name="support")
        pks = resolve_uids(session=s, dataset=ds, uids=[f"{source_id}.c1", f"{source_id}.c2"])
        changes = ChangeSet(
            excluded={pks[f"{source_id}.c1"]},
            messages={pks[f"{source_id}.c2"]: [{"body": {"text": "rewritten"}}]},
        )
        create_branch(session=s, dataset=ds, changes=changes, activate=True)
    batch = fetch(client, size=10)
    assert ids(batch) == ["c0", "c2", "c3"]
    assert batch["results"][1]["comment"]["messages"] == [{"body": {"text": "rewritten"}}]


def test_exceptions_tag_and_untag(client: TestClient) -> None:
    source_id = make_dataset(client)
    create_stream(client)
    upload(client, [comment(i) for i in range(2)])
    body = {
        "exceptions": [{"uid": f"{source_id}.c{i}", "metadata": {"type": "No Prediction"}} for i in range(2)]
    }
    assert client.put(f"{BASE}/streams/s/exceptions", json=body).json() == {"status": "ok"}
    listed = client.get(f"{BASE}/streams/s/exceptions").json()["exceptions"]
    assert sorted(e["uid"] for e in listed) == [f"{source_id}.c0", f"{source_id}.c1"]
    r = client.delete(f"{BASE}/streams/s/exceptions", params={"uid": [f"{source_id}.c0"]})
    assert r.json() == {"status": "ok"}
    assert [e["uid"] for e in client.get(f"{BASE}/streams/s/exceptions").json()["exceptions"]] == [
        f"{source_id}.c1"
    ]


@pytest.mark.parametrize("cid", ['q"uote', "back\\slash", "ünïcode-ok", "plain.id_1"])
def test_comment_ids_survive_the_json_assembly(client: TestClient, cid: str) -> None:
    source_id = make_dataset(client)
    create_stream(client)
    upload(client, [{**comment(1), "id": cid}])
    result = fetch(client)["results"][0]
    assert (result["comment"]["id"], result["comment"]["uid"]) == (cid, f"{source_id}.{cid}")
    assert result["comment"]["thread_id"] is None and result["comment"]["attachments"] == []
