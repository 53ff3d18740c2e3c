"""anonymize_file: every input format keeps its format; the entities file has one line per row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sanitas.pii.engine import PiiEngine
from sanitas.pii.runner import UnsupportedFileError, anonymize_file

ROWS = [
    {"id": "a", "text": "Mail jane@example.org now"},
    {"id": "b", "text": "nothing personal here"},
    {"id": "c", "text": "SSN 123-45-6780 and card 4111 1111 1111 1111"},
]


@pytest.fixture(scope="module")
def engine():
    eng = PiiEngine(method="heuristics")
    eng.setup()
    return eng


def _entities(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _check_entities(ents_path: Path, texts: dict[str, str]) -> None:
    lines = _entities(ents_path)
    assert [x["id"] for x in lines] == list(texts)
    for line in lines:
        for e in line["entities"]:
            assert 0 <= e["start"] < e["end"] <= len(texts[line["id"]])
            assert {"start", "end", "label", "score"} <= set(e)


def test_jsonl_rows(tmp_path, engine):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    seen: list[tuple[int, int | None]] = []
    summary = anonymize_file(
        src,
        out=tmp_path / "out.jsonl",
        entities_path=tmp_path / "e.jsonl",
        engine=engine,
        mask_config={"email": "REPLACE"},
        progress=lambda d, t: seen.append((d, t)),
    )
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert out[0]["text"] == "Mail <EMAIL> now"
    assert out[1]["text"] == ROWS[1]["text"]
    assert "123-45-6780" not in out[2]["text"] and "4111" not in out[2]["text"]
    assert summary["samples_processed"] == 3
    assert summary["entity_summary"] == {"email": 1, "ssn": 1, "credit_card": 1}
    assert seen[-1] == (3, 3)
    _check_entities(tmp_path / "e.jsonl", {r["id"]: r["text"] for r in ROWS})


def test_jsonl_comments_per_message_and_field(tmp_path, engine):
    comment = {
        "id": "c1",
        "messages": [
            {"subject": {"text": "re: jane@example.org"}, "body": {"text": "call 722-675-2968 please"}},
            {"body": {"text": "no pii"}},
        ],
    }
    src = tmp_path / "c.jsonl"
    src.write_text(json.dumps(comment) + "\n")
    anonymize_file(
        src,
        out=tmp_path / "o.jsonl",
        entities_path=tmp_path / "e.jsonl",
        engine=engine,
        mask_config={"*": "REPLACE"},
    )
    out = json.loads((tmp_path / "o.jsonl").read_text())
    assert out["messages"][0]["subject"]["text"] == "re: <EMAIL>"
    assert out["messages"][0]["body"]["text"] == "call <PHONE_NUMBER> please"
    ents = _entities(tmp_path / "e.jsonl")[0]["entities"]
    assert {(e["message_index"], e["field"], e["label"]) for e in ents} == {
        (0, "subject", "email"),
        (0, "body", "phone_number"),
    }


def test_csv(tmp_path, engine):
    src = tmp_path / "in.csv"
    with open(src, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["id", "text", "label"])
        w.writeheader()
        w.writerows([{**r, "label": "x"} for r in ROWS])
    anonymize_file(
        src,
        out=tmp_path / "out.csv",
        entities_path=tmp_path / "e.jsonl",
        engine=engine,
        mask_config={"*": "MASK"},
    )
    with open(tmp_path / "out.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["text"] == "Mail **************** now" and rows[0]["label"] == "x"
    _check_entities(tmp_path / "e.jsonl", {r["id"]: r["text"] for r in ROWS})


def test_parquet(tmp_path, engine):
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), src)
    anonymize_file(
        src,
        out=tmp_path / "out.parquet",
        entities_path=tmp_path / "e.jsonl",
        engine=engine,
        mask_config={"*": "REPLACE"},
    )
    out = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert out[0] == {"id": "a", "text": "Mail <EMAIL> now"}
    _check_entities(tmp_path / "e.jsonl", {r["id"]: r["text"] for r in ROWS})


def test_plain_text_is_one_row(tmp_path, engine):
    src = tmp_path / "notes.txt"
    src.write_text("line one jane@example.org\nline two 153.18.83.118\n")
    anonymize_file(
        src,
        out=tmp_path / "out.txt",
        entities_path=tmp_path / "e.jsonl",
        engine=engine,
        mask_config={"*": "REPLACE"},
    )
    assert (tmp_path / "out.txt").read_text() == "line one <EMAIL>\nline two <IP_ADDRESS>\n"
    assert len(_entities(tmp_path / "e.jsonl")) == 1


@pytest.mark.parametrize("name", ["in.pdf", "in.xlsx"])
def test_unsupported_extension(tmp_path, engine, name):
    src = tmp_path / name
    src.write_bytes(b"x")
    with pytest.raises(UnsupportedFileError):
        anonymize_file(src, out=tmp_path / "o", engine=engine)
