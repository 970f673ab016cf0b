"""The open-data rows the seam yields (backend.export, version 2): what the public may see of each
report, nothing personal, sensitive species coarsened; and the reference zones."""

from __future__ import annotations

import json

from backend import export
from tests.factories import SAUSSET_PARK_CENTRE, bearer_for, make_agent, report_payload, submit


def test_each_report_is_one_public_row_with_its_dates_and_nothing_personal(client, session):
    contact = {"name": "Awa Diallo", "email": "awa@example.org", "phone": "+33 6 11 22 33 44", "consent_contact": True}
    pothole = submit(client, report_payload(reporter=contact, description="Appeler Awa au 06 11 22 33 44")).get_json()
    heron = submit(
        client,
        report_payload(
            "observation-espece", at=SAUSSET_PARK_CENTRE, attributes={"espece": "Botaurus stellaris", "nombre": 1}
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
    assert sighting["geo_point_2d"] == {
        "lon": round(SAUSSET_PARK_CENTRE[0], 2),
        "lat": round(SAUSSET_PARK_CENTRE[1], 2),
    }
    published = json.dumps(list(rows.values()), default=str)
    for personal in ("Awa", "awa@example.org", "06 11 22 33 44", "+33 6", "Appeler", str(SAUSSET_PARK_CENTRE[0])):
        assert personal not in published


def test_reference_zones_come_with_their_geometry(session):
    communes = list(export.zone_rows(session, "commune"))
    assert len(communes) == 39
    row, geometry = next((row, geometry) for row, geometry in communes if row["code"] == "93066")
    assert set(row) == set(export.ZONE_FIELDS)
    assert row["name"] == "Saint-Denis"
    assert row["parent"] == "T6"
    assert geometry["type"] in ("Polygon", "MultiPolygon")
