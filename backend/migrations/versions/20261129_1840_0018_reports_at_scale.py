"""reports at scale: counts per status kept by triggers, a grid cell for the public list, open reports by category

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 18:40:00

Three things keep the hot reads at the same cost after ten years of reports (bench/scale.py):
- ``report_counts``: how many reports have each status by directorate, unit, program, category and
  commune, kept by triggers on ``reports`` (insert, delete, and an update of one of those columns);
- ``reports.public_cell``: the 0.01 degree cell of the public point, leading an index the public
  list by bounding box reads one cell at a time, newest first;
- partial indexes of the open reports: by category and point (the similar reports at intake), by unit
  and by directorate, newest first (the agents' queue on open statuses).

SQLite drops a table's triggers when a batch migration recreates it: a later batch migration of
``reports`` must create them again (``_create_triggers``).
"""

import math

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

OPEN = "status IN ('received', 'open', 'acknowledged', 'in_progress')"
KEY = "directorate_id, unit_id, program_id, category_id, commune_code, status"


def _values(row: str) -> str:
    return (
        f"{row}.directorate_id, coalesce({row}.unit_id, 0), {row}.program_id, {row}.category_id, "
        f"coalesce({row}.commune_code, ''), {row}.status"
    )


def _matches(row: str) -> str:
    return (
        f"directorate_id = {row}.directorate_id AND unit_id = coalesce({row}.unit_id, 0) "
        f"AND program_id = {row}.program_id AND category_id = {row}.category_id "
        f"AND commune_code = coalesce({row}.commune_code, '') AND status = {row}.status"
    )


def _changed() -> str:
    return " OR ".join(
        f"OLD.{c} IS DISTINCT FROM NEW.{c}"
        for c in ("status", "directorate_id", "unit_id", "program_id", "category_id", "commune_code")
    )


def _create_triggers(dialect: str) -> None:
    # Statements written from this file's constants only (no input).
    add = f"INSERT INTO report_counts ({KEY}, n) VALUES ({_values('NEW')}, 1) ON CONFLICT ({KEY}) DO UPDATE SET n = "  # noqa: S608
    remove = f"UPDATE report_counts SET n = n - 1 WHERE {_matches('OLD')}"  # noqa: S608
    columns = "status, directorate_id, unit_id, program_id, category_id, commune_code"
    if dialect == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION report_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    {remove};
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    {add} report_counts.n + 1;
                END IF;
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER report_counts_insert AFTER INSERT ON reports "
            "FOR EACH ROW EXECUTE FUNCTION report_counts_track()"
        )
        op.execute(
            "CREATE TRIGGER report_counts_delete AFTER DELETE ON reports "
            "FOR EACH ROW EXECUTE FUNCTION report_counts_track()"
        )
        op.execute(
            f"CREATE TRIGGER report_counts_update AFTER UPDATE OF {columns} ON reports "
            f"FOR EACH ROW WHEN ({_changed()}) EXECUTE FUNCTION report_counts_track()"
        )
        return
    changed = _changed().replace("IS DISTINCT FROM", "IS NOT")
    op.execute(f"CREATE TRIGGER report_counts_insert AFTER INSERT ON reports BEGIN {add} n + 1; END")
    op.execute(f"CREATE TRIGGER report_counts_delete AFTER DELETE ON reports BEGIN {remove}; END")
    op.execute(
        f"CREATE TRIGGER report_counts_update AFTER UPDATE OF {columns} ON reports WHEN {changed} "
        f"BEGIN {remove}; {add} n + 1; END"
    )


def _drop_triggers(dialect: str) -> None:
    for name in ("report_counts_insert", "report_counts_delete", "report_counts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON reports" if dialect == "postgresql" else ""))
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS report_counts_track()")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "report_counts",
        sa.Column("directorate_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("program_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("category_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "directorate_id", "unit_id", "program_id", "category_id", "commune_code", "status", name="pk_report_counts"
        ),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_cell", sa.Integer(), nullable=True))
    bind = op.get_bind()
    if dialect == "postgresql":
        op.execute(
            "UPDATE reports SET public_cell = (floor(public_lat * 100)::integer + 9000) * 100000 "
            "+ floor(public_lon * 100)::integer + 18000"
        )
    else:  # SQLite may be built without its math functions: computed here
        rows = bind.execute(sa.text("SELECT id, public_lon, public_lat FROM reports")).all()
        if rows:
            bind.execute(
                sa.text("UPDATE reports SET public_cell = :cell WHERE id = :id"),
                [
                    {"id": i, "cell": (math.floor(lat * 100) + 9000) * 100_000 + math.floor(lon * 100) + 18000}
                    for i, lon, lat in rows
                ],
            )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column("public_cell", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(
            "ix_reports_public_cell_received_at_id",
            ["public_cell", "received_at", "id", "public_lon", "public_lat"],
            unique=False,
        )
        for scope in ("unit_id", "directorate_id"):
            batch_op.create_index(
                f"ix_reports_open_{scope}_received_at_id",
                [scope, "received_at", "id"],
                unique=False,
                postgresql_where=sa.text(OPEN),
                sqlite_where=sa.text(OPEN),
            )
        batch_op.create_index(
            "ix_reports_open_category_id_lat_lon",
            ["category_id", "lat", "lon", "received_at", "id", "status"],
            unique=False,
            postgresql_where=sa.text(f"{OPEN} AND sensitive IS false"),
            sqlite_where=sa.text(f"{OPEN} AND sensitive IS 0"),
        )
    counted = f"SELECT {_values('reports')}, count(*) FROM reports GROUP BY 1, 2, 3, 4, 5, 6"  # noqa: S608
    op.execute(f"INSERT INTO report_counts ({KEY}, n) {counted}")
    _create_triggers(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_triggers(dialect)
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_open_category_id_lat_lon")
        batch_op.drop_index("ix_reports_open_directorate_id_received_at_id")
        batch_op.drop_index("ix_reports_open_unit_id_received_at_id")
        batch_op.drop_index("ix_reports_public_cell_received_at_id")
        batch_op.drop_column("public_cell")
    op.drop_table("report_counts")
