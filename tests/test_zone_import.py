"""``flask zones import``: WGS84 or Lambert-93 GeoJSON in, whole files only."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from backend.zones import geometry as geo
from backend.zones.models import Zone
from tests.conftest import DATA


def import_zones(app, *args: str):
    return app.test_cli_runner().invoke(args=["zones", "import", *args])


SEEDED_PARK_ZONES = 12  # seeds/park_zones.toml


def park_zone_count(session) -> int:
    """Park zones beyond the seeded ones."""
    return session.scalar(select(func.count()).select_from(Zone).where(Zone.kind == "park_zone")) - SEEDED_PARK_ZONES


def stored_geometry(session, code: str):
    zone = session.scalar(select(Zone).where(Zone.kind == "park_zone", Zone.code == code))
    return geo.from_geojson(zone.geometry)


OPTIONS = ("--kind", "park_zone", "--name-property", "libelle", "--code-property", "id_zone")


def test_import_reports_created_then_unchanged(app, session):
    first = import_zones(app, str(DATA / "park-zones-wgs84.geojson"), *OPTIONS)
    assert first.exit_code == 0, first.output
    assert "2 created, 0 updated, 0 unchanged" in first.output
    again = import_zones(app, str(DATA / "park-zones-wgs84.geojson"), *OPTIONS)
    assert "0 created, 0 updated, 2 unchanged" in again.output
    assert park_zone_count(session) == 2
    zone = session.scalar(select(Zone).where(Zone.code == "Z-BERGERE-1"))
    assert zone.name == "Prairie humide de la Bergère"


def test_wgs84_and_lambert93_files_give_the_same_geometry_within_a_metre(app, session):
    assert import_zones(app, str(DATA / "park-zones-wgs84.geojson"), *OPTIONS).exit_code == 0
    from_wgs84 = stored_geometry(session, "Z-BERGERE-1")
    result = import_zones(app, str(DATA / "park-zones-lambert93.geojson"), *OPTIONS, "--srid", "2154")
    assert result.exit_code == 0, result.output
    from_lambert = stored_geometry(session, "Z-BERGERE-1")
    in_metres = [geo.reproject(g, geo.WGS84, geo.LAMBERT93) for g in (from_wgs84, from_lambert)]
    assert in_metres[0].hausdorff_distance(in_metres[1]) < 1.0
    # Sanity: the zone lands in Bobigny, not in the Atlantic.
    assert 2.43 < from_lambert.centroid.x < 2.45
    assert 48.90 < from_lambert.centroid.y < 48.91


def test_lambert93_file_without_srid_is_rejected_with_a_hint(app, session):
    result = import_zones(app, str(DATA / "park-zones-lambert93.geojson"), *OPTIONS)
    assert result.exit_code != 0
    assert "--srid 2154" in result.output
    assert park_zone_count(session) == 0


def test_an_invalid_polygon_rejects_the_whole_file(app, session):
    result = import_zones(app, str(DATA / "park-zones-self-intersecting.geojson"), *OPTIONS)
    assert result.exit_code != 0
    assert "feature 1" in result.output
    assert "Self-intersection" in result.output
    assert "feature 0" not in result.output
    assert park_zone_count(session) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not JSON"),
        (json.dumps({"type": "Feature"}), "not a GeoJSON FeatureCollection"),
        (json.dumps({"type": "FeatureCollection", "features": []}), "no features"),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [{"type": "Feature", "properties": {"libelle": "x"}, "geometry": None}],
                }
            ),
            "property 'id_zone' is missing",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"id_zone": "L", "libelle": "Ligne"},
                            "geometry": {"type": "LineString", "coordinates": [[2.4, 48.9], [2.5, 48.95]]},
                        }
                    ],
                }
            ),
            "expected Polygon or MultiPolygon, got LineString",
        ),
    ],
)
def test_malformed_files_are_refused_with_a_reason(app, session, tmp_path, content, message):
    path = tmp_path / "zones.geojson"
    path.write_text(content)
    result = import_zones(app, str(path), *OPTIONS)
    assert result.exit_code != 0
    assert message in result.output
    assert park_zone_count(session) == 0


def test_imported_zones_are_served_by_the_api(app, client):
    assert import_zones(app, str(DATA / "park-zones-wgs84.geojson"), *OPTIONS).exit_code == 0
    feature = client.get("/api/v1/zones/park_zone/Z-SAUSSET-2").get_json()
    assert feature["properties"]["name"] == "Marais du Sausset"
    assert feature["geometry"]["type"] == "Polygon"
