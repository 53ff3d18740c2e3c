"""Shared helpers for API tests: envelopes, a seeded project, and comment builders."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from sanitas.datasets.tables import DatasetComment
from sanitas.db import Database
from sanitas.sources.tables import Comment


def comment(cid: str, text: str = "hello", **fields: Any) -> dict[str, Any]:
    """A minimal valid Re:infer comment."""
    return {"id": cid, "timestamp": "2024-01-01T00:00:00Z", "messages": [{"body": {"text": text}}], **fields}


def reinfer_error(r: httpx.Response, status: int, *needles: str) -> dict[str, Any]:
    """Assert a Re:infer error: the status, ``{"status": "error", "message"}``, and words in the message."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == "error", body
    assert isinstance(body["message"], str) and body["message"], body
    assert set(body) <= {"status", "message", "errors", "field"}, body
    for needle in needles:
        assert needle in body["message"], (needle, body["message"])
    return body


def antidote_error(r: httpx.Response, status: int, code: str | None = None, *needles: str) -> dict[str, Any]:
    """Assert an Antidote error: the status, ``{"error": {"code", "message"}}``, code and message words."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body["error"]) == {"code", "message"}, body
    assert "status" not in body, body
    if code is not None:
        assert body["error"]["code"] == code, body
    for needle in needles:
        assert needle in body["error"]["message"], (needle, body["error"]["message"])
    return body


@dataclass
class Seeded:
    """One project's resources: a source with comments ``c0..c4``, a dataset over it, its main branch."""

    project: str
    source: str
    source_id: str
    dataset: str
    dataset_id: str
    branch_id: str


def seed(client: Any, project: str = "acme", n: int = 5) -> Seeded:
    """Create a source, ``n`` comments and a dataset in ``project`` through the API."""
    r = client.put(f"/api/v1/sources/{project}/tickets", json={"source": {"title": "Tickets"}})
    assert r.status_code == 200, r.text
    source_id = r.json()["source"]["id"]
    r = client.post(
        f"/api/v1/sources/{project}/tickets/sync",
        json={"comments": [comment(f"c{i}", f"hi {i}") for i in range(n)]},
    )
    assert r.status_code == 200, r.text
    r = client.put(f"/api/v1/datasets/{project}/support", json={"dataset": {"source_ids": [source_id]}})
    assert r.status_code == 200, r.text
    dataset_id = r.json()["dataset"]["id"]
    branch_id = r.json()["dataset"]["active_branch_id"]
    return Seeded(project, "tickets", source_id, "support", dataset_id, branch_id)


def snapshot(db: Database, dataset_id: str) -> tuple[int, int, list[Any]]:
    """What a failed write must leave untouched: all comments, the dataset's members and their labels."""
    with db.read() as s:
        comments = s.scalar(select(func.count()).select_from(Comment)) or 0
        rows = s.execute(
            select(DatasetComment.comment_pk, DatasetComment.labels)
            .where(DatasetComment.dataset_id == dataset_id)
            .order_by(DatasetComment.comment_pk)
        ).all()
    return comments, len(rows), [tuple(r) for r in rows]


@contextmanager
def serving(app: Any) -> Iterator[int]:
    """Serve ``app`` with a real uvicorn on a free loopback port; yields the port."""
    import threading
    import time

    import uvicorn

    from tests.conftest import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
