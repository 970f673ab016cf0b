"""taxa: the key species autocompletion searches (French and scientific names, no accents)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 10:08:00
"""

import sqlalchemy as sa
from alembic import op

from backend.directory.models import taxon_search_key

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("taxa", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_key", sa.String(length=420), server_default="", nullable=False))
    taxa = sa.table(
        "taxa", sa.column("id"), sa.column("french_name"), sa.column("scientific_name"), sa.column("search_key")
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(taxa.c.id, taxa.c.french_name, taxa.c.scientific_name)).all():
        key = taxon_search_key(row.french_name or "", row.scientific_name or "")
        connection.execute(taxa.update().where(taxa.c.id == row.id).values(search_key=key))


def downgrade() -> None:
    with op.batch_alter_table("taxa", schema=None) as batch_op:
        batch_op.drop_column("search_key")
