"""What each open dataset publishes, read as a reuser reads it (the Explore records through the
wsgi mount): the processing times per month, directorate and category; the sightings with
sensitive species generalised as the public API does; the categories and directorates; a
description an agent marked publishable, scrubbed; and nothing personal in any file of any
dataset."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import frictionless

from backend import deps
from backend.reports.models import Report, ReportEvent, parse_reference
from sandbox.models import DatasetVersion
from sandbox.opendata.snapshots import storage_key
from tests.factories import SAUSSET_MARAIS, SAUSSET_PARK_CENTRE, bearer_for, make_agent, near, report_payload, submit
from tests.sandbox.test_explore_api import build

BASE = "/sandbox/api/explore/v2.1/catalog/datasets"


def records(client, dataset, **query):
    answer = client.get(f"{BASE}/{dataset}/records", query_string={"limit": 100, **query})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["results"]


def move(client, headers, reference, to, version):
    answer = client.post(
        f"/api/v1/triage/reports/{reference}/transitions", json={"to": to, "version": version}, headers=headers
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["version"]


def test_processing_times_per_month_directorate_and_category(wsgi_app, session):
    client = wsgi_app.test_client()
    chief = bearer_for(session, make_agent(session, "chef.delais@seinesaintdenis.fr", role="supervisor"))
    references = [submit(client, report_payload()).get_json()["reference"] for _ in range(3)]
    submit(client, report_payload("debordement-avaloir"))
    version = move(client, chief, references[0], "acknowledged", 1)
    move(client, chief, references[0], "resolved", version)
    move(client, chief, references[1], "acknowledged", 1)
    # Acknowledged 10 h and 20 h after they were received; the first resolved 10 h after too (the
    # trail is append-only for the app: the test moves the clock under it, in SQL).
    events = ReportEvent.__table__
    for reference, hours in zip(references, (10, 20), strict=False):
        report = session.get(Report, parse_reference(reference)[1])
        for event in report.events:
            if event.kind == "status" and event.data["status"] in ("acknowledged", "resolved"):
                moved = report.received_at + timedelta(hours=hours)
                session.execute(events.update().where(events.c.id == event.id).values(at=moved))
    session.commit()
    received = session.get(Report, parse_reference(references[0])[1]).received_at
    build(wsgi_app, "--dataset", "delais-traitement")

    rows = records(client, "delais-traitement", where="directorate = 'DVD'", order_by="category")
    (potholes,) = rows
    month = received.replace(tzinfo=received.tzinfo or ZoneInfo("UTC")).astimezone(ZoneInfo("Europe/Paris"))
    assert potholes["month"] == month.strftime("%Y-%m")
    assert potholes["category"] == "nid-de-poule"
    assert (potholes["received"], potholes["acknowledged"], potholes["resolved"]) == (3, 2, 1)
    assert potholes["acknowledge_median_hours"] == 15.0
    assert potholes["acknowledge_p90_hours"] == 19.0
    assert potholes["resolve_median_hours"] == potholes["resolve_p90_hours"] == 10.0
    water = records(client, "delais-traitement", where="directorate = 'DEA'")
    assert [(row["received"], row["acknowledged"], row["acknowledge_median_hours"]) for row in water] == [(1, 0, None)]


def test_sightings_are_public_as_the_public_api_shows_them(wsgi_app, session, tmp_path):
    client = wsgi_app.test_client()
    rare = report_payload(
        "observation-espece", at=SAUSSET_MARAIS, attributes={"espece": "Ixobrychus minutus", "nombre": 1}
    )
    common = report_payload("observation-espece", at=SAUSSET_MARAIS)
    rare_reference = submit(client, rare).get_json()["reference"]
    submit(client, common)
    submit(client, report_payload())  # not a sighting
    build(wsgi_app, "--dataset", "observations-biodiversite")

    sightings = {row["species"]: row for row in records(client, "observations-biodiversite")}
    assert set(sightings) == {"Ixobrychus minutus", "Ardea cinerea"}
    heron = sightings["Ardea cinerea"]
    assert (heron["species_name"], heron["count"], heron["park"]) == ("Héron cendré", 2, "sausset")
    assert heron["geo_point_2d"] == {"lon": SAUSSET_MARAIS[0], "lat": SAUSSET_MARAIS[1]}  # exact: not sensitive
    assert heron["zone"] == "sausset-marais"
    bittern = sightings["Ixobrychus minutus"]
    public = client.get(f"/api/v1/reports/{rare_reference}").get_json()["location"]
    assert bittern["location_precision"] == "coarsened"
    assert bittern["zone"] is None  # a sensitive species is placed in no zone
    assert bittern["geo_point_2d"] == {"lon": public["lon"], "lat": public["lat"]}
    assert near(bittern["geo_point_2d"], *SAUSSET_PARK_CENTRE, metres=15)  # the park's point, not the marsh
    # The precise point of the sensitive sighting is in no file of any dataset.
    build(wsgi_app, "--all")
    exact = [str(SAUSSET_MARAIS[0]).encode(), str(SAUSSET_MARAIS[1]).encode()]
    for dataset, name, content in every_file(wsgi_app, session):
        if dataset in ("signalements", "observations-biodiversite"):
            for row in content.split(b"\n"):
                assert not (b"Ixobrychus" in row and any(value in row for value in exact)), (dataset, name)


def test_categories_and_directorates_are_published_without_their_addresses(wsgi_app, session):
    client = wsgi_app.test_client()
    build(wsgi_app, "--all")
    categories = {row["code"]: row for row in records(client, "categories")}
    assert categories["nid-de-poule"]["directorate"] == "DVD"
    assert categories["nid-de-poule"]["program_name"] == "Patrouillage"
    assert '"code": "taille"' in categories["nid-de-poule"]["attributes"]
    directorates = {row["code"]: row for row in records(client, "directions")}
    assert set(directorates) == {"DVD", "DEA", "DNPB"}
    assert directorates["DVD"]["units_count"] > 0
    assert "Territoire Plaine Commune" in directorates["DVD"]["units"]
    for _, name, content in every_file(wsgi_app, session):
        assert b"signal93.invalid" not in content, name  # where units are notified stays inside


def test_a_description_marked_publishable_is_published_scrubbed(wsgi_app, session):
    client = wsgi_app.test_client()
    contact = {"name": "Awa Diallo", "email": "awa.diallo@example.org", "phone": "06 11 22 33 44"}
    text = (
        "Trou profond devant le 12, signalé par Awa Diallo : écrivez à awa.diallo@example.org, "
        "appelez le 06 11 22 33 44, photos sur https://exemple.fr/trou"
    )
    marked = submit(client, report_payload(reporter={**contact, "consent_contact": True}, description=text))
    kept = submit(client, report_payload(description="Mon voisin M. Martin, 07 00 00 00 00"))
    agent = bearer_for(session, make_agent(session, "agent.publie@seinesaintdenis.fr", role="supervisor"))
    url = f"/api/v1/triage/reports/{marked.get_json()['reference']}/description-publication"
    published = client.put(url, json={"publishable": True, "version": 1}, headers=agent)
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["description_public"] is True
    assert published.get_json()["trail"][-1]["kind"] == "description_publication"
    build(wsgi_app, "--dataset", "signalements")

    descriptions = {
        row["reference"]: row["description"] for row in records(client, "signalements", select="reference, description")
    }
    assert descriptions[kept.get_json()["reference"]] is None
    assert descriptions[marked.get_json()["reference"]] == (
        "Trou profond devant le 12, signalé par [nom masqué] : écrivez à [courriel masqué], "
        "appelez le [téléphone masqué], photos sur [lien masqué]"
    )
    for _, name, content in every_file(wsgi_app, session):
        for personal in (b"Awa", b"awa.diallo", b"06 11 22 33 44", b"exemple.fr", b"Martin", b"07 00 00"):
            assert personal not in content, (name, personal)


def test_every_dataset_passes_the_frictionless_validator(wsgi_app, session, tmp_path):
    client = wsgi_app.test_client()
    submit(client, report_payload())
    submit(client, report_payload("observation-espece", at=SAUSSET_PARK_CENTRE))
    build(wsgi_app, "--all")
    storage = deps.current(wsgi_app).storage
    versions = session.query(DatasetVersion).all()
    assert len(versions) >= 11
    for version in versions:
        folder = tmp_path / version.dataset
        folder.mkdir()
        for name in version.files:
            (folder / name).write_bytes(storage.get(storage_key(version.dataset, version.version, name)))
        report = frictionless.validate(str(folder / "datapackage.json"))
        assert report.valid, (version.dataset, report.flatten(["type", "note"])[:5])


def every_file(app, session):
    storage = deps.current(app).storage
    for version in session.query(DatasetVersion).all():
        for name in version.files:
            yield version.dataset, name, storage.get(storage_key(version.dataset, version.version, name))
