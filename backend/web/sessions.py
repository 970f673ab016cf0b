"""What the staff console's session holds in the fronts' signed session cookie: the agent token
of the sign-in and when the agent last made a request. One place for its shape, read by the
console's pages and, through ``backend.export``, by the sandbox's organiser pages."""

from __future__ import annotations

from typing import Any

COOKIE = "signal93"  # the fronts' session cookie (backend.web.install names it)
TOKEN = "console_token"  # noqa: S105 (the key that holds it, not a secret)
SEEN = "console_seen"
IDLE_SECONDS = 30 * 60  # a console left alone this long asks to sign in again


def live_token(payload: Any, now: float) -> str | None:
    """The session's agent token, unless the session was left idle too long (or holds none)."""
    if not isinstance(payload, dict):
        return None
    token, seen = payload.get(TOKEN), payload.get(SEEN, 0)
    if not isinstance(token, str) or not isinstance(seen, int | float) or now - seen > IDLE_SECONDS:
        return None
    return token
