"""Background entry points of notifications: ids in, their own transaction, safe to run twice."""

from __future__ import annotations

import urllib.request

from backend import deps
from backend.db import utcnow
from backend.notifications import alerts, reporters, units
from backend.queue import job_transaction


def notify_reporter(event_id: int) -> None:
    """E-mail the reporter about one public status change (retried by rq on failure)."""
    context = deps.current()
    with job_transaction() as session:
        reporters.notify_reporter(
            session,
            event_id,
            mailer=context.mailer,
            public_base_url=context.settings.public_base_url,
            now=utcnow(),
            secret_key=context.settings.secret_key,
        )


def post_json(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST to a unit's receiver; raises unless it answers 2xx (the job is then retried)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (the unit's own URL)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        if response.status >= 300:
            raise RuntimeError(f"webhook answered {response.status}")


def notify_unit(report_id: int, handover_event_id: int | None = None) -> None:
    """Tell a report's unit by webhook, of a new report or of one handed over to it (the trail
    event of the handover): retried by rq on failure, swept if lost."""
    context = deps.current()
    with job_transaction() as session:
        units.notify_unit(
            session,
            report_id,
            handover_event_id=handover_event_id,
            secret_key=context.settings.secret_key,
            public_base_url=context.settings.public_base_url,
            now=utcnow(),
            post=post_json,
        )


def alert_urgent(report_id: int) -> None:
    """Alert the park's team and the observatory of a sensitive sighting, at once (retried by rq
    on failure, swept if lost)."""
    context = deps.current()
    with job_transaction() as session:
        alerts.alert_urgent(
            session,
            report_id,
            mailer=context.mailer,
            post=post_json,
            secret_key=context.settings.secret_key,
            public_base_url=context.settings.public_base_url,
            now=utcnow(),
        )


def send_digests() -> int:
    """E-mail the units that take a digest of their new reports; returns how many were sent."""
    context = deps.current()
    with job_transaction() as session:
        return units.send_digests(
            session, mailer=context.mailer, public_base_url=context.settings.public_base_url, now=utcnow()
        )
