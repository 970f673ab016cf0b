"""Periodic work across domains: the sweep of lost jobs and the units' digests, kept scheduled
by the workers (``flask worker``) and run by hand with ``flask sweep`` / ``flask digest``."""

from __future__ import annotations

from datetime import timedelta

from backend import deps
from backend.db import utcnow
from backend.media import services as media_services
from backend.notifications import alerts, reporters, units
from backend.notifications.jobs import send_digests
from backend.queue import QUEUE_NAME, job_transaction

SWEEP_EVERY = timedelta(minutes=2)
SWEEP_LOCK = "signal93:sweep-scheduled"


def sweep(stale_after: timedelta | None = None) -> int:
    """Send again the jobs that were lost (media left pending, reporters and units not told);
    returns how many. ``stale_after``: how long work waits before it is taken for lost (each
    kind's own default; zero after an incident, to send everything pending now)."""
    queue = deps.current().queue
    options = {} if stale_after is None else {"stale_after": stale_after}
    with job_transaction() as session:
        now = utcnow()
        return sum(
            sweep_one(session, queue=queue, now=now, **options)
            for sweep_one in (media_services.sweep, reporters.sweep, units.sweep, alerts.sweep)
        )


def schedule_sweeps(redis_client) -> None:
    """Keep one periodic run scheduled, however many workers run (a Redis lock elects one)."""
    from rq import Queue

    if redis_client.set(SWEEP_LOCK, "1", nx=True, ex=int(SWEEP_EVERY.total_seconds())):
        Queue(QUEUE_NAME, connection=redis_client).enqueue_in(SWEEP_EVERY, "backend.jobs.periodic_sweep")


def periodic_sweep() -> None:
    """The sweep and the units' digests, then the next run (by a worker's scheduler)."""
    sweep()
    send_digests()
    redis_client = deps.current().redis
    redis_client.delete(SWEEP_LOCK)
    schedule_sweeps(redis_client)
