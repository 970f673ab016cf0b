"""The records of a dataset version, as the Explore API v2.1 answers them, read by DuckDB from a
real Parquet file: pages, totals, groups, facets, and the portal's bounds."""

from __future__ import annotations

import duckdb
import pytest

from sandbox.opendata.explore import ExploreError, RecordsRequest, records
from tests.sandbox.test_odsql import FIELDS, ROWS, create_rows


@pytest.fixture
def parquet(tmp_path):
    path = tmp_path / "data.parquet"
    connection = duckdb.connect()
    create_rows(connection, "rows")
    connection.execute("COPY rows TO ? (FORMAT parquet)", [str(path)])
    connection.close()
    return path


def ask(parquet, **parameters):
    with duckdb.connect() as connection:
        return records(connection, parquet, FIELDS, RecordsRequest(**parameters))


def test_records_come_paged_with_their_total_and_points_as_lon_lat(parquet):
    answer = ask(parquet, order_by="reference", limit=2, offset=1)
    assert answer["total_count"] == len(ROWS)
    first, second = answer["results"]
    assert [first["reference"], second["reference"]] == ["S93-2026-000002", "S93-2026-000003"]
    assert first["geo_point_2d"] == {"lon": 2.358, "lat": 48.936}
    assert first["received_at"] == "2026-04-02T11:00:00+00:00"  # times are UTC
    assert ask(parquet, limit=0) == {"total_count": len(ROWS), "results": []}  # a count only, as the portal allows


def test_groups_count_as_rows_and_facets_narrow_like_where(parquet):
    grouped = ask(parquet, select="status, count(*) as n", group_by="status", order_by="n desc, status")
    assert grouped["total_count"] == 4
    assert grouped["results"][0] == {"status": "open", "n": 2}
    refined = ask(parquet, select="reference", refine=["category:nid-de-poule"], exclude=["status:open"])
    assert [r["reference"] for r in refined["results"]] == ["S93-2026-000005"]
    quoted = ask(parquet, refine=['commune:Saint-"Denis\\'])  # a value is a value, whatever it holds
    assert quoted["total_count"] == 0


@pytest.mark.parametrize(
    ("parameters", "code", "parameter"),
    [
        ({"limit": 101}, "invalid_limit", "limit"),
        ({"limit": -1}, "invalid_limit", "limit"),
        ({"offset": 9_991, "limit": 10}, "invalid_offset", "offset"),
        ({"offset": -1}, "invalid_offset", "offset"),
        ({"where": "status = "}, "odsql_error", "where"),
        ({"refine": ["status"]}, "odsql_error", "refine"),
        ({"refine": ["statut:open"]}, "odsql_error", "where"),
    ],
)
def test_the_portal_s_bounds_and_broken_expressions_are_400s(parquet, parameters, code, parameter):
    with pytest.raises(ExploreError) as refused:
        ask(parquet, **parameters)
    assert (refused.value.code, refused.value.parameter) == (code, parameter)


def test_a_group_by_may_page_further(parquet):
    assert ask(parquet, select="count(*)", group_by="status", offset=19_990, limit=10)["results"] == []
    with pytest.raises(ExploreError):
        ask(parquet, select="count(*)", offset=19_990, limit=10)
