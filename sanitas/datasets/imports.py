"""Import parsed file rows into a dataset in one transaction (through the same sync as the API)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from sanitas.datasets.files import ImportedRow, layout_of, merge_layouts
from sanitas.datasets.service import add_labels, default_source
from sanitas.datasets.tables import Dataset, DatasetComment
from sanitas.sources.service import sync_comments
from sanitas.sources.tables import Comment
from sanitas.timeutil import utcnow

_CHUNK = 900


@dataclass
class ImportResult:
    """What an import did."""

    source_id: str
    rows: int
    new: int
    updated: int
    unchanged: int
    labelled: int


def import_rows(
    *, session: Session, dataset: Dataset, rows: Sequence[ImportedRow], fmt: str | None = None
) -> ImportResult:
    """Upsert rows into the dataset's file source and set the labels the file carries.

    With ``fmt`` (the file's format) the dataset remembers the file's layout for healed downloads.
    """
    source = default_source(session=session, dataset=dataset)
    if fmt is not None:
        dataset.file_layout = merge_layouts(dataset.file_layout, layout_of(rows, fmt)).as_json()
    result = sync_comments(session=session, source=source, comments=[r.comment for r in rows])
    labelled = [r for r in rows if r.labels is not None]
    changed = 0
    if labelled:
        add_labels(dataset=dataset, names=[name for r in labelled for name in r.labels or []])
        ids = [r.comment.id for r in labelled]
        current: dict[str, tuple[int, list[list[str]] | None]] = {}
        for k in range(0, len(ids), _CHUNK):
            stmt = (
                select(Comment.id, Comment.pk, DatasetComment.labels)
                .join(DatasetComment, DatasetComment.comment_pk == Comment.pk)
                .where(
                    DatasetComment.dataset_id == dataset.id,
                    Comment.source_id == source.id,
                    Comment.id.in_(ids[k : k + _CHUNK]),
                )
            )
            for cid, pk, labels in session.execute(stmt):
                current[cid] = (pk, labels)
        params = [
            {"b_pk": current[r.comment.id][0], "b_labels": r.labels}
            for r in labelled
            if current[r.comment.id][1] != r.labels
        ]
        if params:
            upd = (
                update(DatasetComment)
                .where(
                    DatasetComment.dataset_id == dataset.id, DatasetComment.comment_pk == bindparam("b_pk")
                )
                .values(labels=bindparam("b_labels"))
            )
            session.connection().execute(upd, params)
            changed = len(params)
    if result.new or result.updated or changed:
        dataset.updated_at = utcnow()
    return ImportResult(
        source_id=source.id,
        rows=len(rows),
        new=result.new,
        updated=result.updated,
        unchanged=result.unchanged,
        labelled=changed,
    )
