"""Background jobs behind one small interface: in-process (embedded) or rq on Redis (production).

Jobs are named by their import path, take ids, and are sent only after the transaction that
recorded their work commits (dropped on rollback). What must happen is in the database first
(a ``pending`` row), so a job lost to a Redis outage or a killed worker is found by a sweep.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

QUEUE_NAME = "signal93"
RETRY_INTERVALS = [10, 60, 300]  # seconds between the attempts rq makes after a failure
PENDING_KEY = "signal93.after_commit_jobs"


class JobQueue(Protocol):
    def enqueue(self, job: str, *args: Any) -> None: ...


def resolve(job: str) -> Callable[..., Any]:
    """The function named ``package.module.function`` (rq's naming)."""
    module, _, name = job.rpartition(".")
    return getattr(importlib.import_module(module), name)


class NullQueue:
    """Sends nothing: for a caller that records work but wants no job run now (a script, a
    test of the recorded state). What it drops stays ``pending`` for the sweep."""

    def enqueue(self, job: str, *args: Any) -> None:
        log.debug("job not sent (null queue)", extra={"job": job})


class InlineQueue:
    """Runs each job at once, in this process (the embedded mode). A failing job is logged,
    never raised into the request that sent it: its row stays ``pending`` for the sweep."""

    def __init__(self, runner: Callable[[Callable[[], Any]], Any] | None = None):
        # ``runner`` wraps the call (the app gives it an app context); default: call directly.
        self.runner = runner or (lambda call: call())

    def enqueue(self, job: str, *args: Any) -> None:
        function = resolve(job)
        try:
            self.runner(lambda: function(*args))
        except Exception:
            log.exception("inline job failed", extra={"job": job})


class RqQueue:
    """Sends jobs to rq workers through Redis. With Redis unreachable the job is not sent and
    the request goes on: the work is recorded as pending and the sweep sends it later."""

    def __init__(self, connection: Any, name: str = QUEUE_NAME):
        from rq import Queue

        self.queue = Queue(name, connection=connection)

    def enqueue(self, job: str, *args: Any) -> None:
        from redis.exceptions import RedisError
        from rq import Retry

        from backend.logs import REQUEST_ID

        try:
            self.queue.enqueue(
                job,
                *args,
                retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
                meta={"request_id": REQUEST_ID.get()},
            )
        except RedisError as exc:
            log.warning("job not sent, the sweep will send it", extra={"job": job, "error": type(exc).__name__})


@contextmanager
def job_transaction() -> Iterator[Session]:
    """A job's unit of work, in the app's context (as workers and the in-process queue run jobs):
    this process's own connections (a forked work horse must not use its parent's), one
    transaction, committed if the job returns."""
    from backend import deps

    database = deps.core().database
    database.ensure_process_local()
    with database.transaction() as session:
        yield session


def after_commit(session: Session, queue: JobQueue, job: str, *args: Any) -> None:
    """Send ``job(*args)`` once ``session`` commits; forget it if the session rolls back."""
    session.info.setdefault(PENDING_KEY, []).append((queue, job, args))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    for queue, job, args in session.info.pop(PENDING_KEY, []):
        queue.enqueue(job, *args)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the whole transaction is gone, not a savepoint
        session.info.pop(PENDING_KEY, None)


def worker_class(*, forking: bool = True) -> type:
    """rq's worker, with each job's log lines carrying the id of the request that sent it
    (``forking=False``: rq's SimpleWorker, running jobs in its own process)."""
    from rq import SimpleWorker, Worker

    from backend.logs import REQUEST_ID

    class RequestIdWorker(Worker if forking else SimpleWorker):  # type: ignore[misc,valid-type]
        def perform_job(self, job: Any, *args: Any, **kwargs: Any) -> bool:
            token = REQUEST_ID.set((job.meta or {}).get("request_id"))
            try:
                return super().perform_job(job, *args, **kwargs)
            finally:
                REQUEST_ID.reset(token)

    return RequestIdWorker
