"""Usage counters kept out of the database on the hot path: Redis, or memory when embedded.

Each API request adds one to an in-process counter, pushed to Redis (HINCRBY) in batches;
:meth:`drain` hands the accumulated counts to a batch write into the usage table.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any, Protocol

PENDING = "signal93:sandbox:usage"
LAST_USED = "signal93:sandbox:last-used"

Counts = list[tuple[int, date, str, int]]


class UsageCounter(Protocol):
    def record(self, key_id: int, endpoint: str, now: datetime) -> None: ...

    def drain(self) -> tuple[Counts, dict[int, datetime]]: ...

    def peek(self) -> Counts: ...

    def flush_due(self) -> bool: ...


def _field(key_id: int, day: date, endpoint: str) -> str:
    return f"{key_id}|{day.isoformat()}|{endpoint}"


def _parse(field: str, count: int) -> tuple[int, date, str, int]:
    key_id, day, endpoint = field.split("|", 2)
    return int(key_id), date.fromisoformat(day), endpoint, int(count)


class MemoryUsage:
    """One process's counters (the embedded mode runs one process). Other processes (the
    command line) cannot read them: :meth:`flush_due` says when to write them in a batch."""

    FLUSH_SECONDS = 30.0

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._last_used: dict[int, datetime] = {}
        self._lock = threading.Lock()
        self._flushed_at = time.monotonic()

    def flush_due(self) -> bool:
        return bool(self._counts) and time.monotonic() - self._flushed_at >= self.FLUSH_SECONDS

    def record(self, key_id: int, endpoint: str, now: datetime) -> None:
        with self._lock:
            self._counts[_field(key_id, now.astimezone(UTC).date(), endpoint)] += 1
            self._last_used[key_id] = now

    def peek(self) -> Counts:
        """The counts not drained yet, left in place (a page shows them without writing)."""
        with self._lock:
            return [_parse(f, c) for f, c in self._counts.items()]

    def drain(self) -> tuple[Counts, dict[int, datetime]]:
        with self._lock:
            counts, self._counts = self._counts, Counter()
            last_used, self._last_used = self._last_used, {}
            self._flushed_at = time.monotonic()
        return [_parse(f, c) for f, c in counts.items()], last_used


class RedisUsage:
    """Counters shared by every process and machine, in Redis.

    Each process buffers its counts and pushes them in one pipeline at most every
    ``PUSH_SECONDS``: no Redis round trip on a request's path, totals a second behind at most.
    """

    PUSH_SECONDS = 1.0

    def __init__(self, client: Any) -> None:
        self.client = client
        self._local = MemoryUsage()
        self._pushed_at = time.monotonic()

    def flush_due(self) -> bool:
        return False  # every process and the command line read Redis directly

    def record(self, key_id: int, endpoint: str, now: datetime) -> None:
        self._local.record(key_id, endpoint, now)
        if time.monotonic() - self._pushed_at >= self.PUSH_SECONDS:
            self.push()

    def push(self) -> None:
        """Send this process's buffered counts to Redis."""
        self._pushed_at = time.monotonic()
        counts, last_used = self._local.drain()
        if not counts and not last_used:
            return
        pipe = self.client.pipeline(transaction=False)
        for key_id, day, endpoint, count in counts:
            pipe.hincrby(PENDING, _field(key_id, day, endpoint), count)
        for key_id, when in last_used.items():
            pipe.hset(LAST_USED, str(key_id), when.isoformat())
        pipe.execute()

    def peek(self) -> Counts:
        """The counts not drained yet (this process's pushed first), left in place."""
        self.push()
        return [_parse(f.decode(), int(c)) for f, c in self.client.hgetall(PENDING).items()]

    def drain(self) -> tuple[Counts, dict[int, datetime]]:
        self.push()
        # Read and clear in one transaction: a count pushed meanwhile lands in the next drain.
        pipe = self.client.pipeline(transaction=True)
        pipe.hgetall(PENDING)
        pipe.delete(PENDING)
        pipe.hgetall(LAST_USED)
        pipe.delete(LAST_USED)
        counts, _, last_used, _ = pipe.execute()
        return (
            [_parse(f.decode(), int(c)) for f, c in counts.items()],
            {int(k): datetime.fromisoformat(v.decode()) for k, v in last_used.items()},
        )
