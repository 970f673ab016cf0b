"""ODSQL, as hackathon teams write it for the Explore v2.1 API: each supported construct compiled
and run on DuckDB, its answer compared with the same question asked of DuckDB directly; errors
say where the expression broke; nothing a client sends becomes SQL."""

from __future__ import annotations

import duckdb
import pytest

from sandbox.opendata.odsql import OdsqlError, compile_query

FIELDS = {
    "reference": "text",
    "status": "text",
    "category": "text",
    "commune": "text",
    "received_at": "datetime",
    "support_count": "int",
    "geo_point_2d": "geo_point_2d",
}
ROWS = [
    ("S93-2026-000001", "open", "nid-de-poule", "Pantin", "2026-03-01 10:00", 2, 2.399, 48.901),
    ("S93-2026-000002", "resolved", "debordement-avaloir", "Saint-Denis", "2026-04-02 11:00", 0, 2.358, 48.936),
    ("S93-2026-000003", "open", "nid-de-poule", "Aubervilliers", "2026-04-05 09:00", 5, 2.383, 48.914),
    ("S93-2026-000004", "referred", "panneau-endommage", "Montreuil", "2026-05-20 16:30", 1, 2.448, 48.861),
    ("S93-2026-000005", "acknowledged", "nid-de-poule", None, "2026-05-21 08:15", 3, 2.507, 48.959),
]


def create_rows(connection, table: str) -> None:
    """The table of :data:`ROWS`, typed as a dataset version's Parquet file is."""
    connection.execute(
        f"CREATE TABLE {table} (reference VARCHAR, status VARCHAR, category VARCHAR, commune VARCHAR, "
        "received_at TIMESTAMP, support_count INTEGER, geo_point_2d STRUCT(lon DOUBLE, lat DOUBLE))"
    )
    for *values, lon, lat in ROWS:
        insert = f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, {{'lon': ?, 'lat': ?}})"  # noqa: S608 (the test's table)
        connection.execute(insert, [*values, lon, lat])


@pytest.fixture(scope="module")
def data():
    connection = duckdb.connect()
    create_rows(connection, "data")
    yield connection
    connection.close()


def run(data, **parameters):
    query = compile_query(FIELDS, **parameters)
    return query.columns, data.execute(query.sql, query.params).fetchall()


def references(data, where):
    _, rows = run(data, select="reference", where=where, order_by="reference")
    return [row[0] for row in rows]


@pytest.mark.parametrize(
    ("where", "direct"),
    [
        ("status = 'open'", "status = 'open'"),
        ('status != "open"', "status <> 'open'"),
        ("support_count >= 2 AND NOT status = 'resolved'", "support_count >= 2 AND status <> 'resolved'"),
        (
            "(status = 'open' OR status = 'referred') AND support_count < 5",
            "status IN ('open','referred') AND support_count < 5",
        ),
        ("status IN ('open', 'referred')", "status IN ('open', 'referred')"),
        ("status NOT IN ('open')", "status NOT IN ('open')"),
        ("category LIKE 'nid*'", "category LIKE 'nid%'"),
        ("commune NOT LIKE '*saint*'", "commune IS NULL OR commune NOT ILIKE '%saint%'"),  # no text: no saint
        ("commune IS NULL", "commune IS NULL"),
        ("commune IS NOT NULL", "commune IS NOT NULL"),
        ('search(commune, "DENIS")', "commune ILIKE '%denis%'"),
        ('"avaloir"', "category ILIKE '%avaloir%' OR reference ILIKE '%avaloir%'"),
        ("received_at >= date'2026-04-01'", "received_at >= DATE '2026-04-01'"),
        ("year(received_at) = 2026 AND month(received_at) = 5", "month(received_at) = 5"),
        (
            "within_distance(geo_point_2d, geom'POINT(2.399 48.901)', 2km)",
            "reference IN ('S93-2026-000001', 'S93-2026-000003')",
        ),
        (
            "in_bbox(geo_point_2d, 48.90, 2.35, 48.95, 2.40)",
            "geo_point_2d.lat BETWEEN 48.90 AND 48.95 AND geo_point_2d.lon BETWEEN 2.35 AND 2.40",
        ),
    ],
)
def test_each_filter_answers_what_duckdb_answers_directly(data, where, direct):
    direct_sql = f"SELECT reference FROM data WHERE {direct} ORDER BY reference"  # noqa: S608 (the test's own SQL)
    expected = [row[0] for row in data.execute(direct_sql).fetchall()]
    assert references(data, where) == expected
    assert expected or where in ("commune IS NULL",)  # a filter that keeps nothing would prove little


def test_select_group_by_and_order_by_as_the_portal_documents(data):
    columns, rows = run(data, select="category, count(*) as n", group_by="category", order_by="n desc, category")
    assert columns == ["category", "n"]
    assert rows == [("nid-de-poule", 3), ("debordement-avaloir", 1), ("panneau-endommage", 1)]
    columns, rows = run(
        data,
        select="date_format(received_at, 'yyyy-MM') as mois, sum(support_count) as soutiens, max(support_count)",
        group_by="date_format(received_at, 'yyyy-MM') as mois",
        order_by="mois",
    )
    assert columns == ["mois", "soutiens", "max(support_count)"]
    assert rows == [("2026-03", 2, 2), ("2026-04", 5, 5), ("2026-05", 4, 3)]
    columns, rows = run(
        data, select="count(*)", group_by="year(received_at), month(received_at)", order_by="month(received_at)"
    )
    assert rows == [(2026, 3, 1), (2026, 4, 2), (2026, 5, 2)]
    _, page = run(data, select="reference", order_by="received_at desc", limit=2, offset=1)
    assert page == [("S93-2026-000004",), ("S93-2026-000003",)]
    _, (total,) = run(data, select="count(*) as total", where="status = 'open'")
    assert total == (2,)


@pytest.mark.parametrize(
    ("parameters", "parameter", "position", "says"),
    [
        ({"where": "status = "}, "where", 9, "unexpected end of the expression"),
        ({"where": "statut = 'open'"}, "where", 0, "unknown field 'statut'"),
        ({"where": "status = 'open' AND"}, "where", 19, "expected"),
        ({"where": "within_distance(status, geom'POINT(2 48)', 5m)"}, "where", 16, "not a geo_point_2d field"),
        ({"where": "received_at > date'2026-13-45'"}, "where", 14, "not a date"),
        ({"select": "status, count(*)"}, "select", None, "needs a group_by"),
        ({"select": "reference", "group_by": "category"}, "select", None, "neither grouped nor aggregated"),
        ({"select": "avg(status)"}, "select", 4, "needs a number field"),
        ({"group_by": "count(*)"}, "group_by", 0, "not an aggregate"),
        ({"order_by": "received_at sideways"}, "order_by", 12, "unexpected"),
    ],
)
def test_a_broken_expression_says_which_parameter_where_and_why(parameters, parameter, position, says):
    with pytest.raises(OdsqlError) as refused:
        compile_query(FIELDS, **parameters)
    assert refused.value.parameter == parameter
    assert refused.value.position == position
    assert says in refused.value.message


@pytest.mark.parametrize(
    "parameters",
    [
        {"where": "status = 'open'; DROP TABLE data"},
        {"where": "status = 'x' OR 1=1 --'"},
        {"where": "status = 'x'' OR ''1''=''1'"},
        {"where": '"x"" OR 1=1 --"'},
        {"select": "reference FROM data; DROP TABLE data; --"},
        {"select": 'reference AS `x" FROM data; DROP TABLE data; --`'},
        {"group_by": "category; DELETE FROM data"},
        {"order_by": "reference, (SELECT 1)"},
        {"where": 'search(commune, "%")'},
        {"where": "commune LIKE '%_'"},
    ],
)
def test_injection_attempts_are_refused_or_stay_values(data, parameters):
    try:
        query = compile_query(FIELDS, **parameters)
    except OdsqlError:
        pass  # refused by the grammar: nothing ran
    else:
        data.execute(query.sql, query.params).fetchall()  # ran, as a value or a quoted name
    assert data.execute("SELECT count(*) FROM data").fetchone() == (len(ROWS),)
    percent = compile_query(FIELDS, where='search(commune, "%")')
    assert data.execute(percent.sql, percent.params).fetchall() == []  # % is a character, not a wildcard


def test_expressions_have_a_length_limit():
    with pytest.raises(OdsqlError, match="longer than"):
        compile_query(FIELDS, where="status = 'open' OR " * 300 + "status = 'open'")
