"""Review of a heal job's changes: one decision per changed row, and what each apply published."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sanitas.db import Base, JsonType


class HealDecision(Base):
    """A person's verdict on one change of a heal job (accept or reject, optionally another label)."""

    __tablename__ = "heal_decisions"
    # The primary key is the one (job_id, row_id) uniqueness: a row has at most one current decision.
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    row_id: Mapped[str] = mapped_column(String(1100), primary_key=True)  # "<source_id>.<id>"
    decision: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(512))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HealReviewApply(Base):
    """A branch published from a reviewed heal job: the decisions it was built from, as they stood."""

    __tablename__ = "heal_review_applies"
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    applied_by: Mapped[str] = mapped_column(String(512))
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    undecided: Mapped[str] = mapped_column(String(16))
    counts: Mapped[dict[str, Any]] = mapped_column(JsonType)
    # One entry per change of the job: row, action, decision, label, who and when, applied or not.
    decisions: Mapped[list[Any]] = mapped_column(JsonType)
