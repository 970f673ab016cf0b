"""Explore v2.1 exports as a team downloads them (through the wsgi mount): the whole answer to a
query, in every format, read back by the libraries people use (csv, json, DuckDB for Parquet),
past the records' 10,000-row window, and refused with a 400 before any byte is sent."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import duckdb

from tests.factories import report_payload, submit
from tests.sandbox.test_explore_api import build

BASE = "/sandbox/api/explore/v2.1/catalog/datasets"


def test_every_format_carries_the_same_answer(wsgi_app, tmp_path):
    client = wsgi_app.test_client()
    for _ in range(3):
        submit(client, report_payload())
    submit(client, report_payload("debordement-avaloir", attributes={"pluie": "oui"}))
    build(wsgi_app, "--dataset", "signalements")
    query = {"select": "reference, program, geo_point_2d, received_at", "where": "program = 'patrouillage'"}
    query["order_by"] = "reference"
    expected = client.get(f"{BASE}/signalements/records", query_string={**query, "limit": 100}).get_json()["results"]
    assert len(expected) == 3

    as_csv = client.get(f"{BASE}/signalements/exports/csv", query_string=query)
    assert as_csv.status_code == 200
    assert as_csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["Content-Disposition"] == 'attachment; filename="signalements.csv"'
    text = as_csv.get_data().decode("utf-8")
    assert text.startswith("\ufeffreference;program;geo_point_2d;received_at\n")  # as the portal: ; and a BOM
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert [row["reference"] for row in rows] == [record["reference"] for record in expected]
    point = expected[0]["geo_point_2d"]
    assert rows[0]["geo_point_2d"] == f"{point['lat']}, {point['lon']}"
    plain_query = {**query, "delimiter": ",", "with_bom": "false"}
    plain = client.get(f"{BASE}/signalements/exports/csv", query_string=plain_query)
    assert plain.get_data(as_text=True).startswith("reference,program,")

    assert client.get(f"{BASE}/signalements/exports/json", query_string=query).get_json() == expected
    lines = client.get(f"{BASE}/signalements/exports/jsonl", query_string=query).get_data(as_text=True).splitlines()
    assert [json.loads(line) for line in lines] == expected
    assert not list(Path(tempfile.gettempdir()).glob("signal93-export-*"))  # each export's scratch folder is gone
    geojson = client.get(f"{BASE}/signalements/exports/geojson", query_string=query)
    assert geojson.headers["Content-Type"] == "application/geo+json"
    features = geojson.get_json()["features"]
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [point["lon"], point["lat"]]}
    assert features[0]["properties"]["reference"] == expected[0]["reference"]
    assert "geo_point_2d" not in features[0]["properties"]

    parquet = client.get(f"{BASE}/signalements/exports/parquet", query_string=query)
    assert parquet.headers["Content-Type"] == "application/vnd.apache.parquet"
    (tmp_path / "export.parquet").write_bytes(parquet.get_data())
    with duckdb.connect() as connection:
        references = connection.execute("SELECT reference FROM read_parquet(?)", [str(tmp_path / "export.parquet")])
        assert [row[0] for row in references.fetchall()] == [record["reference"] for record in expected]

    grouped = {"select": "program, count(*) as n", "group_by": "program", "order_by": "program"}
    assert client.get(f"{BASE}/signalements/exports/json", query_string=grouped).get_json() == [
        {"program": "patrouillage", "n": 3},
        {"program": "vigies-eau", "n": 1},
    ]
    limited = client.get(f"{BASE}/signalements/exports/jsonl", query_string={**query, "limit": 1})
    assert len(limited.get_data(as_text=True).splitlines()) == 1
    empty = client.get(f"{BASE}/signalements/exports/json", query_string={"where": "program = 'aucun'"})
    assert empty.get_json() == []


def test_an_export_is_not_bound_by_the_records_window(wsgi_app, monkeypatch):
    """More rows than the records' 10,000 window reach an export, streamed in batches."""
    from sandbox.opendata import explore

    monkeypatch.setattr(explore, "EXPORT_BATCH", 7)  # many batches from a few rows
    client = wsgi_app.test_client()
    for _ in range(20):
        submit(client, report_payload())
    build(wsgi_app, "--dataset", "signalements")
    answer = client.get(f"{BASE}/signalements/exports/jsonl?select=reference")
    assert not answer.is_sequence  # streamed, not a body built whole
    references = [json.loads(line)["reference"] for line in answer.get_data(as_text=True).splitlines()]
    assert len(set(references)) == 20
    records = client.get(f"{BASE}/signalements/exports/json?select=reference").get_json()
    assert [record["reference"] for record in records] == references


def test_a_bad_export_is_refused_before_any_byte(wsgi_app):
    client = wsgi_app.test_client()
    submit(client, report_payload())
    build(wsgi_app, "--dataset", "signalements")
    for query, code in (
        ({"where": "status = "}, "odsql_error"),
        ({"where": "support_count > 'beaucoup'"}, "odsql_error"),
        ({"select": "nope"}, "odsql_error"),
        ({"where": "1=1; COPY data TO '/tmp/x'"}, "odsql_error"),
        ({"delimiter": "x"}, "validation_error"),
        ({"limit": "-2"}, "validation_error"),
    ):
        answer = client.get(f"{BASE}/signalements/exports/csv", query_string=query)
        assert answer.status_code in (400, 422), query
        assert answer.get_json()["code"] == code, query
    assert client.get(f"{BASE}/signalements/exports/xlsx").status_code == 404
    missing = client.get(f"{BASE}/signalements/exports/csv?version=1999-01-01.1")
    assert (missing.status_code, missing.get_json()["code"]) == (404, "version_not_found")
