"""Open311 GeoReport v2 at /open311/v2: the spec's documents in XML and JSON (bare arrays), the write
API through the native intake with an admin-issued key, its errors in the spec's shape, and nothing
personal in any output."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import insert, select

from backend import deps
from backend.db import utcnow
from backend.open311 import clients
from backend.reports.models import Report, ReportEvent
from tests.factories import (
    NOISY_LE_SEC_STREET,
    ON_RD932_PANTIN,
    PARIS_NOTRE_DAME,
    bearer_for,
    make_agent,
    report_payload,
    submit,
)
from tests.media.files import jpeg_from_phone

BASE = "/open311/v2"
PLANTED = {
    "email": "planted.reporter@example.org",
    "first_name": "Zébulon",
    "last_name": "Planté",
    "phone": "+33612345678",
    "device_id": "device-planted-0042",
    "account_id": "account-planted-7",
}


@pytest.fixture
def key(app, session) -> str:
    _, issued = clients.issue(session, "GRC de test", secret_key=deps.current(app).settings.secret_key, now=utcnow())
    session.commit()
    return issued


def xml(answer) -> ElementTree.Element:
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    body = answer.get_data()
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ElementTree.fromstring(body)  # noqa: S314 (our own answer)


def pothole(key: str, **extra) -> dict:
    lon, lat = ON_RD932_PANTIN
    return (
        {"api_key": key, "service_code": "nid-de-poule", "lat": str(lat), "long": str(lon)}
        | {"attribute[taille]": "moyen"}
        | extra
    )


def test_discovery_names_the_endpoint_and_its_formats(client):
    found = client.get(f"{BASE}/discovery.json").get_json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(found)
    (endpoint,) = found["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://signal93.test/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert {"changeset", "type"} <= set(endpoint)
    document = xml(client.get(f"{BASE}/discovery.xml"))
    assert document.tag == "discovery"
    assert [f.text for f in document.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


def test_services_are_the_active_categories_as_bare_arrays(client):
    services = client.get(f"{BASE}/services.json").get_json()
    assert isinstance(services, list)
    pothole_service = next(s for s in services if s["service_code"] == "nid-de-poule")
    assert pothole_service == {
        "service_code": "nid-de-poule",
        "service_name": "Nid-de-poule",
        "description": "Trou ou affaissement de la chaussée.",
        "metadata": True,
        "type": "realtime",
        "keywords": "chaussée,trou,route",
        "group": "Patrouillage",
    }
    document = xml(client.get(f"{BASE}/services.xml"))
    assert document.tag == "services"
    assert len(document.findall("service")) == len(services)
    first = document.find("service")
    assert [child.tag for child in first] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    lon, lat = ON_RD932_PANTIN
    here = client.get(f"{BASE}/services.json?lat={lat}&long={lon}").get_json()
    assert "nid-de-poule" in {s["service_code"] for s in here}
    paris = client.get(f"{BASE}/services.json?lat={PARIS_NOTRE_DAME[1]}&long={PARIS_NOTRE_DAME[0]}").get_json()
    assert paris == []  # nobody here handles anything in Paris


def test_a_service_definition_comes_from_the_category_s_attributes(client):
    definition = client.get(f"{BASE}/services/trottoir-degrade.json").get_json()
    assert definition["service_code"] == "trottoir-degrade"
    genes = next(a for a in definition["attributes"] if a["code"] == "genes")
    assert genes == {
        "variable": True,
        "code": "genes",
        "datatype": "multivaluelist",
        "required": False,
        "datatype_description": None,
        "order": genes["order"],
        "description": "Qui est gêné ?",
        "values": [
            {"key": "pietons", "name": "Piétons"},
            {"key": "pmr", "name": "Personnes à mobilité réduite"},
            {"key": "poussettes", "name": "Poussettes"},
        ],
    }
    document = xml(client.get(f"{BASE}/services/trottoir-degrade.xml"))
    assert document.tag == "service_definition"
    assert [v.find("key").text for v in document.findall("attributes/attribute/values/value")][:3] == [
        "pietons",
        "pmr",
        "poussettes",
    ]
    assert client.get(f"{BASE}/services/nope.json").status_code == 404


def test_a_form_post_goes_where_the_native_api_sends_it_in_both_formats(client, session, key):
    created = client.post(f"{BASE}/requests.json", data=pothole(key, description="Trou profond"))
    assert created.status_code == 200, created.get_json()
    (answer,) = created.get_json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    native = submit(client, report_payload()).get_json()
    report = client.get(f"{BASE}/requests/{answer['service_request_id']}.json").get_json()
    assert len(report) == 1
    request = report[0]
    assert request["agency_responsible"] == native["routing"]["directorate"]["name"]
    assert request["service_notice"] == native["routing"]["message"] == answer["service_notice"]
    assert (request["status"], request["service_code"], request["address"]) == ("open", "nid-de-poule", "Pantin")
    assert (request["lat"], request["long"]) == (ON_RD932_PANTIN[1], ON_RD932_PANTIN[0])
    assert request["description"] is None  # not published by an agent
    assert request["requested_datetime"].endswith("+01:00")
    stored = session.scalar(select(ReportEvent).where(ReportEvent.kind == "submitted").order_by(ReportEvent.id))
    assert stored.data == {"channel": "open311", "client": "GRC de test"}
    in_xml = xml(client.post(f"{BASE}/requests.xml", data=pothole(key, description="Autre trou")))
    assert in_xml.tag == "service_requests"
    reference = in_xml.find("request/service_request_id").text
    document = xml(client.get(f"{BASE}/requests/{reference}.xml"))
    assert document.find("request/status").text == "open"
    assert document.find("request/service_name").text == "Nid-de-poule"


def test_a_street_pothole_is_referred_with_its_message(client, key):
    lon, lat = NOISY_LE_SEC_STREET
    (answer,) = client.post(f"{BASE}/requests.json", data=pothole(key, lat=str(lat), long=str(lon))).get_json()
    assert "gérée par la commune (Noisy-le-Sec)" in answer["service_notice"]
    request = client.get(f"{BASE}/requests/{answer['service_request_id']}.json").get_json()[0]
    assert (request["status"], request["agency_responsible"]) == ("closed", "Commune de Noisy-le-Sec")


def test_multivaluelist_attributes_and_photos_as_media(app, client, session, key):
    from backend.app import inline_queue
    from tests.factories import use_queue

    use_queue(app, inline_queue(app))  # the photo's derivatives made at once, whatever the pass
    lon, lat = ON_RD932_PANTIN
    form = {"api_key": key, "service_code": "trottoir-degrade", "lat": str(lat), "long": str(lon)}
    data = form | {"attribute[genes][]": ["pietons", "pmr"]}
    data["media"] = (io.BytesIO(jpeg_from_phone()), "trottoir.jpg")
    answer = client.post(f"{BASE}/requests.json", data=data, content_type="multipart/form-data")
    assert answer.status_code == 200, answer.get_json()
    reference = answer.get_json()[0]["service_request_id"]
    native = client.get(f"/api/v1/reports/{reference}").get_json()
    assert native["attributes"]["genes"] == ["pietons", "pmr"]
    assert [m["kind"] for m in native["media"]] == ["photo"]
    request = client.get(f"{BASE}/requests/{reference}.json?extensions=true").get_json()[0]
    assert request["media_url"] == f"http://signal93.test/api/v1/media/{native['media'][0]['id']}/display"
    extended = request["extended_attributes"]
    assert (extended["program"], extended["directorate"]) == ("patrouillage", "DVD")
    assert extended["photos"][0]["width"] > 0


@pytest.mark.parametrize(
    ("method", "path", "data", "status", "words"),
    [
        ("post", "/requests.json", {"service_code": "nid-de-poule"}, 403, "api_key"),
        ("post", "/requests.json", {"api_key": "o311_wrong", "service_code": "nid-de-poule"}, 403, "api_key"),
        ("get", "/requests.csv", None, 404, "unknown format"),
        ("get", "/services.json?jurisdiction_id=paris.fr", None, 404, "jurisdiction_id"),
        ("get", "/requests.json?start_date=hier", None, 400, "start_date"),
        ("get", "/requests.json?start_date=2026-01-01T00:00:00", None, 400, "offset"),
        (
            "get",
            "/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
            None,
            400,
            "90 days",
        ),
        ("get", "/requests.json?status=pending", None, 400, "status"),
        ("get", "/requests.json?page_size=5000", None, 400, "page_size"),
        ("get", "/requests.json?page=-1", None, 400, "page"),
        ("get", "/services.json?lat=1e308&long=2", None, 400, "lat"),
        ("get", "/requests/S93-2026-999999.json", None, 404, "S93-2026-999999"),
        ("get", "/requests/nope.xml", None, 404, "nope"),
        ("get", "/tokens/abc.json", None, 404, "realtime"),
    ],
)
def test_errors_come_in_the_spec_s_shape(client, method, path, data, status, words):
    answer = getattr(client, method)(f"{BASE}{path}", data=data)
    assert answer.status_code == status
    if path.endswith(".xml"):
        error = xml(answer).find("error")
        assert (error.find("code").text, words in error.find("description").text) == (str(status), True)
        return
    (error,) = answer.get_json()
    assert error["code"] == status
    assert words in error["description"]


@pytest.mark.parametrize(
    ("extra", "status", "words"),
    [
        ({"service_code": "trou-noir"}, 404, "unknown service_code"),
        ({"lat": "", "long": "", "address_string": "12 rue de Paris, Pantin"}, 400, "address_string alone"),
        ({"lat": "", "long": ""}, 400, "lat and long are required"),
        ({"lat": "quarante-huit"}, 400, "lat: not a number"),
        ({"lat": str(PARIS_NOTRE_DAME[1]), "long": str(PARIS_NOTRE_DAME[0])}, 400, "outside"),
        ({"attribute[taille]": "enorme"}, 400, "taille"),
        ({"attribute[inconnu]": "x"}, 400, "attribute[inconnu]"),
        ({"description": "x" * 4001}, 400, "description"),
        ({"email": "pas-une-adresse"}, 400, "email"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ],
)
def test_posts_that_cannot_be_reports_are_400s_or_404s(client, session, key, extra, status, words):
    answer = client.post(f"{BASE}/requests.json", data=pothole(key) | extra)
    assert answer.status_code == status, answer.get_json()
    assert words in answer.get_json()[0]["description"]
    assert session.scalar(select(Report.id)) is None


def test_an_empty_jurisdiction_is_absent_and_ours_is_accepted(client):
    for query in ("", "?jurisdiction_id=", "?jurisdiction_id=seine-saint-denis.fr"):
        assert client.get(f"{BASE}/services.json{query}").status_code == 200


def test_the_same_device_and_body_on_a_day_is_one_request(client, session, key):
    form = pothole(key, device_id="phone-1")
    first = client.post(f"{BASE}/requests.json", data=form).get_json()[0]
    again = client.post(f"{BASE}/requests.json", data=form).get_json()[0]
    assert again["service_request_id"] == first["service_request_id"]
    keyed = pothole(key)
    one = client.post(f"{BASE}/requests.json", data=keyed, headers={"Idempotency-Key": "crm-42"}).get_json()[0]
    two = client.post(f"{BASE}/requests.json", data=keyed, headers={"Idempotency-Key": "crm-42"}).get_json()[0]
    assert one["service_request_id"] == two["service_request_id"]
    assert len(session.scalars(select(Report.id)).all()) == 2


def test_the_window_the_filters_and_the_cap(client, session, key):
    reference = client.post(f"{BASE}/requests.json", data=pothole(key)).get_json()[0]["service_request_id"]
    row = session.scalar(select(Report))
    columns = {c.key: getattr(row, c.key) for c in Report.__table__.columns if c.key != "id"}
    old = utcnow() - timedelta(days=120)
    session.execute(insert(Report), [columns | {"received_at": old, "idempotency_key": None}])
    session.execute(
        insert(Report),
        [columns | {"idempotency_key": None, "received_at": utcnow() - timedelta(minutes=i)} for i in range(1, 1001)],
    )
    session.commit()
    recent = client.get(f"{BASE}/requests.json").get_json()
    assert len(recent) == 1000  # 1,002 in the window: at most 1,000
    second = client.get(f"{BASE}/requests.json?page=2&page_size=600").get_json()
    assert len(second) == 1001 - 600 + 0  # 1,001 recent ones: the second page of 600 has 401
    old_window = utcnow() - timedelta(days=130), utcnow() - timedelta(days=100)
    window = f"start_date={old_window[0].isoformat()}&end_date={old_window[1].isoformat()}".replace("+", "%2B")
    assert len(client.get(f"{BASE}/requests.json?{window}").get_json()) == 1
    assert client.get(f"{BASE}/requests.json?status=closed").get_json() == []
    assert client.get(f"{BASE}/requests.json?service_code=odeur").get_json() == []
    both = client.get(f"{BASE}/requests.json?service_request_id={reference},S93-2026-999999&status=closed")
    assert [r["service_request_id"] for r in both.get_json()] == [reference]  # the ids override the rest


def test_updates_and_public_notes_are_shared_with_crms(client, session, key):
    reference = client.post(f"{BASE}/requests.json", data=pothole(key)).get_json()[0]["service_request_id"]
    agent = bearer_for(session, make_agent(session, "agent.dvd@seinesaintdenis.fr", directorate="DVD"))
    client.post(
        f"/api/v1/triage/reports/{reference}/transitions",
        json={"to": "acknowledged", "note": "Intervention jeudi", "note_public": True, "version": 1},
        headers=agent,
    )
    client.post(
        f"/api/v1/triage/reports/{reference}/notes",
        json={"note": "Appeler le riverain", "public": False, "version": 2},
        headers=agent,
    )
    request = client.get(f"{BASE}/requests/{reference}.json").get_json()[0]
    assert request["status_notes"] == "Intervention jeudi"
    updates = client.get(f"{BASE}/servicerequestupdates.json").get_json()
    assert [(u["service_request_id"], u["status"], u["description"]) for u in updates] == [
        (reference, "open", "Intervention jeudi")
    ]
    assert "Appeler le riverain" not in json.dumps(updates)
    document = xml(client.get(f"{BASE}/servicerequestupdates.xml"))
    assert document.tag == "service_requests_updates"
    assert document.find("request_update/update_id").text == updates[0]["update_id"]


def test_nothing_personal_leaves_through_open311(client, session, key):
    reference = client.post(f"{BASE}/requests.json", data=pothole(key, **PLANTED)).get_json()[0]["service_request_id"]
    outputs = {}
    for fmt in ("json", "xml"):
        for path in (
            f"/requests.{fmt}",
            f"/requests.{fmt}?extensions=true",
            f"/requests/{reference}.{fmt}?extensions=true",
            f"/servicerequestupdates.{fmt}",
        ):
            outputs[path] = client.get(f"{BASE}{path}").get_data(as_text=True)
    assert all(reference in output for path, output in outputs.items() if "updates" not in path)
    for output in outputs.values():
        for value in PLANTED.values():
            assert value not in output, value
    stored = session.scalar(select(Report).where(Report.id == int(reference[-6:])))
    assert stored.reporter.email == PLANTED["email"]  # kept for the agents
    assert "device-planted" not in json.dumps([e.data for e in stored.events])


def test_keys_are_issued_and_revoked_by_admins(client, session):
    admin = bearer_for(session, make_agent(session, "admin@seinesaintdenis.fr", directorate="DVD", role="admin"))
    agent = bearer_for(session, make_agent(session, "agent@seinesaintdenis.fr", directorate="DVD"))
    refused = client.post("/api/v1/admin/open311/clients", json={"name": "App"}, headers=agent)
    assert refused.status_code == 403
    issued = client.post("/api/v1/admin/open311/clients", json={"name": "Appli hackathon"}, headers=admin)
    assert issued.status_code == 201
    key = issued.get_json()["key"]
    assert client.post(f"{BASE}/requests.json", data=pothole(key)).status_code == 200
    twice = client.post("/api/v1/admin/open311/clients", json={"name": "Appli hackathon"}, headers=admin)
    assert (twice.status_code, twice.get_json()["code"]) == (409, "open311_client_exists")
    listed = client.get("/api/v1/admin/open311/clients", headers=admin).get_json()["items"]
    assert [c["name"] for c in listed] == ["Appli hackathon"]
    assert key not in json.dumps(listed)
    revoked = client.delete("/api/v1/admin/open311/clients/Appli hackathon", headers=admin)
    assert revoked.get_json()["revoked_at"] is not None
    assert client.post(f"{BASE}/requests.json", data=pothole(key)).status_code == 403


def test_keys_from_the_command_line(app, session):
    runner = app.test_cli_runner()
    issued = runner.invoke(args=["open311", "keys", "issue", "GRC DEA"])
    assert issued.exit_code == 0, issued.output
    key = issued.output.strip().splitlines()[-1]
    assert key.startswith("o311_")
    assert "GRC DEA" in runner.invoke(args=["open311", "keys", "list"]).output
    client = app.test_client()
    assert client.post(f"{BASE}/requests.json", data=pothole(key)).status_code == 200
    assert runner.invoke(args=["open311", "keys", "revoke", "GRC DEA"]).exit_code == 0
    assert client.post(f"{BASE}/requests.json", data=pothole(key)).status_code == 403
    assert runner.invoke(args=["open311", "keys", "revoke", "nobody"]).exit_code != 0


def test_posts_are_rate_limited_per_key(client, key):
    statuses = [client.post(f"{BASE}/requests.json", data=pothole(key, lat="x")).status_code for _ in range(31)]
    assert statuses[:30] == [400] * 30
    assert statuses[30] == 429


def test_a_stored_control_character_or_surrogate_never_breaks_a_document(client, session, key):
    reference = client.post(f"{BASE}/requests.json", data=pothole(key)).get_json()[0]["service_request_id"]
    session.add(
        ReportEvent(
            report_id=int(reference[-6:]),
            kind="note",
            at=utcnow(),
            actor_type="agent",
            public=True,
            data={"note": "bip\x07 \udc00 fin"},
        )
    )
    session.commit()
    document = xml(client.get(f"{BASE}/requests/{reference}.xml"))
    assert document.find("request/status_notes").text == "bip\ufffd \ufffd fin"
    assert client.get(f"{BASE}/requests/{reference}.json").status_code == 200
    page = client.get(f"/suivi/{reference}")
    assert page.status_code == 200
    assert "bip" in page.get_data(as_text=True)
