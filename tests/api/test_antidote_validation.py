"""The one validation rule (README, "The HTTP API") on file import, branches, exports, jobs and login:
4xx in ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from sanitas.db import Database
from tests.api.helpers import Seeded, antidote_error, reinfer_error, seed, snapshot


@pytest.fixture()
def acme(client: TestClient) -> Seeded:
    return seed(client)


def _parquet(columns: dict[str, list[Any]]) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table(columns), out)
    return out.getvalue()


GOOD_JSONL = b'{"id": "f1", "text": "refund please", "label": "Billing"}\n{"id": "f2", "text": "hi"}\n'
GOOD_CSV = b"text,label\nrefund please,Billing\nhello,Other\n"

BAD_FILES = [
    # (file name, content, words of the message)
    ("a.jsonl", b'{"id": "f1", "text": "ok"}\n{"id": "f2", "text": "caf\xe9"}\n', ["line 2", "UTF-8"]),
    ("a.csv", b"text,label\nok,A\nok,B\n\xff\xfe,C\n", ["line 4", "UTF-8"]),
    ("a.jsonl", b'{"id": "f1", "text": "ok"}\n{"id": "f2", "text": \n', ["line 2", "invalid JSON"]),
    ("a.jsonl", b'{"id": "f1", "text": "ok"}\n\n[1, 2]\n', ["line 3", "JSON object"]),
    ("a.jsonl", b'{"id": "f1", "text": "ok"}\n{"id": "f2", "label": "A"}\n', ["line 2", "'text'"]),
    ("a.jsonl", b'{"id": "f1", "text": "ok"}\n{"id": "f 2", "text": "x"}\n', ["line 2", "id"]),
    ("a.jsonl", b'{"id": "f1", "text": "ok"}\n{"id": "f1", "text": "again"}\n', ["row 2", "duplicate"]),
    ("a.jsonl", b'{"id": "f1", "text": "ok"}\n{"id": "f2", "text": "x", "label": "A >  > B"}\n', ["line 2"]),
    ("a.jsonl", b'{"id": "f1", "text": "ok\\u0000"}\n', ["line 1", "NUL"]),
    ("a.csv", b"body,label\nhello,A\n", ["'text' column", "body"]),
    ("a.csv", b"text,label\nok,A\nok,B,extra\n", ["line 3", "columns"]),
    ("a.csv", b"text,label\nok,A\nshort\n", ["line 3", "columns"]),
    ("a.csv", b'text,label\nok,A\n"unterminated,B\n', ["line 3"]),
    ("a.csv", b"text,label\nnul\x00here,A\n", ["line 2", "NUL"]),
    ("a.parquet", b"PAR1 this is not parquet", ["Parquet"]),
    ("a.parquet", _parquet({"body": ["x"], "label": ["A"]}), ["'text' column"]),
    ("a.parquet", _parquet({"text": ["ok", None], "label": ["A", "B"]}), ["row 2", "'text'"]),
    ("a.xml", b"<rows/>", ["jsonl, csv, parquet"]),
]


@pytest.mark.parametrize(("name", "content", "needles"), BAD_FILES)
def test_bad_file_names_the_line_and_imports_nothing(
    client: TestClient, db: Database, acme: Seeded, name: str, content: bytes, needles: list[str]
) -> None:
    before = snapshot(db, acme.dataset_id)
    url = f"/api/datasets/{acme.dataset_id}/files"
    for r in (
        client.post(url, files={"file": (name, content)}),
        client.post(url, params={"filename": name}, content=content),
    ):
        antidote_error(r, 422, "VALIDATION_ERROR", *needles)
        assert snapshot(db, acme.dataset_id) == before


@pytest.mark.parametrize(
    ("name", "content", "fmt", "rows"),
    [
        ("a.jsonl", GOOD_JSONL, None, 2),
        ("a.csv", GOOD_CSV, None, 2),
        ("a.parquet", _parquet({"text": ["x", "y", "z"], "intent": ["A", "B", "A"]}), None, 3),
        ("upload.bin", GOOD_CSV, "csv", 2),
        ("a.ndjson", b"\xef\xbb\xbf" + GOOD_JSONL, None, 2),
    ],
)
def test_good_file_imports(
    client: TestClient, db: Database, acme: Seeded, name: str, content: bytes, fmt: str | None, rows: int
) -> None:
    before = snapshot(db, acme.dataset_id)
    params = {"format": fmt} if fmt else {}
    r = client.post(f"/api/datasets/{acme.dataset_id}/files", params=params, files={"file": (name, content)})
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == rows and r.json()["new"] == rows
    assert snapshot(db, acme.dataset_id)[1] == before[1] + rows


@pytest.mark.parametrize(
    ("kwargs", "status", "code", "needle"),
    [
        ({"content": b""}, 400, "BAD_REQUEST", "empty"),
        ({"files": {"other": ("a.csv", GOOD_CSV)}}, 422, "VALIDATION_ERROR", "'file'"),
        ({"files": {"file": (None, "just a string")}}, 422, "VALIDATION_ERROR", "'file'"),
        ({"content": GOOD_CSV, "params": {"format": "xml"}}, 422, "VALIDATION_ERROR", "jsonl, csv, parquet"),
        ({"content": GOOD_CSV, "params": {"filename": "x" * 513}}, 422, "VALIDATION_ERROR", "filename"),
    ],
)
def test_upload_request_errors(
    client: TestClient, acme: Seeded, kwargs: dict[str, Any], status: int, code: str, needle: str
) -> None:
    antidote_error(client.post(f"/api/datasets/{acme.dataset_id}/files", **kwargs), status, code, needle)


MISSING = str(uuid.uuid4())


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", f"/api/datasets/{MISSING}/branches", "DATASET_NOT_FOUND"),
        ("GET", "/api/datasets/not-a-uuid/branches", "DATASET_NOT_FOUND"),
        ("POST", f"/api/datasets/{MISSING}/files", "DATASET_NOT_FOUND"),
        ("POST", f"/api/datasets/{MISSING}/exports", "DATASET_NOT_FOUND"),
        ("POST", f"/api/datasets/{MISSING}/branches/main/activate", "DATASET_NOT_FOUND"),
        ("GET", "/api/datasets/{ds}/branches?branch=nope", "BRANCH_NOT_FOUND"),
        ("POST", "/api/datasets/{ds}/branches/nope/activate", "BRANCH_NOT_FOUND"),
        ("POST", f"/api/datasets/{{ds}}/branches/{MISSING}/activate", "BRANCH_NOT_FOUND"),
        ("POST", "/api/datasets/{ds}/exports?branch=nope", "BRANCH_NOT_FOUND"),
        ("GET", f"/api/jobs/{MISSING}", "JOB_NOT_FOUND"),
        ("GET", "/api/jobs/nope", "JOB_NOT_FOUND"),
        ("POST", f"/api/jobs/{MISSING}/cancel", "JOB_NOT_FOUND"),
        ("GET", f"/api/jobs/{MISSING}/download", "JOB_NOT_FOUND"),
        ("GET", "/api/nothing/here", "NOT_FOUND"),
    ],
)
def test_unknown_ids_are_404(client: TestClient, acme: Seeded, method: str, path: str, code: str) -> None:
    r = client.request(method, path.format(ds=acme.dataset_id), content=b"x" if "files" in path else None)
    antidote_error(r, 404, code)


def test_deleted_dataset_is_404_everywhere(client: TestClient, acme: Seeded) -> None:
    r = client.post(f"/api/datasets/{acme.dataset_id}/exports")
    assert r.status_code == 202, r.text
    assert client.delete("/api/v1/datasets/acme/support").json() == {"status": "ok"}
    ds = acme.dataset_id
    antidote_error(client.get(f"/api/datasets/{ds}/branches"), 404, "DATASET_NOT_FOUND")
    antidote_error(client.post(f"/api/datasets/{ds}/files", content=GOOD_CSV), 404, "DATASET_NOT_FOUND")
    antidote_error(client.post(f"/api/datasets/{ds}/exports"), 404, "DATASET_NOT_FOUND")
    antidote_error(
        client.post(f"/api/datasets/{ds}/branches/{acme.branch_id}/activate"), 404, "DATASET_NOT_FOUND"
    )
    for path in ("/api/v1/datasets/acme/support", f"/api/v1/datasets/acme/id:{ds}"):
        reinfer_error(client.get(path), 404, "not found")
        reinfer_error(client.delete(path), 404, "not found")
    r = client.post(f"/api/v1/datasets/acme/support/labellings/{acme.source_id}.c1", json={"labelling": {}})
    reinfer_error(r, 404)


@pytest.mark.parametrize(
    ("query", "status", "needles"),
    [
        ("format=xml", 422, ["format", "'jsonl'", "'csv'", "'parquet'"]),
        ("format=JSONL", 422, ["'jsonl'"]),
        ("branch=" + "b" * 257, 422, ["branch"]),
        ("branch=a%00b", 422, ["NUL"]),
        ("format=csv", 202, []),
        ("format=parquet&branch=main", 202, []),
    ],
)
def test_export_parameters(
    client: TestClient, acme: Seeded, query: str, status: int, needles: list[str]
) -> None:
    r = client.post(f"/api/datasets/{acme.dataset_id}/exports?{query}")
    if status == 202:
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "queued"
    else:
        antidote_error(r, status, "VALIDATION_ERROR", *needles)


def test_download_before_the_job_finished_is_409(client: TestClient, acme: Seeded) -> None:
    job = client.post(f"/api/datasets/{acme.dataset_id}/exports").json()
    antidote_error(client.get(f"/api/jobs/{job['id']}/download"), 409, "CONFLICT", "no file")


@pytest.mark.parametrize(
    ("content", "status", "code", "needle"),
    [
        (b'{"api_key": ', 400, "BAD_REQUEST", "not valid JSON"),
        (b'{"api_key": "sk_x_y", "remember": true}', 422, "VALIDATION_ERROR", "unknown field"),
        (b'{"api_key": 5}', 422, "VALIDATION_ERROR", "api_key"),
        (b'{"api_key": ""}', 422, "VALIDATION_ERROR", "api_key"),
        (b"{}", 422, "VALIDATION_ERROR", "field required"),
        (b'{"api_key": "sk_x_y"}', 401, "UNAUTHORIZED", "unknown or revoked"),
        (b'{"api_key": "sk_x\\u0000y"}', 422, "VALIDATION_ERROR", "NUL"),
    ],
)
def test_login_errors(anon: TestClient, content: bytes, status: int, code: str, needle: str) -> None:
    r = anon.post("/api/auth/login", content=content, headers={"content-type": "application/json"})
    antidote_error(r, status, code, needle)
    assert "set-cookie" not in r.headers
