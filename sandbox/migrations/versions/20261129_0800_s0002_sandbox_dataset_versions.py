"""sandbox: published versions of the open datasets

Revision ID: s0002
Revises: s0001
Create Date: 2026-11-29 08:00:00
"""

import sqlalchemy as sa
from alembic import op

import backend.db

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_dataset_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("data_sha256", sa.String(length=64), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_dataset_versions")),
        sa.UniqueConstraint("dataset", "version", name=op.f("uq_sandbox_dataset_versions_dataset_version")),
    )
    op.create_index(op.f("ix_sandbox_dataset_versions_dataset"), "sandbox_dataset_versions", ["dataset"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sandbox_dataset_versions_dataset"), table_name="sandbox_dataset_versions")
    op.drop_table("sandbox_dataset_versions")
