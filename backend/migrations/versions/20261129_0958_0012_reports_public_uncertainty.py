"""reports: how far a generalised public point may be from the sighting

A sensitive sighting's public point is now its park's reference point (outside a park, its
commune's); `public_uncertainty_m` is that area's radius. Null: the public point is exact (or, for
sightings stored before, the former 0.01 degree grid cell).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 09:58:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_uncertainty_m", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("public_uncertainty_m")
