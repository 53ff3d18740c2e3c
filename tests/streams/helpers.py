"""Shared helpers for the streams tests: a dataset fed by a source, uploads, a seeded model version."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from sanitas.db import Database
from sanitas.models.service import content_hash
from sanitas.models.tables import ModelVersion, Prediction
from sanitas.sources.schemas import CommentIn
from sanitas.sources.service import _canonical
from sanitas.timeutil import utcnow

BASE = "/api/v1/datasets/acme/support"


def make_dataset(client: TestClient, labels: list[list[str]] | None = None) -> str:
    """Create source ``acme/tickets`` feeding dataset ``acme/support``; returns the source id."""
    r = client.put("/api/v1/sources/acme/tickets", json={"source": {}})
    assert r.status_code == 200, r.text
    source_id = r.json()["source"]["id"]
    body: dict[str, Any] = {"source_ids": [source_id]}
    if labels:
        body["label_defs"] = [{"name": n} for n in labels]
    r = client.put("/api/v1/datasets/acme/support", json={"dataset": body})
    assert r.status_code == 200, r.text
    return str(source_id)


def comment(i: int, **props: Any) -> dict[str, Any]:
    """Comment ``c<i>`` with text ``text <i>`` and the given user properties."""
    return {
        "id": f"c{i}",
        "timestamp": f"2024-01-01T00:00:{i % 60:02d}Z",
        "messages": [{"subject": {"text": f"subject {i}"}, "body": {"text": f"text {i}"}}],
        "user_properties": props,
    }


def upload(client: TestClient, comments: list[dict[str, Any]]) -> None:
    """Sync comments into ``acme/tickets``."""
    r = client.post("/api/v1/sources/acme/tickets/sync", json={"comments": comments})
    assert r.status_code == 200, r.text


def create_stream(client: TestClient, name: str = "s", **fields: Any) -> dict[str, Any]:
    """Create a stream starting at the beginning unless ``start_at`` says otherwise."""
    fields.setdefault("start_at", "earliest")
    r = client.put(f"{BASE}/streams", json={"stream": {"name": name, **fields}})
    assert r.status_code == 200, r.text
    return dict(r.json()["stream"])


def fetch(client: TestClient, name: str = "s", **body: Any) -> dict[str, Any]:
    """A successful fetch."""
    body.setdefault("size", 16)
    r = client.post(f"{BASE}/streams/{name}/fetch", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def ids(batch: dict[str, Any]) -> list[str]:
    """Comment ids of a batch, in order."""
    return [r["comment"]["id"] for r in batch["results"]]


def seed_model(
    db: Database, dataset_id: str, version: int, scores: dict[str, dict[tuple[str, ...], float]]
) -> None:
    """A pinned version whose cached predictions are ``scores[text-of-body] = {label: p}``.

    The stream reads predictions from the cache first, so no model file is ever loaded.
    """
    with db.write() as s:
        s.add(
            ModelVersion(
                dataset_id=dataset_id,
                version=version,
                job_id="seeded",
                branch_id=None,
                path="/nonexistent",
                pinned=True,
                labels=[],
                metrics={},
                thresholds={},
                trained_on=0,
                created_at=utcnow(),
            )
        )
        s.flush()
        for i, labels in scores.items():
            c = comment(int(i))
            ordered = sorted(([list(n), p] for n, p in labels.items()), key=lambda lp: (-lp[1], lp[0]))
            rendered = [{"name": n, "probability": p} for n, p in ordered]
            # Stored comments are keyed by their content hash, documents by their messages' hash.
            for key in (_canonical(CommentIn.model_validate(c))[1], content_hash(c["messages"])):
                s.add(
                    Prediction(
                        dataset_id=dataset_id, version=version, content_hash=key, labels=rendered, entities=[]
                    )
                )
