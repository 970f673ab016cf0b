"""Per-key rate limits and daily quotas with flask-limiter (Redis in production, memory embedded).

A key gets two shared limits across every API endpoint: its rate (one sliding window that also
allows its burst, see :func:`rate_window`) and a daily quota whose counter is keyed by the UTC
date (so it resets at 00:00 UTC). Calls without a key to the public catalog get a trial limit per address.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from flask import Flask, Response, g, request
from flask_limiter import Limiter, RequestLimit

TRIAL_LIMIT = "60 per 1 minute"
SIGN_IN_LIMIT = "5 per 10 minutes"
REGISTER_LIMIT = "10 per 1 hour"
STRATEGY = "sliding-window-counter"
QUOTA_SCOPE = "quota"


def _caller():
    return g.get("caller")


def _has_key() -> bool:
    return _caller() is not None


def _no_key() -> bool:
    return _caller() is None


def _key_id() -> str:
    return f"key:{_caller().key_id}"


def _key_day() -> str:
    return f"key:{_caller().key_id}:{datetime.now(UTC).date().isoformat()}"


def address() -> str:
    return f"addr:{request.remote_addr}"


def make_limiter(app: Flask, storage_uri: str) -> Limiter:
    limiter = Limiter(
        key_func=address,
        app=app,
        storage_uri=storage_uri,
        strategy=STRATEGY,
        headers_enabled=False,  # written by :func:`rate_limit_headers`, with the IETF ones too
        key_prefix="signal93:sandbox",
    )
    return limiter


def _per_key(limit):
    # flask-limiter reads the limit before ``exempt_when``: give keyless calls a placeholder.
    return lambda: limit(_caller()) if _caller() else "1 per 1 second"


def rate_window(rate_per_second: int, burst: int) -> tuple[int, int]:
    """One sliding window that holds a sustained rate and a burst: ``rate * W`` requests per
    ``W`` seconds, with ``W = ceil(burst / rate)`` (10/s with a burst of 20: 20 per 2 s)."""
    window = max(1, math.ceil(burst / max(1, rate_per_second)))
    return rate_per_second * window, window


def key_limits(limiter: Limiter):
    """The limits of keyed calls, to decorate the API blueprints with: the rate (with its burst)
    and the daily quota. Two limits, so two Redis round trips per request."""
    rate = limiter.shared_limit(
        _per_key(lambda c: "{} per {} seconds".format(*rate_window(c.rate_per_second, c.burst))),
        scope="rate",
        key_func=_key_id,
        exempt_when=_no_key,
    )
    quota = limiter.shared_limit(
        _per_key(lambda c: f"{c.daily_quota} per 1 day"), scope=QUOTA_SCOPE, key_func=_key_day, exempt_when=_no_key
    )
    return rate, quota


def trial_limit(limiter: Limiter):
    return limiter.shared_limit(TRIAL_LIMIT, scope="trial", key_func=address, exempt_when=_has_key)


def _is_quota(limit: RequestLimit) -> bool:
    return QUOTA_SCOPE in limit.key


def _reset_seconds(limit: RequestLimit, now: datetime) -> int:
    if _is_quota(limit):
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return max(1, int((midnight - now).total_seconds()))
    return max(1, int(limit.reset_at - now.timestamp()))


# The headers of every limited answer (documented on each operation).
HEADERS = {
    "X-RateLimit-Limit": "Requests allowed by the limit closest to running out (the rate, or the daily quota)",
    "X-RateLimit-Remaining": "Requests left under it",
    "X-RateLimit-Reset": "When it resets (Unix time, seconds)",
    "RateLimit-Policy": "Every limit that applies (IETF RateLimit fields)",
    "RateLimit": "The most relevant limit: remaining requests and seconds to its reset",
    "Retry-After": "On a 429: seconds to wait",
}


def rate_limit_headers(limiter: Limiter, response: Response) -> Response:
    """X-RateLimit-*, RateLimit-Policy and RateLimit on every limited response; Retry-After on 429.

    The counters shown are those of the limit closest to running out (the breached one, else the
    one with the fewest requests left: near the end of a day, the quota, not the per-second rate),
    as the IETF ``RateLimit`` field does. The policy lists every limit.
    """
    limits = list(limiter.current_limits)
    breached = [limit for limit in limits if limit.breached]
    if breached:
        current = breached[0]
    elif limits:
        current = min(limits, key=lambda limit: (max(0, limit.remaining), limit.reset_at))
    else:
        return response
    now = datetime.now(UTC)
    reset = _reset_seconds(current, now)
    remaining = max(0, current.remaining)
    response.headers["X-RateLimit-Limit"] = str(current.limit.amount)
    response.headers["X-RateLimit-Remaining"] = str(remaining)
    response.headers["X-RateLimit-Reset"] = str(int(now.timestamp()) + reset)
    response.headers["RateLimit-Policy"] = ", ".join(
        f'"{_policy_name(limit)}";q={limit.limit.amount};w={limit.limit.get_expiry()}'
        for limit in limiter.current_limits
    )
    response.headers["RateLimit"] = f'"{_policy_name(current)}";r={remaining};t={reset}'
    if response.status_code == 429:
        response.headers["Retry-After"] = str(reset)
    return response


def _policy_name(limit: RequestLimit) -> str:
    for scope in ("rate", QUOTA_SCOPE, "trial"):
        if f"/{scope}/" in limit.key:
            return scope
    return "limit"
