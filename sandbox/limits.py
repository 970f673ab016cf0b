"""Per-key rate limits and daily quotas with flask-limiter (Redis in production, memory embedded).

A key gets three shared limits across every API endpoint: a burst per second, a sustained rate
over ten seconds, and a daily quota whose counter is keyed by the UTC date (so it resets at
00:00 UTC). Calls without a key to the public catalog get a trial limit per address.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, Response, g, request
from flask_limiter import Limiter, RequestLimit

TRIAL_LIMIT = "60 per 1 minute"
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


def _address() -> str:
    return f"addr:{request.remote_addr}"


def make_limiter(app: Flask, storage_uri: str) -> Limiter:
    limiter = Limiter(
        key_func=_address,
        app=app,
        storage_uri=storage_uri,
        strategy="sliding-window-counter",
        headers_enabled=False,  # written by :func:`rate_limit_headers`, with the IETF ones too
        key_prefix="signal93:sandbox",
    )
    return limiter


def _per_key(amount, per: str):
    # flask-limiter reads the limit before ``exempt_when``: give keyless calls a placeholder.
    return lambda: f"{amount(_caller()) if _caller() else 1} per {per}"


def key_limits(limiter: Limiter):
    """The limits of keyed calls, to decorate the API blueprints with."""
    burst = limiter.shared_limit(
        _per_key(lambda c: c.burst, "1 second"), scope="burst", key_func=_key_id, exempt_when=_no_key
    )
    rate = limiter.shared_limit(
        _per_key(lambda c: c.rate_per_second * 10, "10 seconds"), scope="rate", key_func=_key_id, exempt_when=_no_key
    )
    quota = limiter.shared_limit(
        _per_key(lambda c: c.daily_quota, "1 day"), scope=QUOTA_SCOPE, key_func=_key_day, exempt_when=_no_key
    )
    return burst, rate, quota


def trial_limit(limiter: Limiter):
    return limiter.shared_limit(TRIAL_LIMIT, scope="trial", key_func=_address, exempt_when=_has_key)


def _is_quota(limit: RequestLimit) -> bool:
    return QUOTA_SCOPE in limit.key


def _reset_seconds(limit: RequestLimit, now: datetime) -> int:
    if _is_quota(limit):
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return max(1, int((midnight - now).total_seconds()))
    return max(1, int(limit.reset_at - now.timestamp()))


def rate_limit_headers(limiter: Limiter, response: Response) -> Response:
    """X-RateLimit-*, RateLimit-Policy and RateLimit on every limited response; Retry-After on 429."""
    limits = [limit for limit in limiter.current_limits if limit is not None]
    if not limits:
        return response
    now = datetime.now(UTC)
    tightest = min(limits, key=lambda limit: (limit.remaining, _reset_seconds(limit, now)))
    reset = _reset_seconds(tightest, now)
    response.headers["X-RateLimit-Limit"] = str(tightest.limit.amount)
    response.headers["X-RateLimit-Remaining"] = str(max(0, tightest.remaining))
    response.headers["X-RateLimit-Reset"] = str(int(now.timestamp()) + reset)
    policies = []
    for limit in limits:
        policies.append(f'"{_policy_name(limit)}";q={limit.limit.amount};w={limit.limit.get_expiry()}')
    response.headers["RateLimit-Policy"] = ", ".join(policies)
    response.headers["RateLimit"] = f'"{_policy_name(tightest)}";r={max(0, tightest.remaining)};t={reset}'
    if response.status_code == 429:
        response.headers["Retry-After"] = str(reset)
    return response


def _policy_name(limit: RequestLimit) -> str:
    for scope in ("burst", "rate", QUOTA_SCOPE, "trial"):
        if f"/{scope}/" in limit.key:
            return scope
    return "limit"
