"""Streams: create, update, read, delete, advance, reset, lag and exceptions.

A stream's position is the last consumed per-dataset upload sequence number (``dataset_comments.seq``,
assigned inside the upload transaction, so seq order is commit order). Reading lives in
:mod:`sanitas.streams.reader`; reads never move the cursor, only :func:`advance` and :func:`reset` do.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from sanitas.datasets.service import resolve_uids, taxonomy
from sanitas.datasets.tables import Dataset, DatasetComment
from sanitas.errors import Conflict, InvalidInput, NotFound
from sanitas.models.branch_view import excluded_pks
from sanitas.models.service import require_pinned
from sanitas.streams import tokens
from sanitas.streams.schemas import ExceptionItem, StreamFields, StreamModel, StreamUpdateFields
from sanitas.streams.tables import Stream, StreamException
from sanitas.timeutil import as_utc, iso, utcnow


def get_stream(*, session: Session, dataset: Dataset, name: str, for_update: bool = False) -> Stream:
    """A stream of the dataset by name; NotFound otherwise."""
    stmt = select(Stream).where(Stream.dataset_id == dataset.id, Stream.name == name)
    if for_update and session.bind is not None and session.bind.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    if row is None:
        raise NotFound(f"stream {name!r} not found in dataset {dataset.name!r}", code="STREAM_NOT_FOUND")
    return row


def list_streams(*, session: Session, dataset: Dataset) -> list[Stream]:
    """Streams of a dataset by name."""
    return list(session.scalars(select(Stream).where(Stream.dataset_id == dataset.id).order_by(Stream.name)))


def _check_model(*, session: Session, dataset: Dataset, model: StreamModel | None) -> None:
    if model is None:
        return
    require_pinned(session=session, dataset=dataset, version=model.version)
    known = set(taxonomy(dataset))
    for i, lt in enumerate(model.label_thresholds or []):
        if tuple(lt.name) not in known:
            raise InvalidInput(
                f"model.label_thresholds[{i}].name: label {' > '.join(lt.name)!r} is not in the taxonomy "
                f"of dataset {dataset.name!r}",
                field=f"model.label_thresholds[{i}].name",
            )


def _thresholds(model: StreamModel | None) -> list[Any] | None:
    if model is None or model.label_thresholds is None:
        return None
    return [{"name": lt.name, "threshold": lt.threshold} for lt in model.label_thresholds]


def _filter(fields: StreamFields | StreamUpdateFields) -> dict[str, Any] | None:
    if fields.comment_filter is None:
        return None
    return fields.comment_filter.model_dump(mode="json", exclude_none=True)


def start_position(*, session: Session, dataset: Dataset, start_at: str | datetime | None) -> int:
    """The position a new stream starts at: its creation (``latest``), the beginning, or an upload time."""
    if start_at == "earliest":
        return 0
    if isinstance(start_at, datetime):
        return position_at(session=session, dataset=dataset, when=start_at)
    return int(dataset.next_seq) - 1


def position_at(*, session: Session, dataset: Dataset, when: datetime) -> int:
    """The position just before the first comment uploaded at or after ``when``.

    Two probes of the ``(dataset_id, created_at)`` index: the first upload time at or after ``when``,
    then the smallest sequence number among the comments of that upload (they share the time). The
    cost is O(log n) plus the size of one upload batch, whatever the dataset size.
    """
    in_dataset = DatasetComment.dataset_id == dataset.id
    first = session.scalar(
        select(DatasetComment.created_at)
        .where(in_dataset, DatasetComment.created_at >= as_utc(when))
        .order_by(DatasetComment.created_at)
        .limit(1)
    )
    if first is None:
        return int(dataset.next_seq) - 1
    # ``seq + 0`` keeps the planner off the (dataset_id, seq) index, whose min() shortcut would walk the
    # dataset from its first comment until it met this upload: O(n) instead of one upload batch.
    seq = session.scalar(
        select(func.min(DatasetComment.seq + 0)).where(in_dataset, DatasetComment.created_at == first)
    )
    return int(seq or 1) - 1


def put_stream(*, session: Session, dataset: Dataset, fields: StreamFields) -> tuple[Stream, bool]:
    """Create a stream, or replace the settings of the one with that name (its position stays)."""
    _check_model(session=session, dataset=dataset, model=fields.model)
    now = utcnow()
    row = session.scalar(select(Stream).where(Stream.dataset_id == dataset.id, Stream.name == fields.name))
    created = row is None
    if row is None:
        row = Stream(
            id=secrets.token_hex(8),
            dataset_id=dataset.id,
            name=fields.name,
            position=start_position(session=session, dataset=dataset, start_at=fields.start_at),
            epoch=0,
            created_at=now,
        )
        session.add(row)
    row.title = fields.title
    row.description = fields.description
    row.model_version = fields.model.version if fields.model else None
    row.label_thresholds = _thresholds(fields.model)
    row.comment_filter = _filter(fields)
    row.updated_at = now
    session.flush()
    return row, created


def update_stream(*, session: Session, dataset: Dataset, name: str, fields: StreamUpdateFields) -> Stream:
    """Change the given settings of an existing stream (``POST …/streams/{name}``)."""
    row = get_stream(session=session, dataset=dataset, name=name)
    _check_model(session=session, dataset=dataset, model=fields.model)
    if fields.name is not None and fields.name != row.name:
        if session.scalar(
            select(Stream.id).where(Stream.dataset_id == dataset.id, Stream.name == fields.name)
        ):
            raise Conflict(f"stream {fields.name!r} already exists in dataset {dataset.name!r}")
        row.name = fields.name
    if fields.title is not None:
        row.title = fields.title
    if fields.description is not None:
        row.description = fields.description
    if "model" in fields.model_fields_set:
        row.model_version = fields.model.version if fields.model else None
        row.label_thresholds = _thresholds(fields.model)
    if "comment_filter" in fields.model_fields_set:
        row.comment_filter = _filter(fields)
    row.updated_at = utcnow()
    session.flush()
    return row


def delete_stream(*, session: Session, stream: Stream) -> None:
    """Delete a stream and its exceptions."""
    session.execute(delete(StreamException).where(StreamException.stream_id == stream.id))
    session.delete(stream)


def advance(*, session: Session, secret: bytes, stream: Stream, token: str) -> str:
    """Move the cursor to ``token``'s position: never backwards, and a repeat is a no-op.

    Returns the token of where the cursor now is: ``token`` itself, or, when the stream was already
    past it (an older token, or another consumer advanced further), the stream's actual position.
    """
    pos = tokens.decode(secret, token, stream_id=stream.id, epoch=stream.epoch)
    # The epoch in the WHERE clause makes a reset that commits first win over a racing advance.
    res = session.execute(
        update(Stream)
        .where(Stream.id == stream.id, Stream.epoch == pos.epoch, Stream.position < pos.seq)
        .values(position=pos.seq)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount:  # type: ignore[attr-defined]
        return token
    epoch, position = session.execute(
        select(Stream.epoch, Stream.position).where(Stream.id == stream.id)
    ).one()
    if epoch != pos.epoch:
        raise Conflict("the stream was reset while advancing; fetch again to get a current sequence_id")
    if position == pos.seq:
        return token
    return tokens.encode(secret, tokens.Position(stream.id, epoch, position))


def reset(*, session: Session, secret: bytes, stream: Stream, dataset: Dataset, when: datetime) -> str:
    """Move the cursor to upload time ``when`` (either way) and start a new epoch; returns its token."""
    stream.position = position_at(session=session, dataset=dataset, when=when)
    stream.epoch += 1
    stream.updated_at = utcnow()
    session.flush()
    return tokens.encode(secret, tokens.Position(stream.id, stream.epoch, stream.position))


def lag(*, session: Session, stream: Stream, dataset: Dataset) -> dict[str, Any]:
    """How far behind the stream is: comments after its position, and the oldest one's age.

    Counted on the dataset's active branch, as a fetch reads it: comments the branch excludes are
    not waiting for anyone.
    """
    after = [DatasetComment.dataset_id == stream.dataset_id, DatasetComment.seq > stream.position]
    hidden = excluded_pks(session=session, dataset=dataset)
    if hidden is not None:
        after.append(DatasetComment.comment_pk.not_in(hidden))
    backlog = int(session.scalar(select(func.count()).select_from(DatasetComment).where(*after)) or 0)
    oldest = session.scalar(
        select(DatasetComment.created_at).where(*after).order_by(DatasetComment.seq).limit(1)
    )
    age = (utcnow() - as_utc(oldest)).total_seconds() if oldest is not None else None
    return {"backlog": backlog, "oldest_unprocessed_age_seconds": age, "oldest_unprocessed_at": iso(oldest)}


def render_stream(stream: Stream, *, secret: bytes | None = None) -> dict[str, Any]:
    """The Re:infer stream object (with our ``comment_filter`` and, given the secret, ``sequence_id``)."""
    model: dict[str, Any] | None = None
    if stream.model_version is not None:
        model = {"version": stream.model_version}
        if stream.label_thresholds is not None:
            model["label_thresholds"] = stream.label_thresholds
    out: dict[str, Any] = {
        "id": stream.id,
        "dataset_id": stream.dataset_id,
        "name": stream.name,
        "title": stream.title,
        "description": stream.description,
        "context": "0",
        "model": model,
        "comment_filter": stream.comment_filter or {},
        "created_at": iso(stream.created_at),
        "updated_at": iso(stream.updated_at),
    }
    if secret is not None:
        out["sequence_id"] = tokens.encode(secret, tokens.Position(stream.id, stream.epoch, stream.position))
    return out


def tag_exceptions(
    *, session: Session, dataset: Dataset, stream: Stream, items: Sequence[ExceptionItem]
) -> int:
    """Tag comments (by uid, all in the dataset) as exceptions; tagging again replaces the metadata."""
    uids = list(dict.fromkeys(i.uid for i in items))
    resolve_uids(session=session, dataset=dataset, uids=uids)
    last = {i.uid: i for i in items}
    session.execute(
        delete(StreamException).where(StreamException.stream_id == stream.id, StreamException.uid.in_(uids))
    )
    now = utcnow()
    rows = [
        {
            "stream_id": stream.id,
            "uid": uid,
            "type": last[uid].metadata.type,
            "meta": last[uid].metadata.model_dump(),
            "created_at": now,
        }
        for uid in uids
    ]
    session.execute(insert(StreamException), rows)
    return len(rows)


def untag_exceptions(*, session: Session, stream: Stream, uids: Sequence[str]) -> int:
    """Remove exception tags; unknown uids are ignored."""
    res = session.execute(
        delete(StreamException).where(
            StreamException.stream_id == stream.id, StreamException.uid.in_(list(uids))
        )
    )
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


def list_exceptions(*, session: Session, stream: Stream) -> list[dict[str, Any]]:
    """The stream's tagged exceptions, oldest first."""
    stmt = select(StreamException).where(StreamException.stream_id == stream.id)
    rows = session.scalars(stmt.order_by(StreamException.created_at, StreamException.uid))
    return [{"uid": r.uid, "metadata": r.meta, "created_at": iso(r.created_at)} for r in rows]
