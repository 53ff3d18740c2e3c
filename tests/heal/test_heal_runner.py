"""heal_file on every accepted input shape; the healed file keeps the input's format; the HTML report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sanitas.heal.pipeline import HealOptions
from sanitas.heal.report import histogram_svg, render_report
from sanitas.heal.runner import comment_text, detect_format, heal_file, read_rows

OUTLIER = "the senate chose the governor in 1820"
PII = "where is my new card ref7, write to jane.doe@example.com"

pytestmark = pytest.mark.usefixtures("pattern_pii")


def _records(clean_rows) -> list[dict]:  # noqa: ANN001
    recs = [{"id": f"r{i}", "text": t, "label": lab} for i, (t, lab) in enumerate(clean_rows)]
    recs += [
        {"id": "far", "text": OUTLIER, "label": "card_arrival"},
        {"id": "pii", "text": PII, "label": "card_arrival"},
    ]
    return recs


def _write(path: Path, fmt: str, recs: list[dict]) -> None:
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    elif fmt == "csv":
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["id", "text", "label"])
            w.writeheader()
            w.writerows(recs)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(recs), path)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_heal_file_round_trips_each_format(tmp_path, clean_rows, fake_embedder, fmt: str) -> None:  # noqa: ANN001
    src = tmp_path / f"in.{fmt}"
    _write(src, fmt, _records(clean_rows))
    out = tmp_path / f"out.{fmt}"
    res = heal_file(
        src,
        out=out,
        manifest=tmp_path / "m.jsonl",
        scores=tmp_path / "s.jsonl",
        report=tmp_path / "r.html",
        options=HealOptions(anonymize_sensitive_information=True),
        embedder=fake_embedder,
    )
    _, healed, _ = read_rows(out)
    ids = {lr.row.id for lr in healed}
    assert "far" not in ids and "r0" in ids
    assert len(healed) == res.manifest["rows_written"]
    pii = next(lr.row for lr in healed if lr.row.id == "pii")
    assert "[REDACTED_EMAIL]" in pii.text
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == len(clean_rows) + 2
    assert "<svg" in (tmp_path / "r.html").read_text()


def test_comment_shape_text_and_write_back(tmp_path, clean_rows, fake_embedder) -> None:  # noqa: ANN001
    recs = [
        {"id": f"c{i}", "messages": [{"body": {"text": t}}], "label": lab}
        for i, (t, lab) in enumerate(clean_rows)
    ]
    recs.append(
        {
            "id": "pii",
            "messages": [{"subject": {"text": "card"}, "body": {"text": PII}, "signature": {"text": "Jane"}}],
            "label": "card_arrival",
        }
    )
    src = tmp_path / "comments.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in recs))
    out = tmp_path / "healed.jsonl"
    heal_file(src, out=out, options=HealOptions(anonymize_sensitive_information=True), embedder=fake_embedder)
    healed = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    msg = healed["pii"]["messages"][0]
    assert msg["subject"]["text"] == "card" and msg["signature"]["text"] == "Jane"
    assert "[REDACTED_EMAIL]" in msg["body"]["text"]


@pytest.mark.parametrize(
    ("comment", "text"),
    [
        ({"messages": [{"subject": {"text": "Hi"}, "body": {"text": "card lost"}}]}, "Hi\ncard lost"),
        ({"messages": [{"body": "a"}, {"body": "b", "signature": "s"}]}, "a\nb\ns"),
        ({"messages": []}, ""),
    ],
)
def test_comment_text(comment: dict, text: str) -> None:
    assert comment_text(comment)[0] == text


@pytest.mark.parametrize(
    ("name", "fmt"), [("a.jsonl", "jsonl"), ("a.CSV", "csv"), ("a.parquet", "parquet"), ("a.txt", None)]
)
def test_detect_format(name: str, fmt: str | None) -> None:
    if fmt is None:
        with pytest.raises(ValueError):
            detect_format(Path(name))
    else:
        assert detect_format(Path(name)) == fmt


def test_csv_without_text_column_is_rejected(tmp_path) -> None:  # noqa: ANN001
    src = tmp_path / "bad.csv"
    src.write_text("body,label\nx,y\n")
    with pytest.raises(ValueError, match="text"):
        read_rows(src)


@pytest.mark.parametrize(("threshold", "has_line"), [(0.5, True), (None, False)])
def test_histogram_svg(threshold: float | None, has_line: bool) -> None:
    svg = histogram_svg([0.1, 0.2, 0.9], threshold)
    assert svg.startswith("<svg") and ("<line x1" in svg and "threshold" in svg) is has_line


def test_report_mentions_checks_and_trigger(tmp_path, clean_rows, fake_embedder) -> None:  # noqa: ANN001
    src = tmp_path / "in.jsonl"
    _write(src, "jsonl", _records(clean_rows))
    res = heal_file(src, out=None, embedder=fake_embedder)
    html = render_report(res)
    for word in (
        "mislabeled",
        "outlier",
        "off topic",
        "poisoned",
        "injection",
        "sensitive",
        "Timings",
        "trigger",
    ):
        assert word in html
    assert OUTLIER in html  # a top example of the outlier check
