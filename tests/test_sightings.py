"""Observ'acteurs sightings at intake: a named nature zone, the unknown species with its photo,
what the animal was doing, and a walker's second sighting of the same species counted as a
"me too" rather than a second report."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from backend.reports.models import Report
from backend.zones.models import Zone
from tests.factories import AULNAY, SAUSSET_MARAIS, SAUSSET_PARK_CENTRE, near, report_payload, submit
from tests.media.files import jpeg_from_phone
from tests.media.test_intake import post_multipart
from tests.test_observations import rename_the_vallon
from tests.test_seeding import seeds_copy  # noqa: F401 (a fixture)

API = "/api/v1"


def sighting(**fields):
    payload = report_payload("observation-espece", at=SAUSSET_MARAIS)
    payload.update(fields)
    return payload


def zone_centre(client, slug: str) -> tuple[dict, float]:
    card = client.get(f"{API}/zones/park_zone/{slug}").get_json()
    return card["properties"]["centre"], card["properties"]["radius_m"]


def test_a_sighting_named_by_its_zone_without_gps_is_placed_at_the_zone(client, session):
    payload = sighting(zone="sausset-foret")
    del payload["location"]
    answer = submit(client, payload)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    centre, radius = zone_centre(client, "sausset-foret")
    assert near(body["location"], centre["lon"], centre["lat"], 1)
    report = session.scalar(select(Report).where(Report.id == int(body["reference"][-6:])))
    assert report.location_source == "zone"
    assert report.accuracy_m == radius
    assert session.get(Zone, report.zone_id).code == "sausset-foret"
    card = client.get(f"{API}/zones/park_zone/sausset-foret").get_json()["properties"]
    assert {"scientific_name": "Ardea cinerea", "french_name": "Héron cendré", "sightings": 1} in card["observed"]


def test_a_position_in_the_park_is_kept_and_one_elsewhere_gives_way_to_the_zone(client):
    inside = submit(
        client, sighting(zone="sausset-marais", location={"lon": SAUSSET_PARK_CENTRE[0], "lat": SAUSSET_PARK_CENTRE[1]})
    )
    assert inside.status_code == 201
    assert near(inside.get_json()["location"], *SAUSSET_PARK_CENTRE, 1)
    # Filled in at home, in Aulnay's streets, after the walk: the zone says where it was seen.
    at_home = submit(client, sighting(zone="sausset-marais", location={"lon": AULNAY[0], "lat": AULNAY[1]}))
    assert at_home.status_code == 201
    centre, _ = zone_centre(client, "sausset-marais")
    assert near(at_home.get_json()["location"], centre["lon"], centre["lat"], 1)


def test_a_former_slug_names_its_zone_and_bad_zones_are_refused_on_the_field(client, session, seeds_copy):  # noqa: F811
    rename_the_vallon(session, seeds_copy)
    old_post = submit(client, sighting(zone="sausset-vallon"))  # the post printed before the renaming
    assert old_post.status_code == 201
    report = session.scalar(select(Report).where(Report.id == int(old_post.get_json()["reference"][-6:])))
    assert session.get(Zone, report.zone_id).code == "sausset-vallon-des-mares"
    for fields, message in (
        ({"zone": "sausset-nulle-part"}, "no nature zone has this slug"),
        ({"zone": "x" * 65}, "Length must be between 1 and 64."),
        ({"zone": 12}, "Not a valid string."),
    ):
        answer = submit(client, sighting(**fields))
        assert answer.status_code == 422, fields
        assert answer.get_json()["errors"]["json"]["zone"] == [message]
    pothole = submit(client, report_payload(zone="sausset-marais"))
    assert pothole.status_code == 422
    assert pothole.get_json()["errors"]["json"]["zone"] == ["only Observ'acteurs sightings name a nature zone"]


def attribute_definitions(client) -> dict:
    categories = client.get(f"{API}/categories?program=observacteurs").get_json()["items"]
    category = next(c for c in categories if c["code"] == "observation-espece")
    return {a["code"]: a for a in category["attributes"]}


def test_an_unknown_species_needs_a_photo(client):
    unknown = sighting(attributes={"nombre": 1})
    refused = submit(client, unknown)
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["json"]["attributes"]["espece"] == ["is required (or send a photo)"]
    taken = post_multipart(client, unknown, photos=[("bestiole.jpg", jpeg_from_phone())])
    assert taken.status_code == 201, taken.get_json()
    assert "espece" not in taken.get_json()["attributes"]
    definition = attribute_definitions(client)["espece"]
    assert (definition["required"], definition["photo_may_replace"]) == (True, True)


def test_what_it_was_doing_and_how_many_are_checked_against_the_category(client):
    assert submit(client, sighting(attributes={"espece": "Ardea cinerea", "comportement": "vol"})).status_code == 201
    for attributes, message in (
        ({"espece": "Ardea cinerea", "comportement": "danse"}, "must be one of the allowed values"),
        ({"espece": "Ardea cinerea", "nombre": 0}, "must be between 1 and 10000"),
        ({"espece": "Ardea cinerea", "nombre": 1e308}, "must be between 1 and 10000"),
        ({"espece": "Ardea cinerea", "nombre": 2.5}, "must be a whole number"),
    ):
        answer = submit(client, sighting(attributes=attributes))
        assert answer.status_code == 422, attributes
        errors = answer.get_json()["errors"]["json"]["attributes"]
        assert list(errors.values()) == [[message]], errors
    definition = attribute_definitions(client)
    assert (definition["nombre"]["min"], definition["nombre"]["max"], definition["nombre"]["integer"]) == (
        1,
        10000,
        True,
    )
    assert [v["key"] for v in definition["comportement"]["values"]][:3] == ["repos", "vol", "chant"]


def test_a_walker_s_second_sighting_of_a_species_in_a_zone_that_day_is_a_me_too(client, session):
    device = str(uuid.uuid4())
    first = submit(client, sighting(zone="sausset-marais", device_id=device))
    assert first.status_code == 201
    assert first.get_json()["me_too"] is False
    again = sighting(zone="sausset-marais", device_id=device, attributes={"espece": "Ardea cinerea", "nombre": 5})
    second = submit(client, again, **{"Idempotency-Key": "walk-2"})
    assert second.status_code == 201
    body = second.get_json()
    assert body["me_too"] is True
    assert body["reference"] == first.get_json()["reference"]
    assert body["reporter_token"] == first.get_json()["reporter_token"]  # the same walker follows it
    retry = submit(client, again, **{"Idempotency-Key": "walk-2"})  # the network failed: sent twice
    assert retry.get_json()["reference"] == body["reference"]
    read = client.get(f"{API}/reports/{body['reference']}").get_json()
    assert [e["kind"] for e in read["timeline"]] == ["submitted", "routed", "seen_again"]
    # Another species, another zone or another walker: separate sightings.
    heron_elsewhere = submit(client, sighting(zone="sausset-bocage", device_id=device))
    kingfisher = submit(
        client, sighting(zone="sausset-marais", device_id=device, attributes={"espece": "Erithacus rubecula"})
    )
    someone_else = submit(client, sighting(zone="sausset-marais", device_id=str(uuid.uuid4())))
    references = {r.get_json()["reference"] for r in (heron_elsewhere, kingfisher, someone_else)} | {body["reference"]}
    assert len(references) == 4
    assert all(r.get_json()["me_too"] is False for r in (heron_elsewhere, kingfisher, someone_else))


def test_the_device_id_is_never_stored_nor_shown(client, session):
    device = str(uuid.uuid4())
    answer = submit(client, sighting(zone="sausset-marais", device_id=device))
    reference = answer.get_json()["reference"]
    report = session.scalar(select(Report).where(Report.id == int(reference[-6:])))
    stored = json.dumps({c.key: str(getattr(report, c.key)) for c in Report.__table__.columns})
    assert device not in stored
    assert device not in answer.get_data(as_text=True)
    assert device not in client.get(f"{API}/reports/{reference}").get_data(as_text=True)
