"""Sandbox fixtures: the sandbox app on the test transaction, an open event, a registered team."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from sandbox import services
from sandbox.app import create_sandbox_app
from tests.conftest import TEST_REDIS_URL


@pytest.fixture
def sandbox_app(settings, database):
    if TEST_REDIS_URL:  # limits and usage live in Redis: each test starts from zero
        import redis

        redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    app = create_sandbox_app(settings, database=database)
    app.testing = True
    return app


@pytest.fixture
def sandbox(sandbox_app):
    return sandbox_app.test_client()


@pytest.fixture
def event(session):
    now = datetime.now(UTC)
    row = services.create_event(
        session,
        slug="hackathon-test",
        name="Hackathon de test",
        starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(days=1),
        rate_per_second=5,
        burst=8,
        daily_quota=1000,
    )
    session.commit()
    return row


def register(session, settings, event_slug: str, name: str, email: str):
    """A team registered (and committed) as the portal would: the team and its key."""
    team, _, key = services.register_team(
        session,
        name=name,
        contact_email=email,
        event_slug=event_slug,
        accepted_terms=True,
        now=datetime.now(UTC),
        secret=services.key_secret(settings.secret_key),
    )
    session.commit()
    return team, key


@pytest.fixture
def team_key(session, event, settings):
    """A registered team and its key."""
    return register(session, settings, event.slug, "Les Vigies", "equipe@example.org")


def with_time_left_in_the_window(seconds: int, needed: float) -> None:
    """The limiter counts in windows aligned on the clock and weighs the previous one in: requests
    that straddle a boundary count partly in each, and one past the limit may pass. A test that
    counts up to a limit first waits, if need be, for a window with ``needed`` seconds left."""
    left = seconds - time.time() % seconds
    if left < needed:
        time.sleep(left + 0.05)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Apikey {key}"}
