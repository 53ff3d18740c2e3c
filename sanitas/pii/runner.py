"""File-level anonymization for the CLI: JSONL (rows or comments), JSON, CSV, Parquet and plain text.

The output keeps the input's format; the entities file has one line per input row,
``{"id", "entities": [{"start", "end", "label", "score"}]}`` with offsets into that row's text;
for comments and multi-column rows each entity also says ``message_index`` / ``field``.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from sanitas.pii.engine import PiiEngine
from sanitas.pii.entities import Entity
from sanitas.pii.llm import LlmConfig
from sanitas.pii.masking import apply_masks

ProgressFn = Callable[[int, int | None], None]
MESSAGE_FIELDS = ("subject", "body", "signature")
BATCH_ROWS = 256
# Rows per batch when the batches go to the worker pool: the parent waits for each batch, so larger ones
# keep the workers busy for longer between those waits (a batch is still cut into many small tasks).
POOL_BATCH_ROWS = 2048


class UnsupportedFileError(ValueError):
    """An input whose extension is none of .jsonl/.ndjson/.json/.csv/.parquet/.txt/.md."""


@dataclass
class _Unit:
    """One text inside a row: where it lives so the masked text can be written back."""

    text: str
    message_index: int | None = None
    field: str | None = None
    entities: list[Entity] = dc_field(default_factory=list)


@dataclass
class RunSummary:
    """What a run found: the ``results`` block of an anonymization run."""

    samples_processed: int = 0
    entity_summary: Counter[str] = dc_field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape (entity_summary as a plain dict)."""
        return {"samples_processed": self.samples_processed, "entity_summary": dict(self.entity_summary)}


def _row_units(row: dict[str, Any], text_fields: list[str] | None) -> list[_Unit]:
    if isinstance(row.get("messages"), list):
        units = []
        for k, msg in enumerate(row["messages"]):
            for name in MESSAGE_FIELDS:
                part = msg.get(name) if isinstance(msg, dict) else None
                value = part.get("text") if isinstance(part, dict) else part
                if isinstance(value, str) and value:
                    units.append(_Unit(value, message_index=k, field=name))
        return units
    names = text_fields or (
        ["text"]
        if "text" in row
        else [k for k, v in row.items() if isinstance(v, str) and k not in ("id", "uid")]
    )
    return [_Unit(row[n], field=n) for n in names if isinstance(row.get(n), str)]


def _write_back(row: dict[str, Any], units: list[_Unit], masked: list[str]) -> dict[str, Any]:
    for unit, text in zip(units, masked, strict=True):
        if unit.message_index is not None:
            msg = row["messages"][unit.message_index]
            part = msg[unit.field]
            if isinstance(part, dict):
                part["text"] = text
            else:
                msg[unit.field] = text
        elif unit.field is not None:
            row[unit.field] = text
    return row


def _entities_line(rid: Any, units: list[_Unit], single_text: bool) -> str:
    ents = []
    for unit in units:
        for e in unit.entities:
            d = e.to_dict()
            if not single_text:
                if unit.message_index is not None:
                    d["message_index"] = unit.message_index
                d["field"] = unit.field
            ents.append(d)
    return json.dumps({"id": rid, "entities": ents}, ensure_ascii=False) + "\n"


class _Processor:
    def __init__(
        self, engine: PiiEngine, mask_config: dict[str, str], run_salt: bytes, key: bytes | None
    ) -> None:
        self.engine, self.mask_config, self.run_salt, self.key = engine, mask_config, run_salt, key
        self.summary = RunSummary()
        self.batch_rows = BATCH_ROWS

    def stream(
        self, batches: Iterable[list[dict[str, Any]]], text_fields: list[str] | None
    ) -> Iterator[list[tuple[dict, list[_Unit]]]]:
        """Each batch of rows with its texts' entities and masks, in order. The engine reads the
        batches as its worker pool needs them (``PiiEngine.analyze_stream``), so the next batch is
        being detected while this one is masked and written."""
        prepared: deque[tuple[list[dict[str, Any]], list[list[_Unit]]]] = deque()

        def texts() -> Iterator[list[str]]:
            for rows in batches:
                per_row = [_row_units(r, text_fields) for r in rows]
                prepared.append((rows, per_row))
                yield [u.text for units in per_row for u in units]

        for found in self.engine.analyze_stream(texts()):
            rows, per_row = prepared.popleft()
            flat = [u for units in per_row for u in units]
            for unit, ents in zip(flat, found, strict=True):
                unit.entities = ents
                self.summary.entity_summary.update(e.label for e in ents)
            out = []
            for row, units in zip(rows, per_row, strict=True):
                masked = [
                    apply_masks(
                        u.text, u.entities, mask_config=self.mask_config, run_salt=self.run_salt, key=self.key
                    )
                    for u in units
                ]
                out.append((_write_back(row, units, masked), units))
            self.summary.samples_processed += len(rows)
            yield out


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def _row_id(row: dict[str, Any], k: int) -> Any:
    return row.get("id", row.get("uid", k))


def _run_rows(
    proc: _Processor,
    rows: Iterable[dict[str, Any]],
    write_row: Callable[[dict[str, Any]], None],
    ents_out: IO[str] | None,
    progress: ProgressFn | None,
    total: int | None,
    text_fields: list[str] | None = None,
) -> None:
    done = 0
    for batch in proc.stream(_batches(rows, proc.batch_rows), text_fields):
        for row, units in batch:
            single = len(units) == 1 and units[0].field == "text" and units[0].message_index is None
            if ents_out is not None:
                ents_out.write(_entities_line(_row_id(row, done), units, single))
            write_row(row)
            done += 1
        if progress is not None:
            progress(done, total)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def anonymize_file(
    input_path: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    entities_path: str | os.PathLike[str] | None = None,
    pii_types: list[str] | None = None,
    method: str = "aimon_pii_m1",
    threshold: float = 0.3,
    mask_config: dict[str, str] | None = None,
    progress: ProgressFn | None = None,
    run_salt: bytes | None = None,
    key: bytes | None = None,
    llm: LlmConfig | None = None,
    engine: PiiEngine | None = None,
) -> dict[str, Any]:
    """Anonymize one file into ``out`` (same format) and optionally write the entities file.

    Returns ``{"samples_processed", "entity_summary"}``. Raises UnsupportedFileError for an unknown
    extension and the engine's errors for a bad type or method.
    """
    src, dst = Path(input_path), Path(out)
    suffix = src.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".txt", ".md", ".text"):
        raise UnsupportedFileError(
            f"unsupported input file {src.name!r}: use JSONL, JSON, CSV, Parquet or text"
        )
    eng = engine or PiiEngine(method=method, pii_types=pii_types, threshold=threshold, llm=llm)
    # A file this large goes to the worker pool batch by batch: this process then needs no models
    # (they load on first use if a small batch does run here).
    pooled = eng.uses_pool(src.stat().st_size)
    eng.setup(load_models=not pooled)
    proc = _Processor(eng, mask_config or {}, run_salt or secrets.token_bytes(16), key)
    proc.batch_rows = POOL_BATCH_ROWS if pooled else BATCH_ROWS
    dst.parent.mkdir(parents=True, exist_ok=True)
    ents_out = open(entities_path, "w", encoding="utf-8") if entities_path else None  # noqa: SIM115
    try:
        if suffix in (".jsonl", ".ndjson"):
            _jsonl(proc, src, dst, ents_out, progress)
        elif suffix == ".json":
            _json(proc, src, dst, ents_out, progress)
        elif suffix == ".csv":
            _csv(proc, src, dst, ents_out, progress)
        elif suffix == ".parquet":
            _parquet(proc, src, dst, ents_out, progress)
        else:
            _text(proc, src, dst, ents_out, progress)
    finally:
        if ents_out is not None:
            ents_out.close()
    return proc.summary.to_dict()


def _jsonl(
    proc: _Processor, src: Path, dst: Path, ents_out: IO[str] | None, progress: ProgressFn | None
) -> None:
    total = _count_lines(src) if progress else None
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as w:
        rows = (json.loads(line) for line in f if line.strip())
        _run_rows(proc, rows, lambda r: _write_line(w, r), ents_out, progress, total)


def _json(
    proc: _Processor, src: Path, dst: Path, ents_out: IO[str] | None, progress: ProgressFn | None
) -> None:
    data = json.loads(src.read_text(encoding="utf-8"))
    rows = data if isinstance(data, list) else [data]
    done: list[dict[str, Any]] = []
    _run_rows(proc, rows, done.append, ents_out, progress, len(rows))
    dst.write_text(
        json.dumps(done if isinstance(data, list) else done[0], ensure_ascii=False), encoding="utf-8"
    )


def _csv(
    proc: _Processor, src: Path, dst: Path, ents_out: IO[str] | None, progress: ProgressFn | None
) -> None:
    total = max(0, _count_lines(src) - 1) if progress else None
    with open(src, newline="", encoding="utf-8") as f, open(dst, "w", newline="", encoding="utf-8") as w:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        writer = csv.DictWriter(w, fieldnames=fields)
        writer.writeheader()
        text_fields = ["text"] if "text" in fields else [c for c in fields if c not in ("id", "uid", "label")]
        _run_rows(proc, reader, writer.writerow, ents_out, progress, total, text_fields)


def _parquet(
    proc: _Processor, src: Path, dst: Path, ents_out: IO[str] | None, progress: ProgressFn | None
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(src)
    schema = pf.schema_arrow
    strings = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    text_fields = ["text"] if "text" in strings else [c for c in strings if c not in ("id", "uid", "label")]
    writer = pq.ParquetWriter(dst, schema)
    try:
        for record_batch in pf.iter_batches(batch_size=proc.batch_rows):
            done: list[dict[str, Any]] = []
            _run_rows(proc, record_batch.to_pylist(), done.append, ents_out, None, None, text_fields)
            writer.write_table(pa.Table.from_pylist(done, schema=schema))
            if progress is not None:
                progress(proc.summary.samples_processed, pf.metadata.num_rows)
    finally:
        writer.close()


def _text(
    proc: _Processor, src: Path, dst: Path, ents_out: IO[str] | None, progress: ProgressFn | None
) -> None:
    # The whole file is one text: the engine chunks it, so its size is bounded only by memory for the
    # text itself and its entities.
    text = src.read_text(encoding="utf-8", errors="replace")
    row = {"id": src.stem, "text": text}
    del text
    _run_rows(proc, [row], lambda r: _write_text(dst, r["text"]), ents_out, progress, 1)


def _write_line(w: IO[str], row: dict[str, Any]) -> None:
    w.write(json.dumps(row, ensure_ascii=False) + "\n")


def _write_text(dst: Path, text: str) -> None:
    dst.write_text(text, encoding="utf-8")
