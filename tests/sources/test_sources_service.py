"""Sources and comments service behaviour: sync counts, idempotent re-sync, deletion, addressing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from sanitas.datasets.schemas import DatasetFields
from sanitas.datasets.service import put_dataset
from sanitas.datasets.tables import Dataset, DatasetComment
from sanitas.db import Database
from sanitas.errors import InvalidInput, NotFound
from sanitas.sources import service
from sanitas.sources.schemas import CommentIn, SourceFields
from sanitas.sources.tables import Comment, Source
from tests.api.helpers import comment, reinfer_error


def _c(cid: str, text: str = "hello", **fields: Any) -> CommentIn:
    return CommentIn.model_validate(comment(cid, text, **fields))


@pytest.fixture()
def source(db: Database) -> Source:
    with db.write() as s:
        src, created = service.put_source(session=s, project="acme", name="tickets", fields=SourceFields())
        assert created
        put_dataset(session=s, project="acme", name="support", fields=DatasetFields(source_ids=[src.id]))
        s.expunge(src)
    return src


def _sync(db: Database, source: Source, batch: list[CommentIn]) -> tuple[int, int, int]:
    with db.write() as s:
        src = service.get_source_by_id(session=s, source_id=source.id)
        r = service.sync_comments(session=s, source=src, comments=batch)
    return r.new, r.updated, r.unchanged


def _state(db: Database) -> dict[str, Any]:
    with db.read() as s:
        return {
            "comments": sorted(
                (cid, str(lm), h)
                for cid, lm, h in s.execute(select(Comment.id, Comment.last_modified, Comment.content_hash))
            ),
            "members": s.scalar(select(func.count()).select_from(DatasetComment)),
            "next_seq": s.scalar(select(Dataset.next_seq)),
        }


BASE = [_c("a"), _c("b", user_properties={"string:Folder": "Inbox", "number:Pos": 1})]

SYNC_ROWS = [
    # (second batch, expected (new, updated, unchanged))
    ([_c("a"), _c("b", user_properties={"number:Pos": 1, "string:Folder": "Inbox"})], (0, 0, 2)),
    ([_c("a", "changed")], (0, 1, 0)),
    ([_c("a", timestamp="2024-02-01T00:00:00Z")], (0, 1, 0)),
    ([_c("a", timestamp="2024-01-01T01:00:00+01:00")], (0, 0, 1)),
    ([_c("b", user_properties={"string:Folder": "Spam", "number:Pos": 1})], (0, 1, 0)),
    ([_c("a", thread_id="t1")], (0, 1, 0)),
    ([_c("a", text_format="markdown")], (0, 1, 0)),
    ([_c("a"), _c("c"), _c("d")], (2, 0, 1)),
    ([_c("c", "a new one"), _c("a", "changed"), _c("b")], (1, 2, 0)),
    ([], (0, 0, 0)),
]


@pytest.mark.parametrize(("batch", "expected"), SYNC_ROWS)
def test_sync_counts(
    db: Database, source: Source, batch: list[CommentIn], expected: tuple[int, int, int]
) -> None:
    assert _sync(db, source, BASE) == (2, 0, 0)
    assert _sync(db, source, batch) == expected
    # Whatever the second batch did, replaying it changes nothing more.
    before = _state(db)
    assert _sync(db, source, batch) == (0, 0, len(batch))
    assert _state(db) == before


def test_new_comments_join_the_dataset_in_batch_order(db: Database, source: Source) -> None:
    _sync(db, source, [_c("z"), _c("y"), _c("x")])
    with db.read() as s:
        order = s.execute(
            select(Comment.id)
            .join(DatasetComment, DatasetComment.comment_pk == Comment.pk)
            .order_by(DatasetComment.seq)
        ).scalars()
        assert list(order) == ["z", "y", "x"]


@pytest.mark.parametrize(
    ("ids", "bad"),
    [(["a", "a"], [1]), (["a", "b", "a", "b", "a"], [2, 3, 4]), (["a", "b", "c"], [])],
)
def test_duplicate_ids_in_a_batch(db: Database, source: Source, ids: list[str], bad: list[int]) -> None:
    batch = [_c(i) for i in ids]
    if not bad:
        assert _sync(db, source, batch) == (3, 0, 0)
        return
    with pytest.raises(InvalidInput) as err:
        _sync(db, source, batch)
    assert [e["index"] for e in err.value.errors] == bad
    assert all("duplicate id" in e["message"] for e in err.value.errors)
    assert _state(db)["comments"] == []


@pytest.mark.parametrize(
    ("props", "ok"),
    [
        ({"string:Folder": "Inbox"}, True),
        ({"string:Sender Domain": "example.com", "number:Position in Thread": 3}, True),
        ({"number:Score": -0.5}, True),
        ({"number:Big": 1e300}, True),
        ({"string:Empty": ""}, True),
        ({}, True),
        ({"Folder": "Inbox"}, False),
        ({"text:Folder": "Inbox"}, False),
        ({"string:": "Inbox"}, False),
        ({"number:": 1}, False),
        ({"string:Folder": 1}, False),
        ({"string:Folder": None}, False),
        ({"string:Folder": ["a"]}, False),
        ({"number:Pos": "1"}, False),
        ({"number:Pos": True}, False),
        ({"number:Pos": float("nan")}, False),
        ({"number:Pos": float("inf")}, False),
        ({"number:Pos": {"v": 1}}, False),
    ],
)
def test_user_property_rules(props: dict[str, Any], ok: bool) -> None:
    raw = comment("a", user_properties=props)
    if ok:
        assert CommentIn.model_validate(raw).user_properties == props
    else:
        with pytest.raises(ValidationError) as err:
            CommentIn.model_validate(raw)
        assert err.value.errors()[0]["loc"][0] == "user_properties"


@pytest.mark.parametrize(
    ("delete", "deleted", "left"),
    [
        (["a"], 1, ["b", "c"]),
        (["a", "c", "zz"], 2, ["b"]),
        (["zz"], 0, ["a", "b", "c"]),
        ([], 0, ["a", "b", "c"]),
    ],
)
def test_comment_deletion(
    db: Database, source: Source, delete: list[str], deleted: int, left: list[str]
) -> None:
    _sync(db, source, [_c("a"), _c("b"), _c("c")])
    with db.write() as s:
        src = service.get_source_by_id(session=s, source_id=source.id)
        assert service.delete_comments(session=s, source=src, ids=delete) == deleted
    with db.read() as s:
        src = service.get_source_by_id(session=s, source_id=source.id)
        assert sorted(c.id for c in service.get_comments(session=s, source=src, ids=left)) == left
        assert s.scalar(select(func.count()).select_from(DatasetComment)) == len(left)
        for cid in delete:
            with pytest.raises(NotFound):
                service.get_comments(session=s, source=src, ids=[cid])
    # A deleted id synced again is new again.
    if deleted:
        assert _sync(db, source, [_c(delete[0])]) == (1, 0, 0)


@pytest.mark.parametrize(
    ("project", "ref", "found"),
    [
        ("acme", "tickets", True),
        ("acme", "id:{id}", True),
        ("globex", "id:{id}", False),
        ("acme", "id:0123456789abcdef", False),
        ("acme", "id:", False),
        ("acme", "nothing", False),
        ("globex", "tickets", False),
    ],
)
def test_source_addressing(db: Database, source: Source, project: str, ref: str, found: bool) -> None:
    with db.read() as s:
        if found:
            assert (
                service.get_source(session=s, project=project, name=ref.format(id=source.id)).id == source.id
            )
        else:
            with pytest.raises(NotFound) as err:
                service.get_source(session=s, project=project, name=ref.format(id=source.id))
            assert err.value.code == "SOURCE_NOT_FOUND"


@pytest.mark.parametrize("prefix", ["/api/v1", "/api/preview"])
def test_routes_by_id_and_preview_alias(client: TestClient, prefix: str) -> None:
    sid = client.put(f"{prefix}/sources/acme/tickets", json={"source": {"title": "T"}}).json()["source"]["id"]
    for ref in ("tickets", f"id:{sid}"):
        base = f"{prefix}/sources/acme/{ref}"
        assert client.get(base).json()["source"]["id"] == sid
        r = client.post(f"{base}/sync", json={"comments": [comment("a"), comment("b")]})
        assert r.json()["status"] == "ok"
        assert client.get(f"{base}/comments/a").json()["comment"]["uid"] == f"{sid}.a"
        assert [c["id"] for c in client.get(f"{base}/comments?id=b&id=a&id=b").json()["comments"]] == [
            "b",
            "a",
        ]
    assert client.delete(f"{prefix}/sources/acme/id:{sid}/comments?id=a&id=zz").json() == {
        "status": "ok",
        "deleted": 1,
    }
    reinfer_error(client.get(f"{prefix}/sources/acme/tickets/comments/a"), 404, "'a'")
    reinfer_error(client.get(f"{prefix}/sources/acme/tickets/comments?id=b&id=a"), 404, "'a'")
    assert client.delete(f"{prefix}/sources/acme/id:{sid}").json() == {"status": "ok"}
    reinfer_error(client.get(f"{prefix}/sources/acme/tickets"), 404)
    reinfer_error(client.get(f"{prefix}/sources/acme/id:{sid}"), 404)
    reinfer_error(client.post(f"{prefix}/sources/acme/tickets/sync", json={"comments": []}), 404)
    reinfer_error(client.get(f"{prefix}/sources/acme/tickets/comments/b"), 404)


def test_resync_over_http_reports_unchanged_and_writes_nothing(client: TestClient, db: Database) -> None:
    client.put("/api/v1/sources/acme/tickets", json={"source": {}})
    batch = [comment(f"c{i}", f"text {i}", user_properties={"number:N": i}) for i in range(50)]
    assert client.post("/api/v1/sources/acme/tickets/sync", json={"comments": batch}).json()["new"] == 50
    before = _state(db)
    r = client.post("/api/v1/sources/acme/tickets/sync", json={"comments": batch})
    assert r.json() == {"status": "ok", "new": 0, "updated": 0, "unchanged": 50}
    assert _state(db) == before
    got = client.get("/api/v1/sources/acme/tickets/comments/c7").json()["comment"]
    assert got["user_properties"] == {"number:N": 7} and got["messages"][0]["body"]["text"] == "text 7"
