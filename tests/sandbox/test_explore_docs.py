"""The examples of the ODSQL reference (Opendatasoft's Explore API documentation, "ODSQL": literals,
select, where, group by, order by), each run through the records of a version as the sandbox
answers them, on a small dataset of films shaped after the documentation's field names. What each
example must return is what the documentation says it does. (v2.1 renamed `distance()` to
`within_distance()`: the example is written in its v2.1 form.)"""

from __future__ import annotations

import duckdb
import pytest

from sandbox.opendata.explore import ExploreError, RecordsRequest, records

FIELDS = {
    "id": "int",
    "film_name": "text",
    "city": "text",
    "population": "int",
    "my_boolean_field": "boolean",
    "date_field": "datetime",
    "birth_date": "date",
    "geo": "geo_point_2d",
}
FILMS = [
    (1, "Star Wars", "Paris", 5, True, "2007-11-20 01:23:45", "1980-05-01", 1.0, 1.0),
    (2, "Star Trek", "Lyon", 12, False, "2017-04-08 10:00:00", "1990-01-01", 4.83, 45.76),
    (3, "Le film des arbres: tree and flower", "Paris", 50, None, "2018-03-01 00:00:00", "1972-06-06", 2.35, 48.85),
    (4, "Action movies of the tree", "Marseille", 60, True, "1971-12-31 12:00:00", "2001-02-03", 5.37, 43.29),
    (5, "A dog and a cat", "Lyon", None, False, "2017-12-31 23:00:00", "1985-08-08", 1.0001, 1.0001),
    (6, None, "Paris", 8, True, "2016-01-08 08:00:00", "1972-01-01", 2.3, 48.8),
    (7, "Filmography of cars and dogs", "Marseille", 100, False, "2019-07-14 14:00:00", "1999-09-09", 0.0, 0.0),
]


@pytest.fixture(scope="module")
def version(tmp_path_factory):
    """The films as a version's Parquet file."""
    path = tmp_path_factory.mktemp("films") / "data.parquet"
    with duckdb.connect() as connection:
        connection.execute(
            "CREATE TABLE films (id INTEGER, film_name VARCHAR, city VARCHAR, population INTEGER, "
            "my_boolean_field BOOLEAN, date_field TIMESTAMP, birth_date DATE, geo STRUCT(lon DOUBLE, lat DOUBLE))"
        )
        for *values, lon, lat in FILMS:
            connection.execute(
                "INSERT INTO films VALUES (?, ?, ?, ?, ?, ?, ?, {'lon': ?, 'lat': ?})", [*values, lon, lat]
            )
        connection.execute("COPY films TO ? (FORMAT parquet)", [str(path)])
    return path


def ask(version, **parameters):
    with duckdb.connect() as connection:
        return records(connection, version, FIELDS, RecordsRequest(**{"limit": 100, **parameters}))


def ids(version, where):
    return sorted(row["id"] for row in ask(version, where=where, select="id")["results"])


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        # Literals
        ("population > 10", [2, 3, 4, 7]),
        ('city = "Paris"', [1, 3, 6]),
        ("city = 'Paris'", [1, 3, 6]),
        ("date_field > date'2017-04-03T08:02'", [2, 3, 5, 7]),
        ("date_field >= date'2018/04/01'", [7]),
        ("my_boolean_field is TRUE", [1, 4, 6]),
        ("my_boolean_field: FALSE", [2, 5, 7]),
        # Where clause, boolean operators: AND before OR, parentheses
        ("population > 10 and film_name like \"tree\" or within_distance(geo, geom'POINT(1 1)', 1km)", [1, 3, 4, 5]),
        ("my_boolean_field OR population > 50 and date_field > date'1972'", [1, 4, 6, 7]),
        ("(my_boolean_field OR population > 50) and date_field > date'1972'", [1, 6, 7]),
        # Search queries: every visible text, each word, * for more
        ('"tree"', [3, 4]),
        ('"tree" AND "flower"', [3]),
        ('"tree" OR "car"', [3, 4, 7]),
        ('NOT "dog"', [1, 2, 3, 4, 6]),
        ('"dog" AND NOT "cat"', [7]),
        ('"action movies"', [4]),
        ('"film*"', [3, 7]),
        # Distance units
        ("within_distance(geo, geom'POINT(1 1)', 20m)", [1, 5]),
        ("within_distance(geo, geom'POINT(1 1)', 10ft)", [1]),
        # Filter expressions: boolean field, like, in (ranges), null
        ("my_boolean_field", [1, 4, 6]),
        ("my_boolean_field is false", [2, 5, 7]),
        ('film_name like "star"', [1, 2]),
        ('film_name like "star wars"', [1]),
        ("population IN [1..10]", [1, 6]),
        ("population IN ]5..12[", [6]),
        ("population: [1..10]", [1, 6]),
        ("date_field IN [date'2017'..date'2018']", [2, 5]),
        ("film_name is null", [6]),
        ("film_name is not null", [1, 2, 3, 4, 5, 7]),
        # date_format() in a where clause is compared to a string
        ("date_format(date_field, 'dd') = '08'", [2, 6]),
    ],
)
def test_each_documented_filter_returns_what_the_documentation_says(version, where, expected):
    assert ids(version, where) == expected


def test_the_documented_selects_and_aggregations(version):
    assert set(ask(version, select="*", where="id = 1")["results"][0]) == set(FIELDS)
    (row,) = ask(version, select="film_name, city", where="id = 1")["results"]
    assert row == {"film_name": "Star Wars", "city": "Paris"}
    (row,) = ask(version, select="film_name AS my_field, city", where="id = 1")["results"]
    assert row == {"my_field": "Star Wars", "city": "Paris"}
    (row,) = ask(version, select="COUNT(*)")["results"]
    assert row == {"count(*)": 7}
    (row,) = ask(version, select="count(population) as population_count_not_empty")["results"]
    assert row == {"population_count_not_empty": 6}  # the film without a population is not counted
    aggregates = "avg(population) as avg_population, max(population) as max_population, "
    aggregates += "min(population) as min_population, sum(population) as sum_population"
    (row,) = ask(version, select=aggregates)["results"]
    assert row == {
        "avg_population": pytest.approx(235 / 6),
        "max_population": 100,
        "min_population": 5,
        "sum_population": 235,
    }


def test_the_documented_group_by_and_order_by(version):
    assert ask(version, group_by="city as mycity", order_by="mycity")["results"] == [
        {"mycity": "Lyon"},
        {"mycity": "Marseille"},
        {"mycity": "Paris"},
    ]
    assert [row["city"] for row in ask(version, group_by="city", order_by="city ASC")["results"]] == [
        "Lyon",
        "Marseille",
        "Paris",
    ]
    assert ask(version, group_by="city", order_by="count(*) DESC")["results"][0] == {"city": "Paris"}
    by_label = ask(version, select="count(*) as population_count", group_by="city", order_by="population_count DESC")
    assert by_label["results"][0] == {"city": "Paris", "population_count": 3}
    births = ask(version, group_by="city, year(birth_date) as birth_year", order_by="city DESC, birth_year ASC")
    assert [(row["city"], row["birth_year"]) for row in births["results"]] == [
        ("Paris", 1972),
        ("Paris", 1980),
        ("Marseille", 1999),
        ("Marseille", 2001),
        ("Lyon", 1985),
        ("Lyon", 1990),
    ]
    years = ask(version, group_by="year(date_field)", order_by="year(date_field)")["results"]
    assert [row["year(date_field)"] for row in years] == [1971, 2007, 2016, 2017, 2018, 2019]
    hours = ask(version, group_by="date_format(date_field, \"YYYY-MM-dd'T'HH\") as hour", order_by="hour", limit=2)
    assert hours["results"] == [{"hour": "1971-12-31T12"}, {"hour": "2007-11-20T01"}]
    french = ask(version, select="date_format(date_field, 'dd/MM/YYYY') as jour", where="id = 1")["results"]
    assert french == [{"jour": "20/11/2007"}]


@pytest.mark.parametrize(
    "where",
    ["film_name is true", "population", "date_field > date'2017-13'", "population IN [1..", "geo: [1..2]"],
)
def test_what_the_documentation_does_not_allow_is_a_clear_odsql_error(version, where):
    with pytest.raises(ExploreError) as refused:
        ask(version, where=where)
    assert refused.value.code == "odsql_error"
    assert refused.value.parameter == "where"
