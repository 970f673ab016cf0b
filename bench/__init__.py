"""Benchmarks: each prints its figures measured side by side in one run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


@contextmanager
def postgres_schema(conninfo: str, name: str) -> Iterator[str]:
    """A throwaway PostgreSQL schema, migrated (the backend's and the sandbox's tables): the
    SQLAlchemy URL that reaches it. Dropped on the way out, whatever happened."""
    import psycopg

    from backend.config import normalize_database_url
    from backend.db import make_engine, migrate
    from sandbox.migrate import migrate as migrate_sandbox

    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{name}"')
    url = normalize_database_url(f"{conninfo}?options=-csearch_path%3D{name}")
    engine = make_engine(url)
    try:
        migrate(engine)
        migrate_sandbox(engine)
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{name}" CASCADE')


def percentiles(samples: list[float]) -> tuple[float, float]:
    p50, p95 = np.percentile(samples, [50, 95])
    return float(p50), float(p95)
