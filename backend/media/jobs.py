"""Background entry points for media: they take ids, open their own transaction, and are safe
to run twice."""

from __future__ import annotations

from backend import deps
from backend.db import utcnow
from backend.media import services


def process_media(media_id: int) -> None:
    """Make the derivatives of one medium (rq retries it with backoff on failure)."""
    context = deps.current()
    database = context.database
    database.ensure_process_local()
    session = database.session()
    try:
        services.process(
            session, media_id, storage=context.storage, max_pixels=context.settings.max_photo_pixels, now=utcnow()
        )
        session.commit()
    except Exception:
        session.commit()  # keep the attempt and, after the last one, the failure and its reason
        raise
    finally:
        session.close()
