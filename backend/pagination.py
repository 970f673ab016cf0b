"""Keyset pagination: opaque cursors over an ordered key, and bounded pages.

Cursors are signed (HMAC with the server's secret, set once by the app factory): a cursor this
service did not issue is refused before anything of it is read, whatever it holds."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from backend.db import INT_MAX, INT_MIN
from backend.errors import InvalidQuery

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# What a cursor's values may be.
DATETIME = "datetime"  # an ISO 8601 string with an offset, decoded to an aware datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and the cursor of the next one (None on the last page)."""

    items: list[T]
    next_cursor: str | None


# The signing key: every process of a deployment shares SECRET_KEY, so a cursor from one instance
# works on another. Set by the app factory (``set_signing_key``); a fixed one until then.
_SIGNING = {"key": b"signal93-cursors"}
TAG_LENGTH = 16
MAX_CURSOR = 1000


def set_signing_key(secret_key: str) -> None:
    _SIGNING["key"] = hashlib.sha256(b"signal93-cursor\0" + secret_key.encode()).digest()


def _tag(body: str, scope: str) -> str:
    signed = f"{scope}\0{body}".encode()
    return base64.urlsafe_b64encode(hmac.digest(_SIGNING["key"], signed, "sha256")[:12]).decode()


def encode_cursor(key: list[Any], scope: str) -> str:
    """A cursor for ``key``, good only for ``scope`` (a list and its order: ``"triage:due"``)."""
    raw = json.dumps(key, separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{body}.{_tag(body, scope)}"


def decode_cursor(cursor: str, kinds: tuple[Any, ...], scope: str) -> list[Any]:
    """The key a cursor stands for, one value per kind (``int``, ``str``, :data:`DATETIME`, or a
    tuple of them, ``None`` included to allow null); :class:`InvalidQuery` if it was not made by
    us for this ``scope``: a forged cursor, or one of another list or order (the public list's on
    the agents' queue), never reaches the database."""
    body, _, tag = cursor.partition(".")
    if len(cursor) > MAX_CURSOR or not hmac.compare_digest(tag.encode(), _tag(body, scope).encode()):
        raise _invalid_cursor()
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != len(kinds):
        raise _invalid_cursor()
    return [_cursor_value(value, kind) for value, kind in zip(key, kinds, strict=True)]


def _cursor_value(value: Any, kind: Any) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if value is None and None in kinds:
        return None
    if int in kinds and isinstance(value, int) and not isinstance(value, bool) and INT_MIN <= value <= INT_MAX:
        return value
    if str in kinds and isinstance(value, str) and "\x00" not in value:
        return value
    if DATETIME in kinds and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _invalid_cursor() from None
        if moment.tzinfo is not None and 1900 <= moment.year <= 9000:
            try:
                return moment.astimezone(UTC)  # 0001-01-01T00:00+14:00 has no UTC time: refused
            except OverflowError:
                raise _invalid_cursor() from None
    raise _invalid_cursor()


def _invalid_cursor() -> InvalidQuery:
    return InvalidQuery("cursor", "not a cursor returned by this endpoint", code="invalid_cursor")


def paginate(rows: list[T], limit: int, key_of: Any, scope: str) -> Page[T]:
    """Build a page from ``limit + 1`` fetched rows: the extra row only says more exist."""
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(key_of(rows[-1]), scope))
    return Page(rows, None)
