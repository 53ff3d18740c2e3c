"""Model versions of a dataset and their cached predictions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, ForeignKeyConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sanitas.db import Base, JsonType


class ModelVersion(Base):
    """A trained classifier: files under ``home/models/<dataset_id>/<version>/``, metrics, thresholds."""

    __tablename__ = "model_versions"
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36))
    branch_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    path: Mapped[str] = mapped_column(Text)
    pinned: Mapped[bool] = mapped_column(default=False)
    labels: Mapped[list[Any]] = mapped_column(JsonType)
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonType)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JsonType)
    trained_on: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Prediction(Base):
    """Predictions of one version for one comment content (hash of its messages), written once."""

    __tablename__ = "predictions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["dataset_id", "version"],
            ["model_versions.dataset_id", "model_versions.version"],
            ondelete="CASCADE",
        ),
    )
    dataset_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # [[name_parts, probability], ...] sorted by probability, then name.
    labels: Mapped[list[Any]] = mapped_column(JsonType)
    entities: Mapped[list[Any]] = mapped_column(JsonType)
