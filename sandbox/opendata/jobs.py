"""Building the snapshots: by hand (``flask sandbox snapshot build``) or every
``OPENDATA_BUILD_HOURS`` by the workers (one of them schedules it: a Redis key elects it). One
build at a time per dataset across the cluster: a Redis lock when there is Redis, a file lock in
the instance folder in the embedded mode (one machine)."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from backend import deps
from backend.deps import Core
from sandbox.opendata import snapshots
from sandbox.opendata.datasets import ExtraDatasetError, dataset_or_none, published_datasets

log = logging.getLogger(__name__)
SCHEDULE_KEY = "signal93:snapshots-scheduled"
LOCK_SECONDS = 6 * 3600  # a lock outlives no build: a crashed builder frees it after that


@dataclass(frozen=True)
class BuildResult:
    dataset: str
    version: str | None = None
    rows: int | None = None
    busy: bool = False
    failure: str | None = None

    @property
    def failed(self) -> bool:
        return self.failure is not None

    def line(self) -> str:
        if self.failure:
            return f"{self.dataset}: FAILED — {self.failure}"
        if self.busy:
            return f"{self.dataset}: another build of it is running, skipped"
        if self.version:
            return f"{self.dataset}: {self.version} ({self.rows} rows)"
        return f"{self.dataset}: unchanged"


def build_datasets(
    context: Core, ids: list[str], *, now: datetime, progress: Callable[[str], None] | None = None
) -> list[BuildResult]:
    """Build each dataset of ``ids`` (a new version when its data changed), each in its own
    transaction and under its lock; a failure is reported and the next dataset built."""
    results = []
    for dataset_id in ids:
        dataset = dataset_or_none(dataset_id)
        if dataset is None:
            results.append(BuildResult(dataset_id, failure="no such dataset"))
            continue
        with _lock(context, dataset_id) as held:
            if not held:
                results.append(BuildResult(dataset_id, busy=True))
            else:
                results.append(_build_one(context, dataset, now))
        if progress:
            progress(dataset_id)
    return results


def _build_one(context: Core, dataset, now: datetime) -> BuildResult:
    try:
        with context.database.transaction() as session:
            version = snapshots.build(session, context.storage, dataset, now=now)
            built = (version.version, version.rows) if version else (None, None)
    except ExtraDatasetError as exc:
        return BuildResult(dataset.id, failure=str(exc))
    except Exception:
        log.exception("snapshot build failed", extra={"dataset": dataset.id})
        return BuildResult(dataset.id, failure="unexpected error (see the logs); no version was published")
    log.info("snapshot built", extra={"dataset": dataset.id, "version": built[0], "rows": built[1]})
    return BuildResult(dataset.id, version=built[0], rows=built[1])


@contextmanager
def _lock(context: Core, dataset_id: str) -> Iterator[bool]:
    """Whether this process holds the dataset's build lock (it is released on leaving)."""
    redis_client = getattr(context, "redis", None)
    if redis_client is not None:
        lock = redis_client.lock(f"signal93:snapshot-build:{dataset_id}", timeout=LOCK_SECONDS, blocking=False)
        held = lock.acquire()
        try:
            yield held
        finally:
            if held:
                lock.release()
        return
    folder = context.settings.instance_path / "opendata-locks"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{dataset_id}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def schedule_builds(redis_client) -> None:
    """Keep one periodic build scheduled, however many workers run (a Redis key elects one)."""
    from rq import Queue

    from backend.queue import QUEUE_NAME

    hours = deps.current().settings.opendata_build_hours
    if hours <= 0:
        return
    every = timedelta(hours=hours)
    if redis_client.set(SCHEDULE_KEY, "1", nx=True, ex=int(every.total_seconds())):
        Queue(QUEUE_NAME, connection=redis_client).enqueue_in(every, "sandbox.opendata.jobs.periodic_build")


def periodic_build() -> list[BuildResult]:
    """Every dataset, then the next run (by a worker's scheduler)."""
    context = deps.current()
    try:
        return build_datasets(context, [dataset.id for dataset in published_datasets()], now=datetime.now(UTC))
    finally:
        context.redis.delete(SCHEDULE_KEY)
        schedule_builds(context.redis)
