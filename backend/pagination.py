"""Keyset pagination: opaque cursors over an ordered key, and bounded pages."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
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


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: tuple[Any, ...]) -> list[Any]:
    """The key a cursor stands for, one value per kind (``int``, ``str``, :data:`DATETIME`, or a
    tuple of them, ``None`` included to allow null); :class:`InvalidQuery` if it was not made by
    us: a forged cursor never reaches the database with a value of the wrong type or range."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
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
        if moment.tzinfo is not None:
            return moment
    raise _invalid_cursor()


def _invalid_cursor() -> InvalidQuery:
    return InvalidQuery("cursor", "not a cursor returned by this endpoint", code="invalid_cursor")


def paginate(rows: list[T], limit: int, key_of: Any) -> Page[T]:
    """Build a page from ``limit + 1`` fetched rows: the extra row only says more exist."""
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(key_of(rows[-1])))
    return Page(rows, None)
