"""Sources and comments: create, read, delete, and the ``sync`` upsert."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from sanitas.auth.service import ensure_project
from sanitas.errors import InvalidInput, NotFound
from sanitas.sources import feeds
from sanitas.sources.schemas import CommentIn, SourceFields
from sanitas.sources.tables import Comment, Source
from sanitas.sources.text import comment_text
from sanitas.timeutil import as_utc, iso, utcnow

_CHUNK = 900
# What a re-sync of an existing id may change (its pk, ids and created_at stay).
_CHANGING = ("thread_id", "timestamp", "body", "content_hash", "text", "last_modified")


@dataclass
class SyncResult:
    """Counts of a sync; ``new_pks`` are the inserted comments in batch order."""

    new: int
    updated: int
    unchanged: int
    new_pks: list[int]


def get_source(*, session: Session, project: str, name: str) -> Source:
    """A source by ``project``/``name`` or ``id:<hex>``; NotFound otherwise."""
    if name.startswith("id:"):
        row = session.get(Source, name[3:])
        if row is None or row.project != project:
            raise NotFound(f"source {name!r} not found", code="SOURCE_NOT_FOUND")
        return row
    row = session.scalar(select(Source).where(Source.project == project, Source.name == name))
    if row is None:
        raise NotFound(f"source '{project}/{name}' not found", code="SOURCE_NOT_FOUND")
    return row


def get_source_by_id(*, session: Session, source_id: str) -> Source:
    """A source by its 16-hex id."""
    row = session.get(Source, source_id)
    if row is None:
        raise NotFound(f"source id:{source_id} not found", code="SOURCE_NOT_FOUND")
    return row


def put_source(*, session: Session, project: str, name: str, fields: SourceFields) -> tuple[Source, bool]:
    """Create or update a source; returns ``(source, created)``."""
    ensure_project(session=session, name=project)
    now = utcnow()
    row = session.scalar(select(Source).where(Source.project == project, Source.name == name))
    created = row is None
    if row is None:
        row = Source(id=secrets.token_hex(8), project=project, name=name, created_at=now)
        session.add(row)
    for key, value in fields.model_dump().items():
        setattr(row, key, value)
    row.updated_at = now
    session.flush()
    return row, created


def list_sources(*, session: Session, projects: Sequence[str] | None) -> list[Source]:
    """Sources of the given projects (``None`` = all)."""
    stmt = select(Source).order_by(Source.project, Source.name)
    if projects is not None:
        stmt = stmt.where(Source.project.in_(list(projects)))
    return list(session.scalars(stmt))


def delete_source(*, session: Session, source: Source) -> None:
    """Delete a source with its comments (and their dataset memberships)."""
    session.execute(delete(Comment).where(Comment.source_id == source.id))
    session.delete(source)


def render_source(source: Source) -> dict[str, Any]:
    """The Re:infer source object."""
    return {
        "id": source.id,
        "owner": source.project,
        "name": source.name,
        "title": source.title,
        "description": source.description,
        "language": source.language,
        "should_translate": source.should_translate,
        "sensitive_properties": source.sensitive_properties,
        "created_at": iso(source.created_at),
        "updated_at": iso(source.updated_at),
    }


def _canonical(comment: CommentIn) -> tuple[dict[str, Any], str]:
    body = comment.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"id"})
    # One instant, one form: a re-sync that spells the same time with another offset is unchanged.
    body["timestamp"] = iso(as_utc(comment.timestamp))
    digest = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return body, digest


def _duplicates(comments: Sequence[CommentIn]) -> dict[str, int]:
    """Index of each id in the batch; an id given twice is a per-item error naming both places."""
    seen: dict[str, int] = {}
    errors: list[dict[str, Any]] = []
    for i, c in enumerate(comments):
        if c.id in seen:
            errors.append(
                {
                    "index": i,
                    "field": f"comments[{i}].id",
                    "message": f"duplicate id {c.id!r} (also at comments[{seen[c.id]}])",
                }
            )
        else:
            seen[c.id] = i
    if errors:
        head = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise InvalidInput(head + more, field="comments", errors=errors)
    return seen


def sync_comments(*, session: Session, source: Source, comments: Sequence[CommentIn]) -> SyncResult:
    """Upsert comments by id; unchanged ones are not written at all.

    New comments are appended to every dataset fed by this source with fresh sequence numbers, reserved
    inside this transaction (see :func:`sanitas.sources.feeds.append_to_datasets`). On PostgreSQL the
    write is one ``INSERT … ON CONFLICT`` in id order, so concurrent syncs of the same ids neither fail
    on a unique violation nor deadlock (each locks its rows in the same order).
    """
    ids = list(_duplicates(comments))
    existing: dict[str, tuple[int, str]] = {}
    for k in range(0, len(ids), _CHUNK):
        stmt = select(Comment.id, Comment.pk, Comment.content_hash).where(
            Comment.source_id == source.id, Comment.id.in_(ids[k : k + _CHUNK])
        )
        for cid, pk, digest in session.execute(stmt):
            existing[cid] = (pk, digest)
    now = utcnow()
    writes: list[dict[str, Any]] = []
    unchanged = 0
    for c in comments:
        body, digest = _canonical(c)
        old = existing.get(c.id)
        if old is not None and old[1] == digest:
            unchanged += 1
            continue
        writes.append(
            {
                "source_id": source.id,
                "id": c.id,
                "thread_id": c.thread_id,
                "timestamp": as_utc(c.timestamp),
                "body": body,
                "content_hash": digest,
                "text": comment_text(body["messages"]),
                "created_at": now,
                "last_modified": now,
            }
        )
    if session.get_bind().dialect.name == "postgresql":
        new_pks, updated, raced = _upsert_postgresql(session, writes)
        unchanged += raced
    else:
        new_pks, updated = _write_single_writer(session, source, writes, existing)
    if new_pks:
        feeds.append_to_datasets(session=session, source_id=source.id, comment_pks=new_pks, created_at=now)
    return SyncResult(new=len(new_pks), updated=updated, unchanged=unchanged, new_pks=new_pks)


def _write_single_writer(
    session: Session, source: Source, writes: list[dict[str, Any]], existing: dict[str, tuple[int, str]]
) -> tuple[list[int], int]:
    """SQLite: the one writer holds the database, so what was read above is still true here."""
    inserts = [w for w in writes if w["id"] not in existing]
    updates = [
        {k: w[k] for k in _CHANGING} | {"pk": existing[w["id"]][0]} for w in writes if w["id"] in existing
    ]
    new_pks: list[int] = []
    if inserts:
        # A plain executemany is one statement; INSERT … RETURNING in parameter order is one statement
        # per row on SQLite. The new pks are then read back by id and put in batch order.
        session.execute(insert(Comment), inserts)
        new_ids = [row["id"] for row in inserts]
        pk_of: dict[str, int] = {}
        for k in range(0, len(new_ids), _CHUNK):
            new_stmt = select(Comment.id, Comment.pk).where(
                Comment.source_id == source.id, Comment.id.in_(new_ids[k : k + _CHUNK])
            )
            pk_of.update({cid: pk for cid, pk in session.execute(new_stmt)})
        new_pks = [pk_of[cid] for cid in new_ids]
    if updates:
        session.execute(update(Comment), updates)
    return new_pks, len(updates)


def _upsert_postgresql(session: Session, writes: list[dict[str, Any]]) -> tuple[list[int], int, int]:
    """PostgreSQL, where other syncs of the same ids may run at once: ``(new pks, updated, unchanged)``.

    Rows are written in id order, so two transactions lock shared rows in the same order and never wait
    on each other in a cycle. Pks are drawn up front in batch order (so a batch keeps its upload order);
    a returned pk equal to the drawn one means inserted, another one means an existing row was updated,
    and a row not returned was already equal (another request wrote the same content first).
    """
    if not writes:
        return [], 0, 0
    drawn = session.execute(
        text(
            "SELECT nextval(pg_get_serial_sequence('comments', 'pk')) FROM generate_series(1, :n) ORDER BY 1"
        ),
        {"n": len(writes)},
    ).scalars()
    for w, pk in zip(writes, drawn, strict=True):
        w["pk"] = int(pk)
    base = pg_insert(Comment)
    upsert = base.on_conflict_do_update(
        index_elements=[Comment.source_id, Comment.id],
        set_={k: base.excluded[k] for k in _CHANGING},
        where=Comment.content_hash != base.excluded.content_hash,
    ).returning(Comment.id, Comment.pk)
    ordered = sorted(writes, key=lambda w: w["id"])
    written: dict[str, int] = {cid: pk for cid, pk in session.connection().execute(upsert, ordered)}
    new_pks = [w["pk"] for w in writes if written.get(w["id"]) == w["pk"]]
    updated = sum(1 for w in writes if w["id"] in written and written[w["id"]] != w["pk"])
    return new_pks, updated, len(writes) - len(written)


def get_comments(*, session: Session, source: Source, ids: Sequence[str]) -> list[Comment]:
    """Comments of a source by id, in the order asked; NotFound names the first missing id."""
    found: dict[str, Comment] = {}
    for k in range(0, len(ids), _CHUNK):
        stmt = select(Comment).where(
            Comment.source_id == source.id, Comment.id.in_(list(ids[k : k + _CHUNK]))
        )
        for row in session.scalars(stmt):
            found[row.id] = row
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(
            f"comment {missing[0]!r} not found in source {source.name!r}", code="COMMENT_NOT_FOUND"
        )
    return [found[i] for i in ids]


def delete_comments(*, session: Session, source: Source, ids: Sequence[str]) -> int:
    """Delete comments by id; unknown ids are ignored. Returns how many were deleted."""
    ids = sorted(ids)  # the lock order of a sync too, so a delete and a sync never deadlock
    total = 0
    for k in range(0, len(ids), _CHUNK):
        if session.get_bind().dialect.name == "postgresql":
            chunk = Comment.id.in_(ids[k : k + _CHUNK])
            lock = select(Comment.pk).where(Comment.source_id == source.id, chunk).order_by(Comment.id)
            session.execute(lock.with_for_update())
        res = session.execute(
            delete(Comment).where(Comment.source_id == source.id, Comment.id.in_(list(ids[k : k + _CHUNK])))
        )
        total += int(res.rowcount or 0)  # type: ignore[attr-defined]
    return total


def annotated(*, session: Session, comments: Sequence[Comment]) -> set[int]:
    """Pks of the comments with labels assigned in a dataset (their ``has_annotations``)."""
    return feeds.annotated(session=session, comment_pks=[c.pk for c in comments])


def render_comment(row: Comment, *, annotated: bool = False) -> dict[str, Any]:
    """The Re:infer comment object; ``annotated`` says whether a dataset has labels on it."""
    body = dict(row.body)
    return {
        "id": row.id,
        "uid": f"{row.source_id}.{row.id}",
        "source_id": row.source_id,
        "thread_id": row.thread_id,
        "timestamp": body.pop("timestamp", iso(row.timestamp)),
        "messages": body.get("messages", []),
        "user_properties": body.get("user_properties", {}),
        "text_format": body.get("text_format", "plain"),
        "attachments": body.get("attachments", []),
        "created_at": iso(row.created_at),
        "last_modified": iso(row.last_modified),
        "context": "1",
        "has_annotations": annotated,
    }
