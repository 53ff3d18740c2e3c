"""Streams (a named cursor per dataset) and the exceptions tagged through them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sanitas.db import Base, JsonType


class Stream(Base):
    """A cursor: ``position`` is the last consumed upload sequence number of the dataset.

    ``epoch`` is bumped by every reset so that tokens issued before it can no longer move the cursor.
    """

    __tablename__ = "streams"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    title: Mapped[str] = mapped_column(String(128), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    model_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    label_thresholds: Mapped[list[Any] | None] = mapped_column(JsonType, nullable=True)
    comment_filter: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StreamException(Base):
    """A comment tagged as an exception by a stream's consumer (for a model trainer to review)."""

    __tablename__ = "stream_exceptions"
    stream_id: Mapped[str] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    uid: Mapped[str] = mapped_column(String(1041), primary_key=True)
    type: Mapped[str] = mapped_column(String(1024))
    meta: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
