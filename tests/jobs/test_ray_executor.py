"""The Ray executor on a real local Ray cluster (loopback, 2 CPUs): order, progress, setup once per
actor, a heal and an anonymization run identical to the local executor's, and a killed worker."""

from __future__ import annotations

import csv
import dataclasses
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from sanitas.config import Settings, load_settings
from sanitas.db import Database
from sanitas.jobs import ray_executor
from sanitas.jobs import service as jobs
from sanitas.jobs.executor import LocalExecutor, get_executor
from sanitas.jobs.worker import Worker
from tests.jobs import ray_stages

DATA = Path(__file__).resolve().parents[1] / "data" / "banking77_sample.csv"
BASE = "/api/dataframer/anonymization-runs"


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """One local Ray cluster for the session: 2 CPUs, bound to 127.0.0.1, shut down at the end."""
    ray = ray_executor.connect(None, 2)
    ray.cloudpickle.register_pickle_by_value(ray_stages)
    assert ray.cluster_resources()["CPU"] == 2
    assert [n["NodeManagerAddress"] for n in ray.nodes()] == ["127.0.0.1"]
    yield
    ray.cloudpickle.unregister_pickle_by_value(ray_stages)
    ray.shutdown()


def test_get_executor_names() -> None:
    settings = load_settings(secret_key=b"x", ray_address="127.0.0.1:6379", ray_num_cpus=3, ray_actors=2)
    ex = get_executor("ray", settings=settings)
    assert isinstance(ex, ray_executor.RayExecutor)
    assert (ex.address, ex.num_cpus, ex.actors) == ("127.0.0.1:6379", 3, 2)
    assert isinstance(get_executor("local"), LocalExecutor)
    with pytest.raises(ValueError, match="unknown executor 'dask'; valid: local, ray"):
        get_executor("dask")


def test_forwarded_env_keeps_secrets_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANITAS_SECRET_KEY", "s3cret")
    monkeypatch.setenv("SANITAS_DATABASE_URL", "postgresql+psycopg://u:pw@db/x")
    monkeypatch.setenv("SANITAS_EMBED_BACKEND", "onnx")
    env = ray_executor.forwarded_env()
    assert env["SANITAS_EMBED_BACKEND"] == "onnx"
    assert "SANITAS_SECRET_KEY" not in env and "SANITAS_DATABASE_URL" not in env


@pytest.mark.usefixtures("ray_cluster")
def test_results_in_input_order_with_progress_and_one_setup_per_actor() -> None:
    batches = [[0, 1, 2], [3], [4, 5], [6, 7, 8, 9], [10], [11, 12]]
    seen: list[int] = []
    out = list(ray_executor.RayExecutor().map(ray_stages.TracedSquare(), batches, on_batch=seen.append))
    assert [[sq for sq, _, _ in b] for b in out] == [[x * x for x in b] for b in batches]
    assert seen == [3, 4, 6, 10, 11, 13]  # rows done, after each batch, in input order
    pids = {pid for b in out for _, pid, _ in b}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2  # ran in actors, at most one per CPU
    assert {setups for b in out for _, _, setups in b} == {1}  # setup() once per actor
    local = list(LocalExecutor().map(ray_stages.TracedSquare(), batches))
    assert [[sq for sq, _, _ in b] for b in local] == [[sq for sq, _, _ in b] for b in out]
    assert list(ray_executor.RayExecutor().map(ray_stages.TracedSquare(), [])) == []


def _heal_rows() -> list[Any]:
    from sanitas.heal.pipeline import HealRow

    with DATA.open(newline="") as fh:
        rows = [
            HealRow(id=f"r{i}", text=r["text"], label=r["category"]) for i, r in enumerate(csv.DictReader(fh))
        ]
    # A duplicate, a mislabelled copy and a row with contact details, so every action has a candidate.
    rows.append(HealRow(id="dup", text=rows[0].text, label=rows[0].label))
    rows.append(HealRow(id="mis", text=rows[1].text + " please", label=rows[-1].label))
    rows.append(HealRow(id="pii", text="my card never came, mail jane.doe@example.com", label=rows[0].label))
    return rows


@pytest.mark.usefixtures("ray_cluster")
def test_heal_through_ray_matches_local(tmp_path: Path) -> None:
    from sanitas.embeddings import EmbeddingCache, embed_texts, get_embedder
    from sanitas.embeddings.stages import embed_through
    from sanitas.heal.detectors.contract import HealOptions
    from sanitas.heal.pipeline import manifest_lines, run_heal, score_lines

    rows = _heal_rows()
    texts = [r.text for r in rows]
    # Vector for vector, in several groups: Ray actors, the local executor and embed_texts agree.
    on_ray = embed_through(ray_executor.RayExecutor(), texts, batch_size=24)
    assert np.array_equal(on_ray, embed_through(LocalExecutor(), texts, batch_size=24))
    assert np.array_equal(on_ray, embed_texts(texts, embedder=get_embedder(), batch_size=24))
    local = run_heal(rows, HealOptions(), executor="local")
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    remote = run_heal(rows, HealOptions(), executor=ray_executor.RayExecutor(), cache=cache)
    # The vectors made on Ray land in the job's cache (a retried heal resumes from them), as they are
    # made here: batches of the same texts, so bit for bit.
    assert np.array_equal(
        embed_through(LocalExecutor(), texts, cache=cache), embed_through(LocalExecutor(), texts)
    )
    assert list(manifest_lines(remote)) == list(manifest_lines(local))
    assert list(score_lines(remote)) == list(score_lines(local))
    assert (remote.manifest["executor"], local.manifest["executor"]) == ("ray", "local")
    strip = ("timings", "executor")
    assert {k: v for k, v in remote.manifest.items() if k not in strip} == {
        k: v for k, v in local.manifest.items() if k not in strip
    }
    assert list(manifest_lines(local))  # the manifest compared is not empty


@pytest.mark.usefixtures("ray_cluster")
def test_a_heal_job_embeds_on_the_workers_executor(
    client: TestClient, db: Database, settings: Settings
) -> None:
    """The heal job takes the executor from the worker's settings, not from the environment."""
    rows = [{"id": r.id, "text": r.text, "label": r.label} for r in _heal_rows()]
    manifests = {}
    # Ray first, on a cold cache (the local heal after it reads the vectors Ray stored).
    for name, conf in (("ray", _ray_settings(settings)), ("local", settings)):
        r = client.put(f"/api/v1/datasets/acme/heal-{name}", json={"dataset": {}})
        dataset_id = r.json()["dataset"]["id"]
        body = b"".join(orjson.dumps(row) + b"\n" for row in rows)
        assert (
            client.post(f"/api/datasets/{dataset_id}/files?filename=rows.jsonl", content=body).status_code
            == 200
        )
        r = client.post(f"/api/datasets/{dataset_id}/heal", json={"target": "download"})
        assert r.status_code == 200, r.text
        assert Worker(db=db, settings=conf).run_once(job_id=r.json()["id"])
        job = client.get(f"/api/healing/{r.json()['id']}").json()
        assert job["status"] == "completed", job
        lines = client.get(f"/api/healing/{job['id']}/manifest.jsonl").content.splitlines()
        # each dataset gives its comments their own uids; everything else must match
        manifests[name] = [{k: v for k, v in orjson.loads(x).items() if k != "uid"} for x in lines]
        assert job["manifest"]["executor"] == name
    assert manifests["ray"] == manifests["local"] and manifests["ray"]


# --- anonymization runs: a job in the database, its batches on Ray --------------------------------


def _dataset(client: TestClient, rows: int) -> str:
    r = client.put("/api/v1/datasets/acme/chats", json={"dataset": {}})
    assert r.status_code == 200, r.text
    dataset_id = str(r.json()["dataset"]["id"])
    lines = []
    for i in range(rows):
        text = (
            f"order {i}: mail jane{i}@example.com or call 415-555-{i % 10000:04d}; card 4111 1111 1111 1111"
        )
        lines.append(orjson.dumps({"id": f"c{i:05d}", "text": text if i % 3 else f"nothing personal #{i}"}))
    r = client.post(f"/api/datasets/{dataset_id}/files?filename=rows.jsonl", content=b"\n".join(lines))
    assert r.status_code == 200, r.text
    return dataset_id


def _anonymize(
    client: TestClient, db: Database, settings: Settings, dataset_id: str, on_progress: Any = None
) -> tuple[bytes, dict[str, Any], int]:
    """Run one anonymization job with ``settings``; its output file, its results and its attempts."""
    body = {
        "dataset_id": dataset_id,
        "pii_types": ["email", "credit_card", "phone_number"],
        "detection_method": "heuristics",
    }
    r = client.post(f"{BASE}/", json=body)
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    assert Worker(db=db, settings=settings).run_once(job_id=run_id, on_progress=on_progress)
    done = client.get(f"{BASE}/{run_id}/").json()
    assert done["status"] == "SUCCEEDED", done
    with db.read() as session:
        job = jobs.get_job(session=session, job_id=run_id)
        path, attempts = Path(job.result["files"][0]["local_path"]), job.attempts
    return path.read_bytes(), done["results"], attempts


def _ray_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, executor="ray", ray_num_cpus=2)


@pytest.mark.usefixtures("ray_cluster")
def test_anonymization_through_ray_matches_local(
    client: TestClient, db: Database, settings: Settings
) -> None:
    dataset_id = _dataset(client, 600)
    local, local_results, _ = _anonymize(client, db, settings, dataset_id)
    remote, remote_results, attempts = _anonymize(client, db, _ray_settings(settings), dataset_id)
    assert remote == local
    assert remote_results == local_results
    assert b"jane1@example.com" not in remote and local_results["samples_processed"] == 600
    assert attempts == 1


def _actor_pids() -> list[int]:
    """Ray Data actors of this test's cluster: processes below this one whose title names a MapWorker."""
    parents: dict[int, int] = {}
    titles: dict[int, bytes] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            titles[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    me, found = os.getpid(), []
    for pid, title in titles.items():
        p = pid
        while p > 1 and p != me:
            p = parents.get(p, 0)
        if p == me and b"MapWorker" in title:
            found.append(pid)
    return sorted(found)


@pytest.mark.usefixtures("ray_cluster")
def test_anonymization_survives_a_killed_ray_worker(
    client: TestClient, db: Database, settings: Settings
) -> None:
    dataset_id = _dataset(client, 3000)
    local, local_results, _ = _anonymize(client, db, settings, dataset_id)
    killed: list[int] = []

    def kill_once(percent: float, phase: str, message: str) -> None:
        # After the first batch is back, most are still to run: kill one actor of the pool.
        if phase != "detecting" or killed:
            return
        for pid in _actor_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            killed.append(pid)
            break

    remote, remote_results, attempts = _anonymize(client, db, _ray_settings(settings), dataset_id, kill_once)
    assert killed, "no Ray worker was running mid-run"
    assert remote == local and remote_results == local_results
    assert attempts == 1  # Ray restarted the worker and retried its batches; the job never failed over


@pytest.mark.usefixtures("ray_cluster")
def test_a_failing_batch_fails_the_run() -> None:
    # A stage's exception reaches the caller (the job fails and its runner decides on a retry)...
    with pytest.raises(Exception, match="negative number in \\[-1\\]"):
        list(ray_executor.RayExecutor().map(ray_stages.Failing(), [[1], [-1], [2]]))
    # ...and so does a batch that kills its worker every time, after a bounded number of restarts.
    started = time.monotonic()
    with pytest.raises(Exception, match="(?i)actor|worker|died"):
        list(ray_executor.RayExecutor().map(ray_stages.Failing(), [[1], [0]]))
    assert time.monotonic() - started < 60


# --- training: the embedding on Ray, the fit in the job ---------------------------------------------


@pytest.mark.usefixtures("ray_cluster")
def test_training_through_ray_matches_local(client: TestClient, db: Database, settings: Settings) -> None:
    from tests.models.test_training import _train
    from tests.streams.helpers import BASE as STREAM_BASE
    from tests.streams.helpers import make_dataset, upload

    source = make_dataset(client)
    rows = _heal_rows()[:120]
    upload(
        client,
        [
            {"id": f"t{i}", "timestamp": "2024-01-01T00:00:00Z", "messages": [{"body": {"text": r.text}}]}
            for i, r in enumerate(rows)
        ],
    )
    items = [{"uid": f"{source}.t{i}", "assigned": [{"name": [r.label]}]} for i, r in enumerate(rows)]
    assert client.post(f"{STREAM_BASE}/labellings", json={"labellings": items}).status_code == 200
    results = {}
    # Ray first, on a cold cache: its vectors are the ones the local run then reads.
    for name, conf in (("ray", _ray_settings(settings)), ("local", settings)):
        results[name] = _train(client, db, conf)

    def timeless(metrics: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in metrics.items() if not k.endswith("_seconds")}

    assert timeless(results["ray"]["metrics"]) == timeless(results["local"]["metrics"])
    assert (results["ray"]["executor"], results["local"]["executor"]) == ("ray", "local")
    for key in ("thresholds", "labels", "trained_on"):
        assert results["ray"][key] == results["local"][key], key
    assert results["local"]["trained_on"] > 100 and timeless(results["local"]["metrics"])
    from sanitas.models.classifier import TrainedModel

    texts = [r.text for r in _heal_rows()[120:160]]
    ray_model, local_model = (TrainedModel.load(Path(str(results[n]["path"]))) for n in ("ray", "local"))
    assert np.array_equal(ray_model.predict_proba(texts), local_model.predict_proba(texts))
