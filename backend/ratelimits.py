"""Limits on what anyone may send without an account: reports (from the API, the zone pages and the
citizens' site, one budget per address) and "me too" supports (per address and per phone), counted
by the ``limits`` library (Redis in production, so every instance counts together; memory embedded),
with the X-RateLimit-* headers and a 429 ``rate_limited``. Only the limited views pay for it: no hook
runs on the other requests.

The budgets are settings (``INTAKE_RATE_LIMIT``, ``SUPPORT_RATE_LIMIT``): generous enough for a
family, an office or a mobile network behind one address, not for a script."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, request
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from redis.exceptions import RedisError

from backend import deps
from backend.errors import DomainError

log = logging.getLogger(__name__)

NAMESPACE = "signal93:public"


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    message = "Too many requests from here: wait before sending again (Retry-After)."


def install(app: Flask, storage_uri: str) -> None:
    app.extensions["signal93.ratelimits"] = SlidingWindowCounterRateLimiter(storage_from_string(storage_uri))

    @app.after_request
    def _headers(response: Response) -> Response:
        shown = g.pop("rate_limit", None)
        if shown is not None:
            limit, remaining, reset = shown
            response.headers["X-RateLimit-Limit"] = str(limit)
            response.headers["X-RateLimit-Remaining"] = str(remaining)
            response.headers["X-RateLimit-Reset"] = str(reset)
        return response


def _address() -> str:
    return f"addr:{request.remote_addr}"


def _phone() -> str:
    """The phone a support comes from (its ``client_id``), as sent."""
    body = request.get_json(silent=True)
    client_id = body.get("client_id") if isinstance(body, dict) else None
    return f"phone:{str(client_id)[:64]}"


def _check(scope: str, setting: str, who: Callable[[], str]) -> None:
    """Count this request in every window of the setting; :class:`RateLimited` past one of them.
    The headers show the window closest to running out."""
    limiter = current_app.extensions["signal93.ratelimits"]
    identity = who()
    closest: tuple[int, int, int] | None = None
    for item in parse_many(getattr(deps.current().settings, setting)):
        try:
            allowed = limiter.hit(item, NAMESPACE, scope, identity)
            stats = limiter.get_window_stats(item, NAMESPACE, scope, identity)
        except (RedisError, OSError) as exc:
            # The counters' store is down: take the report (an acknowledged report matters more
            # than a limit for the minutes of an outage), and say so in the logs.
            log.warning("rate limit not counted: its store is unreachable", extra={"error": type(exc).__name__})
            return
        shown = (item.amount, max(0, stats.remaining), int(stats.reset_time))
        if closest is None or shown[1] < closest[1]:
            closest = shown
        if not allowed:
            wait = max(1, int(stats.reset_time - time.time()))
            g.rate_limit = shown
            raise RateLimited(headers={"Retry-After": str(wait)})
    g.rate_limit = closest


def _limited(*checks: tuple[str, str, Callable[[], str]]) -> Callable[[Any], Any]:
    def decorate(view: Any) -> Any:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.method == "POST":
                for scope, setting, who in checks:
                    _check(scope, setting, who)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def intake() -> Callable[[Any], Any]:
    """One budget per address for every way a report comes in without an account."""
    return _limited(("intake", "intake_rate_limit", _address))


def supports() -> Callable[[Any], Any]:
    """Supports: per address, and per phone."""
    return _limited(("supports", "support_rate_limit", _address), ("supports-phone", "support_rate_limit", _phone))
