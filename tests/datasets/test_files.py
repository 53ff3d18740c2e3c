"""File import and export: round trips in every format, unchanged re-imports, errors naming the line."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from sanitas.config import Settings
from sanitas.datasets import branches
from sanitas.datasets.files import parse_file
from sanitas.datasets.imports import ImportResult, import_rows
from sanitas.datasets.schemas import DatasetFields
from sanitas.datasets.service import get_dataset, put_dataset
from sanitas.db import Database
from sanitas.errors import InvalidInput, NotFound
from sanitas.jobs import service as jobs
from sanitas.jobs.worker import Worker

ROWS = [
    ("a1", "My card was declined, twice", ["Cards", "Declined"]),
    ("a2", 'Refund "please"\nsecond line', ["Billing"]),
    ("a3", "ünïcödé and emoji 🎉", None),
    ("a4", "  spaces kept  ", ["Billing", "Refund"]),
]


def simple_jsonl() -> bytes:
    """``{"id","text","label"}`` lines."""
    lines = []
    for cid, text, label in ROWS:
        lines.append({"id": cid, "text": text, **({"label": " > ".join(label)} if label else {})})
    return b"\n".join(orjson.dumps(x) for x in lines) + b"\n"


def comment_jsonl() -> bytes:
    """Re:infer comments with ``labels`` (hierarchical lists) and extra comment fields."""
    lines = []
    for cid, text, label in ROWS:
        c: dict[str, Any] = {
            "id": cid,
            "timestamp": "2024-03-01T10:00:00Z",
            "messages": [{"body": {"text": text}}],
            "user_properties": {"string:Channel": "email"},
        }
        if label:
            c["labels"] = [label]
        lines.append(c)
    return b"\n".join(orjson.dumps(x) for x in lines)


def csv_bytes(label_column: str = "label") -> bytes:
    """A CSV file with ``id,text,<label_column>``."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "text", label_column])
    for cid, text, label in ROWS:
        w.writerow([cid, text, " > ".join(label) if label else ""])
    return buf.getvalue().encode()


def parquet_bytes() -> bytes:
    """A Parquet file with ``id, text, label`` columns."""
    table = pa.table(
        {
            "id": [r[0] for r in ROWS],
            "text": [r[1] for r in ROWS],
            "label": [" > ".join(r[2]) if r[2] else None for r in ROWS],
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


SOURCES = {
    "jsonl-simple": (simple_jsonl, "jsonl"),
    "jsonl-comments": (comment_jsonl, "jsonl"),
    "csv": (csv_bytes, "csv"),
    "csv-intent-column": (lambda: csv_bytes("intent"), "csv"),
    "parquet": (parquet_bytes, "parquet"),
}


def do_import(db: Database, name: str, data: bytes, fmt: str) -> ImportResult:
    """Parse and import a file into ``acme/<name>`` (created if absent)."""
    rows = parse_file(data, fmt)
    with db.write() as s:
        try:
            ds = get_dataset(session=s, project="acme", name=name)
        except NotFound:
            ds, _ = put_dataset(session=s, project="acme", name=name, fields=DatasetFields())
        return import_rows(session=s, dataset=ds, rows=rows)


def view(db: Database, name: str) -> list[tuple[str, str, Any]]:
    """``(id, text, labels)`` on the dataset's active branch."""
    with db.read() as s:
        ds = get_dataset(session=s, project="acme", name=name)
        return [(r.id, r.text, r.labels) for b in branches.iter_rows(session=s, dataset=ds) for r in b]


def export(db: Database, settings: Settings, name: str, fmt: str) -> bytes:
    """Run an export job of the dataset's active branch; returns the file's bytes."""
    with db.write() as s:
        ds = get_dataset(session=s, project="acme", name=name)
        job_id = jobs.enqueue(
            session=s, kind="export", project="acme", payload={"dataset_id": ds.id, "format": fmt}
        ).id
    Worker(db=db, settings=settings, kinds=["export"]).run_once(job_id=job_id)
    with db.read() as s:
        job = jobs.get_job(session=s, job_id=job_id)
        assert job.status == "succeeded" and job.result is not None, job.error
        return Path(job.result["path"]).read_bytes()


EXPECTED = [(cid, text, [label] if label else None) for cid, text, label in ROWS]


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("out_fmt", ["jsonl", "csv", "parquet"])
def test_import_then_export_then_reimport_round_trips(
    db: Database, settings: Settings, source: str, out_fmt: str
) -> None:
    make, fmt = SOURCES[source]
    res = do_import(db, "first", make(), fmt)
    assert (res.rows, res.new, res.updated, res.unchanged, res.labelled) == (4, 4, 0, 0, 3)
    assert view(db, "first") == EXPECTED
    exported = export(db, settings, "first", out_fmt)
    res2 = do_import(db, "second", exported, out_fmt)
    assert (res2.new, res2.labelled) == (4, 3)
    assert view(db, "second") == EXPECTED


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_reimporting_the_same_file_changes_nothing(db: Database, source: str) -> None:
    make, fmt = SOURCES[source]
    do_import(db, "tickets", make(), fmt)
    with db.read() as s:
        stamp = get_dataset(session=s, project="acme", name="tickets").updated_at
    again = do_import(db, "tickets", make(), fmt)
    assert (again.new, again.updated, again.unchanged, again.labelled) == (0, 0, 4, 0)
    with db.read() as s:
        assert get_dataset(session=s, project="acme", name="tickets").updated_at == stamp
    assert view(db, "tickets") == EXPECTED


def test_reimport_with_a_changed_row_updates_only_that_row(db: Database) -> None:
    do_import(db, "tickets", simple_jsonl(), "jsonl")
    changed = (
        simple_jsonl().replace(b"twice", b"three times").replace(b'"label":"Billing"}', b'"label":"Other"}')
    )
    res = do_import(db, "tickets", changed, "jsonl")
    assert (res.new, res.updated, res.unchanged, res.labelled) == (0, 1, 3, 1)
    got = view(db, "tickets")
    assert got[0][1] == "My card was declined, three times" and got[1][2] == [["Other"]]


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b'{"id": "a", "text": "ok"}\n{"id": "b", "text": }\n', "jsonl", "line 2: invalid JSON"),
        (b'{"id": "a", "text": "ok"}\n\n{"id": "b", "text": "\xff\xfe"}\n', "jsonl", "line 3"),
        (b'{"id": "a", "text": "ok"}\n[1, 2]\n', "jsonl", "line 2: expected a JSON object"),
        (b'{"id": "a", "text": "ok"}\n{"id": "b"}\n', "jsonl", "line 2: a row needs 'text'"),
        (b'{"id": "a", "text": "ok", "label": "A >  > B"}\n', "jsonl", "line 1"),
        (b'{"id": "a b", "text": "ok"}\n', "jsonl", "line 1: id"),
        (b'{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "jsonl", "duplicate id 'a'"),
        (b"id,body,label\n1,hello,A\n", "csv", "no 'text' column"),
        (b"id,text,label\n1,hello,A\n2,too,many,columns\n", "csv", "line 3: wrong number of columns"),
        (b"id,text,label\n1,hello,A\n2,fine,B\n3,bad label,C >  > D\n", "csv", "line 4: label"),
        (b"text,label\nhello,A\n\xe9t\xe9,B\n", "csv", "line 3: the file is not valid UTF-8"),
        (b"PAR1 this is not parquet", "parquet", "cannot be read"),
    ],
)
def test_bad_files_are_rejected_naming_the_line(data: bytes, fmt: str, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_file(data, fmt)
    assert message in err.value.message


@pytest.mark.parametrize(
    ("data", "fmt", "rows"),
    [
        (
            b'\xef\xbb\xbf{"text": "bom first"}\n\n   \n{"text": "after blanks"}\n',
            "jsonl",
            2,
        ),  # BOM, blank lines
        (b"text,category\nhello,A\n", "csv", 1),
        (b'text\n"multi\nline"\n', "csv", 1),
    ],
)
def test_good_edge_case_files_are_accepted(data: bytes, fmt: str, rows: int) -> None:
    parsed = parse_file(data, fmt)
    assert len(parsed) == rows
    assert parsed[0].comment.id.startswith("row-")


def test_a_parquet_file_without_a_text_column_names_its_columns() -> None:
    out = io.BytesIO()
    pq.write_table(pa.table({"body": ["x"], "label": ["A"]}), out)
    with pytest.raises(InvalidInput, match=r"no 'text' column \(columns: body, label\)"):
        parse_file(out.getvalue(), "parquet")


def test_a_failed_upload_leaves_the_dataset_unchanged(client: TestClient, db: Database) -> None:
    do_import(db, "tickets", simple_jsonl(), "jsonl")
    with db.read() as s:
        dataset_id = get_dataset(session=s, project="acme", name="tickets").id
    before = view(db, "tickets")
    good = [orjson.dumps({"id": f"n{i}", "text": f"new {i}", "label": "New"}) for i in range(500)]
    bad = b"\n".join([*good, b'{"id": "n500", "text": 5}'])  # the last line is wrong
    r = client.post(f"/api/datasets/{dataset_id}/files", params={"filename": "more.jsonl"}, content=bad)
    assert r.status_code in (400, 422), r.text
    assert "line 501" in r.json()["error"]["message"]
    assert view(db, "tickets") == before
    with db.read() as s:
        labels = get_dataset(session=s, project="acme", name="tickets").label_defs
    assert ["New"] not in [d["name"] for d in labels]
    r = client.post(
        f"/api/datasets/{dataset_id}/files", params={"filename": "more.jsonl"}, content=b"\n".join(good)
    )
    assert r.status_code == 200, r.text
    assert (r.json()["new"], r.json()["labelled"]) == (500, 500)
    assert len(view(db, "tickets")) == len(before) + 500
