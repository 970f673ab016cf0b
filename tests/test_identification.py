"""The nature directorate's ecologists review a sighting's species in triage: confirm it, correct
it (the trail keeps both, every public output shows the corrected one), or mark it unverifiable.
A correction to or from a sensitive species moves the public point at once."""

from __future__ import annotations

import io
import math
import zipfile

from sqlalchemy import select

from backend.reports.models import Report, ReportEvent
from tests.factories import SAUSSET_MARAIS, bearer_for, make_agent, near, report_payload, submit
from tests.test_dwca import DWC, read
from tests.test_notifications import mailing_app  # noqa: F401 (a fixture)

API = "/api/v1"
HERON = {"espece": "Ardea cinerea", "nombre": 2}


def ecologist(session) -> dict[str, str]:
    return bearer_for(session, make_agent(session, "ecologue@seinesaintdenis.fr", directorate="DNPB"))


def sighting(client, attributes=None) -> str:
    payload = report_payload("observation-espece", at=SAUSSET_MARAIS, attributes=attributes or dict(HERON))
    answer = submit(client, payload)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["reference"]


def review(client, reference: str, headers: dict, **body):
    if "version" not in body:
        body["version"] = client.get(f"{API}/triage/reports/{reference}", headers=headers).get_json()["version"]
    return client.put(f"{API}/triage/reports/{reference}/identification", json=body, headers=headers)


def zone_counts(client) -> dict[str, int]:
    card = client.get(f"{API}/zones/park_zone/sausset-marais").get_json()["properties"]
    return {seen["scientific_name"]: seen["sightings"] for seen in card["observed"]}


def test_a_confirmed_sighting_says_so_in_public(client, session):
    agent = ecologist(session)
    reference = sighting(client)
    assert client.get(f"{API}/reports/{reference}").get_json()["identification"] is None
    answer = review(client, reference, agent, verdict="confirmed", note="Photo nette")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["identification"] == "confirmed"
    public = client.get(f"{API}/reports/{reference}").get_json()
    assert public["identification"] == "confirmed"
    assert "Photo nette" not in str(public)  # the note is for the trail
    event = session.scalar(select(ReportEvent).where(ReportEvent.kind == "identification_reviewed"))
    assert event.data == {
        "verdict": "confirmed",
        "species_before": "Ardea cinerea",
        "species_after": "Ardea cinerea",
        "note": "Photo nette",
    }
    assert event.public is False


def test_a_correction_shows_the_right_species_everywhere_and_the_trail_keeps_both(client, session):
    agent = ecologist(session)
    reference = sighting(client)
    assert zone_counts(client) == {"Ardea cinerea": 1}
    answer = review(client, reference, agent, verdict="corrected", species="Fulica atra")
    assert answer.status_code == 200
    assert client.get(f"{API}/reports/{reference}").get_json()["attributes"]["espece"] == "Fulica atra"
    assert zone_counts(client) == {"Fulica atra": 1}
    trail = client.get(f"{API}/triage/reports/{reference}", headers=agent).get_json()["trail"]
    reviewed = next(e for e in trail if e["kind"] == "identification_reviewed")
    assert (reviewed["data"]["species_before"], reviewed["data"]["species_after"]) == ("Ardea cinerea", "Fulica atra")


def test_a_correction_to_a_sensitive_species_hides_its_point_at_once_and_back(mailing_app, session):  # noqa: F811
    app, box = mailing_app
    client = app.test_client()
    agent = ecologist(session)
    reference = sighting(client)
    exact = client.get(f"{API}/reports/{reference}").get_json()["location"]
    assert near(exact, *SAUSSET_MARAIS, 1)
    assert review(client, reference, agent, verdict="corrected", species="Ixobrychus minutus").status_code == 200
    public = client.get(f"{API}/reports/{reference}").get_json()
    assert public["location"]["precision"] == "coarsened"
    assert public["location"]["uncertainty_m"] > 500
    assert not near(public["location"], *SAUSSET_MARAIS, 300)
    assert "Ixobrychus" not in client.get(f"{API}/zones/park_zone/sausset-marais").get_data(as_text=True)
    report = session.scalar(select(Report).where(Report.id == int(reference[-6:])))
    assert (report.sensitive, report.priority) == (True, 2)
    urgent = sorted(m["To"] for m in box.messages if m["Subject"].startswith("[URGENT]"))
    assert urgent == ["dnpb-sausset@signal93.invalid", "odbu@signal93.invalid"]
    # Not a bittern after all: a heron, at its own point again.
    assert review(client, reference, agent, verdict="corrected", species="Ardea cinerea").status_code == 200
    back = client.get(f"{API}/reports/{reference}").get_json()["location"]
    assert near(back, *SAUSSET_MARAIS, 1)
    assert back["precision"] == "exact"


def test_an_unverifiable_sighting_leaves_the_counts(client, session):
    agent = ecologist(session)
    reference = sighting(client)
    sighting(client, {"espece": "Fulica atra"})
    assert review(client, reference, agent, verdict="unverifiable").status_code == 200
    assert zone_counts(client) == {"Fulica atra": 1}
    richness = client.get(f"{API}/parks/sausset/biodiversity").get_json()["species_richness"]
    assert richness == 1


def test_the_archive_says_how_each_identification_was_checked(client, session, tmp_path):
    agent = ecologist(session)
    corrected = sighting(client)
    confirmed = sighting(client, {"espece": "Fulica atra"})
    unreviewed = sighting(client, {"espece": "Fulica atra", "nombre": 3})
    was_sensitive = sighting(client, {"espece": "Ixobrychus minutus"})
    review(client, corrected, agent, verdict="corrected", species="Fulica atra")
    review(client, confirmed, agent, verdict="confirmed")
    review(client, was_sensitive, agent, verdict="corrected", species="Ardea cinerea")
    archive = tmp_path / "dwca.zip"
    archive.write_bytes(client.get(f"{API}/observations/dwca.zip").get_data())
    assert zipfile.is_zipfile(io.BytesIO(archive.read_bytes()))
    _, rows = read(archive)
    by_reference = {data[DWC + "occurrenceID"].rsplit("/", 1)[1]: data for data, _ in rows}
    assert by_reference[corrected][DWC + "identificationVerificationStatus"] == "verified"
    assert by_reference[corrected][DWC + "previousIdentifications"] == "Ardea cinerea"
    assert by_reference[confirmed][DWC + "identificationVerificationStatus"] == "verified"
    assert by_reference[unreviewed][DWC + "identificationVerificationStatus"] == "unverified"
    # Once a bittern by mistake: the heron is at its own point, and the bittern is not named there.
    assert by_reference[was_sensitive][DWC + "scientificName"] == "Ardea cinerea"
    assert by_reference[was_sensitive][DWC + "previousIdentifications"] == ""
    lat, lon = (float(by_reference[was_sensitive][DWC + k]) for k in ("decimalLatitude", "decimalLongitude"))
    assert math.isclose(lat, SAUSSET_MARAIS[1], abs_tol=1e-6)
    assert math.isclose(lon, SAUSSET_MARAIS[0], abs_tol=1e-6)


def test_reviews_that_cannot_be_recorded_are_refused_on_their_field(client, session):
    agent = ecologist(session)
    reference = sighting(client)
    for body, field, message in (
        ({"verdict": "corrected"}, "species", "the right species is required to correct it"),
        ({"verdict": "corrected", "species": "Ardea cinerea"}, "species", "is already the species named"),
        ({"verdict": "corrected", "species": "Draco volans"}, "species", "not in the species list"),
        ({"verdict": "confirmed", "species": "Fulica atra"}, "species", "only a correction names a species"),
        ({"verdict": "peut-être"}, "verdict", "Must be one of"),
        ({"verdict": "corrected", "species": "x" * 201}, "species", "Length must be between 1 and 200."),
    ):
        answer = review(client, reference, agent, **body)
        assert answer.status_code == 422, body
        messages = answer.get_json()["errors"]["json"][field]
        assert any(message in m for m in messages), (body, messages)
    stale = review(client, reference, agent, verdict="confirmed", version=99)
    assert (stale.status_code, stale.get_json()["code"]) == (412, "stale_report")
    pothole = submit(client, report_payload()).get_json()["reference"]
    admin = bearer_for(session, make_agent(session, "admin@seinesaintdenis.fr", directorate="DVD", role="admin"))
    refused = review(client, pothole, admin, verdict="confirmed")
    assert (refused.status_code, refused.get_json()["code"]) == (409, "not_a_sighting")
    roads = bearer_for(session, make_agent(session, "voirie@seinesaintdenis.fr", directorate="DVD"))
    hidden = review(client, reference, roads, verdict="confirmed", version=1)
    assert (hidden.status_code, hidden.get_json()["code"]) == (404, "report_not_found")


def test_an_unknown_species_is_named_by_a_correction_not_a_confirmation(client, session):
    from tests.media.files import jpeg_from_phone
    from tests.media.test_intake import post_multipart

    agent = ecologist(session)
    payload = report_payload("observation-espece", at=SAUSSET_MARAIS, attributes={"nombre": 1})
    reference = post_multipart(client, payload, photos=[("bestiole.jpg", jpeg_from_phone())]).get_json()["reference"]
    refused = review(client, reference, agent, verdict="confirmed")
    assert refused.status_code == 422
    assert "cannot be confirmed" in refused.get_json()["errors"]["json"]["verdict"][0]
    assert review(client, reference, agent, verdict="corrected", species="Fulica atra").status_code == 200
    assert client.get(f"{API}/reports/{reference}").get_json()["attributes"]["espece"] == "Fulica atra"
    assert zone_counts(client) == {"Fulica atra": 1}
