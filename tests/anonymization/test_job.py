"""The anonymization job keeps each batch as a shard: a retried attempt redoes only what was not done."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from sanitas.anonymization import job as anonymization
from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs import service as jobs
from sanitas.jobs.worker import Worker

BASE = "/api/dataframer/anonymization-runs"
ROWS = 600  # three batches of at most 256 comments


def _dataset(client: TestClient) -> str:
    r = client.put("/api/v1/datasets/acme/chats", json={"dataset": {}})
    assert r.status_code == 200, r.text
    dataset_id = str(r.json()["dataset"]["id"])
    lines = [
        orjson.dumps(
            {"id": f"c{i:04d}", "text": f"row {i}: write to jane{i}@example.com or call 415-555-0{i:03d}"}
        )
        for i in range(ROWS)
    ]
    r = client.post(f"/api/datasets/{dataset_id}/files?filename=rows.jsonl", content=b"\n".join(lines))
    assert r.status_code == 200, r.text
    return dataset_id


def _start(client: TestClient, dataset_id: str) -> str:
    body = {
        "dataset_id": dataset_id,
        "pii_types": ["email", "phone_number"],
        "detection_method": "heuristics",
    }
    r = client.post(f"{BASE}/", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _finished(client: TestClient, db: Database, run_id: str) -> tuple[bytes, dict[str, Any], int, Path]:
    done = client.get(f"{BASE}/{run_id}/").json()
    assert done["status"] == "SUCCEEDED", done
    with db.read() as session:
        job = jobs.get_job(session=session, job_id=run_id)
        assert job.result is not None
        path, attempts = Path(job.result["files"][0]["local_path"]), job.attempts
    return path.read_bytes(), done["results"], attempts, path.parent


def test_a_retried_run_redoes_only_the_unfinished_batches(
    client: TestClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id = _dataset(client)
    clean_id = _start(client, dataset_id)
    assert Worker(db=db, settings=settings).run_once(job_id=clean_id)
    want, want_results, _, _ = _finished(client, db, clean_id)

    seen: list[str] = []
    real = anonymization.AnonymizeStage.process_batch

    def flaky(self: anonymization.AnonymizeStage, batch: list[Any]) -> list[dict[str, Any]]:
        seen.append(batch[0].id)
        if len(seen) == 3:  # the first attempt dies on its third batch
            raise OSError("disk went away")
        return real(self, batch)

    monkeypatch.setattr(anonymization.AnonymizeStage, "process_batch", flaky)
    run_id = _start(client, dataset_id)
    worker = Worker(db=db, settings=settings)
    assert worker.run_once(job_id=run_id)
    with db.read() as session:
        assert jobs.get_job(session=session, job_id=run_id).status == "queued"  # retried, not failed
    shards = settings.files_dir / "jobs" / run_id / "shards"
    assert sorted(p.name for p in shards.iterdir()) == [
        "00000000.json",
        "00000000.jsonl",
        "00000001.json",
        "00000001.jsonl",
    ]
    assert worker.run_once(job_id=run_id)
    got, results, attempts, folder = _finished(client, db, run_id)

    assert seen == ["c0000", "c0256", "c0512", "c0512"]  # the second attempt ran the third batch only
    assert attempts == 2
    assert got == want and results == want_results
    assert results["samples_processed"] == ROWS and b"jane7@example.com" not in got
    assert not shards.exists() and not any(folder.glob(".*"))


def test_a_shard_made_from_other_rows_is_redone(tmp_path: Path) -> None:
    from sanitas.jobs.shards import ShardStore, digest

    store = ShardStore(tmp_path / "s", attempt=1)
    key = digest([[1, "a"], [2, "b"]])
    store.write(0, key, [b'{"x":1}', b'{"x":2}'], {"summary": {"email": 2}})
    assert store.done(0, key)
    assert not store.done(0, digest([[1, "a"], [2, "B"]]))  # a row edited since: stale
    assert not store.done(1, key)
    assert list(store.lines(0)) == [b'{"x":1}\n', b'{"x":2}\n']
    assert store.meta(0) == {"summary": {"email": 2}, "digest": key}
    # A half-written shard of a killed attempt is swept by the next attempt.
    (tmp_path / "s" / ".00000001.jsonl.attempt1").write_bytes(b"partial")
    ShardStore(tmp_path / "s", attempt=2)
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["00000000.json", "00000000.jsonl"]
