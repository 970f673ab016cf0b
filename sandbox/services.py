"""Sandbox rules: events, teams, keys and their verification, sign-in links, usage, test reports."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from backend.errors import DomainError, InvalidFields, NotFound
from sandbox import keys
from sandbox.models import ApiKey, Event, SandboxReport, SignInLink, Team, Usage

SIGN_IN_LIFETIME = timedelta(minutes=15)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --- errors --------------------------------------------------------------------------------------


class ApiKeyMissing(DomainError):
    code = "api_key_missing"
    status = 401
    message = "An API key is required: send it as 'Authorization: Apikey <key>' or 'X-API-Key: <key>'."


class ApiKeyInvalid(DomainError):
    code = "api_key_invalid"
    status = 401
    message = "This API key is not valid."


class ApiKeyRevoked(DomainError):
    code = "api_key_revoked"
    status = 401
    message = "This API key has been revoked."


class ApiKeyExpired(DomainError):
    code = "api_key_expired"
    status = 401
    message = "This API key has expired (keys end with their event)."


class TeamSuspended(DomainError):
    code = "team_suspended"
    status = 403
    message = "This team is suspended: contact the organisers."


class InvalidRegistration(InvalidFields):
    message = "The registration contains invalid fields."


class UnknownTeam(NotFound):
    code = "team_not_found"
    message = "No such team."


class UnknownKey(NotFound):
    code = "api_key_not_found"
    message = "No such key."


def key_secret(secret_key: str) -> bytes:
    """The HMAC secret of API keys, derived from the app's secret key."""
    return hmac.new(secret_key.encode(), b"signal93-sandbox-api-keys", hashlib.sha256).digest()


# --- events and teams ----------------------------------------------------------------------------


def create_event(
    session: Session,
    *,
    slug: str,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    rate_per_second: int = 10,
    burst: int = 20,
    daily_quota: int = 10_000,
) -> Event:
    if ends_at <= starts_at:
        raise InvalidRegistration("An event must end after it starts.", errors={"ends_at": ["before starts_at"]})
    event = Event(
        slug=slug,
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
        rate_per_second=rate_per_second,
        burst=burst,
        daily_quota=daily_quota,
    )
    session.add(event)
    session.flush()
    return event


def list_events(session: Session) -> list[Event]:
    """Every event, the latest first."""
    return list(session.scalars(select(Event).order_by(Event.starts_at.desc())))


def list_teams(session: Session) -> list[Team]:
    """Every team, by event and name."""
    return list(session.scalars(select(Team).order_by(Team.event_id.desc(), Team.name)))


def open_events(session: Session, now: datetime) -> list[Event]:
    """Events a team can still register for (not over yet)."""
    return list(session.scalars(select(Event).where(Event.ends_at > now).order_by(Event.starts_at)))


def register_team(
    session: Session,
    *,
    name: str,
    contact_email: str,
    event_slug: str,
    accepted_terms: bool,
    now: datetime,
    secret: bytes,
) -> tuple[Team, ApiKey, str]:
    """Create a team and its first key. Returns the team, the key row, and the key (shown once)."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    contact_email = (contact_email or "").strip().lower()
    if not 2 <= len(name) <= 120:
        errors["name"] = ["Le nom de l'équipe doit compter de 2 à 120 caractères."]
    if not EMAIL_RE.match(contact_email) or len(contact_email) > 254:
        errors["contact_email"] = ["Adresse e-mail invalide."]
    if not accepted_terms:
        errors["accepted_terms"] = ["Il faut accepter les conditions d'utilisation."]
    event = session.scalar(select(Event).where(Event.slug == event_slug, Event.ends_at > now))
    if event is None:
        errors["event"] = ["Choisissez un événement ouvert."]
    elif "name" not in errors and session.scalar(
        select(Team.id).where(Team.event_id == event.id, func.lower(Team.name) == name.lower())
    ):
        errors["name"] = ["Ce nom d'équipe est déjà pris pour cet événement."]
    if errors:
        raise InvalidRegistration(errors=errors)
    team = Team(event=event, name=name, contact_email=contact_email, terms_accepted_at=now, created_at=now)
    session.add(team)
    session.flush()
    row, key = issue_key(session, team, now=now, secret=secret)
    return team, row, key


def find_team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id, options=[joinedload(Team.event)])
    if team is None:
        raise UnknownTeam()
    return team


def team_by_name(session: Session, name: str) -> Team:
    """The team of that name (names are unique within an event; the most recent event wins)."""
    team = session.scalar(select(Team).where(Team.name == name).order_by(Team.id.desc()).limit(1))
    if team is None:
        raise UnknownTeam()
    return team


def set_team_status(session: Session, team: Team, status: str) -> None:
    team.status = status
    session.flush()


def set_team_limits(
    session: Session, team: Team, *, rate_per_second: int | None, burst: int | None, daily_quota: int | None
) -> None:
    team.rate_per_second, team.burst, team.daily_quota = rate_per_second, burst, daily_quota
    session.flush()


# --- keys ----------------------------------------------------------------------------------------


def issue_key(session: Session, team: Team, *, now: datetime, secret: bytes) -> tuple[ApiKey, str]:
    """A new key for the team, expiring with its event. The key itself is returned once."""
    key = keys.generate()
    row = ApiKey(
        team=team,
        prefix=keys.display_prefix(key),
        digest=keys.digest(secret, key),
        created_at=now,
        expires_at=team.event.ends_at,
    )
    session.add(row)
    session.flush()
    return row, key


def revoke_key(session: Session, *, prefix: str, now: datetime, team: Team | None = None) -> ApiKey:
    """Revoke the key with this display prefix (of this team, when given)."""
    query = select(ApiKey).where(ApiKey.prefix == prefix)
    if team is not None:
        query = query.where(ApiKey.team_id == team.id)
    row = session.scalar(query)
    if row is None:
        raise UnknownKey()
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    return row


@dataclass(frozen=True)
class Caller:
    """A verified key and the limits that apply to it."""

    key_id: int
    team_id: int
    rate_per_second: int
    burst: int
    daily_quota: int


def authenticate(session: Session, key: str | None, *, now: datetime, secret: bytes) -> Caller:
    """Verify a key; raise the error that says what is wrong with it."""
    if not key:
        raise ApiKeyMissing()
    if not keys.well_formed(key):
        raise ApiKeyInvalid()
    row = session.execute(_CALLER, {"digest": keys.digest(secret, key)}).first()
    if row is None:
        raise ApiKeyInvalid()
    if row.revoked_at is not None:
        raise ApiKeyRevoked()
    if row.expires_at <= now:
        raise ApiKeyExpired()
    if row.status != "active":
        raise TeamSuspended()
    return Caller(
        key_id=row.key_id,
        team_id=row.team_id,
        rate_per_second=row.team_rate or row.event_rate,
        burst=row.team_burst or row.event_burst,
        daily_quota=row.team_quota or row.event_quota,
    )


# One indexed look-up per request, columns only (built once).
_CALLER = (
    select(
        ApiKey.id.label("key_id"),
        ApiKey.revoked_at,
        ApiKey.expires_at,
        Team.id.label("team_id"),
        Team.status,
        Team.rate_per_second.label("team_rate"),
        Team.burst.label("team_burst"),
        Team.daily_quota.label("team_quota"),
        Event.rate_per_second.label("event_rate"),
        Event.burst.label("event_burst"),
        Event.daily_quota.label("event_quota"),
    )
    .join(Team, ApiKey.team_id == Team.id)
    .join(Event, Team.event_id == Event.id)
    .where(ApiKey.digest == bindparam("digest"))
)


# --- sign-in links ---------------------------------------------------------------------------------


def create_sign_in_links(session: Session, email: str, *, now: datetime) -> list[tuple[Team, str]]:
    """One single-use link per team of this contact; none (and no hint) for an unknown address."""
    teams = session.scalars(select(Team).where(Team.contact_email == (email or "").strip().lower()))
    links = []
    for team in teams:
        token = secrets.token_urlsafe(32)
        session.add(
            SignInLink(
                team_id=team.id, digest=hashlib.sha256(token.encode()).hexdigest(), expires_at=now + SIGN_IN_LIFETIME
            )
        )
        links.append((team, token))
    session.flush()
    return links


def valid_sign_in_link(session: Session, token: str, *, now: datetime) -> SignInLink | None:
    """The link of ``token`` if it is unused and unexpired; None otherwise. Changes nothing."""
    link = session.scalar(select(SignInLink).where(SignInLink.digest == hashlib.sha256(token.encode()).hexdigest()))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    return link


def consume_sign_in_link(session: Session, token: str, *, now: datetime) -> Team | None:
    """The team of a valid, unused, unexpired link, which is used up; None otherwise."""
    link = valid_sign_in_link(session, token, now=now)
    if link is None:
        return None
    link.used_at = now
    # Older links of the team, not used yet, stop working too: only the newest sign-in counts.
    for older in session.scalars(
        select(SignInLink).where(SignInLink.team_id == link.team_id, SignInLink.used_at.is_(None))
    ):
        older.used_at = now
    session.flush()
    return find_team(session, link.team_id)


def sign_out_everywhere(session: Session, team: Team) -> None:
    """End every session of the team (the browser's, and any copy of its cookie). Flushes."""
    team.session_version += 1
    session.flush()


# --- usage -----------------------------------------------------------------------------------------


def store_usage(session: Session, counts: Iterable[tuple[int, date, str, int]], last_used: dict[int, datetime]) -> int:
    """Add drained counters to the usage table (one batch); returns the requests recorded."""
    total = 0
    for key_id, day, endpoint, count in counts:
        row = session.scalar(select(Usage).where(Usage.key_id == key_id, Usage.day == day, Usage.endpoint == endpoint))
        if row is None:
            session.add(Usage(key_id=key_id, day=day, endpoint=endpoint, count=count))
        else:
            row.count += count
        total += count
    for key_id, when in last_used.items():
        api_key = session.get(ApiKey, key_id)
        if api_key is not None and (api_key.last_used_at is None or api_key.last_used_at < when):
            api_key.last_used_at = when
    session.flush()
    return total


def usage_by_day(
    session: Session,
    team_ids: list[int],
    days: int,
    *,
    today: date,
    pending: Iterable[tuple[int, date, str, int]] = (),
) -> dict[int, dict[date, int]]:
    """Requests per team per day over the last ``days`` days (zero days included): those stored,
    plus ``pending`` counts not stored yet (``UsageCounter.peek``). Reads only."""
    since = today - timedelta(days=days - 1)
    rows = session.execute(
        select(ApiKey.team_id, Usage.day, func.sum(Usage.count))
        .join(ApiKey, Usage.key_id == ApiKey.id)
        .where(ApiKey.team_id.in_(team_ids), Usage.day >= since)
        .group_by(ApiKey.team_id, Usage.day)
    )
    out = {team_id: {since + timedelta(days=i): 0 for i in range(days)} for team_id in team_ids}
    for team_id, day, count in rows:
        out[team_id][day] = int(count)
    pending = list(pending)
    if pending:
        team_of = dict(session.execute(select(ApiKey.id, ApiKey.team_id).where(ApiKey.team_id.in_(team_ids))).all())
        for key_id, day, _, count in pending:
            if key_id in team_of and day in out[team_of[key_id]]:
                out[team_of[key_id]][day] += count
    return out


# --- test reports ----------------------------------------------------------------------------------


def add_test_report(session: Session, team_id: int, result: dict[str, Any], *, now: datetime) -> SandboxReport:
    row = SandboxReport(team_id=team_id, result=result, created_at=now)
    session.add(row)
    session.flush()
    return row


def list_test_reports(session: Session, team_id: int, limit: int = 200) -> list[SandboxReport]:
    query = select(SandboxReport).where(SandboxReport.team_id == team_id).order_by(SandboxReport.id.desc())
    return list(session.scalars(query.limit(limit)))


def reset_test_reports(session: Session, team_id: int) -> int:
    rows = list_test_reports(session, team_id, limit=100_000)
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def utc_today(now: datetime) -> date:
    return now.astimezone(UTC).date()
