"""What key verification and rate limiting add to a sandbox request, on Redis.

    .venv/bin/python -m bench.sandbox_auth [--database-url postgresql://postgres@127.0.0.1:5432/test]
                                           [--redis-url redis://127.0.0.1:6379/15] [--requests 3000]

The same small endpoint (GET /api/v1/catalog/zones?kind=departement) of two sandbox apps on the
same database and Redis, called in alternation, in-process (no network noise):
- plain: no key, limiter disabled;
- keyed: `Authorization: Apikey …` verified (HMAC, one indexed look-up), two shared limits
  (rate with its burst, daily quota) checked in Redis, usage counted (buffered, pushed to
  Redis every second).
Prints p50/p99 of both and the added cost (target: at most 1.5 ms added at p50).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import redis

from backend.config import Settings, normalize_database_url
from backend.db import Database, make_engine, migrate
from backend.seeding import load_seeds
from sandbox import services
from sandbox.app import create_sandbox_app
from sandbox.migrate import migrate as migrate_sandbox

PATH = "/api/v1/catalog/zones?kind=departement"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()

    schema = f"bench_auth_{os.getpid()}"
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = normalize_database_url(f"{args.database_url}?options=-csearch_path%3D{schema}")
    redis.Redis.from_url(args.redis_url).flushdb()
    try:
        engine = make_engine(url)
        migrate(engine)
        migrate_sandbox(engine)
        database = Database(engine)
        settings = Settings(
            database_url=url,
            redis_url=args.redis_url,
            secret_key="s" * 40,
            media_storage_url="file:///tmp/signal93-bench",
            log_level="WARNING",
        )
        now = datetime.now(UTC)
        with database.transaction() as session:
            load_seeds(session)
            event = services.create_event(
                session,
                slug="bench",
                name="Bench",
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=1),
                rate_per_second=100_000,
                burst=100_000,
                daily_quota=10_000_000,
            )
            _, _, key = services.register_team(
                session,
                name="Bench",
                contact_email="bench@example.org",
                event_slug=event.slug,
                accepted_terms=True,
                now=now,
                secret=services.key_secret(settings.secret_key),
            )
        plain_app = create_sandbox_app(settings, database=database)
        plain_app.extensions["sandbox.limiter"].enabled = False
        keyed_app = create_sandbox_app(settings, database=database)
        plain, keyed = plain_app.test_client(), keyed_app.test_client()
        headers = {"Authorization": f"Apikey {key}"}
        for _ in range(200):  # warm-up: caches, prepared statements, connections
            assert plain.get(PATH).status_code == 200
            assert keyed.get(PATH, headers=headers).status_code == 200
        plain_ms, keyed_ms = [], []
        for _ in range(args.requests):
            start = time.perf_counter()
            plain.get(PATH)
            plain_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            response = keyed.get(PATH, headers=headers)
            keyed_ms.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.get_json()
        engine.dispose()
    finally:
        with psycopg.connect(args.database_url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    p50_plain, p99_plain = np.percentile(plain_ms, [50, 99])
    p50_keyed, p99_keyed = np.percentile(keyed_ms, [50, 99])
    print(f"{args.requests} requests each, alternating, PostgreSQL + Redis, in-process")
    print(f"plain (no key, no limits) : p50 {p50_plain:6.2f} ms   p99 {p99_plain:6.2f} ms")
    print(f"keyed (verify + limits)   : p50 {p50_keyed:6.2f} ms   p99 {p99_keyed:6.2f} ms")
    print(f"added at p50              : {p50_keyed - p50_plain:6.2f} ms  (target <= 1.5 ms)")
    print(f"added at p99              : {p99_keyed - p99_plain:6.2f} ms")


if __name__ == "__main__":
    main()
