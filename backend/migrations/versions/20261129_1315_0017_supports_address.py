"""supports: where each came from (a keyed hash of the address) and whether it counts

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 13:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("supports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("counted", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("supports", schema=None) as batch_op:
        batch_op.drop_column("counted")
        batch_op.drop_column("address_hash")
