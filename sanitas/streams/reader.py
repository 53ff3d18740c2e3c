"""Reading a stream: the next batch after the cursor, filtered, with cached predictions.

Reading never moves the cursor. The batch ``sequence_id`` is the position of the last comment the batch
looked at (matching or filtered), so advancing to it skips exactly what was returned.

This is the hot path of the streams API (a batch is up to 1,024 comments), so results are assembled as
JSON text: a comment's stored body and its cached predictions are spliced into the response without
being decoded and re-encoded, unless a filter, a branch rewrite or label thresholds need their values.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy.orm import Session

from sanitas.datasets.branches import get_branch
from sanitas.datasets.service import get_dataset
from sanitas.datasets.tables import Dataset, DatasetComment
from sanitas.db import Database
from sanitas.errors import NotFound
from sanitas.models import service as models
from sanitas.models.branch_view import branch_overlay
from sanitas.models.tables import ModelVersion
from sanitas.sources.tables import Comment
from sanitas.sources.text import comment_text
from sanitas.streams import readahead
from sanitas.streams.filters import compile_filter
from sanitas.streams.service import get_stream
from sanitas.streams.tables import Stream
from sanitas.streams.tokens import TokenEncoder
from sanitas.timeutil import iso

_COLUMNS = (
    DatasetComment.seq,
    Comment.pk,
    Comment.source_id,
    Comment.id,
    Comment.timestamp,
    Comment.text,
    Comment.content_hash,
    Comment.created_at,
    Comment.last_modified,
    cast(Comment.body, Text).label("raw"),
    DatasetComment.labels,
)
# Fields a stored body may lack, with the value a rendered comment shows instead.
_DEFAULTS = (
    ('"thread_id":', "null"),
    ('"user_properties":', "{}"),
    ('"attachments":', "[]"),
    ('"text_format":', '"plain"'),
)
_POLL_SECONDS = 0.1


@dataclass
class Kept:
    """A matching comment: its row, body JSON, (when a branch rewrote it) its new text, and its labels."""

    row: Any
    raw: str
    text: str
    rewritten: bool = False
    labels: Any = None


@dataclass
class Batch:
    """One read of a stream; ``results`` are JSON texts of the result objects."""

    results: list[str] = field(default_factory=list)
    filtered: int = 0
    sequence_id: str = ""
    is_end_sequence: bool = True
    scanned: int = 0

    def to_json(self, *, results_shape: bool = False) -> bytes:
        """The response body of ``fetch`` (or ``results``)."""
        head = (
            f'{{"status":"ok","filtered":{self.filtered},'
            f'"is_end_sequence":{"true" if self.is_end_sequence else "false"},'
            f'"sequence_id":"{self.sequence_id}",'
        )
        if results_shape:
            head += f'"continuation":"{self.sequence_id}","num_filtered":{self.filtered},'
        return (head + '"results":[' + ",".join(self.results) + "]}").encode()


def comment_json(
    row: Any, raw: str, times: dict[Any, str | None] | None = None, *, annotated: bool = False
) -> str:
    """The Re:infer comment object as JSON, built around the stored body text.

    ``times`` memoises rendered timestamps: comments of one upload share them. ``annotated`` is
    ``has_annotations``: the comment has labels assigned in this dataset (on its active branch).
    """
    times = {} if times is None else times
    created = times.get(row.created_at) or times.setdefault(row.created_at, iso(row.created_at))
    modified = times.get(row.last_modified) or times.setdefault(row.last_modified, iso(row.last_modified))
    cid = row.id
    # Ids may hold '"' or '\\' (ASCII punctuation is allowed): only those need a JSON encoder.
    if '"' in cid or "\\" in cid:
        cid = orjson.dumps(cid).decode()[1:-1]
    parts = [
        f'{{"id":"{cid}","uid":"{row.source_id}.{cid}","source_id":"{row.source_id}",'
        f'"created_at":"{created}","last_modified":"{modified}","context":"1",'
        f'"has_annotations":{"true" if annotated else "false"}',
    ]
    for key, default in _DEFAULTS:
        # Keys are only ever top-level in a stored body, and a quote inside a string is escaped.
        if key not in raw:
            parts.append(f",{key}{default}")
    body = raw.strip()
    if body != "{}":
        parts.append(",")
        parts.append(body[1:])
    else:
        parts.append("}")
    return "".join(parts)


_ROWS = (
    select(*_COLUMNS)
    .join(Comment, Comment.pk == DatasetComment.comment_pk)
    .where(DatasetComment.dataset_id == bindparam("dataset_id"), DatasetComment.seq > bindparam("after"))
    .order_by(DatasetComment.seq)
    .limit(bindparam("limit"))
)


def _rows(session: Session, dataset_id: str, after: int, limit: int) -> list[Any]:
    params = {"dataset_id": dataset_id, "after": after, "limit": limit}
    return list(session.connection().execute(_ROWS, params).all())


def _scan(
    session: Session,
    dataset: Dataset,
    position: int,
    comment_filter: Any,
    size: int,
    max_filtered: int | None,
) -> tuple[list[Kept], int, int, bool]:
    """Matching comments after ``position``, filtered count, last scanned seq and whether more exist."""
    match = compile_filter(comment_filter)
    allowance = max_filtered if (match is not None and max_filtered) else 0
    kept: list[Kept] = []
    filtered = consumed = 0
    last = position
    branch = get_branch(session=session, dataset=dataset)
    while True:
        limit = max(size - consumed + max(0, allowance - filtered), 1) + 1
        rows = _rows(session, dataset.id, last, limit)
        overlay = branch_overlay(session, dataset, [r.pk for r in rows], branch)
        for i, row in enumerate(rows):
            last = row.seq
            item = Kept(row, row.raw, row.text, labels=row.labels)
            change = overlay.get(row.pk)
            if change is not None:
                if change["excluded"]:
                    continue  # not on the active branch: invisible, costs nothing
                if change["messages"] is not None:
                    body = orjson.loads(row.raw)
                    body["messages"] = change["messages"]
                    item = Kept(row, orjson.dumps(body).decode(), comment_text(change["messages"]), True)
                if change["labels"] is not None:
                    item.labels = change["labels"]
            if match is None:
                ok = True
            else:
                props = orjson.loads(item.raw).get("user_properties") or {}
                ok = match(row.source_id, row.timestamp, props)
            if ok:
                kept.append(item)
                consumed += 1
            else:
                filtered += 1
                if filtered > allowance:
                    consumed += 1
            if consumed >= size:
                if i + 1 < len(rows):
                    return kept, filtered, last, True
                break
        if consumed < size and len(rows) < limit:
            return kept, filtered, last, False
        if consumed >= size:
            more = session.scalar(
                select(DatasetComment.seq)
                .where(DatasetComment.dataset_id == dataset.id, DatasetComment.seq > last)
                .limit(1)
            )
            return kept, filtered, last, more is not None


def _extraction(label: dict[str, Any], thresholds: dict[tuple[str, ...], float] | None) -> dict[str, Any]:
    return {
        "name": " > ".join(label["name"]),
        "occurrence_confidence": {
            "value": label["probability"],
            "thresholds": ["stream"] if thresholds is not None else [],
        },
        "fields": [],
    }


def _items(kept: list[Kept]) -> list[models.Item]:
    items = []
    for k in kept:
        if k.rewritten:
            messages = orjson.loads(k.raw)["messages"]
            items.append(models.Item(models.content_hash(messages), k.text, messages=messages))
        else:
            items.append(models.Item(k.row.content_hash, k.text, raw_body=k.raw))
    return items


def _read_ahead(
    db: Database,
    dataset_id: str,
    stream: Stream,
    version: ModelVersion,
    position: int,
    size: int,
    max_filtered: int | None,
) -> None:
    """Predict, in the background, what a consumer reads after advancing past ``position``.

    The window is at least ``readahead.MIN_WINDOW`` comments, whatever the fetch size: embedding runs
    much faster over a thousand texts than over a few dozen. A window is computed only when at least
    half of it is missing, so a consumer of small batches makes a big pass every half window instead of
    a small pass per fetch.
    """
    pinned = models.PinnedVersion(version.dataset_id, version.version, version.path)
    comment_filter = stream.comment_filter
    window = max(size, readahead.MIN_WINDOW)

    def work() -> int:
        with db.read() as session:
            dataset = session.get(Dataset, dataset_id)
            if dataset is None:
                return 0
            kept = _scan(session, dataset, position, comment_filter, window, max_filtered)[0]
            if not kept:
                return 0
            items = _items(kept)
            return models.precompute(
                db=db, session=session, version=pinned, items=items, min_misses=(len(items) + 1) // 2
            )

    readahead.schedule((stream.id, stream.epoch, position, size), stream.id, work)


def _read_once(
    *,
    db: Database,
    secret: bytes,
    project: str,
    dataset_name: str,
    stream_name: str,
    size: int,
    max_filtered: int | None,
    results_shape: bool,
) -> Batch:
    with db.read() as session:
        dataset = get_dataset(session=session, project=project, name=dataset_name)
        stream = get_stream(session=session, dataset=dataset, name=stream_name)
        kept, filtered, last, more = _scan(
            session, dataset, stream.position, stream.comment_filter, size, max_filtered
        )
        token = TokenEncoder(secret, stream.id, stream.epoch)
        preds: dict[str, tuple[str, str]] = {}
        hashes: list[str] = []
        thresholds = None
        if stream.model_version is not None and kept:
            version = session.get(ModelVersion, (dataset.id, stream.model_version))
            if version is None:
                raise NotFound(
                    f"model version {stream.model_version} of stream {stream.name!r} no longer exists",
                    code="MODEL_NOT_FOUND",
                )
            items = _items(kept)
            hashes = [i.content_hash for i in items]
            preds, computed = models.predictions_and_misses(
                db=db, session=session, version=version, items=items
            )
            if more and readahead.wanted(stream.id, computed):
                _read_ahead(db, dataset.id, stream, version, last, size, max_filtered)
            if stream.label_thresholds is not None:
                thresholds = {tuple(lt["name"]): float(lt["threshold"]) for lt in stream.label_thresholds}
        results = []
        times: dict[Any, str | None] = {}
        for n, k in enumerate(kept):
            tok = token(k.row.seq)
            labels_json, entities_json = preds[hashes[n]] if hashes else ("[]", "[]")
            labels: list[dict[str, Any]] | None = None
            if thresholds is not None or results_shape:
                labels = models.render_labels(orjson.loads(labels_json), thresholds)
                labels_json = orjson.dumps(labels).decode()
            extra = ""
            if results_shape:
                prediction = {"extractions": [_extraction(lb, thresholds) for lb in labels or []]}
                extra = f',"continuation":"{tok}","prediction":{orjson.dumps(prediction).decode()}'
            comment = comment_json(k.row, k.raw, times, annotated=bool(k.labels))
            results.append(
                f'{{"comment":{comment},"sequence_id":"{tok}","labels":{labels_json},'
                f'"entities":{entities_json},"label_properties":[]{extra}}}'
            )
        return Batch(
            results=results,
            filtered=filtered,
            sequence_id=token(last),
            is_end_sequence=not more,
            scanned=last - stream.position,
        )


def read_batch(
    *,
    db: Database,
    secret: bytes,
    project: str,
    dataset_name: str,
    stream_name: str,
    size: int,
    max_filtered: int | None = None,
    wait_seconds: float = 0.0,
    results_shape: bool = False,
) -> Batch:
    """The next batch after the stream's position; with ``wait_seconds``, wait for one to arrive."""
    deadline = time.monotonic() + wait_seconds
    while True:
        batch = _read_once(
            db=db,
            secret=secret,
            project=project,
            dataset_name=dataset_name,
            stream_name=stream_name,
            size=size,
            max_filtered=max_filtered,
            results_shape=results_shape,
        )
        if batch.scanned > 0 or time.monotonic() >= deadline:
            return batch
        time.sleep(min(_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
