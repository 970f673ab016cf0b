"""sandbox: a team's session version, bumped at sign-out (every copy of its cookie stops working)

Revision ID: s0003
Revises: s0002
Create Date: 2026-11-29 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "s0003"
down_revision = "s0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sandbox_teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("sandbox_teams", schema=None) as batch_op:
        batch_op.drop_column("session_version")
