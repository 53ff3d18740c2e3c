"""The datasets a source feeds: new comments take the next upload sequence numbers of each of them.

Sources sit below datasets (a dataset reads comments), so this module reaches the dataset tables through
``db.py``'s table registry instead of importing :mod:`sanitas.datasets`: no import cycle between the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from sanitas.db import Base, import_all_tables


def _table(name: str) -> Table:
    tables = Base.metadata.tables
    if name not in tables:
        import_all_tables()  # a process that never imported the datasets domain (a script, a worker)
    return tables[name]


def reserve(*, session: Session, dataset_id: str, n: int) -> int:
    """Reserve ``n`` sequence numbers; the row lock lasts until commit, so seq order is commit order."""
    datasets = _table("datasets")
    end = session.execute(
        update(datasets)
        .where(datasets.c.id == dataset_id)
        .values(next_seq=datasets.c.next_seq + n)
        .returning(datasets.c.next_seq)
    ).scalar_one()
    return int(end) - n


def append(*, session: Session, dataset_id: str, comment_pks: Sequence[int], created_at: datetime) -> None:
    """Add comments to a dataset at the end of its upload sequence, in the order given."""
    start = reserve(session=session, dataset_id=dataset_id, n=len(comment_pks))
    rows = [
        {"dataset_id": dataset_id, "comment_pk": pk, "seq": start + i, "created_at": created_at}
        for i, pk in enumerate(comment_pks)
    ]
    # A Core executemany on the table: the ORM bulk path adds per-row bookkeeping we do not need here.
    session.connection().execute(insert(_table("dataset_comments")), rows)


def append_to_datasets(
    *, session: Session, source_id: str, comment_pks: Sequence[int], created_at: datetime
) -> None:
    """Give new comments of a source their sequence numbers in every dataset it feeds."""
    feeds = _table("dataset_sources")
    dataset_ids = list(session.scalars(select(feeds.c.dataset_id).where(feeds.c.source_id == source_id)))
    for dataset_id in sorted(dataset_ids):  # a fixed lock order avoids deadlocks between uploads
        append(session=session, dataset_id=dataset_id, comment_pks=comment_pks, created_at=created_at)


def annotated(*, session: Session, comment_pks: Sequence[int]) -> set[int]:
    """The comments that have labels assigned in some dataset they belong to (``has_annotations``)."""
    members = _table("dataset_comments")
    out: set[int] = set()
    for k in range(0, len(comment_pks), 900):
        stmt = select(members.c.comment_pk, members.c.labels).where(
            members.c.comment_pk.in_(list(comment_pks[k : k + 900]))
        )
        out.update(pk for pk, labels in session.execute(stmt) if labels)
    return out
