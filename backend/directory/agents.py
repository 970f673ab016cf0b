"""Agents and their tokens: accounts, password sign-in with throttling, verification per request."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from backend.directory.models import ROLES, Agent, AgentToken, Directorate, Unit
from backend.errors import DomainError, InvalidFields

TOKEN_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 12
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so an unknown account takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AgentError(InvalidFields):
    """An account cannot be created or changed so."""


class BadCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    message = "Wrong e-mail or password."


class TokenMissing(DomainError):
    code = "token_missing"
    status = 401
    message = "Send your token: 'Authorization: Bearer <token>' (POST /api/v1/auth/tokens gives one)."


class TokenInvalid(DomainError):
    code = "token_invalid"
    status = 401
    message = "This token is not valid (expired, revoked, or of a disabled account)."


class AdminsOnly(DomainError):
    code = "forbidden_for_role"
    status = 403
    message = "Only an admin may do this."


def require_admin(agent: Agent) -> None:
    """:class:`AdminsOnly` unless the agent's role administers."""
    if not agent.powers.administers:
        raise AdminsOnly()


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    status = 429
    message = "Too many failed sign-ins: wait before trying again."


def create_agent(
    session: Session, *, email: str, password: str, directorate: str, role: str, unit: str | None = None
) -> Agent:
    """A new agent; :class:`AgentError` names what is wrong."""
    email = email.strip().lower()
    problems: dict[str, list[str]] = {}
    if not EMAIL_RE.match(email):
        problems["email"] = ["not an e-mail address"]
    elif session.scalar(select(Agent.id).where(Agent.email == email)):
        problems["email"] = ["an agent already has this e-mail"]
    if len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = [f"at least {MIN_PASSWORD_LENGTH} characters"]
    if role not in ROLES:
        problems["role"] = [f"one of {', '.join(ROLES)}"]
    directorate_row = session.scalar(select(Directorate).where(Directorate.code == directorate))
    if directorate_row is None:
        problems["directorate"] = ["unknown directorate"]
    unit_row = None
    if unit is not None:
        unit_row = session.scalar(select(Unit).where(Unit.code == unit))
        if unit_row is None or (directorate_row is not None and unit_row.directorate_id != directorate_row.id):
            problems["unit"] = ["unknown unit of this directorate"]
    if problems:
        raise AgentError("The agent cannot be created.", errors=problems)
    agent = Agent(
        email=email,
        password_hash=_hasher.hash(password),
        directorate_id=directorate_row.id,
        unit_id=unit_row.id if unit_row else None,
        role=role,
    )
    session.add(agent)
    session.flush()
    return agent


def set_active(session: Session, email: str, active: bool) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None:
        raise AgentError("No such agent.", errors={"email": ["unknown agent"]})
    agent.active = active
    session.flush()
    return agent


@dataclass
class Throttle:
    """Failed sign-ins, counted by the ``limits`` library, to slow the guesser and never the
    account's holder: per address and account, in widening windows (a few tries a minute, then
    fewer an hour: each wave waits longer), and per address across accounts (an office behind one
    address has room). There is no lock on the account itself: a sign-in from an address that has
    not failed is never refused."""

    limiter: Any  # limits.strategies.MovingWindowRateLimiter
    per_pair: tuple[Any, ...]  # limits.RateLimitItem, narrowest window first
    per_address: Any

    def _windows(self, email: str, address: str) -> list[tuple[Any, str]]:
        pair = f"pair:{address}:{email}"
        return [(item, pair) for item in self.per_pair] + [(self.per_address, f"address:{address}")]

    def check(self, email: str, address: str) -> None:
        waits = []
        for item, who in self._windows(email, address):
            if not self.limiter.test(item, "signal93-sign-in", who):
                reset, _ = self.limiter.get_window_stats(item, "signal93-sign-in", who)
                waits.append(max(1, int(reset - datetime.now().timestamp())))  # noqa: DTZ005 (epoch seconds)
        if waits:
            raise TooManyAttempts(headers={"Retry-After": str(max(waits))})

    def failed(self, email: str, address: str) -> None:
        for item, who in self._windows(email, address):
            self.limiter.hit(item, "signal93-sign-in", who)


def issue_token(
    session: Session, *, email: str, password: str, address: str, now: datetime, throttle: Throttle
) -> tuple[Agent, str, datetime]:
    """Exchange e-mail and password for a bearer token (shown once); throttled on failures."""
    email = (email or "").strip().lower()
    throttle.check(email, address)
    agent = session.scalar(select(Agent).where(Agent.email == email))
    try:
        _hasher.verify(agent.password_hash if agent else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        agent = None
    if agent is None or not agent.active:
        throttle.failed(email, address)
        raise BadCredentials()
    token = "at_" + secrets.token_urlsafe(32)
    expires_at = now + TOKEN_LIFETIME
    session.add(AgentToken(agent_id=agent.id, digest=_digest(token), created_at=now, expires_at=expires_at))
    session.flush()
    return agent, token, expires_at


# Built once: constructing a statement costs more than running it (this one runs on every agent's
# request).
_VALID_TOKEN = (
    select(Agent, AgentToken.id)
    .join(AgentToken, AgentToken.agent_id == Agent.id)
    .where(
        AgentToken.digest == bindparam("digest"),
        AgentToken.revoked_at.is_(None),
        AgentToken.expires_at > bindparam("now"),
        Agent.active.is_(True),
    )
)


def authenticate(session: Session, token: str | None, *, now: datetime) -> tuple[Agent, int]:
    """The agent of a valid token (not expired, not revoked, account active: checked every time,
    so disabling an agent or revoking a token takes effect at once), and the token's id."""
    if not token:
        raise TokenMissing()
    row = session.execute(_VALID_TOKEN, {"digest": _digest(token), "now": now}).one_or_none()
    if row is None:
        raise TokenInvalid()
    return row[0], row[1]


def revoke(session: Session, token_id: int, now: datetime) -> None:
    session.execute(
        update(AgentToken).where(AgentToken.id == token_id, AgentToken.revoked_at.is_(None)).values(revoked_at=now)
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
