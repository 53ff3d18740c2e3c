"""heal review: decisions per changed row, and the branches published from them

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sanitas.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "heal_decisions",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("row_id", sa.String(length=1100), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=512), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_heal_decisions_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "row_id", name=op.f("pk_heal_decisions")),
    )
    op.create_table(
        "heal_review_applies",
        sa.Column("branch_id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("applied_by", sa.String(length=512), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undecided", sa.String(length=16), nullable=False),
        sa.Column("counts", sanitas.db.JsonType, nullable=False),
        sa.Column("decisions", sanitas.db.JsonType, nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_heal_review_applies_branch_id_branches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_heal_review_applies_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("branch_id", name=op.f("pk_heal_review_applies")),
    )
    with op.batch_alter_table("heal_review_applies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_heal_review_applies_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("heal_review_applies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_heal_review_applies_job_id"))
    op.drop_table("heal_review_applies")
    op.drop_table("heal_decisions")
