"""Model versions: enqueue training, list, pin, and cached deterministic predictions.

Predictions are keyed by (dataset, version, hash of the comment's messages) and written once: the
first computed value is stored and every later read returns the stored bytes, so a re-fetch is
identical even if a recomputation would differ in the last bit.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy import Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sanitas.config import current
from sanitas.datasets.branches import get_branch
from sanitas.datasets.service import resolve_uids, taxonomy
from sanitas.datasets.tables import Dataset
from sanitas.db import Database
from sanitas.errors import InvalidInput, NotFound
from sanitas.jobs import service as jobs
from sanitas.jobs.tables import Job
from sanitas.models.branch_view import branch_overlay
from sanitas.models.inflight import Inflight, run_serially
from sanitas.models.tables import ModelVersion, Prediction
from sanitas.sources.tables import Comment
from sanitas.sources.text import comment_text, locate
from sanitas.timeutil import iso

KIND = "train_model"
_CHUNK = 900
_MODELS: dict[str, Any] = {}
_LOCK = threading.Lock()
_ENGINE: list[Any] = []
INFLIGHT = Inflight()


@dataclass(frozen=True)
class Item:
    """One comment to predict: its content hash, text and messages (or its raw body JSON to read them).

    The raw body is only decoded on a cache miss, to place entity spans in their messages.
    """

    content_hash: str
    text: str
    messages: list[dict[str, Any]] | None = None
    raw_body: str | None = None

    def get_messages(self) -> list[dict[str, Any]]:
        """The comment's messages."""
        if self.messages is not None:
            return self.messages
        return list(orjson.loads(self.raw_body or "{}").get("messages", []))


def content_hash(messages: list[dict[str, Any]]) -> str:
    """Hash of what a model reads of a comment (its messages), the prediction cache key."""
    return hashlib.sha256(orjson.dumps(messages, option=orjson.OPT_SORT_KEYS)).hexdigest()


def comment_items(*, session: Session, dataset: Dataset, uids: Sequence[str]) -> dict[str, Item]:
    """The dataset's comments by uid as the active branch has them, ready to predict.

    A comment whose messages a branch rewrote is keyed by the hash of the new messages, as the stream
    reader does, so both share cached predictions. NotFound names the first uid not in the dataset.
    """
    pks = resolve_uids(session=session, dataset=dataset, uids=list(uids))
    stmt = select(Comment.pk, Comment.content_hash, Comment.text, Comment.body)
    found = {r.pk: r for r in session.execute(stmt.where(Comment.pk.in_(list(pks.values()))))}
    overlay = branch_overlay(session, dataset, list(pks.values()))
    items: dict[str, Item] = {}
    for uid in uids:
        c = found[pks[uid]]
        rewritten = (overlay.get(c.pk) or {}).get("messages")
        if rewritten is not None:
            items[uid] = Item(content_hash(rewritten), comment_text(rewritten), rewritten)
        else:
            items[uid] = Item(c.content_hash, c.text, c.body.get("messages", []))
    return items


def check_labels(*, dataset: Dataset, labels: Sequence[Any] | None) -> None:
    """Every label asked for (``labels[i].name``) must be in the dataset's taxonomy."""
    known = set(taxonomy(dataset))
    for i, lt in enumerate(labels or []):
        if tuple(lt.name) not in known:
            raise InvalidInput(
                f"labels[{i}].name: {' > '.join(lt.name)!r} is not in the taxonomy", field=f"labels[{i}].name"
            )


def enqueue_training(*, session: Session, dataset: Dataset, seed: int = 0) -> Job:
    """Queue a training job on the dataset's active branch."""
    branch = get_branch(session=session, dataset=dataset)
    return jobs.enqueue(
        session=session,
        kind=KIND,
        project=dataset.project,
        dataset_id=dataset.id,
        payload={"dataset_id": dataset.id, "branch_id": branch.id, "seed": seed},
    )


def list_versions(*, session: Session, dataset: Dataset) -> list[ModelVersion]:
    """Versions of a dataset, oldest first."""
    stmt = select(ModelVersion).where(ModelVersion.dataset_id == dataset.id).order_by(ModelVersion.version)
    return list(session.scalars(stmt))


def get_version(*, session: Session, dataset: Dataset, version: int) -> ModelVersion:
    """One version; NotFound names it."""
    row = session.get(ModelVersion, (dataset.id, version))
    if row is None:
        raise NotFound(
            f"model version {version} not found in dataset {dataset.name!r}", code="MODEL_NOT_FOUND"
        )
    return row


def require_pinned(*, session: Session, dataset: Dataset, version: int) -> ModelVersion:
    """A version a stream may use: it must exist and be pinned."""
    row = session.get(ModelVersion, (dataset.id, version))
    if row is None or not row.pinned:
        state = "does not exist" if row is None else "is not pinned"
        raise InvalidInput(
            f"model.version: model version {version} {state} in dataset {dataset.name!r}; "
            "streams need a pinned version",
            field="model.version",
        )
    return row


def set_pinned(*, session: Session, dataset: Dataset, version: int, pinned: bool) -> ModelVersion:
    """Pin or unpin a version."""
    row = get_version(session=session, dataset=dataset, version=version)
    row.pinned = pinned
    return row


def next_version(*, session: Session, dataset_id: str) -> int:
    """The number the next published version gets (call with the dataset row locked)."""
    top = session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.dataset_id == dataset_id))
    return int(top or 0) + 1


def render_version(row: ModelVersion) -> dict[str, Any]:
    """The model version object."""
    return {
        "version": row.version,
        "pinned": row.pinned,
        "created_at": iso(row.created_at),
        "job_id": row.job_id,
        "branch_id": row.branch_id,
        "trained_on": row.trained_on,
        "labels": row.labels,
        "metrics": row.metrics,
        "thresholds": row.thresholds,
    }


def load_model(path: str) -> Any:
    """The trained model stored at ``path``, loaded once per process."""
    with _LOCK:
        model = _MODELS.get(path)
        if model is None:
            from sanitas.models.classifier import TrainedModel

            model = TrainedModel.load(Path(path))
            _MODELS[path] = model
        return model


def _entity_engine() -> Any | None:
    with _LOCK:
        if not _ENGINE:
            try:
                from sanitas.pii.engine import PiiEngine

                # Patterns and validators only by default: the spaCy pass would halve the rate at which
                # cold predictions stream (it costs about as much as the embedding itself).
                method = current().entity_method
                _ENGINE.append(PiiEngine(method=method))
            except ImportError:
                _ENGINE.append(None)
        return _ENGINE[0]


def find_entities(items: Sequence[Item]) -> list[list[dict[str, Any]]]:
    """Re:infer entities (``name``, ``formatted_value``, ``spans``) from the PII engine, if installed."""
    engine = _entity_engine()
    if engine is None or not items:
        return [[] for _ in items]
    out: list[list[dict[str, Any]]] = []
    for item, ents in zip(items, engine.analyze_batch([i.text for i in items]), strict=True):
        rendered = []
        for e in ents:
            span = locate(item.get_messages(), e.start, e.end)
            rendered.append(
                {
                    "name": e.label,
                    "kind": e.label,
                    "formatted_value": item.text[e.start : e.end],
                    "probability": round(float(e.score), 4),
                    "spans": [
                        {
                            "content_part": span["field"],
                            "message_index": span["message_index"],
                            "char_start": span["char_start"],
                            "char_end": span["char_end"],
                        }
                    ],
                }
            )
        out.append(rendered)
    return out


def _compute(model_path: str, items: Sequence[Item]) -> list[dict[str, Any]]:
    model = load_model(model_path)
    scored = model.predict([i.text for i in items])
    entities = find_entities(items)
    rows = []
    for item, labels, ents in zip(items, scored, entities, strict=True):
        # ``predict`` orders them already: most probable first, ties by label.
        rendered = [{"name": list(n), "probability": p} for n, p in labels]
        rows.append({"content_hash": item.content_hash, "labels": rendered, "entities": ents})
    return rows


# Built once: constructing a statement with 1,024 IN values per call costs more than running it.
_READ = select(Prediction.content_hash, cast(Prediction.labels, Text), cast(Prediction.entities, Text)).where(
    Prediction.dataset_id == bindparam("dataset_id"),
    Prediction.version == bindparam("version"),
    Prediction.content_hash.in_(bindparam("hashes", expanding=True)),
)


def _read(
    session: Session, dataset_id: str, version: int, hashes: Sequence[str]
) -> dict[str, tuple[str, str]]:
    # The stored JSON text is returned as is: callers splice it into responses without re-encoding.
    out: dict[str, tuple[str, str]] = {}
    conn = session.connection()
    for k in range(0, len(hashes), _CHUNK):
        params = {"dataset_id": dataset_id, "version": version, "hashes": list(hashes[k : k + _CHUNK])}
        for h, labels, ents in conn.execute(_READ, params):
            out[h] = (labels, ents)
    return out


class VersionRef(Protocol):
    """What predictions need of a model version (a ``ModelVersion`` row or a detached copy)."""

    @property
    def dataset_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def path(self) -> str: ...


# How long a reader waits for another thread's computation of the same rows before doing it itself.
_WAIT_SECONDS = 300.0


@dataclass(frozen=True)
class PinnedVersion:
    """A model version detached from any session (for background work)."""

    dataset_id: str
    version: int
    path: str


def predictions(
    *, db: Database, session: Session, version: VersionRef, items: Sequence[Item]
) -> dict[str, tuple[str, str]]:
    """``content_hash -> (labels JSON, entities JSON)`` for ``items``: cached rows, computing misses.

    Labels are stored rendered (``[{"name", "probability"}]``, most probable first). Rows another
    thread of this process is computing (a stream's read-ahead) are waited for, not computed twice.
    """
    return predictions_and_misses(db=db, session=session, version=version, items=items)[0]


def predictions_and_misses(
    *, db: Database, session: Session, version: VersionRef, items: Sequence[Item]
) -> tuple[dict[str, tuple[str, str]], int]:
    """:func:`predictions` and how many distinct comments were not stored when asked."""
    hashes = list(dict.fromkeys(i.content_hash for i in items))
    found = _read(session, version.dataset_id, version.version, hashes)
    missing = {i.content_hash: i for i in items if i.content_hash not in found}
    if not missing:
        return found, 0
    ds, ver = version.dataset_id, version.version
    for event in _compute_unclaimed(db, version, missing):
        event.wait(_WAIT_SECONDS)
    # Whoever wrote first wins; read back so every caller returns the stored values.
    with db.read() as rs:
        found.update(_read(rs, ds, ver, list(missing)))
    late = [i for h, i in missing.items() if h not in found]
    if late:  # the other computation failed or is stuck: do it here
        run_serially(lambda: _store(db, version, late))
        with db.read() as rs:
            found.update(_read(rs, ds, ver, [i.content_hash for i in late]))
    return found, len(missing)


_KNOWN = select(Prediction.content_hash).where(
    Prediction.dataset_id == bindparam("dataset_id"),
    Prediction.version == bindparam("version"),
    Prediction.content_hash.in_(bindparam("hashes", expanding=True)),
)


def precompute(
    *, db: Database, session: Session, version: VersionRef, items: Sequence[Item], min_misses: int = 1
) -> int:
    """Store the predictions of ``items`` that nobody has stored or is computing; returns how many
    distinct comments were not stored when asked.

    Background work (a stream's read-ahead) on the prediction thread: it never waits for another
    caller's computation, which may be queued behind it on that very thread, and reads nothing back.
    Fewer than ``min_misses`` misses are left for later: small passes embed slowly.
    """
    hashes = list(dict.fromkeys(i.content_hash for i in items))
    conn = session.connection()
    known: set[str] = set()
    for k in range(0, len(hashes), _CHUNK):
        params = {
            "dataset_id": version.dataset_id,
            "version": version.version,
            "hashes": hashes[k : k + _CHUNK],
        }
        known.update(conn.execute(_KNOWN, params).scalars())
    missing = {i.content_hash: i for i in items if i.content_hash not in known}
    if len(missing) >= max(1, min_misses):
        _compute_unclaimed(db, version, missing)
    return len(missing)


def _compute_unclaimed(db: Database, version: VersionRef, missing: dict[str, Item]) -> list[threading.Event]:
    """Compute and store the comments nobody else is computing; return the others' events."""
    claim = INFLIGHT.claim((version.dataset_id, version.version, h) for h in missing)
    try:
        if claim.mine:
            todo = [missing[h] for _, _, h in claim.mine]
            run_serially(lambda: _store(db, version, todo))
    finally:
        INFLIGHT.release(claim.mine)
    return claim.theirs


def _store(db: Database, version: VersionRef, items: list[Item]) -> None:
    rows = _compute(version.path, items)
    for row in rows:
        row["dataset_id"], row["version"] = version.dataset_id, version.version
    with db.write() as ws:
        ins = sqlite_insert if db.is_sqlite else pg_insert
        for k in range(0, len(rows), 200):
            ws.execute(ins(Prediction).on_conflict_do_nothing(), rows[k : k + 200])


def render_labels(
    labels: list[dict[str, Any]], thresholds: dict[tuple[str, ...], float] | None
) -> list[dict[str, Any]]:
    """Re:infer labels; with thresholds only the listed labels at or above theirs (``>=``)."""
    if thresholds is None:
        return labels
    get = thresholds.get  # a label without a threshold gets 2.0, which no probability reaches
    return [lb for lb in labels if lb["probability"] >= get(tuple(lb["name"]), 2.0)]
