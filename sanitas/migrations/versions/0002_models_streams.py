"""models and streams

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sanitas.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "model_versions",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("branch_id", sa.String(length=36), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("labels", sanitas.db.JsonType, nullable=False),
        sa.Column("metrics", sanitas.db.JsonType, nullable=False),
        sa.Column("thresholds", sanitas.db.JsonType, nullable=False),
        sa.Column("trained_on", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_model_versions_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "version", name=op.f("pk_model_versions")),
    )
    op.create_table(
        "predictions",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("labels", sanitas.db.JsonType, nullable=False),
        sa.Column("entities", sanitas.db.JsonType, nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id", "version"],
            ["model_versions.dataset_id", "model_versions.version"],
            name=op.f("fk_predictions_dataset_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "version", "content_hash", name=op.f("pk_predictions")),
    )
    op.create_table(
        "streams",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("label_thresholds", sanitas.db.JsonType, nullable=True),
        sa.Column("comment_filter", sanitas.db.JsonType, nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_streams_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_streams")),
        sa.UniqueConstraint("dataset_id", "name", name=op.f("uq_streams_dataset_id")),
    )
    with op.batch_alter_table("streams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_streams_dataset_id"), ["dataset_id"], unique=False)
    op.create_table(
        "stream_exceptions",
        sa.Column("stream_id", sa.String(length=16), nullable=False),
        sa.Column("uid", sa.String(length=1041), nullable=False),
        sa.Column("type", sa.String(length=1024), nullable=False),
        sa.Column("meta", sanitas.db.JsonType, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream_id"],
            ["streams.id"],
            name=op.f("fk_stream_exceptions_stream_id_streams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("stream_id", "uid", name=op.f("pk_stream_exceptions")),
    )


def downgrade() -> None:
    """Revert."""
    op.drop_table("stream_exceptions")
    with op.batch_alter_table("streams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_streams_dataset_id"))
    op.drop_table("streams")
    op.drop_table("predictions")
    op.drop_table("model_versions")
