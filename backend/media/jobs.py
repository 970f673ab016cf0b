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
    """Send again the jobs that were lost (media left pending, reporters not told); returns how many."""
    from backend.triage import notifications

    database = current_app.extensions["signal93.db"]
    database.ensure_process_local()
    queue = current_app.extensions["signal93.queue"]
    with database.transaction() as session:
        now = utcnow()
        return services.sweep(session, queue=queue, now=now) + notifications.sweep(session, queue=queue, now=now)


SWEEP_EVERY = timedelta(minutes=2)
SWEEP_LOCK = "signal93:sweep-scheduled"


def schedule_sweeps(redis_client) -> None:
    """Keep one periodic sweep scheduled, however many workers run (a Redis lock elects one)."""
    from rq import Queue

    from backend.queue import QUEUE_NAME

    if redis_client.set(SWEEP_LOCK, "1", nx=True, ex=int(SWEEP_EVERY.total_seconds())):
        Queue(QUEUE_NAME, connection=redis_client).enqueue_in(SWEEP_EVERY, "backend.media.jobs.periodic_sweep")


def periodic_sweep() -> None:
    """The sweep and the units' digests, then the next run (by a worker's scheduler)."""
    from backend.triage.jobs import send_digests

    sweep()
    send_digests()
    redis_client = current_app.extensions["signal93.redis"]
    redis_client.delete(SWEEP_LOCK)
    schedule_sweeps(redis_client)
