"""What anyone may send without an account is limited per address (issue 17, item 6): reports, in
one budget whatever the way in (the API, the zone pages, the citizens' site), and "me too"
supports per address and per phone; a burst of supports from one place cannot lift a report."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace

import pytest

from backend.app import create_app
from tests.factories import report_payload, submit


@pytest.fixture
def limited(settings, database):
    from tests.conftest import TEST_REDIS_URL

    if TEST_REDIS_URL:  # the counters live in Redis on this pass: each test starts from zero
        import redis

        redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    app = create_app(
        replace(settings, intake_rate_limit="3 per minute;10 per hour", support_rate_limit="4 per minute"),
        database=database,
    )
    app.testing = True
    return app


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_reports_from_one_address_are_limited_with_the_standard_headers(limited):
    client = limited.test_client()
    answers = [client.post("/api/v1/reports", json=report_payload(), **from_address("203.0.113.5")) for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    refused = answers[-1]
    assert refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert answers[0].headers["X-RateLimit-Remaining"] == "2"
    # Another address (a neighbour) is not touched.
    assert client.post("/api/v1/reports", json=report_payload(), **from_address("203.0.113.6")).status_code == 201


def test_the_web_forms_share_the_address_s_budget(limited):
    client = limited.test_client()
    for _ in range(3):
        client.post("/api/v1/reports", json=report_payload(), environ_base={"REMOTE_ADDR": "127.0.0.1"})
    html = client.get("/signaler/nid-de-poule").get_data(as_text=True)
    form = {n: re.search(rf'name="{n}" value="([^"]*)"', html).group(1) for n in ("csrf_token", "idempotency_key")}
    page = client.post(
        "/signaler/nid-de-poule",
        data=form | {"lat": "48.901", "lon": "2.399", "attr-taille": "moyen"},
        content_type="multipart/form-data",
    )
    assert page.status_code == 429
    assert "Trop de demandes" in page.get_data(as_text=True)  # in French, as a page


def test_supports_are_limited_and_one_address_cannot_lift_a_report(limited, session):
    client = limited.test_client()
    reference = submit(client, report_payload()).get_json()["reference"]
    url = f"/api/v1/reports/{reference}/supports"
    burst = [client.post(url, json={"client_id": str(uuid.uuid4())}, **from_address("198.51.100.1")) for _ in range(5)]
    assert [a.status_code for a in burst] == [201, 201, 201, 201, 429]
    assert burst[-1].get_json()["code"] == "rate_limited"
    # Four phones behind one address: three count.
    assert client.get(f"/api/v1/reports/{reference}").get_json()["support_count"] == 3
    for i in range(2):
        client.post(url, json={"client_id": str(uuid.uuid4())}, **from_address(f"198.51.100.{10 + i}"))
    assert client.get(f"/api/v1/reports/{reference}").get_json()["support_count"] == 5
