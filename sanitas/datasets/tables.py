"""Datasets, their comments (with a per-dataset upload sequence), labels and copy-on-write branches."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, event, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column, object_session

from sanitas.db import Base, JsonType


class Dataset(Base):
    """A project-scoped collection over sources, with a label taxonomy and an active branch."""

    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("project", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project: Mapped[str] = mapped_column(ForeignKey("projects.name", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    title: Mapped[str] = mapped_column(String(1024), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    label_defs: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    # Next free upload sequence number; bumped with a row lock inside each upload transaction.
    next_seq: Mapped[int] = mapped_column(BigInteger, default=1)
    active_branch_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # How the imported file was shaped (files.Layout), so a healed dataset goes back out the same way.
    file_layout: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DatasetSource(Base):
    """Which sources feed a dataset."""

    __tablename__ = "dataset_sources"
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)


class DatasetComment(Base):
    """A comment's membership in a dataset: its upload sequence number and assigned labels (on main)."""

    __tablename__ = "dataset_comments"
    __table_args__ = (UniqueConstraint("dataset_id", "seq"),)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    comment_pk: Mapped[int] = mapped_column(ForeignKey("comments.pk", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    labels: Mapped[list[Any] | None] = mapped_column(JsonType, nullable=True)


Index("ix_dataset_comments_created", DatasetComment.dataset_id, DatasetComment.created_at)
Index("ix_dataset_comments_comment", DatasetComment.comment_pk)


class Branch(Base):
    """A version of a dataset; non-main branches store only their changes over their parent."""

    __tablename__ = "branches"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    parent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    is_main: Mapped[bool] = mapped_column(default=False)
    origin: Mapped[str] = mapped_column(String(32), default="upload")
    created_from_job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BranchChange(Base):
    """One comment's change on a branch: excluded, rewritten messages, or new labels."""

    __tablename__ = "branch_changes"
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    comment_pk: Mapped[int] = mapped_column(ForeignKey("comments.pk", ondelete="CASCADE"), primary_key=True)
    excluded: Mapped[bool] = mapped_column(default=False)
    messages: Mapped[list[Any] | None] = mapped_column(JsonType, nullable=True)
    labels: Mapped[list[Any] | None] = mapped_column(JsonType, nullable=True)


@event.listens_for(Dataset, "before_delete")
def _forget_derived(_mapper: Mapper[Dataset], conn: Connection, target: Dataset) -> None:
    """Whatever was derived from a dataset leaves with it, however the dataset is deleted.

    Its jobs (heal manifests with entity spans, scores, reports, exports, models) are marked deleted in
    the same transaction (a running one is asked to stop), and their files are removed once it commits.
    The jobs table is reached through the shared table registry, so datasets do not import jobs.
    """
    jobs = Base.metadata.tables["jobs"]
    ids = list(conn.scalars(select(jobs.c.id).where(jobs.c.dataset_id == target.id)))
    if not ids:
        return
    conn.execute(
        jobs.update().where(jobs.c.dataset_id == target.id).values(deleted=True, cancel_requested=True)
    )
    session = object_session(target)
    files_dir = session.info.get("files_dir") if session is not None else None
    if session is None or files_dir is None:
        return

    def remove() -> None:
        for job_id in ids:
            shutil.rmtree(Path(files_dir) / "jobs" / job_id, ignore_errors=True)

    session.info.setdefault("after_commit", []).append(remove)
