"""reports: a sighting's nature zone (where its point falls, Observ'acteurs)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 10:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("zone_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_reports_zone_id"), ["zone_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_reports_zone_id_zones"), "zones", ["zone_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_reports_zone_id_zones"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_reports_zone_id"))
        batch_op.drop_column("zone_id")
