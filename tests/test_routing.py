"""Every report reaches the directorate responsible for it, and says why."""

from __future__ import annotations

import json

import shapely
from sqlalchemy import select

from backend.reports.models import Report
from backend.revision import bump_revision
from backend.routing.geometry import (
    IndexedZone,
    ZoneIndex,
    from_metres,
    geometry_from_metres,
    geometry_to_metres,
    to_metres,
)
from backend.routing.models import RoutingRule
from backend.zones.geometry import from_geojson
from backend.zones.models import Zone
from tests.factories import (
    AULNAY,
    NOISY_LE_SEC_STREET,
    ON_RD932_PANTIN,
    PARIS_NOTRE_DAME,
    SAUSSET_PARK_CENTRE,
    report_payload,
    submit,
)


def routed(client, category: str, at: tuple[float, float]) -> dict:
    response = submit(client, report_payload(category, at))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_pothole_on_departmental_road_goes_to_dvd_unit_of_its_territory(client):
    body = routed(client, "nid-de-poule", ON_RD932_PANTIN)
    routing = body["routing"]
    assert routing["directorate"]["code"] == "DVD"
    assert routing["unit"]["code"] == "DVD-T8"
    assert routing["referred_to"] is None
    assert routing["rule"] == "patrouillage-route-departementale"
    assert {"kind": "road", "code": "RD932"} in [{"kind": z["kind"], "code": z["code"]} for z in routing["zones"]]
    assert "route départementale" in routing["message"]
    assert body["status"] == "open"


def test_pothole_a_few_metres_off_the_road_axis_is_still_in_its_corridor(client):
    x, y = to_metres(*ON_RD932_PANTIN)
    lon, lat = from_metres(x + 12.0, y)
    assert routed(client, "nid-de-poule", (float(lon), float(lat)))["routing"]["directorate"]["code"] == "DVD"


def test_pothole_far_from_departmental_roads_is_referred_to_its_commune(client):
    body = routed(client, "nid-de-poule", NOISY_LE_SEC_STREET)
    assert body["status"] == "referred"
    routing = body["routing"]
    assert routing["unit"] is None
    assert routing["referred_to"]["code"] == "COMMUNE-93053"
    assert "gérée par la commune (Noisy-le-Sec)" in routing["message"]


def test_overflowing_drain_goes_to_dea_unit_of_its_territory(client):
    body = routed(client, "debordement-avaloir", AULNAY)
    assert body["routing"]["unit"]["code"] == "DEA-T7"
    body = routed(client, "debordement-avaloir", NOISY_LE_SEC_STREET)
    assert body["routing"]["unit"]["code"] == "DEA-T8"


def test_species_in_a_park_goes_to_that_park_s_team_and_elsewhere_to_the_odbu(client):
    in_park = routed(client, "observation-espece", SAUSSET_PARK_CENTRE)["routing"]
    assert in_park["unit"]["code"] == "DNPB-PARC-SAUSSET"
    assert "Parc départemental du Sausset" in in_park["message"]
    elsewhere = routed(client, "observation-espece", NOISY_LE_SEC_STREET)["routing"]
    assert elsewhere["unit"]["code"] == "DNPB-ODBU"


def test_point_in_a_gap_between_commune_outlines_goes_to_the_nearest_commune(client, session):
    gap = (2.5985321, 48.92788)
    point = shapely.Point(gap)
    communes = [from_geojson(z.geometry) for z in session.scalars(select(Zone).where(Zone.kind == "commune"))]
    assert not any(c.contains(point) for c in communes)  # the premise: really in a gap
    body = routed(client, "nid-de-poule", gap)
    commune = next(z for z in body["routing"]["zones"] if z["kind"] == "commune")
    assert commune["snapped_m"] > 0
    nearest = min(
        session.scalars(select(Zone).where(Zone.kind == "commune")),
        key=lambda z: from_geojson(z.geometry).distance(point),
    )
    assert commune["code"] == nearest.code
    assert body["routing"]["referred_to"]["code"] == f"COMMUNE-{nearest.code}"


def test_outside_seine_saint_denis_is_refused_with_the_departement_named(client, session):
    response = submit(client, report_payload("nid-de-poule", PARIS_NOTRE_DAME))
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "outside_territory"
    assert "Seine-Saint-Denis" in body["message"]
    assert "location" in body["errors"]["json"]
    assert session.scalar(select(Report.id)) is None


def _just_outside_departement(session, metres: float) -> tuple[float, float]:
    outline = from_geojson(session.scalar(select(Zone.geometry).where(Zone.kind == "departement")))
    ring = geometry_to_metres(outline).buffer(metres).exterior
    x, y = ring.coords[0]
    lon, lat = from_metres(x, y)
    return float(lon), float(lat)


def test_a_gps_fix_just_outside_the_border_is_accepted(client, session):
    body = routed(client, "debordement-avaloir", _just_outside_departement(session, 100))
    assert body["routing"]["directorate"]["code"] == "DEA"


def test_a_point_a_kilometre_outside_is_refused(client, session):
    response = submit(client, report_payload("debordement-avaloir", _just_outside_departement(session, 1000)))
    assert response.get_json()["code"] == "outside_territory"


def test_routing_the_same_point_twice_gives_the_same_answer(client):
    first = routed(client, "nid-de-poule", ON_RD932_PANTIN)["routing"]
    second = routed(client, "nid-de-poule", ON_RD932_PANTIN)["routing"]
    assert first == second


def test_a_rule_change_applies_to_new_reports_only(app, client, session):
    before = routed(client, "debordement-avaloir", AULNAY)
    rule = session.scalar(select(RoutingRule).where(RoutingRule.code == "vigies-eau-territoire"))
    rule.unit_code, rule.directorate_code, rule.unit_of = "DNPB-ODBU", None, None
    rule.public_message = "Transmis à l'ODBU (essai)."
    bump_revision(session)
    session.commit()
    after = routed(client, "debordement-avaloir", AULNAY)
    assert after["routing"]["unit"]["code"] == "DNPB-ODBU"
    again = client.get(f"/api/v1/reports/{before['reference']}").get_json()
    assert again["routing"] == before["routing"]
    assert again["routing"]["unit"]["code"] == "DEA-T7"


def test_imported_zones_are_routed_without_a_restart(app, client, tmp_path):
    # A new park zone outline replaces the approximate Sausset disc: the router notices.
    far_from_sausset = NOISY_LE_SEC_STREET
    x, y = to_metres(*far_from_sausset)
    square = shapely.box(x - 100, y - 100, x + 100, y + 100)
    lon_lat = geometry_from_metres(square)
    path = tmp_path / "parks.geojson"
    feature = {"type": "Feature", "properties": {"code": "sausset", "name": "Parc départemental du Sausset"}}
    feature["geometry"] = json.loads(shapely.to_geojson(lon_lat))
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    assert routed(client, "observation-espece", far_from_sausset)["routing"]["unit"]["code"] == "DNPB-ODBU"
    result = app.test_cli_runner().invoke(args=["zones", "import", str(path), "--kind", "park"])
    assert result.exit_code == 0, result.output
    assert routed(client, "observation-espece", far_from_sausset)["routing"]["unit"]["code"] == "DNPB-PARC-SAUSSET"


def test_overlapping_outlines_give_the_commune_the_point_is_deepest_in():
    a = IndexedZone(id=1, kind="commune", code="A", name="A")
    b = IndexedZone(id=2, kind="commune", code="B", name="B")
    # Two squares overlapping on a 200 m band; the point is 20 m inside B's edge, 180 m inside A's.
    index = ZoneIndex(
        [
            (a, geometry_from_metres(shapely.box(0, 0, 1000, 1000))),
            (b, geometry_from_metres(shapely.box(800, 0, 1800, 1000))),
        ]
    )
    lon, lat = from_metres(820, 500)
    assert index.locate(float(lon), float(lat)).commune.code == "A"
    lon, lat = from_metres(980, 500)
    assert index.locate(float(lon), float(lat)).commune.code == "B"
