"""dataset file layout

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sanitas.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply: datasets remember the layout of the file they were imported from."""
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("file_layout", sanitas.db.JsonType, nullable=True))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("datasets") as batch:
        batch.drop_column("file_layout")
