"""Liveness and readiness probes for the load balancer and the orchestrator."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from backend import deps
from backend.http import error_response

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> Response:
    """The process is alive (checks nothing else)."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz() -> Response:
    """Ready for traffic: the database answers, and Redis when it is configured."""
    checks: dict[str, str] = {}
    context = deps.current()
    try:
        with context.database.session() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready"
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        checks["database"] = "unreachable"
    client = context.redis
    if client is not None:
        try:
            client.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            log.warning("readiness: redis unreachable: %s", type(exc).__name__)
            checks["redis"] = "unreachable"
    failing = {name: [state] for name, state in checks.items() if state != "ok"}
    if failing:
        return error_response(503, "not_ready", f"Not ready: {', '.join(failing)} unreachable.", {"checks": failing})
    return jsonify(status="ready", checks=checks)
