"""Heal a file: read JSONL / CSV / Parquet, run the pure pipeline, write the healed file in the same format.

Accepted rows: ``{"id", "text", "label"}``; Re:infer comments (``{"id", "messages": [...]}``, optionally
wrapped as ``{"comment": {...}, "labels": [...]}``) whose text is every message's subject, body and
signature in order; CSV or Parquet with ``text`` and ``label`` columns (``id`` optional).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sanitas.datasets import files
from sanitas.errors import InvalidInput
from sanitas.heal.pipeline import (
    HealOptions,
    HealResult,
    HealRow,
    RowDecision,
    manifest_lines,
    run_heal,
    score_lines,
)
from sanitas.sources.text import text_segments

PART_SEP = "\n"
# A lone UTF-16 surrogate (``"\\ud800"`` in JSON) decodes to a string no UTF-8 codec accepts: the
# embedding cache, the PII engine and every writer would fail on it.
_SURROGATE = re.compile("[\ud800-\udfff]")


class InputError(ValueError):
    """The input file cannot be read as a dataset; the message says where and why."""


def _clean(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (one code point for one: offsets keep)."""
    return _SURROGATE.sub("\ufffd", text)


def _missing(value: Any) -> bool:
    """No value: null, an empty string, or a float NaN (what pandas and ``json.dumps`` write for one)."""
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _text_of(value: Any) -> str:
    """A row's text as one string ("" when it has none)."""
    return "" if _missing(value) else _clean(str(value))


@dataclass
class _Span:
    message: int
    part: str
    start: int
    end: int


@dataclass
class LoadedRow:
    """A row as read, with what is needed to write it back after healing."""

    row: HealRow
    raw: Any
    spans: list[_Span] = field(default_factory=list)


def _label_of(value: Any) -> str | None:
    """A label as one string: hierarchical names are joined with `` > ``."""
    if _missing(value):
        return None
    if isinstance(value, list):
        if not value:
            return None
        first = value[0]
        if isinstance(first, dict):
            return _label_of(first.get("name"))
        if isinstance(first, list):
            return _label_of(first)
        names = [_clean(str(v)) for v in value if not _missing(v)]
        return " > ".join(names) if names else None
    if isinstance(value, dict):
        return _label_of(value.get("name"))
    return _clean(str(value))


def comment_text(comment: dict[str, Any]) -> tuple[str, list[_Span]]:
    """A Re:infer comment's text (:func:`sanitas.sources.text.comment_text`) and where each part lies."""
    messages = comment.get("messages") or []
    if not (isinstance(messages, list) and all(isinstance(m, dict) for m in messages)):
        raise InputError("'messages' must be a list of message objects")
    spans: list[_Span] = []
    pos = 0
    for m, part, t in text_segments(messages):
        if spans:
            pos += len(PART_SEP)
        spans.append(_Span(m, part, pos, pos + len(t)))
        pos += len(t)
    return _clean(PART_SEP.join(t for _, _, t in text_segments(messages))), spans


def _from_json(obj: dict[str, Any], k: int) -> LoadedRow:
    if "comment" in obj and isinstance(obj["comment"], dict):
        c = obj["comment"]
        text, spans = comment_text(c)
        label = _label_of(obj.get("labels") or obj.get("label"))
        cid = str(c.get("id", k))
        return LoadedRow(HealRow(id=cid, text=text, label=label, uid=c.get("uid")), obj, spans)
    if "messages" in obj:
        text, spans = comment_text(obj)
        label = _label_of(obj.get("labels") or obj.get("label"))
        return LoadedRow(
            HealRow(id=str(obj.get("id", k)), text=text, label=label, uid=obj.get("uid")), obj, spans
        )
    return LoadedRow(
        HealRow(
            id=str(obj.get("id", k)),
            text=_text_of(obj.get("text")),
            label=_label_of(obj.get("label")),
            uid=obj.get("uid"),
        ),
        obj,
    )


def detect_format(path: Path) -> str:
    """``jsonl``, ``csv`` or ``parquet`` from the file name (the import's one rule; ``.tsv`` reads as CSV)."""
    if path.suffix.lower() == ".tsv":
        return "csv"
    try:
        return files.detect_format(path.name)
    except InvalidInput as exc:
        raise InputError(f"unsupported input format {path.suffix!r}: use .jsonl, .csv or .parquet") from exc


def _read_jsonl(path: Path) -> list[LoadedRow]:
    """JSON Lines, one object per line (blank lines skipped, a UTF-8 byte order mark allowed)."""
    rows: list[LoadedRow] = []
    with open(path, "rb") as f:
        for k, raw in enumerate(f):
            where = f"{path}:{k + 1}"
            try:
                line = raw.decode("utf-8-sig" if k == 0 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                if line.strip() == "[":
                    raise InputError(
                        f"{where}: a JSON array; heal reads JSON Lines (one object per line)"
                    ) from None
                raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(obj, dict):
                # a whole JSON array on one line, or the opening bracket of a pretty-printed one
                array = " (JSON Lines: one object per line, not an array)" if line.lstrip()[:1] == "[" else ""
                raise InputError(f"{where}: each line must be a JSON object{array}")
            try:
                rows.append(_from_json(obj, len(rows)))
            except InputError as exc:
                raise InputError(f"{where}: {exc}") from None
    if rows and not any(
        "text" in lr.raw or "messages" in lr.raw or isinstance(lr.raw.get("comment"), dict) for lr in rows
    ):
        keys = sorted({key for lr in rows for key in lr.raw})
        raise InputError(
            f"{path}: no row has a 'text' field (nor Re:infer 'messages'); found {', '.join(keys) or 'none'}"
        )
    return rows


def _delimiter(path: Path) -> str:
    """A ``.tsv`` file's fields are separated by tabs, any other table's by commas."""
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _read_table(path: Path, fmt: str) -> tuple[list[dict[str, Any]], list[str]]:
    """A CSV's or a Parquet file's records and column names."""
    if fmt == "csv":
        try:
            with open(path, newline="", encoding="utf-8-sig") as f:
                reader = csv.DictReader(f, delimiter=_delimiter(path))
                return list(reader), list(reader.fieldnames or [])
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except csv.Error as exc:
            raise InputError(f"{path}: not readable as CSV ({exc})") from None
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not readable as Parquet ({exc})") from None
    return table.to_pylist(), table.column_names


def read_rows(path: Path) -> tuple[str, list[LoadedRow], list[str]]:
    """Format, rows and (for tables) the column names of ``path``; raises ``InputError`` when the file
    cannot be read as a dataset."""
    fmt = detect_format(path)
    if fmt == "jsonl":
        return fmt, _read_jsonl(path), []
    records, columns = _read_table(path, fmt)
    if "text" not in columns:
        raise InputError(f"{path}: a 'text' column is required (found {', '.join(columns) or 'none'})")
    loaded = [
        LoadedRow(
            HealRow(
                id=str(r.get("id") if r.get("id") not in (None, "") else k),
                text=_text_of(r.get("text")),
                label=_label_of(r.get("label")),
            ),
            r,
        )
        for k, r in enumerate(records)
    ]
    return fmt, loaded, columns


def _rewrite_comment(comment: dict[str, Any], spans: list[_Span], new_text: str, old_text: str) -> None:
    """Write anonymized text back into the message parts it came from (offsets shift per part)."""
    # Redaction replaces spans inside parts; parts are separated by PART_SEP, which redaction never
    # touches, so splitting the new text on the same separators recovers each part.
    if len(spans) == 1:
        pieces = [new_text]
    else:
        pieces = new_text.split(PART_SEP)
        if len(pieces) != len(spans):
            pieces = _split_like(old_text, new_text, spans)
    for span, piece in zip(spans, pieces, strict=False):
        msg = comment["messages"][span.message]
        if isinstance(msg.get(span.part), dict):
            msg[span.part]["text"] = piece
        else:
            msg[span.part] = piece


def _split_like(old_text: str, new_text: str, spans: list[_Span]) -> list[str]:
    # A part that itself contains the separator: fall back to putting everything in the first part.
    return [new_text] + [""] * (len(spans) - 1)


def _healed_record(lr: LoadedRow, d: RowDecision, fmt: str) -> Any:
    rec = json.loads(json.dumps(lr.raw, default=str)) if fmt == "jsonl" else dict(lr.raw)
    new_label = d.labels_after[0] if d.labels_after else None
    if fmt == "jsonl" and lr.spans:
        comment = rec["comment"] if "comment" in rec and isinstance(rec["comment"], dict) else rec
        if d.new_text is not None:
            _rewrite_comment(comment, lr.spans, d.new_text, lr.row.text)
        if new_label is not None:
            if "labels" in rec and isinstance(rec["labels"], list):
                rec["labels"] = [{"name": new_label.split(" > ")}]
            else:
                rec["label"] = new_label
        return rec
    if d.new_text is not None:
        rec["text"] = d.new_text
    if new_label is not None:
        rec["label"] = new_label
    return rec


def write_healed(
    path: Path, fmt: str, loaded: list[LoadedRow], result: HealResult, columns: list[str]
) -> int:
    """Write the healed dataset (removed rows dropped) in ``fmt``; returns the number of rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    records = [
        _healed_record(lr, d, fmt) for lr, d in zip(loaded, result.decisions, strict=True) if not d.removed
    ]
    if fmt == "jsonl":
        write_jsonl(path, records)
    elif fmt == "csv":
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=columns, delimiter=_delimiter(path))
            w.writeheader()
            w.writerows(records)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(records) if records else pa.table({c: [] for c in columns}), path)
    return len(records)


def write_jsonl(path: Path, lines: Any) -> None:
    """Write dicts as JSON Lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(_json_line(line))


def _json_line(obj: Any) -> str:
    """``obj`` as one JSON line, readable UTF-8; a value holding a lone surrogate (an input's
    ``"\\ud800"``, kept as read) is written ASCII-escaped, as it came."""
    line = json.dumps(obj, ensure_ascii=False)
    if _SURROGATE.search(line):
        line = json.dumps(obj)
    return line + "\n"


def heal_file(
    input_path: Path | str,
    *,
    out: Path | str | None,
    manifest: Path | str | None = None,
    scores: Path | str | None = None,
    report: Path | str | None = None,
    options: HealOptions | None = None,
    cache_dir: Path | str | None = None,
    progress: Callable[[str, float, str], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    embedder: Any = None,
) -> HealResult:
    """Heal ``input_path`` and write the healed file, manifest.jsonl, scores.jsonl and the HTML report.

    ``cache_dir`` holds the embedding and per-text caches, so a re-run only computes what changed;
    ``embedder`` replaces the default sentence-transformers model (tests use a fake one).
    """
    src = Path(input_path)
    fmt, loaded, columns = read_rows(src)
    cache = None
    cdir = Path(cache_dir) if cache_dir is not None else None
    if cdir is not None:
        from sanitas.embeddings import EmbeddingCache

        cache = EmbeddingCache(cdir / "embeddings.sqlite")
    result = run_heal(
        [lr.row for lr in loaded],
        options or HealOptions(),
        cache=cache,
        progress=progress,
        should_cancel=should_cancel,
        cache_dir=cdir,
        embedder=embedder,
    )
    result.manifest["input"] = {"path": str(src), "format": fmt}
    if out is not None:
        result.manifest["rows_written"] = write_healed(Path(out), fmt, loaded, result, columns)
    if manifest is not None:
        write_jsonl(Path(manifest), manifest_lines(result))
    if scores is not None:
        write_jsonl(Path(scores), score_lines(result))
    if report is not None:
        from sanitas.heal.report import write_report

        write_report(Path(report), result)
    return result
