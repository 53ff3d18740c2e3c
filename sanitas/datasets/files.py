"""Read and write dataset files: JSONL (comments or ``{"id","text","label"}``), CSV and Parquet.

Parsing is all-or-nothing: the whole file is read and validated before anything is written, and every
error names its line (or row) and the rule it breaks. An import records the file's :class:`Layout`
(format, row shape, label column) so that a healed dataset is written back the way it came in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import ValidationError

from sanitas.datasets.schemas import parse_label_name
from sanitas.errors import InvalidInput
from sanitas.sources.schemas import CommentIn

FORMATS = ("jsonl", "csv", "parquet")
MEDIA_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
LABEL_COLUMNS = ("label", "category", "intent")
# Rows without a timestamp get a fixed one, so re-importing the same file is recognised as unchanged.
DEFAULT_TIMESTAMP = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class ImportedRow:
    """One parsed row: a comment plus its labels (None when the file has no label)."""

    comment: CommentIn
    labels: list[list[str]] | None
    # A flat ``{"id","text","label"}`` row (not a Re:infer comment), and the name of its label column.
    simple: bool = False
    label_column: str | None = None


@dataclass(frozen=True)
class Layout:
    """How a dataset's rows were shaped in the file they were imported from.

    ``shape`` is ``"comments"`` (Re:infer comments: messages, user properties, timestamps, thread ids,
    labels as lists of levels) or ``"records"`` (flat ``id``, ``text`` and a label column whose value
    joins levels with ``' > '``). A dataset fed only through the API has no layout: JSONL comments.
    """

    format: str = "jsonl"
    shape: str = "comments"
    label_column: str | None = "label"

    @classmethod
    def of(cls, raw: dict[str, Any] | None) -> Layout:
        """The layout stored on a dataset (the default for ``None``)."""
        if not raw:
            return cls()
        return cls(
            format=str(raw.get("format", "jsonl")),
            shape=str(raw.get("shape", "comments")),
            label_column=raw.get("label_column", "label"),
        )

    def as_json(self) -> dict[str, Any]:
        """The stored form."""
        return {"format": self.format, "shape": self.shape, "label_column": self.label_column}

    def record(self, row: Any) -> dict[str, Any]:
        """One branch row as this layout writes it."""
        if self.shape == "comments" and self.format == "jsonl":
            rec: dict[str, Any] = {"id": row.id, **row.body}
            if row.labels:
                rec["labels"] = [list(lab) for lab in row.labels]
            return rec
        rec = {"id": row.id, "text": row.text}
        if self.label_column:
            simple = simple_record(row)
            rec[self.label_column] = simple["label"]
            if "labels" in simple and self.format == "jsonl":
                rec["labels"] = simple["labels"]
        return rec

    def columns(self) -> list[str]:
        """The columns of a tabular file in this layout."""
        return ["id", "text", *([self.label_column] if self.label_column else [])]


def layout_of(rows: Sequence[ImportedRow], fmt: str) -> Layout:
    """The layout of a parsed file: records only when every row was a flat record."""
    if rows and all(r.simple for r in rows):
        column = next((r.label_column for r in rows if r.label_column), None)
        return Layout(format=fmt, shape="records", label_column=column)
    return Layout(format=fmt, shape="comments", label_column="label")


def merge_layouts(old: dict[str, Any] | None, new: Layout) -> Layout:
    """The layout after another import: the latest format; comments stay comments (never lossy)."""
    if old and Layout.of(old).shape == "comments":
        return Layout(format=new.format, shape="comments", label_column="label")
    return new


def detect_format(filename: str, explicit: str | None = None) -> str:
    """The file format from an explicit value or the file's extension."""
    if explicit:
        fmt = explicit.lower()
    else:
        suffix = Path(filename).suffix.lower().lstrip(".")
        fmt = {"json": "jsonl", "ndjson": "jsonl", "pq": "parquet"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise InvalidInput(
            f"format must be one of {', '.join(FORMATS)} (got {fmt or filename!r})", field="format"
        )
    return fmt


def _labels(value: Any, where: str) -> list[list[str]] | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, list) and value and all(isinstance(v, list | str) for v in value):
            # A flat list is several labels; a nested list holds hierarchical names.
            return [parse_label_name(v) for v in value]
        return [parse_label_name(str(value))]
    except ValueError as exc:
        raise InvalidInput(f"{where}: {exc}", field="label") from exc


def _row(obj: Any, where: str, index: int) -> ImportedRow:
    if not isinstance(obj, dict):
        raise InvalidInput(f"{where}: expected a JSON object", field="file")
    obj = dict(obj)
    label_key = "labels" if obj.get("labels") else ("label" if "label" in obj else None)
    labels = _labels(obj.pop("labels", None) or obj.pop("label", None), where)
    obj.pop("uid", None)
    simple = "messages" not in obj
    if simple:
        if "text" not in obj or not isinstance(obj["text"], str):
            raise InvalidInput(f"{where}: a row needs 'text' (a string) or 'messages'", field="text")
        text = obj.pop("text")
        obj["messages"] = [{"body": {"text": text}}]
    obj.setdefault("id", f"row-{index}")
    if not isinstance(obj["id"], str):
        obj["id"] = str(obj["id"])
    obj.setdefault("timestamp", DEFAULT_TIMESTAMP)
    for key in ("created_at", "last_modified", "source_id", "context", "has_annotations"):
        obj.pop(key, None)
    try:
        comment = CommentIn.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise InvalidInput(f"{where}: {loc}: {err['msg']}", field=loc) from exc
    return ImportedRow(comment=comment, labels=labels, simple=simple, label_column=label_key and "label")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            f"line {line}: the file is not valid UTF-8 (byte {exc.start})", field="file"
        ) from exc


def parse_jsonl(data: bytes) -> list[ImportedRow]:
    """Parse JSON Lines; blank lines are skipped."""
    text = _decode(data)
    rows: list[ImportedRow] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"line {n}: invalid JSON ({exc})", field="file") from exc
        rows.append(_row(obj, f"line {n}", n))
    return rows


def _tabular(records: Iterable[dict[str, Any]], columns: list[str], kind: str) -> list[ImportedRow]:
    if "text" not in columns:
        raise InvalidInput(
            f"the {kind} file has no 'text' column (columns: {', '.join(columns)})", field="text"
        )
    # BANKING77 and CLINC150 name the label column after what it holds.
    label_col = next((c for c in LABEL_COLUMNS if c in columns), None)
    rows = []
    for n, rec in enumerate(records, start=2 if kind == "CSV" else 1):
        where = f"line {n}" if kind == "CSV" else f"row {n}"
        obj = {"text": rec.get("text"), "label": rec.get(label_col) if label_col else None}
        if rec.get("id") not in (None, ""):
            obj["id"] = rec["id"]
        row = _row(obj, where, n)
        row.label_column = label_col
        rows.append(row)
    return rows


def parse_csv(data: bytes) -> list[ImportedRow]:
    """Parse CSV with a header (``text``, optional ``label`` and ``id``)."""
    text = _decode(data)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = list(reader.fieldnames or [])
        records = list(reader)
    except csv.Error as exc:
        raise InvalidInput(f"the CSV file cannot be read: {exc}", field="file") from exc
    if "text" not in columns:
        raise InvalidInput(f"the CSV file has no 'text' column (columns: {', '.join(columns)})", field="text")
    for n, rec in enumerate(records, start=2):
        if None in rec or any(v is None for v in rec.values()):
            raise InvalidInput(f"line {n}: wrong number of columns", field="file")
    return _tabular(records, columns, "CSV")


def parse_parquet(data: bytes) -> list[ImportedRow]:
    """Parse a Parquet file with ``text`` (and optional ``label``, ``id``) columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InvalidInput(f"the Parquet file cannot be read: {exc}", field="file") from exc
    return _tabular(table.to_pylist(), table.column_names, "Parquet")


def parse_file(data: bytes, fmt: str) -> list[ImportedRow]:
    """Parse a whole file; raises InvalidInput naming the first bad line."""
    rows = {"jsonl": parse_jsonl, "csv": parse_csv, "parquet": parse_parquet}[fmt](data)
    seen: dict[str, int] = {}
    for i, r in enumerate(rows):
        if r.comment.id in seen:
            raise InvalidInput(
                f"row {i + 1}: duplicate id {r.comment.id!r} (also row {seen[r.comment.id] + 1})", field="id"
            )
        seen[r.comment.id] = i
    return rows


def simple_record(row: Any) -> dict[str, Any]:
    """``{"id","text","label"}`` of a branch row (``label`` is the first label, levels joined by ' > ')."""
    labels = row.labels or []
    rec: dict[str, Any] = {"id": row.id, "text": row.text, "label": " > ".join(labels[0]) if labels else None}
    if len(labels) > 1:
        rec["labels"] = [" > ".join(lab) for lab in labels]
    return rec


def write_records(
    records: Iterator[list[dict[str, Any]]],
    fmt: str,
    out: IO[bytes],
    columns: Sequence[str] = ("id", "text", "label"),
) -> int:
    """Write batches of records in ``fmt`` (tabular formats keep ``columns``); returns the row count."""
    n = 0
    columns = list(columns)
    if fmt == "jsonl":
        for batch in records:
            out.write(b"".join(orjson.dumps(r) + b"\n" for r in batch))
            n += len(batch)
        return n
    if fmt == "csv":
        wrapper = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.DictWriter(wrapper, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for batch in records:
            writer.writerows(batch)
            n += len(batch)
        wrapper.detach()
        return n
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(c, pa.string()) for c in columns])
    with pq.ParquetWriter(out, schema) as writer:
        for batch in records:
            cols = {k: [r.get(k) for r in batch] for k in columns}
            writer.write_table(pa.table(cols, schema=schema))
            n += len(batch)
    return n
