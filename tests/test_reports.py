"""Report intake: what is accepted, what is refused (with nothing stored), retries, reads, supports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from backend.reports.models import AppendOnlyError, Report, Reporter, ReportEvent
from tests.factories import (
    NOISY_LE_SEC_STREET,
    ON_RD932_PANTIN,
    SAUSSET_MARAIS,
    SAUSSET_PARK_CENTRE,
    bearer_for,
    make_agent,
    near,
    report_payload,
    submit,
)


def count(session, model=Report) -> int:
    return session.scalar(select(func.count()).select_from(model))


def assert_refused(response, status: int, code: str, *fields: str) -> dict:
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["code"] == code
    assert body["message"]
    errors = body["errors"].get("json", {})
    for field in fields:
        assert field in errors, (field, body)
    return body


# --- accepted ------------------------------------------------------------------------------------


def test_submit_answers_201_with_location_reference_routing_and_a_token(client, session):
    response = submit(client)
    assert response.status_code == 201
    body = response.get_json()
    assert body["reference"].startswith(f"S93-{datetime.now(UTC).year}-")
    assert response.headers["Location"] == f"/api/v1/reports/{body['reference']}"
    assert body["routing"]["directorate"]["code"] == "DVD"
    assert body["similar_reports"] == []
    assert body["reporter_token"].startswith("rt_")
    stored = session.scalar(select(Report))
    assert stored.reporter_token_hash != body["reporter_token"]
    assert body["reporter_token"] not in str(stored.__dict__)
    assert [e.kind for e in stored.events] == ["submitted", "routed"]
    assert stored.events[1].data["rule"] == body["routing"]["rule"]


def test_reference_numbers_follow_each_other(client):
    first = submit(client).get_json()["reference"]
    second = submit(client).get_json()["reference"]
    assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1


# --- refused, nothing stored -------------------------------------------------------------------


def _without(payload: dict, *path: str) -> dict:
    target = payload
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return payload


def _with(payload: dict, value, *path: str) -> dict:
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return payload


NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        (report_payload(category="trou-noir"), "unknown_category", "category"),
        (_without(report_payload(), "category"), "validation_error", "category"),
        (_without(report_payload(), "location"), "validation_error", "location"),
        (_with(report_payload(), 91, "location", "lat"), "validation_error", "location"),
        (_with(report_payload(), -181, "location", "lon"), "validation_error", "location"),
        (_with(report_payload(), "48.9", "location", "lat"), "validation_error", "location"),
        (_with(report_payload(), True, "location", "lon"), "validation_error", "location"),
        (_with(report_payload(), -3, "location", "accuracy_m"), "validation_error", "location"),
        (_with(report_payload(), "x" * 4001, "description"), "validation_error", "description"),
        (
            _with(report_payload(), (NOW + timedelta(hours=12)).isoformat(), "observed_at"),  # however long the run
            "validation_error",
            "observed_at",
        ),
        (
            _with(report_payload(), (NOW - timedelta(days=31)).isoformat(), "observed_at"),
            "validation_error",
            "observed_at",
        ),
        (_with(report_payload(), "2026-11-28T10:00:00", "observed_at"), "validation_error", "observed_at"),
        (_with(report_payload(), "yesterday", "observed_at"), "validation_error", "observed_at"),
        (_with(report_payload(), {}, "attributes"), "validation_error", "attributes"),
        (_with(report_payload(), {"taille": "énorme"}, "attributes"), "validation_error", "attributes"),
        (_with(report_payload(), {"taille": 3}, "attributes"), "validation_error", "attributes"),
        (
            _with(report_payload(), {"taille": "moyen", "couleur": "rouge"}, "attributes"),
            "validation_error",
            "attributes",
        ),
        (
            report_payload("eclairage", attributes={"nombre-points": "trois"}),
            "validation_error",
            "attributes",
        ),
        (
            report_payload("trottoir-degrade", attributes={"genes": ["pietons", "chiens"]}),
            "validation_error",
            "attributes",
        ),
        (
            report_payload("odeur", attributes={"type-odeur": "egout", "depuis": "hier"}),
            "validation_error",
            "attributes",
        ),
        (_with(report_payload(), {"email": "not-an-email"}, "reporter"), "validation_error", "reporter"),
        (_with(report_payload(), {"phone": "call me"}, "reporter"), "validation_error", "reporter"),
        (_with(report_payload(), {"consent_contact": "yes"}, "reporter"), "validation_error", "reporter"),
        (_with(report_payload(), "not-a-uuid", "client_id"), "validation_error", "client_id"),
        (_with(report_payload(), "surprise", "priority"), "validation_error", "priority"),
    ],
)
def test_invalid_input_is_refused_with_the_field_and_nothing_stored(client, session, payload, code, field):
    before = (count(session), count(session, ReportEvent), count(session, Reporter))
    assert_refused(submit(client, payload), 422, code, field)
    assert (count(session), count(session, ReportEvent), count(session, Reporter)) == before


def test_nan_and_infinity_are_refused(client, session):
    body = '{"category": "nid-de-poule", "location": {"lat": NaN, "lon": Infinity}, "attributes": {"taille": "moyen"}}'
    response = client.post("/api/v1/reports", data=body, content_type="application/json")
    errors = assert_refused(response, 422, "validation_error", "location")["errors"]["json"]["location"]
    assert set(errors) == {"lat", "lon"}
    assert count(session) == 0


def test_non_json_body_is_415_and_malformed_json_400(client, session):
    form = client.post("/api/v1/reports", data={"category": "nid-de-poule"})
    assert form.status_code == 415
    assert form.get_json()["code"] == "unsupported_media_type"
    broken = client.post("/api/v1/reports", data='{"category": "nid-de-', content_type="application/json")
    assert broken.status_code == 400
    assert broken.get_json()["code"] == "invalid_json"
    assert count(session) == 0


def test_body_over_the_json_limit_is_413(client, session):
    payload = report_payload(description="x" * 70_000)
    response = submit(client, payload)
    assert response.status_code == 413
    assert response.get_json()["code"] == "request_too_large"
    assert count(session) == 0


# --- retries ------------------------------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_returns_the_same_report(client, session):
    key = str(uuid.uuid4())
    first = submit(client, report_payload(), **{"Idempotency-Key": key})
    again = submit(client, report_payload(), **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.get_json()["reference"] == first.get_json()["reference"]
    assert again.get_json()["reporter_token"] == first.get_json()["reporter_token"]
    assert again.headers["Location"] == first.headers["Location"]
    assert count(session) == 1


def test_a_retry_with_the_same_client_id_returns_the_same_report(client, session):
    payload = report_payload(client_id=str(uuid.uuid4()))
    first = submit(client, payload).get_json()
    again = submit(client, payload).get_json()
    assert again["reference"] == first["reference"]
    assert count(session) == 1


def test_the_same_key_with_a_different_body_is_a_conflict(client, session):
    key = str(uuid.uuid4())
    assert submit(client, report_payload(), **{"Idempotency-Key": key}).status_code == 201
    other = report_payload(description="Autre chose")
    response = submit(client, other, **{"Idempotency-Key": key})
    assert response.status_code == 409
    assert response.get_json()["code"] == "idempotency_conflict"
    assert count(session) == 1


def test_a_malformed_idempotency_key_is_a_400(client, session):
    response = submit(client, report_payload(), **{"Idempotency-Key": "x" * 300})
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_idempotency_key"
    assert count(session) == 0


# --- similar reports and supports ---------------------------------------------------------------


def test_similar_open_reports_nearby_come_back_nearest_first(client):
    first = submit(client).get_json()
    nearby = report_payload(at=(ON_RD932_PANTIN[0] + 0.0002, ON_RD932_PANTIN[1]))  # ~15 m east
    body = submit(client, nearby).get_json()
    assert [s["reference"] for s in body["similar_reports"]] == [first["reference"]]
    assert 10 < body["similar_reports"][0]["distance_m"] < 20
    assert body["similar_reports"][0]["status"] == "open"
    other_category = submit(client, report_payload("eclairage", attributes={})).get_json()
    assert other_category["similar_reports"] == []
    far = submit(client, report_payload(at=(ON_RD932_PANTIN[0], ON_RD932_PANTIN[1] + 0.002))).get_json()
    assert far["similar_reports"] == []  # ~220 m away, beyond the pothole radius


def test_supports_count_once_per_phone(client):
    reference = submit(client).get_json()["reference"]
    phone = str(uuid.uuid4())
    first = client.post(f"/api/v1/reports/{reference}/supports", json={"client_id": phone})
    assert first.status_code == 201
    assert first.get_json() == {"reference": reference, "support_count": 1}
    again = client.post(f"/api/v1/reports/{reference}/supports", json={"client_id": phone})
    assert again.status_code == 200
    assert again.get_json()["support_count"] == 1
    client.post(f"/api/v1/reports/{reference}/supports", json={"client_id": str(uuid.uuid4())})
    assert client.get(f"/api/v1/reports/{reference}").get_json()["support_count"] == 2


def test_support_errors(client):
    referred = submit(client, report_payload(at=NOISY_LE_SEC_STREET)).get_json()["reference"]
    closed = client.post(f"/api/v1/reports/{referred}/supports", json={"client_id": str(uuid.uuid4())})
    assert closed.status_code == 409
    assert closed.get_json()["code"] == "report_closed"
    missing = client.post("/api/v1/reports/S93-2026-999999/supports", json={"client_id": str(uuid.uuid4())})
    assert missing.status_code == 404
    reference = submit(client).get_json()["reference"]
    bad = client.post(f"/api/v1/reports/{reference}/supports", json={"client_id": 42})
    assert bad.status_code == 422
    assert "client_id" in bad.get_json()["errors"]["json"]


# --- reads ---------------------------------------------------------------------------------------


def test_public_view_has_the_report_and_its_timeline_but_no_private_data(client):
    payload = report_payload(
        reporter={
            "name": "Awa Diallo",
            "email": "awa@example.org",
            "phone": "+33 6 12 34 56 78",
            "consent_contact": True,
        },
        client_id=str(uuid.uuid4()),
    )
    reference = submit(client, payload).get_json()["reference"]
    body = client.get(f"/api/v1/reports/{reference}").get_json()
    assert body["reference"] == reference
    assert body["category"]["code"] == "nid-de-poule"
    assert body["program"] == "patrouillage"
    assert body["status"] == "open"
    assert body["location"] == {
        "lat": ON_RD932_PANTIN[1],
        "lon": ON_RD932_PANTIN[0],
        "precision": "exact",
        "uncertainty_m": None,
    }
    assert body["routing"]["directorate"]["code"] == "DVD"
    assert [e["kind"] for e in body["timeline"]] == ["submitted", "routed"]
    assert body["submitted"] is None
    text = str(body)
    for secret in ("Awa", "awa@example.org", "12 34", payload["client_id"], "Signalé depuis"):
        assert secret not in text


def test_the_reporter_token_shows_the_reporter_what_they_sent(client):
    payload = report_payload(reporter={"name": "Awa Diallo", "email": "awa@example.org", "consent_contact": True})
    created = submit(client, payload).get_json()
    headers = {"Authorization": f"Reporter {created['reporter_token']}"}
    body = client.get(f"/api/v1/reports/{created['reference']}", headers=headers).get_json()
    assert body["submitted"]["reporter"]["email"] == "awa@example.org"
    assert body["submitted"]["description"] == payload["description"]
    other = submit(client).get_json()
    wrong = client.get(f"/api/v1/reports/{other['reference']}", headers=headers)
    assert wrong.status_code == 401
    assert wrong.get_json()["code"] == "invalid_reporter_token"


def test_a_sensitive_species_is_shown_at_its_park_s_reference_point(client, session):
    payload = report_payload("observation-espece", at=SAUSSET_MARAIS, attributes={"espece": "Botaurus stellaris"})
    created = submit(client, payload).get_json()
    assert created["location"]["precision"] == "coarsened"
    public = client.get(f"/api/v1/reports/{created['reference']}").get_json()
    location = public["location"]
    assert location["precision"] == "coarsened"
    assert near(location, *SAUSSET_PARK_CENTRE, metres=15)  # the park's centre, not the marsh
    assert 790 < location["uncertainty_m"] < 810  # a 200-hectare disc's radius: 798 m
    dnpb = bearer_for(
        session, make_agent(session, "dnpb.sensible@seinesaintdenis.fr", directorate="DNPB", role="supervisor")
    )
    seen = client.get(f"/api/v1/triage/reports/{created['reference']}", headers=dnpb).get_json()
    assert seen["priority"] == "high"  # a sensitive species is seen to first
    assert seen["location"]["lon"] == SAUSSET_MARAIS[0]  # the DNPB sees the precise point
    assert public["attributes"]["espece"] == "Botaurus stellaris"
    # And no distance to it leaks through "similar reports".
    again = submit(client, payload).get_json()
    assert again["similar_reports"] == []
    common = submit(client, report_payload("observation-espece", at=SAUSSET_MARAIS)).get_json()
    assert common["location"] == {
        "lon": SAUSSET_MARAIS[0],
        "lat": SAUSSET_MARAIS[1],
        "precision": "exact",
        "uncertainty_m": None,
    }
    outside = report_payload("observation-espece", at=(2.4700, 48.8900), attributes={"espece": "Botaurus stellaris"})
    in_commune = submit(client, outside).get_json()["location"]  # no park there: its commune's centre
    assert not near(in_commune, 2.4700, 48.8900, metres=100)
    assert in_commune["uncertainty_m"] > 1000


def test_unknown_or_malformed_references_are_404(client):
    for reference in ("S93-2026-999999", "S93-1999-000001", "nonsense", "S93-2026-1"):
        response = client.get(f"/api/v1/reports/{reference}")
        assert response.status_code == 404
        assert response.get_json()["code"] == "report_not_found"
    real = submit(client).get_json()["reference"]
    _, year, number = real.split("-")
    assert client.get(f"/api/v1/reports/S93-{int(year) - 1}-{number}").status_code == 404


def test_list_is_newest_first_paginated_and_filtered(client):
    references = [submit(client).get_json()["reference"] for _ in range(5)]
    water = submit(client, report_payload("debordement-avaloir")).get_json()["reference"]
    page = client.get("/api/v1/reports?limit=4").get_json()
    assert [r["reference"] for r in page["items"]] == [water, *references[::-1][:3]]
    rest = client.get(f"/api/v1/reports?limit=4&cursor={page['next_cursor']}").get_json()
    assert [r["reference"] for r in rest["items"]] == references[1::-1]
    assert rest["next_cursor"] is None
    only_water = client.get("/api/v1/reports?program=vigies-eau").get_json()["items"]
    assert [r["reference"] for r in only_water] == [water]
    by_status = client.get("/api/v1/reports?status=referred,resolved").get_json()["items"]
    assert by_status == []
    # As generated clients send an array (the OpenAPI default: repeated), and both ways mixed.
    for query in ("status=referred&status=open", "status=referred,open", "status=referred&status=resolved,open"):
        both = client.get(f"/api/v1/reports?{query}").get_json()["items"]
        assert len(both) == 6, query
    box = client.get("/api/v1/reports?bbox=2.39,48.89,2.41,48.91&category=nid-de-poule").get_json()["items"]
    assert len(box) == 5


@pytest.mark.parametrize(
    "query",
    [
        "cursor=garbage",
        "cursor=WyJ4Il0",
        "limit=201",
        "limit=0",
        "status=lost",
        "bbox=1,2,3",
        "program=jardinage",
        "category=trou-noir",
        "since=yesterday",
    ],
)
def test_bad_list_queries_are_422(client, query):
    response = client.get(f"/api/v1/reports?{query}")
    assert response.status_code == 422, query
    assert response.get_json()["errors"]["query"]


def test_the_trail_is_append_only(client, session):
    submit(client)
    event = session.scalar(select(ReportEvent))
    event.kind = "tampered"
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    event = session.scalar(select(ReportEvent))
    session.delete(event)
    with pytest.raises(AppendOnlyError):
        session.flush()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0001-01-01T00:00+14:00", "is not a date any report can have"),
        ("2099-01-01T00:00+01:00", "is in the future"),
        ("2020-01-01T00:00+01:00", "is more than 30 days old"),
        ("2026-11-01T00:00", "must include a time zone offset"),
    ],
)
def test_a_datetime_attribute_follows_observed_at_s_rules(client, value, message):
    """Issue 17, item 10: a datetime attribute took 0001-01-01T00:00+14:00."""
    from tests.factories import NOISY_LE_SEC_STREET

    payload = report_payload("odeur", at=NOISY_LE_SEC_STREET, attributes={"depuis": value})
    answer = submit(client, payload)
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["json"]["attributes"]["depuis"] == [message]


def test_a_bounding_box_across_grid_cells_lists_what_it_holds_newest_first(client):
    """The list by box reads one 0.01 degree cell at a time: reports on each side of a cell
    corner are all found, in order, across pages, as a box too large for cells finds them."""
    corner = (2.47, 48.89)
    points = [(corner[0] + dx, corner[1] + dy) for dx in (-0.0001, 0.0001) for dy in (-0.0001, 0.0001)]
    inside = [
        submit(client, report_payload("debordement-avaloir", at=point)).get_json()["reference"] for point in points
    ]
    outside = submit(client, report_payload("debordement-avaloir", at=(2.4720, 48.8920))).get_json()["reference"]
    small = "bbox=2.4690,48.8890,2.4710,48.8910"
    first = client.get(f"/api/v1/reports?{small}&limit=3").get_json()
    rest = client.get(f"/api/v1/reports?{small}&limit=3&cursor={first['next_cursor']}").get_json()
    assert [r["reference"] for r in first["items"] + rest["items"]] == inside[::-1]
    assert rest["next_cursor"] is None
    large = client.get("/api/v1/reports?bbox=2.40,48.85,2.55,48.95&program=vigies-eau&limit=50").get_json()["items"]
    assert [r["reference"] for r in large] == [outside, *inside[::-1]]
    one_cell = client.get("/api/v1/reports?bbox=2.4701,48.8901,2.4703,48.8903").get_json()["items"]
    assert [r["reference"] for r in one_cell] == [inside[3]]
