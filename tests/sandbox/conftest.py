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


def open_event(
    session,
    slug: str,
    name: str = "Hackathon de test",
    *,
    rate_per_second: int = 5,
    burst: int = 8,
    daily_quota: int = 1000,
):
    """An event open since two hours and for a day (committed)."""
    now = datetime.now(UTC)
    row = services.create_event(
        session,
        slug=slug,
        name=name,
        starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(days=1),
        rate_per_second=rate_per_second,
        burst=burst,
        daily_quota=daily_quota,
    )
    session.commit()
    return row


def unlimited_team_key(session, settings, slug: str) -> str:
    """The key of a team of an event with limits no walk of the API reaches."""
    event = open_event(
        session, slug, f"Hackathon {slug}", rate_per_second=100_000, burst=100_000, daily_quota=10_000_000
    )
    return register(session, settings, event.slug, f"Équipe {slug}", f"{slug}@example.org")[1]


@pytest.fixture
def event(session):
    return open_event(session, "hackathon-test")


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
