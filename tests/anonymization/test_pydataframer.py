"""The official Dataframer SDK (pydataframer) works against Sanitas with only its base URL and key changed."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import orjson
from dataframer import Dataframer

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs.worker import Worker


def test_official_sdk_create_list_get_download_delete(
    live_server: str, make_key: Callable[..., str], db: Database, settings: Settings
) -> None:
    key = make_key(role="write", projects=["acme"])
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=live_server, headers=headers) as http:
        http.put("/api/v1/datasets/acme/chats", json={"dataset": {}}).raise_for_status()
        dataset_id = http.get("/api/v1/datasets/acme/chats").json()["dataset"]["id"]
        rows = [{"id": "1", "text": "Write to jane.doe@example.com"}, {"id": "2", "text": "no pii here"}]
        http.post(
            f"/api/datasets/{dataset_id}/files?filename=a.jsonl",
            content=b"".join(orjson.dumps(r) + b"\n" for r in rows),
        ).raise_for_status()

    client = Dataframer(api_key=key, base_url=live_server)
    runs = client.dataframer.anonymization_runs
    created = runs.create(
        dataset_id=dataset_id,
        pii_types=["email"],
        detection_method="heuristics",
        mask_config={"email": "<EMAIL>"},
    )
    assert created.status == "PENDING"
    Worker(db=db, settings=settings).run_once()
    got = runs.retrieve(created.id)
    assert got.status == "SUCCEEDED"
    assert got.results is not None and got.results.samples_processed == 2
    assert [r.id for r in runs.list()] == [created.id]
    file_id = got.anonymized_files[0].id
    link = runs.files.download(file_id, run_id=created.id)
    assert link.download_url and link.file_name
    text = httpx.get(link.download_url).text
    assert "<EMAIL>" in text and "jane.doe@example.com" not in text
    everything = runs.files.download_all(created.id)
    assert everything.status == "ready" and everything.download_url
    assert httpx.get(everything.download_url).content[:2] == b"PK"
    runs.delete(created.id)
    assert runs.list() == []
