"""Heal over HTTP, hardening (issue 12): healed files keep the input's shape and format, a POST may have no
body, ``activated`` follows the branch, and a deleted dataset takes its heal files along."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.heal.redact import redact, redact_messages
from sanitas.jobs.worker import Worker

# Every check off: the healed dataset is the input itself, so the test isolates how it is written.
NOTHING = {
    "target": "download",
    "fix_mislabeled": False,
    "remove_outliers": False,
    "remove_poisoned": False,
}
TEXTS = [
    "when will my new card arrive",
    "my card has still not arrived",
    "the transfer to my landlord failed",
    "why was my transfer declined",
    "how do I unblock my pin",
    "my pin is locked after three tries",
]


def comments() -> list[dict[str, Any]]:
    """Re:infer comments with everything a flat record would lose."""
    out = []
    for i, text in enumerate(TEXTS):
        out.append(
            {
                "id": f"c{i}",
                "timestamp": f"2024-03-0{i + 1}T10:00:00Z",
                "thread_id": f"t{i // 2}",
                "messages": [
                    {"subject": {"text": f"ticket {i}"}, "body": {"text": text}, "from": "a@example.com"},
                    {"body": {"text": "thanks"}},
                ],
                "user_properties": {"string:Channel": "email", "number:Priority": i},
                "labels": [["Cards", "Arrival"]] if i < 2 else [["Payments", f"Topic {i % 3}"]],
            }
        )
    return out


def make_dataset(client: TestClient, data: bytes, filename: str, name: str = "tickets") -> str:
    r = client.put(f"/api/v1/datasets/acme/{name}", json={"dataset": {}})
    dataset_id = str(r.json()["dataset"]["id"])
    r = client.post(f"/api/datasets/{dataset_id}/files?filename={filename}", content=data)
    assert r.status_code == 200, r.text
    return dataset_id


def run_jobs(db: Database, settings: Settings) -> None:
    worker = Worker(db=db, settings=settings)
    while worker.run_once():
        pass


def heal(
    client: TestClient, db: Database, settings: Settings, dataset_id: str, **body: Any
) -> dict[str, Any]:
    r = client.post(f"/api/datasets/{dataset_id}/heal", json={**NOTHING, **body})
    assert r.status_code == 200, r.text
    run_jobs(db, settings)
    job: dict[str, Any] = client.get(f"/api/healing/{r.json()['id']}").json()
    assert job["status"] == "completed", job
    return job


def jsonl(data: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def test_download_keeps_reinfer_comments_whole(client: TestClient, db: Database, settings: Settings) -> None:
    rows = comments()
    dataset_id = make_dataset(client, b"".join(orjson.dumps(c) + b"\n" for c in rows), "comments.jsonl")
    job = heal(client, db, settings, dataset_id)
    assert job["output_filename"] == "tickets-healed.jsonl"
    r = client.get(f"/api/healing/{job['id']}/download")
    assert r.status_code == 200
    assert 'filename="tickets-healed.jsonl"' in r.headers["content-disposition"]
    got = {c["id"]: c for c in jsonl(r.content)}
    assert set(got) == {c["id"] for c in rows}
    for want in rows:
        c = got[want["id"]]
        assert c["messages"] == want["messages"]
        assert c["thread_id"] == want["thread_id"]
        assert c["timestamp"].startswith(want["timestamp"][:19])
        assert c["user_properties"]["string:Channel"] == "email"
        assert c["user_properties"]["number:Priority"] == want["user_properties"]["number:Priority"]
        assert c["labels"] == want["labels"]  # levels stay a list, not "a > b"
    # The native job route serves the same file under the same name (it answered 409 before).
    r2 = client.get(f"/api/jobs/{job['id']}/download")
    assert r2.status_code == 200, r2.text
    assert r2.content == r.content
    assert 'filename="tickets-healed.jsonl"' in r2.headers["content-disposition"]
    # Re-importing the healed file into the same dataset changes nothing: it is the same dataset.
    again = client.post(f"/api/datasets/{dataset_id}/files?filename=healed.jsonl", content=r.content).json()
    assert again["unchanged"] == len(rows) and again["new"] == again["updated"] == again["labelled"] == 0


def test_download_of_a_csv_import_is_csv_with_its_label_column(
    client: TestClient, db: Database, settings: Settings
) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["text", "category"])
    for i, text in enumerate(TEXTS):
        w.writerow([text, "card > arrival" if i < 2 else "payments"])
    dataset_id = make_dataset(client, buf.getvalue().encode(), "rows.csv")
    job = heal(client, db, settings, dataset_id)
    assert job["output_filename"] == "tickets-healed.csv"
    r = client.get(f"/api/healing/{job['id']}/download")
    assert r.headers["content-type"].startswith("text/csv")
    out = list(csv.DictReader(io.StringIO(r.text)))
    assert list(out[0]) == ["id", "text", "category"]
    assert [o["text"] for o in out] == TEXTS
    assert [o["category"] for o in out] == ["card > arrival"] * 2 + ["payments"] * 4


def test_download_of_a_parquet_import_is_parquet(
    client: TestClient, db: Database, settings: Settings
) -> None:
    table = pa.table({"id": [f"p{i}" for i in range(len(TEXTS))], "text": TEXTS, "label": ["x"] * len(TEXTS)})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    dataset_id = make_dataset(client, sink.getvalue(), "rows.parquet")
    job = heal(client, db, settings, dataset_id)
    assert job["output_filename"] == "tickets-healed.parquet"
    r = client.get(f"/api/jobs/{job['id']}/download")
    got = pq.read_table(pa.BufferReader(r.content))
    assert got.column_names == ["id", "text", "label"]
    assert got.column("text").to_pylist() == TEXTS


def test_heal_post_without_a_body_takes_every_default(client: TestClient) -> None:
    dataset_id = make_dataset(client, b'{"text": "hello there"}\n', "one.jsonl")
    r = client.post(f"/api/datasets/{dataset_id}/heal")
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["target"] == "dataset"
    assert job["fix_mislabeled"] and job["remove_outliers"] and job["remove_poisoned"]
    assert not job["remove_off_topics"] and not job["anonymize_sensitive_information"]
    assert (job["off_topic_score_min"], job["off_topic_score_max"]) == (0, 100)
    # A JSON content type with an empty body is the same request.
    r = client.post(f"/api/datasets/{dataset_id}/heal", headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text


def test_activated_follows_the_branch(client: TestClient, db: Database, settings: Settings) -> None:
    dataset_id = make_dataset(client, b"".join(orjson.dumps({"text": t}) + b"\n" for t in TEXTS), "r.jsonl")
    job = heal(client, db, settings, dataset_id, target="dataset")
    assert job["created_branch_id"] and job["activated"] is False
    r = client.post(f"/api/datasets/{dataset_id}/branches/{job['created_branch_id']}/activate")
    assert r.status_code == 200
    assert client.get(f"/api/healing/{job['id']}").json()["activated"] is True
    listed = client.get(f"/api/datasets/{dataset_id}/healing").json()["jobs"]
    assert listed[0]["activated"] is True
    client.post(f"/api/datasets/{dataset_id}/branches/main/activate")
    assert client.get(f"/api/healing/{job['id']}").json()["activated"] is False


def test_deleting_the_dataset_makes_its_heal_files_unreachable(
    client: TestClient, db: Database, settings: Settings
) -> None:
    dataset_id = make_dataset(client, b"".join(orjson.dumps({"text": t}) + b"\n" for t in TEXTS), "r.jsonl")
    job = heal(client, db, settings, dataset_id)
    urls = [
        f"/api/healing/{job['id']}",
        *(f"/api/healing/{job['id']}/{f}" for f in ("manifest.jsonl", "scores.jsonl", "report", "download")),
        f"/api/jobs/{job['id']}/download",
    ]
    assert all(client.get(u).status_code == 200 for u in urls)
    folder = settings.files_dir / "jobs" / job["id"]
    assert (folder / "manifest.jsonl").exists()
    assert client.delete("/api/v1/datasets/acme/tickets").status_code == 200
    for url in urls:
        r = client.get(url)
        assert r.status_code == 404, (url, r.text)
    assert client.post(f"/api/healing/{job['id']}/cancel").status_code == 404
    assert not folder.exists()  # the files themselves are gone, not only hidden


@pytest.mark.parametrize(
    ("text", "entities", "want"),
    [
        ("call 555 0132 now", [{"start": 5, "end": 13, "label": "phone"}], "call [REDACTED_PHONE] now"),
        (
            "a b",
            [{"start": 0, "end": 1, "label": "x"}, {"start": 0, "end": 3, "label": "y"}],
            "[REDACTED_X] b",
        ),
        ("abc", [], "abc"),
    ],
)
def test_redact(text: str, entities: list[dict[str, Any]], want: str) -> None:
    assert redact(text, entities) == want


def test_redact_messages_masks_each_part_where_its_span_falls() -> None:
    messages = [{"subject": {"text": "Jane"}, "body": {"text": "mail jane@x.io"}}, {"body": {"text": "ok"}}]
    # The comment's text is "Jane\nmail jane@x.io\nok": parts joined by one newline.
    entities = [{"start": 0, "end": 4, "label": "person"}, {"start": 10, "end": 19, "label": "email"}]
    out = redact_messages(messages, entities)
    assert out[0]["subject"]["text"] == "[REDACTED_PERSON]"
    assert out[0]["body"]["text"] == "mail [REDACTED_EMAIL]"
    assert out[1] == messages[1] and messages[0]["subject"]["text"] == "Jane"
