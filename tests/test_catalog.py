"""The public catalog: programs, categories, directorates, external bodies, zones."""

from __future__ import annotations

import shapely

from backend.zones.geometry import from_geojson


def test_three_programs_each_with_its_directorate(client):
    items = client.get("/api/v1/programs").get_json()["items"]
    assert {(p["code"], p["directorate"]) for p in items} == {
        ("patrouillage", "DVD"),
        ("vigies-eau", "DEA"),
        ("observacteurs", "DNPB"),
    }
    patrouillage = next(p for p in items if p["code"] == "patrouillage")
    assert "nid-de-poule" in patrouillage["categories"]


def test_at_least_fourteen_categories_in_french_with_typed_attributes(client):
    response = client.get("/api/v1/categories")
    items = response.get_json()["items"]
    assert len(items) >= 14
    by_code = {c["code"]: c for c in items}
    pothole = by_code["nid-de-poule"]
    assert pothole["name"] == "Nid-de-poule"
    assert pothole["program"] == "patrouillage"
    assert pothole["directorate"] == "DVD"
    assert pothole["target_days"] > 0
    size = next(a for a in pothole["attributes"] if a["code"] == "taille")
    assert size["datatype"] == "singlevaluelist"
    assert size["required"] is True
    assert {v["key"] for v in size["values"]} == {"petit", "moyen", "grand"}
    datatypes = {a["datatype"] for c in items for a in c["attributes"]}
    assert datatypes >= {"singlevaluelist", "multivaluelist", "number", "datetime"}
    assert "é" in response.get_data(as_text=True)  # French stays readable, not \u-escaped


def test_species_sighting_offers_the_seeded_species(client):
    items = client.get("/api/v1/categories?program=observacteurs").get_json()["items"]
    assert {c["code"] for c in items} == {"observation-espece", "espece-invasive"}
    species = next(a for a in items[0]["attributes"] if a["code"] == "espece")
    names = {v["key"]: v["name"] for v in species["values"]}
    assert names["Alcedo atthis"] == "Martin-pêcheur d'Europe"
    assert len(names) == 35


def test_categories_of_one_program(client):
    items = client.get("/api/v1/categories?program=vigies-eau").get_json()["items"]
    assert len(items) == 6
    assert {c["directorate"] for c in items} == {"DEA"}


def test_unknown_program_is_a_422(client):
    response = client.get("/api/v1/categories?program=jardinage")
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "unknown_program"
    assert "program" in body["errors"]["query"]


def test_directorates_with_territorial_units_park_teams_and_the_odbu(client):
    items = {d["code"]: d for d in client.get("/api/v1/directorates").get_json()["items"]}
    assert set(items) == {"DVD", "DEA", "DNPB"}
    assert items["DVD"]["name"] == "Direction de la Voirie et des Déplacements"
    for code in ("DVD", "DEA", "DNPB"):
        territories = [u for u in items[code]["units"] if u["kind"] == "territory"]
        assert {u["zone"]["code"] for u in territories} == {"T6", "T7", "T8", "T9"}
    dnpb = items["DNPB"]["units"]
    assert len([u for u in dnpb if u["kind"] == "park"]) == 9
    assert [u["code"] for u in dnpb if u["kind"] == "observatory"] == ["DNPB-ODBU"]


def test_the_39_communes_are_external_bodies(client):
    items = client.get("/api/v1/external-bodies").get_json()["items"]
    assert len(items) == 39
    assert {"kind": "commune", "code": "93066", "name": "Saint-Denis"} in [i["zone"] for i in items]


def test_communes_are_listed_page_by_page(client):
    first = client.get("/api/v1/zones?kind=commune&limit=25").get_json()
    assert first["type"] == "FeatureCollection"
    assert len(first["features"]) == 25
    assert first["next_cursor"]
    second = client.get(f"/api/v1/zones?kind=commune&limit=25&cursor={first['next_cursor']}").get_json()
    assert len(second["features"]) == 14
    assert second["next_cursor"] is None
    codes = [f["properties"]["code"] for f in first["features"] + second["features"]]
    assert len(set(codes)) == 39
    assert "93059" not in codes


def test_commune_names_are_today_s_names(client):
    features = client.get("/api/v1/zones?kind=commune&limit=100").get_json()["features"]
    names = {f["properties"]["code"]: f["properties"]["name"] for f in features}
    assert names["93013"] == "Le Bourget"
    assert names["93027"] == "La Courneuve"
    assert names["93070"] == "Saint-Ouen-sur-Seine"
    assert names["93039"] == "L'Île-Saint-Denis"


def test_saint_denis_includes_former_pierrefitte_and_its_code_still_resolves(client):
    former = client.get("/api/v1/zones/commune/93059")
    assert former.status_code == 200
    feature = former.get_json()
    assert feature["id"] == "commune:93066"
    assert feature["properties"]["name"] == "Saint-Denis"
    assert feature["properties"]["former_codes"] == ["93059"]
    assert feature["properties"]["parent"]["code"] == "T6"
    pierrefitte_town_hall = shapely.Point(2.3617, 48.9653)
    assert from_geojson(feature["geometry"]).contains(pierrefitte_town_hall)


def test_nine_parks_marked_approximate(client):
    features = client.get("/api/v1/zones?kind=park").get_json()["features"]
    assert len(features) == 9
    assert all(f["properties"]["approximate"] for f in features)
    assert all(f["geometry"]["type"] == "Polygon" for f in features)


def test_roads_are_lines_with_a_corridor(client):
    features = client.get("/api/v1/zones?kind=road").get_json()["features"]
    assert features
    assert all(f["geometry"]["type"] == "LineString" and f["properties"]["corridor_m"] > 0 for f in features)


def test_territory_is_the_union_of_its_communes(client):
    territory = from_geojson(client.get("/api/v1/zones/territory/T8").get_json()["geometry"])
    montreuil = from_geojson(client.get("/api/v1/zones/commune/93048").get_json()["geometry"])
    aubervilliers = from_geojson(client.get("/api/v1/zones/commune/93001").get_json()["geometry"])
    assert territory.buffer(1e-6).contains(montreuil)
    assert not territory.intersection(aubervilliers).area > 1e-6


def test_bbox_returns_only_zones_that_meet_it(client):
    # A small box around Bobigny's centre.
    features = client.get("/api/v1/zones?kind=commune&bbox=2.435,48.905,2.445,48.912").get_json()["features"]
    codes = {f["properties"]["code"] for f in features}
    assert "93008" in codes
    assert "93073" not in codes  # Tremblay-en-France, far to the north-east
    assert len(codes) < 10


def test_malformed_bbox_unknown_kind_and_bad_cursor_are_422(client):
    for query, field in [
        ("bbox=2.4,48.9,2.3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=2.5,48.9,2.4,49.0", "bbox"),
        ("bbox=200,48,201,49", "bbox"),
        ("bbox=nan,48,2,49", "bbox"),
        ("kind=volcano", "kind"),
        ("limit=1000", "limit"),
        ("cursor=not-a-cursor", "cursor"),
    ]:
        response = client.get(f"/api/v1/zones?{query}")
        assert response.status_code == 422, query
        assert field in response.get_json()["errors"]["query"], query


def test_unknown_zone_is_a_404_in_the_envelope(client):
    response = client.get("/api/v1/zones/commune/75056")
    assert response.status_code == 404
    assert response.get_json()["code"] == "zone_not_found"
