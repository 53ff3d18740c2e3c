"""Streams with a pinned model: labels from the prediction cache, thresholds applied with ``>=``."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sanitas.db import Database
from tests.streams.helpers import BASE, comment, create_stream, fetch, make_dataset, seed_model, upload

SCORES = {
    "0": {("A",): 0.5, ("B",): 0.2, ("B", "C"): 0.19},
    "1": {("A",): 0.49999, ("B",): 0.9, ("B", "C"): 0.8},
}


def _setup(client: TestClient, db: Database) -> None:
    make_dataset(client, labels=[["A"], ["B", "C"]])
    seed_model(db, client.get(BASE).json()["dataset"]["id"], 1, SCORES)
    upload(client, [comment(0), comment(1)])


@pytest.mark.parametrize(
    ("thresholds", "expected"),
    [
        (
            None,
            [
                [(["A"], 0.5), (["B"], 0.2), (["B", "C"], 0.19)],
                [(["B"], 0.9), (["B", "C"], 0.8), (["A"], 0.49999)],
            ],
        ),
        ([{"name": ["A"], "threshold": 0.5}], [[(["A"], 0.5)], []]),
        (
            [{"name": ["B", "C"], "threshold": 0.8}, {"name": ["B"], "threshold": 1.0}],
            [[], [(["B", "C"], 0.8)]],
        ),
        ([{"name": ["B"], "threshold": 0.0}], [[(["B"], 0.2)], [(["B"], 0.9)]]),
    ],
)
def test_label_thresholds_at_or_above(
    client: TestClient, db: Database, thresholds: list[dict[str, Any]] | None, expected: list[Any]
) -> None:
    _setup(client, db)
    model: dict[str, Any] = {"version": 1}
    if thresholds is not None:
        model["label_thresholds"] = thresholds
    create_stream(client, model=model)
    batch = fetch(client, size=10)
    got = [[(lb["name"], lb["probability"]) for lb in r["labels"]] for r in batch["results"]]
    assert got == expected
    assert all(r["entities"] == [] for r in batch["results"])


def test_refetch_is_byte_identical(client: TestClient, db: Database) -> None:
    _setup(client, db)
    create_stream(client, model={"version": 1})
    first = client.post(f"{BASE}/streams/s/fetch", json={"size": 10}).content
    second = client.post(f"{BASE}/streams/s/fetch", json={"size": 10}).content
    assert first == second


def test_stream_without_model_returns_no_labels(client: TestClient, db: Database) -> None:
    _setup(client, db)
    create_stream(client)
    assert [r["labels"] for r in fetch(client)["results"]] == [[], []]


@pytest.mark.parametrize(
    ("thresholds", "expected"),
    [
        (None, [("A", []), ("B", []), ("B > C", [])]),
        ([{"name": ["B", "C"], "threshold": 0.19}], [("B > C", ["stream"])]),
    ],
)
def test_results_route_carries_extractions(
    client: TestClient, db: Database, thresholds: list[dict[str, Any]] | None, expected: list[Any]
) -> None:
    _setup(client, db)
    model: dict[str, Any] = {"version": 1}
    if thresholds is not None:
        model["label_thresholds"] = thresholds
    create_stream(client, model=model)
    body = client.get(f"{BASE}/streams/s/results", params={"max_results": 1}).json()
    extractions = body["results"][0]["prediction"]["extractions"]
    assert [(e["name"], e["occurrence_confidence"]["thresholds"]) for e in extractions] == expected
    assert body["continuation"] == body["results"][0]["continuation"]
