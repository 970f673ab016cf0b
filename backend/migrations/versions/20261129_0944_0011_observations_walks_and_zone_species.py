"""observations: the parks' walks and the species of their nature zones

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 09:44:47.783888
"""

import sqlalchemy as sa
from alembic import op

import backend.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "balades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("route", sa.JSON(), nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["park_id"], ["zones.id"], name=op.f("fk_balades_park_id_zones")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balades")),
        sa.UniqueConstraint("park_id", name=op.f("uq_balades_park_id")),
    )
    op.create_table(
        "zone_species",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("taxon_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["taxon_id"], ["taxa.id"], name=op.f("fk_zone_species_taxon_id_taxa")),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], name=op.f("fk_zone_species_zone_id_zones")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zone_species")),
        sa.UniqueConstraint("zone_id", "taxon_id", name=op.f("uq_zone_species_zone_id_taxon_id")),
    )
    with op.batch_alter_table("zone_species", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_zone_species_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "balade_stations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("balade_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["balade_id"], ["balades.id"], name=op.f("fk_balade_stations_balade_id_balades")),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], name=op.f("fk_balade_stations_zone_id_zones")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balade_stations")),
        sa.UniqueConstraint("balade_id", "position", name=op.f("uq_balade_stations_balade_id_position")),
        sa.UniqueConstraint("zone_id", name=op.f("uq_balade_stations_zone_id")),
    )


def downgrade() -> None:
    op.drop_table("balade_stations")
    with op.batch_alter_table("zone_species", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zone_species_zone_id"))

    op.drop_table("zone_species")
    op.drop_table("balades")
