"""Limits: each limited answer says where the caller stands; past the limit, a 429 that says why."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sandbox import services
from sandbox.limits import rate_window
from sandbox.models import Usage
from tests.sandbox.conftest import auth, with_time_left_in_the_window


def test_one_window_holds_the_rate_and_the_burst():
    assert rate_window(10, 20) == (20, 2)
    assert rate_window(5, 8) == (10, 2)
    assert rate_window(10, 5) == (10, 1)


HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit")


def test_limited_answers_carry_the_rate_limit_headers(sandbox, team_key):
    _, key = team_key
    response = sandbox.get("/api/v1/catalog/categories", headers=auth(key))
    assert response.status_code == 200
    for header in HEADERS:
        assert header in response.headers, header
    assert '"rate";q=10;w=2' in response.headers["RateLimit-Policy"]  # 5/s with a burst of 8
    assert '"quota";q=1000;w=86400' in response.headers["RateLimit-Policy"]


def test_past_the_rate_a_429_rate_limited_with_retry_after(sandbox, team_key):
    _, key = team_key
    with_time_left_in_the_window(2, needed=1.5)  # the event's rate: 10 per 2 s
    statuses = [sandbox.get("/api/v1/reports", headers=auth(key)).status_code for _ in range(10)]
    assert statuses == [200] * 10
    refused = sandbox.get("/api/v1/reports", headers=auth(key))
    assert refused.status_code == 429
    assert refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    for header in HEADERS:
        assert header in refused.headers


def test_past_the_daily_quota_a_429_quota_exceeded(sandbox, session, team_key):
    team, key = team_key
    services.set_team_limits(session, team, rate_per_second=None, burst=None, daily_quota=3)
    session.commit()
    assert [sandbox.get("/api/v1/reports", headers=auth(key)).status_code for _ in range(3)] == [200] * 3
    refused = sandbox.get("/api/v1/reports", headers=auth(key))
    assert refused.status_code == 429
    assert refused.get_json()["code"] == "quota_exceeded"
    assert "00:00 UTC" in refused.get_json()["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 86400


def test_keyless_calls_to_the_catalog_get_a_trial_limit_per_address(sandbox):
    with_time_left_in_the_window(60, needed=10)
    statuses = [sandbox.get("/api/v1/catalog/zones?kind=park").status_code for _ in range(60)]
    assert statuses == [200] * 60
    refused = sandbox.get("/api/v1/catalog/zones?kind=park")
    assert refused.status_code == 429
    assert refused.get_json()["code"] == "rate_limited"
    other_address = sandbox.get("/api/v1/catalog/zones?kind=park", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_address.status_code == 200


def test_keyless_calls_to_the_team_space_are_refused(sandbox):
    assert sandbox.get("/api/v1/reports").get_json()["code"] == "api_key_missing"


@pytest.mark.parametrize("path", ["/api/v1/catalog/zones?kind=volcano", "/api/v1/catalog/zones"])
def test_bad_catalog_queries_are_422(sandbox, team_key, path):
    _, key = team_key
    assert sandbox.get(path, headers=auth(key)).status_code == 422


def test_usage_is_counted_without_a_database_write_per_request(sandbox, sandbox_app, session, team_key):
    team, key = team_key
    for _ in range(4):
        sandbox.get("/api/v1/catalog/categories", headers=auth(key))
    sandbox.get("/api/v1/reports", headers=auth(key))
    assert session.scalar(select(func.count()).select_from(Usage)) == 0  # nothing written yet
    usage = sandbox_app.extensions["sandbox.usage"]
    services.store_usage(session, *usage.drain())
    rows = {row.endpoint: row.count for row in session.scalars(select(Usage))}
    assert rows == {"sandbox_catalog.Categories": 4, "sandbox_reports.TestReports": 1}
    assert team.keys[0].last_used_at is not None


def test_the_headers_show_the_limit_closest_to_running_out(sandbox, session, team_key):
    """Issue 17, item 15: X-RateLimit-Remaining showed the rate window while the quota ran out."""
    team, key = team_key
    services.set_team_limits(session, team, rate_per_second=None, burst=None, daily_quota=4)
    session.commit()
    answers = [sandbox.get("/api/v1/reports", headers=auth(key)) for _ in range(3)]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["3", "2", "1"]  # the quota's, not the rate's
    assert answers[-1].headers["X-RateLimit-Limit"] == "4"
    assert answers[-1].headers["RateLimit"].startswith('"quota";r=1;')
