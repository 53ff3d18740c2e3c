"""Training a real model version as a job, then streaming with it (needs the bundled MiniLM)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs.worker import Worker
from sanitas.models.tables import Prediction
from sanitas.streams import readahead
from tests.streams.helpers import BASE, make_dataset, upload

pytest.importorskip("sanitas.models.classifier")

TOPICS = {
    "Card": ["my card was declined", "card payment failed at the shop", "the card does not work abroad"],
    "Refund": ["I want my money back", "please refund the order", "when will the refund arrive"],
    "Account": ["I cannot log in to my account", "reset my account password", "my account is locked"],
}


def _labelled(client: TestClient) -> str:
    source_id = make_dataset(client)
    comments, labels = [], {}
    n = 0
    for label, texts in TOPICS.items():
        for rep in range(4):
            for text in texts:
                cid = f"c{n}"
                comments.append(
                    {
                        "id": cid,
                        "timestamp": "2024-01-01T00:00:00Z",
                        "messages": [{"body": {"text": f"{text} (ticket {rep})"}}],
                    }
                )
                labels[f"{source_id}.{cid}"] = label
                n += 1
    upload(client, comments)
    items = [{"uid": uid, "assigned": [{"name": [lb]}]} for uid, lb in labels.items()]
    assert client.post(f"{BASE}/labellings", json={"labellings": items}).status_code == 200
    return source_id


def _train(client: TestClient, db: Database, settings: Settings) -> dict[str, object]:
    r = client.post(f"{BASE}/labellers/train", json={"seed": 0})
    assert r.status_code == 200, r.text
    job_id = r.json()["job"]["id"]
    assert Worker(db=db, settings=settings).run_once(job_id=job_id)
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job
    return dict(job["result"])


def test_train_versions_pin_and_stream(client: TestClient, db: Database, settings: Settings) -> None:
    _labelled(client)
    first = _train(client, db, settings)
    second = _train(client, db, settings)
    assert (first["version"], second["version"]) == (1, 2)
    models = client.get(f"{BASE}/labellers").json()["models"]
    assert [m["version"] for m in models] == [1, 2]
    assert models[0]["trained_on"] == 36 and models[0]["metrics"] and models[0]["thresholds"]
    dataset_id = client.get(BASE).json()["dataset"]["id"]
    assert (settings.home / "models" / dataset_id / "1").is_dir()
    assert Path(str(first["path"])) == settings.home / "models" / dataset_id / "1"
    assert client.put(f"{BASE}/labellers/2/pin").status_code == 200
    r = client.put(
        f"{BASE}/streams", json={"stream": {"name": "s", "start_at": "earliest", "model": {"version": 2}}}
    )
    assert r.status_code == 200, r.text
    first_fetch = client.post(f"{BASE}/streams/s/fetch", json={"size": 12}).content
    assert client.post(f"{BASE}/streams/s/fetch", json={"size": 12}).content == first_fetch
    batch = client.post(f"{BASE}/streams/s/fetch", json={"size": 12}).json()
    top = [r["labels"][0]["name"] for r in batch["results"]]
    assert top == [["Card"]] * 12
    readahead.wait_idle()
    with db.read() as s:
        cached = s.scalar(select(func.count()).select_from(Prediction).where(Prediction.version == 2))
    # The 12 read and, read ahead in the background, the 24 after them (a window is 1,024 at least).
    assert cached == 36
    r = client.post(
        f"{BASE}/labellers/2/predict",
        json={"documents": [{"messages": [{"body": {"text": "refund my order please"}}]}]},
    )
    assert r.json()["predictions"][0]["labels"][0]["name"] == ["Refund"]
