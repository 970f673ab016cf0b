"""open311_clients: the Open311 write API's clients and their hashed keys

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 12:40:00
"""

import sqlalchemy as sa
from alembic import op

import backend.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open311_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", backend.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_clients")),
        sa.UniqueConstraint("key_digest", name=op.f("uq_open311_clients_key_digest")),
        sa.UniqueConstraint("name", name=op.f("uq_open311_clients_name")),
    )


def downgrade() -> None:
    op.drop_table("open311_clients")
