"""Background entry points of triage: telling reporters (ids in, safe to run twice)."""

from __future__ import annotations

from flask import current_app

from backend.db import utcnow
from backend.queue import job_transaction
from backend.triage import notifications


def notify_reporter(event_id: int) -> None:
    """E-mail the reporter about one public status change (retried by rq on failure)."""
    settings = current_app.extensions["signal93.settings"]
    with job_transaction() as session:
        notifications.notify_reporter(
            session,
            event_id,
            mailer=current_app.extensions["signal93.mailer"],
            public_base_url=settings.public_base_url,
            now=utcnow(),
            secret_key=settings.secret_key,
        )


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    import urllib.request

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (unit's own URL)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        if response.status >= 300:
            raise RuntimeError(f"webhook answered {response.status}")


def notify_unit(report_id: int, handover_event_id: int | None = None) -> None:
    """Tell a report's unit by webhook, of a new report or of one handed over to it (the trail
    event of the handover): retried by rq on failure."""
    settings = current_app.extensions["signal93.settings"]
    with job_transaction() as session:
        notifications.notify_unit(
            session,
            report_id,
            handover_event_id=handover_event_id,
            secret_key=settings.secret_key,
            public_base_url=settings.public_base_url,
            now=utcnow(),
            post=_post,
        )


def send_digests() -> int:
    """E-mail the units that take a digest of their new reports."""
    settings = current_app.extensions["signal93.settings"]
    with job_transaction() as session:
        return notifications.send_digests(
            session,
            mailer=current_app.extensions["signal93.mailer"],
            public_base_url=settings.public_base_url,
            now=utcnow(),
        )
