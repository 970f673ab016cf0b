"""Limits on what anyone may send without an account: reports (from the API, the zone pages and the
citizens' site, one budget per address) and "me too" supports (per address and per phone), with
flask-limiter as the sandbox uses it (Redis in production, so every instance counts together,
memory embedded), the standard X-RateLimit-* headers and a 429 ``rate_limited``.

The budgets are settings (``INTAKE_RATE_LIMIT``, ``SUPPORT_RATE_LIMIT``): generous enough for a
family, an office or a mobile network behind one address, not for a script."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_limiter import Limiter

from backend import deps

limiter = Limiter(
    key_func=lambda: f"addr:{request.remote_addr}",
    strategy="sliding-window-counter",
    headers_enabled=True,
    key_prefix="signal93:public",
)


def install(app: Flask, storage_uri: str) -> None:
    app.config.update(RATELIMIT_STORAGE_URI=storage_uri, RATELIMIT_HEADERS_ENABLED=True)
    limiter.init_app(app)


def _address() -> str:
    return f"addr:{request.remote_addr}"


def _phone() -> str:
    """The phone a support comes from (its ``client_id``), as sent."""
    body = request.get_json(silent=True)
    client_id = body.get("client_id") if isinstance(body, dict) else None
    return f"phone:{str(client_id)[:64]}"


def intake() -> Any:
    """One budget per address for every way a report comes in without an account."""
    return limiter.shared_limit(
        lambda: deps.current().settings.intake_rate_limit, scope="intake", key_func=_address, methods=["POST"]
    )


def supports() -> Any:
    """Supports: per address, and per phone."""
    by_address = limiter.shared_limit(
        lambda: deps.current().settings.support_rate_limit, scope="supports", key_func=_address
    )
    by_phone = limiter.shared_limit(
        lambda: deps.current().settings.support_rate_limit, scope="supports-phone", key_func=_phone
    )

    def decorate(view: Any) -> Any:
        return by_address(by_phone(view))

    return decorate
