"""The vendor's own "Create an anonymization run" example, replayed against Sanitas.

The request below is the Python example of Dataframer's API reference page "Create an anonymization
run" (POST /api/dataframer/anonymization-runs/), copied as published: only the URL, the key and the
dataset id are ours. Its ``pii_types`` placeholder ``["<string>"]`` is filled with the page's own
example list; ``llm_model_name`` keeps its placeholder, since the method it is sent with runs no LLM.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs import service as jobs
from sanitas.jobs.worker import Worker

ROWS = b'{"id": "1", "text": "Hi, I am Jane, write to jane.doe@example.com or call 415-555-0132"}\n'


def test_the_seed_create_example_succeeds_as_written(
    live_server: str,
    make_key: Callable[..., str],
    db: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SANITAS_LLM_BASE_URL", raising=False)  # no LLM on this server
    token = make_key(role="write", projects=["acme"])
    auth = {"Authorization": f"Bearer {token}"}
    requests.put(f"{live_server}/api/v1/datasets/acme/chats", json={"dataset": {}}, headers=auth, timeout=30)
    dataset_id = requests.get(f"{live_server}/api/v1/datasets/acme/chats", headers=auth, timeout=30).json()[
        "dataset"
    ]["id"]
    requests.post(
        f"{live_server}/api/datasets/{dataset_id}/files?filename=a.jsonl", data=ROWS, headers=auth, timeout=30
    ).raise_for_status()

    # --- the vendor's example ---
    url = f"{live_server}/api/dataframer/anonymization-runs/"

    payload = {
        "dataset_id": dataset_id,
        "pii_types": ["first_name", "email", "phone_number"],
        "detection_method": "aimon_pii_m1",
        "llm_model_name": "<string>",
        "mask_config": {},
        "threshold": 0.3,
    }
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    response = requests.post(url, json=payload, headers=headers, timeout=30)
    # --- end of the example ---

    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "PENDING"
    assert run["llm_model_name"] == "<string>"  # echoed as sent, like the vendor does
    worker = Worker(db=db, settings=settings)
    assert worker.run_once(job_id=run["id"])
    with db.read() as s:
        job = jobs.get_job(session=s, job_id=run["id"])
        assert (job.status, job.attempts, job.error) == ("succeeded", 1, None)
    done = requests.get(f"{url}{run['id']}/", headers=headers, timeout=30).json()
    assert done["status"] == "SUCCEEDED", done
    assert done["results"]["samples_processed"] == 1
    assert done["results"]["entity_summary"]["email"] == 1
    assert not any((settings.files_dir / "jobs" / run["id"]).glob(".*"))  # no temporary file left
