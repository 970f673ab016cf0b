"""Background entry points for media: they take ids, open their own transaction, and are safe
to run twice."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from backend.db import utcnow
from backend.media import services


def process_media(media_id: int) -> None:
    """Make the derivatives of one medium (rq retries it with backoff on failure)."""
    settings = current_app.extensions["signal93.settings"]
    database = current_app.extensions["signal93.db"]
    storage = current_app.extensions["signal93.storage"]
    database.ensure_process_local()
    session = database.session()
    try:
        services.process(session, media_id, storage=storage, max_pixels=settings.max_photo_pixels, now=utcnow())
        session.commit()
    except Exception:
        session.commit()  # keep the attempt and, after the last one, the failure and its reason
        raise
    finally:
        session.close()


def sweep() -> int:
    """Send again the jobs of media left pending (a lost job); returns how many."""
    database = current_app.extensions["signal93.db"]
    database.ensure_process_local()
    with database.transaction() as session:
        return services.sweep(session, queue=current_app.extensions["signal93.queue"], now=utcnow())


SWEEP_EVERY = timedelta(minutes=2)
SWEEP_LOCK = "signal93:sweep-scheduled"


def schedule_sweeps(redis_client) -> None:
    """Keep one periodic sweep scheduled, however many workers run (a Redis lock elects one)."""
    from rq import Queue

    from backend.queue import QUEUE_NAME

    if redis_client.set(SWEEP_LOCK, "1", nx=True, ex=int(SWEEP_EVERY.total_seconds())):
        Queue(QUEUE_NAME, connection=redis_client).enqueue_in(SWEEP_EVERY, "backend.media.jobs.periodic_sweep")


def periodic_sweep() -> None:
    """The sweep, then the next one (run by a worker's scheduler)."""
    sweep()
    redis_client = current_app.extensions["signal93.redis"]
    redis_client.delete(SWEEP_LOCK)
    schedule_sweeps(redis_client)
