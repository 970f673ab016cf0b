"""API keys: a recognisable format, verified in constant time, refused with a precise reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sandbox import keys, services
from sandbox.app import create_sandbox_app
from sandbox.models import ApiKey
from tests.factories import report_payload
from tests.sandbox.conftest import auth, register


def test_keys_are_recognisable_offline_and_a_typo_is_caught():
    key = keys.generate()
    assert key.startswith("s93_")
    assert len(key) == keys.KEY_LENGTH
    assert keys.well_formed(key)
    typo = key[:10] + ("A" if key[10] != "A" else "B") + key[11:]
    assert not keys.well_formed(typo)
    assert not keys.well_formed("s93_" + "x" * 10)
    assert keys.generate() != key


def test_only_an_hmac_and_a_display_prefix_are_stored(session, team_key):
    _, key = team_key
    row = session.scalar(select(ApiKey))
    assert row.prefix == key[:12]
    assert key not in (row.digest, row.prefix)
    assert len(row.digest) == 64


@pytest.mark.parametrize("how", ["authorization", "x-api-key", "query"])
def test_a_key_is_accepted_in_each_documented_place(sandbox, team_key, how):
    _, key = team_key
    if how == "authorization":
        response = sandbox.get("/api/v1/reports", headers={"Authorization": f"Apikey {key}"})
    elif how == "x-api-key":
        response = sandbox.get("/api/v1/reports", headers={"X-API-Key": key})
    else:
        response = sandbox.get(f"/api/v1/reports?apikey={key}")
    assert response.status_code == 200, response.get_json()


def test_each_refusal_has_its_own_code(sandbox, session, team_key, sandbox_app):
    team, key = team_key
    missing = sandbox.get("/api/v1/reports")
    assert (missing.status_code, missing.get_json()["code"]) == (401, "api_key_missing")
    invalid = sandbox.get("/api/v1/reports", headers=auth(key[:-1] + ("x" if key[-1] != "x" else "y")))
    assert (invalid.status_code, invalid.get_json()["code"]) == (401, "api_key_invalid")
    unknown = sandbox.get("/api/v1/reports", headers=auth(keys.generate()))
    assert (unknown.status_code, unknown.get_json()["code"]) == (401, "api_key_invalid")

    services.set_team_status(session, team, "suspended")
    session.commit()
    suspended = sandbox.get("/api/v1/reports", headers=auth(key))
    assert (suspended.status_code, suspended.get_json()["code"]) == (403, "team_suspended")
    services.set_team_status(session, team, "active")

    row = session.scalar(select(ApiKey))
    row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    session.commit()
    expired = sandbox.get("/api/v1/reports", headers=auth(key))
    assert (expired.status_code, expired.get_json()["code"]) == (401, "api_key_expired")

    services.revoke_key(session, prefix=row.prefix, now=datetime.now(UTC))
    session.commit()
    revoked = sandbox.get("/api/v1/reports", headers=auth(key))
    assert (revoked.status_code, revoked.get_json()["code"]) == (401, "api_key_revoked")


def test_revocation_is_effective_at_once_in_every_process(settings, database, session, team_key):
    _, key = team_key
    first, second = (create_sandbox_app(settings, database=database).test_client() for _ in range(2))
    assert first.get("/api/v1/reports", headers=auth(key)).status_code == 200
    assert second.get("/api/v1/reports", headers=auth(key)).status_code == 200
    services.revoke_key(session, prefix=key[:12], now=datetime.now(UTC))
    session.commit()
    assert first.get("/api/v1/reports", headers=auth(key)).get_json()["code"] == "api_key_revoked"
    assert second.get("/api/v1/reports", headers=auth(key)).get_json()["code"] == "api_key_revoked"


def test_a_team_may_hold_several_keys_for_rotation(sandbox, session, team_key, settings):
    team, old = team_key
    _, new = services.issue_key(session, team, now=datetime.now(UTC), secret=services.key_secret(settings.secret_key))
    services.revoke_key(session, prefix=old[:12], now=datetime.now(UTC))
    session.commit()
    assert sandbox.get("/api/v1/reports", headers=auth(new)).status_code == 200
    assert sandbox.get("/api/v1/reports", headers=auth(old)).status_code == 401


def test_test_reports_are_routed_like_real_ones_and_stay_in_the_team_space(
    sandbox, client, session, team_key, event, settings
):
    _team, key = team_key
    payload = report_payload(reporter={"name": "Testeur", "email": "testeur@example.org"})
    created = sandbox.post("/api/v1/reports", json=payload, headers=auth(key))
    assert created.status_code == 201, created.get_json()
    result = created.get_json()["result"]
    assert result["routing"]["unit"]["code"] == "DVD-T8"
    assert "testeur@example.org" not in created.get_data(as_text=True)
    listed = sandbox.get("/api/v1/reports", headers=auth(key)).get_json()["items"]
    assert [r["id"] for r in listed] == [created.get_json()["id"]]
    # Nothing reached the real intake: no public report, no directorate queue.
    assert client.get("/api/v1/reports").get_json()["items"] == []
    # Another team sees nothing of it.
    _, other = register(session, settings, event.slug, "Autre équipe", "autre@example.org")
    assert sandbox.get("/api/v1/reports", headers=auth(other)).get_json()["items"] == []
    reset = sandbox.delete("/api/v1/reports", headers=auth(key))
    assert reset.get_json() == {"deleted": 1}
    assert sandbox.get("/api/v1/reports", headers=auth(key)).get_json()["items"] == []


def test_test_reports_are_refused_as_the_real_intake_would(sandbox, team_key):
    _, key = team_key
    outside = sandbox.post("/api/v1/reports", json=report_payload(at=(2.3499, 48.8530)), headers=auth(key))
    assert (outside.status_code, outside.get_json()["code"]) == (422, "outside_territory")
    unknown = sandbox.post("/api/v1/reports", json=report_payload(category="trou-noir"), headers=auth(key))
    assert (unknown.status_code, unknown.get_json()["code"]) == (422, "unknown_category")
    bad = sandbox.post("/api/v1/reports", json={"category": "nid-de-poule"}, headers=auth(key))
    assert bad.status_code == 422
    assert "location" in bad.get_json()["errors"]["json"]
    not_json = sandbox.post("/api/v1/reports", data="x", headers=auth(key))
    assert not_json.status_code == 415
    nul = sandbox.post("/api/v1/reports", json=report_payload(description="a\u0000b"), headers=auth(key))
    assert (nul.status_code, nul.get_json()["errors"]) == (422, {"json": {"description": ["contains a NUL character"]}})
