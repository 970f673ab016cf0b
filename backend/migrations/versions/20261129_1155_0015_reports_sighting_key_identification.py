"""reports: a device's sighting key (the "me too" of Observ'acteurs) and the review of its species

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 11:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sighting_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("identification", sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_reports_sighting_key"), ["sighting_key"])


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_reports_sighting_key"), type_="unique")
        batch_op.drop_column("identification")
        batch_op.drop_column("sighting_key")
