"""The open-data rows the seam yields (backend.export, version 2): what the public may see of each
report, nothing personal, sensitive species coarsened; and the reference zones."""

from __future__ import annotations

import json

from backend import export
from tests.factories import SAUSSET_MARAIS, SAUSSET_PARK_CENTRE, bearer_for, make_agent, near, report_payload, submit


def test_each_report_is_one_public_row_with_its_dates_and_nothing_personal(client, session):
    contact = {"name": "Awa Diallo", "email": "awa@example.org", "phone": "+33 6 11 22 33 44", "consent_contact": True}
    pothole = submit(client, report_payload(reporter=contact, description="Appeler Awa au 06 11 22 33 44")).get_json()
    heron = submit(
        client,
        report_payload(
            "observation-espece", at=SAUSSET_MARAIS, attributes={"espece": "Botaurus stellaris", "nombre": 1}
        ),
    ).get_json()
    agent = bearer_for(session, make_agent(session, "agent.opendata@seinesaintdenis.fr"))
    moved = client.post(
        f"/api/v1/triage/reports/{pothole['reference']}/transitions",
        json={"to": "acknowledged", "version": 1},
        headers=agent,
    )
    assert moved.status_code == 200

    rows = {row["reference"]: row for row in export.public_reports(session)}
    row = rows[pothole["reference"]]
    assert set(row) == set(export.REPORT_FIELDS)
    assert (row["program"], row["category"], row["status"]) == ("patrouillage", "nid-de-poule", "acknowledged")
    assert (row["commune"], row["commune_name"], row["territory"]) == ("93055", "Pantin", "T8")
    assert (row["directorate"], row["unit"]) == ("DVD", "DVD-T8")
    assert row["acknowledged_at"] is not None
    assert row["resolved_at"] is None
    assert row["geo_point_2d"] == {"lon": 2.399, "lat": 48.901}
    sighting = rows[heron["reference"]]
    assert sighting["location_precision"] == "coarsened"
    assert near(sighting["geo_point_2d"], *SAUSSET_PARK_CENTRE, metres=15)  # the park's reference point
    assert sighting["location_uncertainty_m"] > 700
    published = json.dumps(list(rows.values()), default=str)
    for personal in ("Awa", "awa@example.org", "06 11 22 33 44", "+33 6", "Appeler", str(SAUSSET_MARAIS[0])):
        assert personal not in published


def test_reference_zones_come_with_their_geometry(session):
    communes = list(export.zone_rows(session, "commune"))
    assert len(communes) == 39
    row, geometry = next((row, geometry) for row, geometry in communes if row["code"] == "93066")
    assert set(row) == set(export.ZONE_FIELDS)
    assert row["name"] == "Saint-Denis"
    assert row["parent"] == "T6"
    assert geometry["type"] in ("Polygon", "MultiPolygon")


def test_the_bulk_stream_carries_the_same_rows_as_the_row_by_row_seam(client, session, tmp_path):
    """On PostgreSQL the bulk rows are computed by the server (COPY): they must be the rows the
    seam yields one by one, field for field (SQLite: the CSV written from those very rows)."""
    import duckdb

    contact = {"name": "Awa Diallo", "email": "awa@example.org", "consent_contact": True}
    marked = submit(client, report_payload(reporter=contact, description="Appeler Awa Diallo, awa@example.org"))
    submit(client, report_payload("observation-espece", at=SAUSSET_PARK_CENTRE))
    submit(client, report_payload("debordement-avaloir"))
    agent = bearer_for(session, make_agent(session, "agent.bulk@seinesaintdenis.fr", role="supervisor"))
    reference = marked.get_json()["reference"]
    client.post(
        f"/api/v1/triage/reports/{reference}/transitions", json={"to": "acknowledged", "version": 1}, headers=agent
    )
    publish = {"publishable": True, "version": 2}
    url = f"/api/v1/triage/reports/{reference}/description-publication"
    assert client.put(url, json=publish, headers=agent).status_code == 200

    with (tmp_path / "raw.csv").open("wb") as file:
        export.copy_public_reports(session, file)
    columns = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in export.RAW_REPORT_COLUMNS.items()) + "}"
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        times = ", ".join(
            f"timezone('UTC', {name}) AS {name}" for name in ("received_at", "acknowledged_at", "resolved_at")
        )
        query = f"SELECT * REPLACE ({times}) FROM read_csv(?, header = true, columns = {columns})"  # noqa: S608
        bulk = connection.execute(
            query,
            [str(tmp_path / "raw.csv")],
        ).fetchall()
    one_by_one = [
        tuple(value.replace(tzinfo=None) if hasattr(value, "tzinfo") and value.tzinfo else value for value in row)
        for row in export._raw_reports(session)
    ]
    assert len(bulk) == len(one_by_one) == 3
    assert bulk == one_by_one
    (published,) = (row for row in export.public_reports(session) if row["reference"] == reference)
    assert published["description"] == "Appeler [nom masqué], [courriel masqué]"
