"""The one validation rule (README, "The HTTP API") on the Re:infer routes: every bad request gets a
precise 4xx in ``{"status","message"}``."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sanitas.db import Database
from tests.api.helpers import Seeded, comment, reinfer_error, seed, snapshot

SYNC = "/api/v1/sources/acme/tickets/sync"


@pytest.fixture()
def acme(client: TestClient) -> Seeded:
    return seed(client)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/v1/sources/acme/other"),
        ("POST", SYNC),
        ("PUT", "/api/v1/datasets/acme/other"),
        ("POST", "/api/v1/datasets/acme/support/labellings"),
        ("POST", "/api/preview/sources/acme/tickets/sync"),
    ],
)
def test_bad_json_is_400(client: TestClient, acme: Seeded, method: str, path: str) -> None:
    for raw in ('{"comments": [', "not json", '{"a": 1}}', "\xff"):
        r = client.request(
            method, path, content=raw.encode("latin-1"), headers={"content-type": "application/json"}
        )
        reinfer_error(r, 400, "not valid JSON")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets a dotted path (list indexes as numbers) of a comment."""

    def apply(c: dict[str, Any]) -> None:
        *head, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = c
        for part in head:
            node = node[part]
        node[last] = value

    return apply


BAD_COMMENTS = [
    # (mutation, words the message must carry)
    (_set("colour", "red"), ["colour", "unknown field"]),
    (_set("messages.0.body.html", "<p>"), ["messages[0].body.html", "unknown field"]),
    (_set("messages.0.sender", "x"), ["unknown field"]),
    (_set("timestamp", "yesterday"), ["timestamp"]),
    (_set("timestamp", 12.5e300), ["timestamp"]),
    (_set("messages", "hello"), ["messages"]),
    (_set("messages", []), ["messages", "at least 1"]),
    (_set("messages.0.body.text", 5), ["messages[0].body.text", "string"]),
    (_set("messages.0.body.text", "x" * 65537), ["messages[0].body.text", "65536"]),
    (_set("messages.0.language", "klingon-ish"), ["language", "8"]),
    (_set("messages.0.to", ["a"] * 2049), ["messages[0].to", "2048"]),
    (_set("text_format", "html"), ["text_format", "'plain'", "'markdown'"]),
    (_set("attachments", [{"name": "a", "size": -1, "content_type": "t"}]), ["size", "greater than"]),
    (_set("attachments", [{"name": "a", "size": 2**64, "content_type": "t"}]), ["size"]),
    (_set("attachments", [{"name": "a", "content_type": "t"}]), ["size", "field required"]),
    (_set("id", "has space"), ["id", "pattern"]),
    (_set("id", "a/b"), ["id", "pattern"]),
    (_set("id", ""), ["id"]),
    (_set("id", "x" * 1025), ["id", "1024"]),
    (_set("id", 17), ["id", "string"]),
    (_set("thread_id", ""), ["thread_id"]),
    (_set("user_properties", {"Colour": "red"}), ["'string:<Name>' or 'number:<Name>'"]),
    (_set("user_properties", {"string:": "red"}), ["'string:<Name>'"]),
    (_set("user_properties", {"string:Colour": 5}), ["must be a string"]),
    (_set("user_properties", {"number:Size": "5"}), ["finite number"]),
    (_set("user_properties", {"number:Size": True}), ["finite number"]),
    (_set("user_properties", {"number:Size": None}), ["finite number"]),
    (_set("messages.0.body.text_markup", {"n": 2**70}), ["text_markup", "64-bit"]),
    # No silent coercion (one rule with the heal routes): a number is not a timestamp, "8" not an integer.
    (_set("timestamp", 1700000000), ["timestamp", "ISO 8601"]),
    (_set("messages.0.sent_at", 5), ["messages[0].sent_at", "ISO 8601"]),
    (_set("attachments", [{"name": "a", "size": "8", "content_type": "t"}]), ["size", "integer"]),
    (_set("attachments", [{"name": "a", "size": 8.0, "content_type": "t"}]), ["size", "integer"]),
    (_set("attachments", [{"name": "a", "size": True, "content_type": "t"}]), ["size", "integer"]),
    (_set("user_properties", {"number:Size": 2**60}), ["number:Size", "finite number"]),
]


@pytest.mark.parametrize(("mutate", "needles"), BAD_COMMENTS)
def test_bad_comment_in_sync(
    client: TestClient, db: Database, acme: Seeded, mutate: Callable[..., None], needles: list[str]
) -> None:
    before = snapshot(db, acme.dataset_id)
    bad = comment("new-1")
    mutate(bad)
    r = client.post(SYNC, json={"comments": [comment("new-0"), bad, comment("new-2")]})
    body = reinfer_error(r, 422, *needles)
    assert [e["index"] for e in body["errors"]] == [1]
    assert snapshot(db, acme.dataset_id) == before
    reinfer_error(client.get("/api/v1/sources/acme/tickets/comments/new-0"), 404)


GOOD_COMMENTS = [
    _set("user_properties", {"number:Size": 5, "number:Ratio": -1.5, "string:Folder": "Inbox"}),
    _set("user_properties", {"string:Sender Domain": ""}),
    _set("text_format", "markdown"),
    _set("id", "a.b-c:d@e_f!~" + "x" * 1000),
    _set("messages.0.body.text", ""),
    _set("messages.0.body.text_markup", {"n": 2**62, "nested": [1, "two"]}),
    _set("attachments", [{"name": "a.pdf", "size": 0, "content_type": "application/pdf"}]),
    _set("messages.0.subject", {"text": "Re: ticket"}),
]


@pytest.mark.parametrize("mutate", GOOD_COMMENTS)
def test_good_comment_variants_are_accepted(
    client: TestClient, acme: Seeded, mutate: Callable[..., None]
) -> None:
    good = comment("new-1")
    mutate(good)
    r = client.post(SYNC, json={"comments": [good]})
    assert r.json() == {"status": "ok", "new": 1, "updated": 0, "unchanged": 0}


def test_nan_user_property_is_refused(client: TestClient, db: Database, acme: Seeded) -> None:
    # NaN is not JSON, but Python's parser reads it: the rule has to hold after parsing too.
    raw = '{"comments": [{"id": "n", "timestamp": "2024-01-01T00:00:00Z",'
    raw += ' "messages": [{"body": {"text": "x"}}],'
    for value in ("NaN", "Infinity", "-Infinity"):
        body = raw + f' "user_properties": {{"number:Size": {value}}}}}]}}'
        r = client.post(SYNC, content=body, headers={"content-type": "application/json"})
        assert r.status_code in (400, 422), r.text
        reinfer_error(r, r.status_code)
    reinfer_error(client.get("/api/v1/sources/acme/tickets/comments/n"), 404)


@pytest.mark.parametrize(
    ("bad_indexes", "duplicates"),
    [([0], []), ([0, 2, 5], []), ([6], []), ([], [(1, 3)]), ([2], [(0, 4), (1, 5)])],
)
def test_per_item_errors_name_every_bad_index_and_write_nothing(
    client: TestClient,
    db: Database,
    acme: Seeded,
    bad_indexes: list[int],
    duplicates: list[tuple[int, int]],
) -> None:
    batch = [comment(f"b{i}") for i in range(7)]
    for i in bad_indexes:
        batch[i]["user_properties"] = {"oops": 1}
    for first, again in duplicates:
        batch[again]["id"] = batch[first]["id"]
    before = snapshot(db, acme.dataset_id)
    r = client.post(SYNC, json={"comments": batch})
    body = reinfer_error(r, 422)
    # Schema errors are reported first; duplicates only once every item is well-formed.
    expected = bad_indexes or [again for _, again in duplicates]
    assert sorted({e["index"] for e in body["errors"]}) == sorted(expected)
    assert snapshot(db, acme.dataset_id) == before


def test_valid_batch_after_failures_goes_through(client: TestClient, acme: Seeded) -> None:
    r = client.post(SYNC, json={"comments": [comment("ok-0"), comment("ok-1")]})
    assert r.json() == {"status": "ok", "new": 2, "updated": 0, "unchanged": 0}


@pytest.mark.parametrize(("count", "status"), [(16384, 200), (16385, 422)])
def test_sync_batch_cap(client: TestClient, db: Database, acme: Seeded, count: int, status: int) -> None:
    batch = [
        {"id": f"m{i}", "timestamp": "2024-01-01T00:00:00Z", "messages": [{"body": {"text": ""}}]}
        for i in range(count)
    ]
    before = snapshot(db, acme.dataset_id)
    r = client.post(SYNC, json={"comments": batch})
    if status == 200:
        assert r.json() == {"status": "ok", "new": count, "updated": 0, "unchanged": 0}
    else:
        reinfer_error(r, status, "comments", "16384")
        assert snapshot(db, acme.dataset_id) == before


SOURCE_OK = {"source": {"title": "T"}}
DATASET_OK: dict[str, Any] = {"dataset": {"title": "T"}}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PUT", "/api/v1/sources/acme/new_source-1", SOURCE_OK, 200),
        ("PUT", "/api/v1/sources/acme.corp_1-x/new", SOURCE_OK, 200),
        ("PUT", f"/api/v1/sources/{'p' * 1024}/new", SOURCE_OK, 200),
        ("PUT", f"/api/v1/sources/acme/{'s' * 256}", SOURCE_OK, 200),
        ("PUT", f"/api/v1/sources/{'p' * 1025}/new", SOURCE_OK, 422),
        ("PUT", f"/api/v1/sources/acme/{'s' * 257}", SOURCE_OK, 422),
        ("PUT", "/api/v1/sources/ac%20me/new", SOURCE_OK, 422),
        ("PUT", "/api/v1/sources/acme!/new", SOURCE_OK, 422),
        ("PUT", "/api/v1/sources/acme/new.source", SOURCE_OK, 422),
        ("PUT", "/api/v1/sources/acme/id:0123456789abcdef", SOURCE_OK, 422),
        ("PUT", "/api/v1/sources/acme/n%C3%A9w", SOURCE_OK, 422),
        ("GET", "/api/v1/sources/acme/id:XYZ", None, 422),
        ("GET", "/api/v1/sources/acme/tick%20ets", None, 422),
        ("GET", "/api/v1/sources/acme/tickets/comments/has%20space", None, 422),
        ("GET", f"/api/v1/sources/acme/tickets/comments/{'c' * 1025}", None, 422),
        ("GET", "/api/v1/sources/acme/tickets/comments?id=a%20b", None, 422),
        ("GET", "/api/v1/sources/acme/tickets/comments", None, 422),
        ("DELETE", "/api/v1/sources/acme/tickets/comments", None, 422),
        ("PUT", "/api/v1/datasets/acme/new-dataset_2", DATASET_OK, 200),
        ("PUT", f"/api/v1/datasets/acme/{'d' * 256}", DATASET_OK, 200),
        ("PUT", f"/api/v1/datasets/acme/{'d' * 257}", DATASET_OK, 422),
        ("PUT", "/api/v1/datasets/acme/data.set", DATASET_OK, 422),
        ("PUT", "/api/v1/datasets/ac%2Fme/new", DATASET_OK, 404),
        ("GET", "/api/v1/datasets/acme/id:nope", None, 422),
        ("PUT", "/api/v1/sources/acme/new", {"source": {"colour": "red"}}, 422),
        ("PUT", "/api/v1/sources/acme/new", {"sauce": {}}, 422),
        ("PUT", "/api/v1/sources/acme/new", {"source": {"title": 5}}, 422),
        ("PUT", "/api/v1/sources/acme/new", {"source": {"should_translate": "maybe"}}, 422),
        ("PUT", "/api/v1/sources/acme/new", {"source": {"should_translate": "true"}}, 422),
        ("PUT", "/api/v1/sources/acme/new", {"source": {"should_translate": 1}}, 422),
        ("PUT", "/api/v1/sources/acme/new", {"source": {"title": "t" * 1025}}, 422),
        ("PUT", "/api/v1/sources/acme/new", {"source": {"language": ""}}, 422),
        ("PUT", "/api/v1/datasets/acme/new", {"dataset": {"source_ids": ["nothex"]}}, 422),
        ("PUT", "/api/v1/datasets/acme/new", {"dataset": {"source_ids": ["0123456789abcdef"]}}, 422),
        ("PUT", "/api/v1/datasets/acme/new", {"dataset": {"label_defs": [{"name": "A > "}]}}, 422),
        ("PUT", "/api/v1/datasets/acme/new", {"dataset": {"label_defs": [{"name": ["x" * 65]}]}}, 422),
        ("PUT", "/api/v1/datasets/acme/new", {"dataset": {"label_defs": [{"name": "A > B"}]}}, 200),
        ("PUT", "/api/v1/datasets/acme/new", {"dataset": {"label_defs": [{"name": ["A", "B"]}]}}, 200),
        ("PUT", "/api/v1/datasets/acme/new", {"dataset": {"label_defs": [{"name": 7}]}}, 422),
    ],
)
def test_names_types_and_ranges(
    client: TestClient, acme: Seeded, method: str, path: str, body: Any, status: int
) -> None:
    r = client.request(method, path, json=copy.deepcopy(body))
    if status == 200:
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "ok"
    else:
        reinfer_error(r, status)


LABEL = {"labelling": {"assigned": [{"name": ["Billing", "Refund"]}]}}


@pytest.mark.parametrize(
    ("uid", "body", "status", "needle"),
    [
        ("{sid}.c1", LABEL, 200, ""),
        ("{sid}.c1", {"labelling": {"assigned": [{"name": "Billing > Refund"}]}}, 200, ""),
        ("{sid}.nope", LABEL, 404, "nope"),
        ("0123456789abcdef.c1", LABEL, 404, "c1"),
        ("not-a-uid", LABEL, 422, "uid"),
        ("{sid}.c1", {"labelling": {"assigned": [{"name": []}]}}, 422, "name"),
        ("{sid}.c1", {"labelling": {"assigned": [{"name": "A >  > B"}]}}, 422, "empty part"),
        ("{sid}.c1", {"labelling": {"assigned": [{"name": ["x" * 65]}]}}, 422, "64"),
        ("{sid}.c1", {"labelling": {"assigned": [{"name": ["x"] * 65}]}}, 422, "64"),
        ("{sid}.c1", {"labelling": {"assigned": [{"name": "A", "colour": 1}]}}, 422, "unknown field"),
        ("{sid}.c1", {"labelling": {}, "extra": True}, 422, "unknown field"),
        ("{sid}.c1", {}, 422, "labelling"),
    ],
)
def test_labelling_one(
    client: TestClient, db: Database, acme: Seeded, uid: str, body: Any, status: int, needle: str
) -> None:
    before = snapshot(db, acme.dataset_id)
    r = client.post(f"/api/v1/datasets/acme/support/labellings/{uid.format(sid=acme.source_id)}", json=body)
    if status == 200:
        assert r.json() == {"status": "ok"}
        assert snapshot(db, acme.dataset_id) != before
    else:
        reinfer_error(r, status, needle)
        assert snapshot(db, acme.dataset_id) == before


@pytest.mark.parametrize(
    ("uids", "status"),
    [
        (["{sid}.c1", "{sid}.c2"], 200),
        (["{sid}.c1", "{sid}.missing"], 404),
        (["{sid}.c1", "nodot"], 422),
        ([], 422),
    ],
)
def test_labelling_bulk_is_all_or_nothing(
    client: TestClient, db: Database, acme: Seeded, uids: list[str], status: int
) -> None:
    before = snapshot(db, acme.dataset_id)
    items = [{"uid": u.format(sid=acme.source_id), "assigned": [{"name": "Billing"}]} for u in uids]
    r = client.post("/api/v1/datasets/acme/support/labellings", json={"labellings": items})
    if status == 200:
        assert r.json() == {"status": "ok", "updated": len(uids)}
    else:
        reinfer_error(r, status)
        assert snapshot(db, acme.dataset_id) == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", SYNC, {"comments": [comment("ok"), comment("n", "a\x00b")]}),
        ("POST", SYNC, {"comments": [comment("ok", user_properties={"string:F": "\x00"})]}),
        ("PUT", "/api/v1/sources/acme/new", {"source": {"title": "nul\x00"}}),
        ("PUT", "/api/v1/datasets/acme/new", {"dataset": {"description": "\x00"}}),
        ("GET", "/api/v1/sources/acme/tickets?x=%00", None),
        ("GET", "/api/v1/sources/acme/tickets/comments?id=a%00", None),
        ("GET", "/api/v1/sources/acme/tickets/comments/a%00b", None),
    ],
)
def test_nul_characters_are_refused(
    client: TestClient, db: Database, acme: Seeded, method: str, path: str, body: Any
) -> None:
    # PostgreSQL cannot store NUL in text; both backends must answer the same 422 and write nothing.
    before = snapshot(db, acme.dataset_id)
    reinfer_error(client.request(method, path, json=body), 422, "NUL")
    assert snapshot(db, acme.dataset_id) == before
    reinfer_error(client.get("/api/v1/sources/acme/new"), 404)
