"""Background entry points of triage: telling reporters (ids in, safe to run twice)."""

from __future__ import annotations

from flask import current_app

from backend.db import utcnow
from backend.triage import notifications


def notify_reporter(event_id: int) -> None:
    """E-mail the reporter about one public status change (retried by rq on failure)."""
    database = current_app.extensions["signal93.db"]
    database.ensure_process_local()
    settings = current_app.extensions["signal93.settings"]
    with database.transaction() as session:
        notifications.notify_reporter(
            session,
            event_id,
            mailer=current_app.extensions["signal93.mailer"],
            public_base_url=settings.public_base_url,
            now=utcnow(),
        )
