"""Keys for Open311 clients: issued and revoked by admins, stored as an HMAC with the server's
secret (like the sandbox's keys), checked on every POST."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import DomainError, InvalidFields, NotFound
from backend.open311.models import Open311Client

PREFIX = "o311_"
MAX_NAME = 100


class ClientExists(DomainError):
    code = "open311_client_exists"
    status = 409
    message = "An Open311 client already has this name."


class ClientNotFound(NotFound):
    code = "open311_client_not_found"
    message = "No Open311 client has this name."


def digest(secret_key: str, key: str) -> str:
    return hmac.new(secret_key.encode(), b"open311\0" + key.encode(), hashlib.sha256).hexdigest()


def issue(session: Session, name: str, *, secret_key: str, now: datetime) -> tuple[Open311Client, str]:
    """A new client and its key (returned once, never stored). Flushes."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InvalidFields(errors={"json": {"name": [f"1 to {MAX_NAME} printable characters"]}})
    key = PREFIX + secrets.token_urlsafe(32)
    client = Open311Client(
        name=name, key_digest=digest(secret_key, key), key_prefix=key[:12], created_at=now, revoked_at=None
    )
    savepoint = session.begin_nested()
    try:
        session.add(client)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        raise ClientExists(errors={"json": {"name": ["taken"]}}) from None
    savepoint.commit()
    return client, key


def revoke(session: Session, name: str, *, now: datetime) -> Open311Client:
    """Revoke a client's key (its reports keep its name). Safe to repeat. Flushes."""
    client = session.scalar(select(Open311Client).where(Open311Client.name == name))
    if client is None:
        raise ClientNotFound()
    if client.revoked_at is None:
        client.revoked_at = now
        session.flush()
    return client


def list_clients(session: Session) -> list[Open311Client]:
    return list(session.scalars(select(Open311Client).order_by(Open311Client.name)))


def authenticate(session: Session, key: str | None, *, secret_key: str) -> Open311Client | None:
    """The active client whose key this is, or None."""
    if not key or not key.startswith(PREFIX) or len(key) > 100:
        return None
    return session.scalar(
        select(Open311Client).where(
            Open311Client.key_digest == digest(secret_key, key), Open311Client.revoked_at.is_(None)
        )
    )
