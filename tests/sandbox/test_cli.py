"""Organisers' commands: events, keys, teams, limits, usage."""

from __future__ import annotations

from sqlalchemy import select

from sandbox.app import create_sandbox_app, mount
from sandbox.models import Event, Team
from tests.sandbox.conftest import auth


def sandbox_cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["sandbox", *args])


def test_an_organiser_runs_an_event_from_the_command_line(app, settings, database, session, team_key):
    sandbox_app = create_sandbox_app(settings, database=database)
    mount(app, sandbox_app)
    created = sandbox_cli(
        app,
        "events",
        "create",
        "--slug",
        "hack-93",
        "--name",
        "Hack 93",
        "--starts",
        "2026-12-01T09:00",
        "--ends",
        "2026-12-02T18:00",
        "--quota",
        "500",
    )
    assert created.exit_code == 0, created.output
    assert session.scalar(select(Event.daily_quota).where(Event.slug == "hack-93")) == 500
    assert "hack-93" in sandbox_cli(app, "events", "list").output
    refused = sandbox_cli(
        app, "events", "create", "--slug", "x", "--name", "X", "--starts", "2026-12-02", "--ends", "2026-12-01"
    )
    assert refused.exit_code != 0
    assert "must end after it starts" in refused.output

    issued = sandbox_cli(app, "keys", "issue", "--team", "Les Vigies")
    key = issued.output.strip()
    assert key.startswith("s93_")
    client = sandbox_app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/reports", headers=auth(key)).status_code == 200
    listing = sandbox_cli(app, "teams", "list").output
    assert "Les Vigies" in listing
    assert "3 requests/7d" in listing
    assert f"{key[:12]}…" in sandbox_cli(app, "keys", "list", "--team", "Les Vigies").output

    assert sandbox_cli(app, "teams", "suspend", "Les Vigies").exit_code == 0
    assert client.get("/api/v1/reports", headers=auth(key)).get_json()["code"] == "team_suspended"
    assert sandbox_cli(app, "teams", "reinstate", "Les Vigies").exit_code == 0
    assert sandbox_cli(app, "teams", "limits", "Les Vigies", "--quota", "4").exit_code == 0
    assert session.scalar(select(Team.daily_quota).where(Team.name == "Les Vigies")) == 4
    assert client.get("/api/v1/reports", headers=auth(key)).status_code == 200

    assert sandbox_cli(app, "keys", "revoke", key[:12]).exit_code == 0
    assert client.get("/api/v1/reports", headers=auth(key)).get_json()["code"] == "api_key_revoked"
    assert sandbox_cli(app, "keys", "revoke", "s93_nothing").exit_code != 0
    assert sandbox_cli(app, "teams", "suspend", "Personne").exit_code != 0


def test_the_sandbox_is_served_at_slash_sandbox_beside_the_backend(app, settings, database, event, caplog):
    import logging

    mount(app, create_sandbox_app(settings, database=database))
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="signal93.request"):
        assert client.get("/sandbox/").status_code == 200
        assert client.get("/sandbox/api/v1/reports").get_json()["code"] == "api_key_missing"
        assert client.get("/api/v1/programs").status_code == 200
    # Each request's log line names its whole path, mount point included.
    logged = [r.path for r in caplog.records if r.name == "signal93.request"]
    assert logged == ["/sandbox/", "/sandbox/api/v1/reports", "/api/v1/programs"]
