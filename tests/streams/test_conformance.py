"""Conformance: every request example of the Re:infer Streams API documentation, replayed against a server.

The examples (method, path, body and the documented response of each page of UiPath Communications
Mining's Developer guide, "Streams": create, update, get, list, delete, fetch, advance, reset, tag and
untag) are in ``tests/data/reinfer_streams_examples.json`` (origin in ``tests/data/SOURCES.md``). Each
request is sent to ``sanitas serve`` and the answer must have the documented shape (same keys, same
JSON types, recursively). Vendor tokens in the examples are replaced by ones the server issued, since a
foreign token must be refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from sanitas.config import Settings
from sanitas.datasets.service import attach_source
from sanitas.db import Database
from sanitas.models.tables import Prediction
from sanitas.sources.tables import Comment, Source
from sanitas.timeutil import utcnow
from tests.streams.helpers import seed_model
from tests.streams.server import running_server

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "reinfer_streams_examples.json"


def load_examples() -> list[dict[str, Any]]:
    """Each documented example: title, method, path (after the host), JSON body or None, response."""
    return list(json.loads(EXAMPLES.read_text())["examples"])


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    return type(v).__name__


def shape_errors(doc: Any, got: Any, where: str = "$") -> list[str]:
    """Where ``got`` lacks a documented key or has another JSON type."""
    if _kind(doc) != _kind(got):
        return [f"{where}: documented {_kind(doc)}, got {_kind(got)}"]
    errors: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key not in got:
                errors.append(f"{where}.{key}: missing")
            else:
                errors.extend(shape_errors(value, got[key], f"{where}.{key}"))
    elif isinstance(doc, list) and doc and got:
        errors.extend(shape_errors(doc[-1], got[-1], f"{where}[-1]"))
    return errors


def test_examples_cover_every_documented_request() -> None:
    examples = load_examples()
    assert all(e["doc"]["status"] == "ok" for e in examples)
    routes = [(e["method"], re.sub(r"\?.*", "", e["path"]).rsplit("/collateral", 1)[1]) for e in examples]
    assert routes == [
        ("PUT", "/streams"),
        ("PUT", "/streams"),
        ("GET", "/streams/dispute"),
        ("GET", "/streams"),
        ("DELETE", "/streams/dispute"),
        ("POST", "/streams/dispute/fetch"),
        ("POST", "/streams/dispute/advance"),
        ("POST", "/streams/dispute/reset"),
        ("PUT", "/streams/dispute/exceptions"),
        ("DELETE", "/streams/dispute/exceptions"),
    ]


def _prepare(db: Database) -> tuple[str, str]:
    """Project ``project1``: dataset ``collateral`` fed by source ``18ba5ce699f8da1f``, pinned version 8."""
    from sanitas.auth.service import ensure_project
    from sanitas.datasets.schemas import DatasetFields
    from sanitas.datasets.service import put_dataset

    now = utcnow()
    with db.write() as s:
        ensure_project(session=s, name="project1")
        s.add(
            Source(id="18ba5ce699f8da1f", project="project1", name="emails", created_at=now, updated_at=now)
        )
        s.flush()
        labels = [
            {"name": ["Some Label"]},
            {"name": ["Another Label"]},
            {"name": ["Parent Label", "Child Label"]},
        ]
        labels += [{"name": ["Some Top-Level Label"]}, {"name": ["Another Top-Level Label", "Child Label"]}]
        ds, _ = put_dataset(
            session=s,
            project="project1",
            name="collateral",
            fields=DatasetFields.model_validate({"label_defs": labels}),
        )
        attach_source(session=s, dataset=ds, source_id="18ba5ce699f8da1f")
        dataset_id = ds.id
    seed_model(db, dataset_id, 8, {})
    return dataset_id, "18ba5ce699f8da1f"


def _upload_documented_comments(
    base: str, headers: dict[str, str], doc_fetch: dict[str, Any]
) -> list[dict[str, Any]]:
    server_fields = {"uid", "source_id", "created_at", "last_modified", "context"}
    comments = [
        {k: v for k, v in r["comment"].items() if k not in server_fields} for r in doc_fetch["results"]
    ]
    for c in comments:  # make them pass the example stream's filter
        c["user_properties"].update({"number:Spend": 500, "number:Transactions": 1, "string:Country": "uk"})
    others = [
        {**comments[0], "id": f"other-{i}", "user_properties": {"string:Country": "fr"}} for i in range(6)
    ]
    r = httpx.post(
        f"{base}/api/v1/sources/project1/emails/sync",
        json={"comments": others[:3] + comments + others[3:]},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return comments


def test_every_documented_request_gets_the_documented_shape(
    settings: Settings, db: Database, make_key: Any
) -> None:
    examples = load_examples()
    by_route = {(e["method"], e["path"].split("?")[0].rsplit("/", 1)[-1]): e for e in examples}
    dataset_id, _ = _prepare(db)
    headers = {"Authorization": f"Bearer {make_key()}"}
    with running_server(settings) as base, httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        create, update = examples[0], examples[1]
        problems: dict[str, list[str]] = {}

        def send(
            name: str, ex: dict[str, Any], body: Any = None, doc_key: str | None = None
        ) -> dict[str, Any]:
            r = http.request(ex["method"], ex["path"], json=body if body is not None else ex["body"])
            assert r.status_code == 200, (name, r.text)
            got = r.json()
            assert got["status"] == "ok", name
            doc = ex["doc"]
            if (
                doc_key
            ):  # the documentation shows "Get all" answering one `stream`; clients expect `streams: [...]`
                doc, got = doc["stream"], got["streams"][0]
            problems[name] = shape_errors(doc, got)
            return dict(r.json())

        send("create", create)
        send("update", update)
        send("get", by_route[("GET", "dispute")])
        send("list", by_route[("GET", "streams")], doc_key="stream")
        fetch_ex = by_route[("POST", "fetch")]
        comments = _upload_documented_comments(base, headers, fetch_ex["doc"])
        with db.write() as s:
            for c in comments:
                row = s.query(Comment).filter_by(source_id="18ba5ce699f8da1f", id=c["id"]).one()
                labels = [
                    {"name": ["Some Label"], "probability": 0.8374786376953125},
                    {"name": ["Parent Label", "Child Label"], "probability": 0.6164003014564514},
                ]
                s.add(
                    Prediction(
                        dataset_id=dataset_id,
                        version=8,
                        content_hash=row.content_hash,
                        labels=labels,
                        entities=[],
                    )
                )
        # The stream started at its creation: comments uploaded since are returned.
        http.post(
            fetch_ex["path"].replace("/fetch", "/reset"),
            json={"to_comment_created_at": "2000-01-01T00:00:00Z"},
        )
        batch = send("fetch", fetch_ex)
        assert batch["filtered"] == 6 and [x["comment"]["id"] for x in batch["results"]] == [
            c["id"] for c in comments
        ]
        assert [lb["name"] for lb in batch["results"][0]["labels"]] == [
            ["Some Label"],
            ["Parent Label", "Child Label"],
        ]
        advance_ex = by_route[("POST", "advance")]
        send("advance", advance_ex, body={"sequence_id": batch["sequence_id"]})
        r = http.post(advance_ex["path"], json=advance_ex["body"])  # the vendor's own token is foreign here
        assert r.status_code == 400 and r.json()["status"] == "error"
        send("reset", by_route[("POST", "reset")])
        send("tag", by_route[("PUT", "exceptions")])
        untag = by_route[("DELETE", "exceptions")]
        r = http.delete(untag["path"])
        assert r.status_code == 200 and shape_errors(untag["doc"], r.json()) == []
        send("delete", by_route[("DELETE", "dispute")])
        assert http.get(by_route[("GET", "dispute")]["path"]).status_code == 404
        # The same requests under the old /triggers/ and the /api/preview/ prefixes.
        for prefix in (
            "/api/v1/datasets/project1/collateral/triggers",
            "/api/preview/datasets/project1/collateral/streams",
        ):
            r = http.put(prefix, json=create["body"])
            assert r.status_code == 200 and shape_errors(create["doc"], r.json()) == []
            assert http.delete(f"{prefix}/dispute").json() == {"status": "ok"}
    assert {k: v for k, v in problems.items() if v} == {}
