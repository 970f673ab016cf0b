"""The agents' queue on a million reports: a page through the API against the same query run
directly with psycopg, in the same run, on PostgreSQL.

    .venv/bin/python -m bench.queue [--database-url postgresql://postgres@127.0.0.1:5432/test] [--reports 1000000]

Loads the reports with one INSERT … SELECT generate_series (server side), then times the second
page (50 rows; status and unit filter; newest first; through the cursor) through the API, in
process (token check, query, JSON), and the very SQL statement the API sends for the page (caught
on its way to the driver) run alone with psycopg. Prints p50/p95 of both, the ratio (target <= 3x),
the API's p95 (target < 50 ms) and the query plan.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import psycopg
from sqlalchemy import event

from backend.app import create_app
from backend.config import Settings
from backend.db import Database, make_engine
from backend.directory import agents
from backend.seeding import load_seeds
from bench import percentiles, postgres_schema

STATUSES = "open,acknowledged"
UNIT = "DVD-T6"
LOAD = """
INSERT INTO reports (program_id, category_id, status, lon, lat, accuracy_m, location_source, sensitive,
    public_lon, public_lat, public_cell, received_at, description, attributes, directorate_id, unit_id, routing,
    support_count, reporter_token_hash, version, updated_at, priority, commune_code, due_at)
SELECT p.id, c.id,
    (ARRAY['open','open','acknowledged','in_progress','resolved','rejected'])[1 + (g % 6)],
    2.35 + random() * 0.25, 48.85 + random() * 0.15, 10, 'device', false,
    2.35 + (g * 7919 %% 25000) / 100000.0, 48.85 + (g * 104729 %% 15000) / 100000.0,
    (floor((48.85 + (g * 104729 %% 15000) / 100000.0) * 100)::integer + 9000) * 100000
    + floor((2.35 + (g * 7919 %% 25000) / 100000.0) * 100)::integer + 18000,
    now() - (g % 525600) * interval '1 minute', 'Signalement de charge', '{}'::json,
    u.directorate_id, u.id, '{"rule": "bench", "zones": [], "message": "", "directorate": {}}'::json,
    g % 7, md5(g::text), 1, now(), 1, '93066', now()
FROM generate_series(1, %(count)s) AS g
JOIN LATERAL (SELECT id, directorate_id FROM units
              WHERE directorate_id = (SELECT id FROM directorates WHERE code = 'DVD')
              ORDER BY id OFFSET (g %% 4) LIMIT 1) AS u ON true
CROSS JOIN (SELECT id FROM programs WHERE code = 'patrouillage') AS p
CROSS JOIN (SELECT id FROM categories WHERE code = 'nid-de-poule') AS c
"""


@contextmanager
def million_reports(conninfo: str, schema: str, count: int, prepare=None) -> Iterator[tuple]:
    """A throwaway schema, seeded (then ``prepare(session)``), ``count`` reports loaded server-side
    and vacuumed, and the app on it: ``(app, engine, seconds the load took)``."""
    with postgres_schema(conninfo, schema) as url:
        engine = make_engine(url)
        database = Database(engine)
        with database.transaction() as session:
            load_seeds(session)
            if prepare:
                prepare(session)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'SET search_path TO "{schema}"')
            start = time.perf_counter()
            connection.execute(LOAD.replace("%(count)s", str(count)).replace("%%", "%"))
            connection.execute("VACUUM ANALYZE reports")  # as autovacuum leaves a table at rest
            loaded = time.perf_counter() - start
        settings = Settings(
            database_url=url,
            secret_key="q" * 40,
            media_storage_url="file:///tmp/signal93-bench",
            log_level="WARNING",
            routing_refresh_seconds=60,
        )
        try:
            app = create_app(settings, database=database)
            gc.freeze()  # as wsgi.py does once the app is made
            yield app, engine, loaded
        finally:
            gc.unfreeze()
            engine.dispose()


def _per_call_us(call, runs: int = 2000) -> float:
    for _ in range(100):
        call()
    start = time.perf_counter()
    for _ in range(runs):
        call()
    return (time.perf_counter() - start) / runs * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()

    schema = f"bench_queue_{os.getpid()}"
    conninfo = args.database_url

    def bench_agent(session) -> None:
        agents.create_agent(
            session,
            email="bench@seinesaintdenis.fr",
            password="a bench pass phrase",  # noqa: S106 (a throwaway schema)
            directorate="DVD",
            role="agent",
        )

    with million_reports(conninfo, schema, args.reports, prepare=bench_agent) as (app, engine, loaded):
        client = app.test_client()
        token = client.post(
            "/api/v1/auth/tokens", json={"email": "bench@seinesaintdenis.fr", "password": "a bench pass phrase"}
        ).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        query = f"/api/v1/triage/reports?status={STATUSES}&unit={UNIT}&limit=50"
        first = client.get(query, headers=headers).get_json()
        second_url = f"{query}&counts=false&cursor={first['next_cursor']}"  # scrolling: counts came with page 1
        sent: list[tuple[str, dict]] = []

        def catch(_conn, _cursor, statement, parameters, _context, _executemany):
            sent.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", catch)
        client.get(second_url, headers=headers)
        event.remove(engine, "before_cursor_execute", catch)
        page_sql, page_params = next((sql, p) for sql, p in sent if "FROM reports" in sql)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'SET search_path TO "{schema}"')
            for _ in range(20):  # warm-up, both sides (psycopg prepares a statement on its 5th run)
                client.get(second_url, headers=headers)
                connection.execute(page_sql, page_params).fetchall()
            api_ms, direct_ms = [], []
            for _ in range(args.runs):
                t = time.perf_counter()
                response = client.get(second_url, headers=headers)
                api_ms.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.get_json()
                assert len(response.get_json()["items"]) == 50
                t = time.perf_counter()
                rows = connection.execute(page_sql, page_params).fetchall()
                direct_ms.append((time.perf_counter() - t) * 1000)
                assert len(rows) == 51
            plan = "\n".join(r[0] for r in connection.execute("EXPLAIN " + page_sql, page_params).fetchall())
            # What the JSON provider (orjson) saves on a page, against the standard library.
            page = client.get(second_url, headers=headers).get_json()
            with app.app_context():
                provider_us = _per_call_us(lambda: app.json.dumps(page))
            stdlib_us = _per_call_us(lambda: json.dumps(page, ensure_ascii=False))
            first_ms = []
            for _ in range(20):  # page 1 also counts every matching report per status
                t = time.perf_counter()
                client.get(query, headers=headers)
                first_ms.append((time.perf_counter() - t) * 1000)
        engine.dispose()
    api50, api95 = percentiles(api_ms)
    db50, db95 = percentiles(direct_ms)
    print(f"{args.reports:,} reports loaded in {loaded:.1f} s; second page, 50 rows, status + unit, newest first")
    print(f"direct psycopg query : p50 {db50:6.2f} ms   p95 {db95:6.2f} ms")
    print(f"API (in process)     : p50 {api50:6.2f} ms   p95 {api95:6.2f} ms  (target p95 < 50 ms)")
    print(f"ratio at p50         : {api50 / db50:6.2f}x  (target <= 3x)")
    print(f"first page, with the counts per status over every matching report: p50 {np.median(first_ms):.1f} ms")
    print(
        f"a page's JSON: {provider_us:.0f} us with the app's provider (orjson), {stdlib_us:.0f} us with the "
        f"standard library: {stdlib_us / provider_us:.1f}x"
    )
    print("the page's statement, as the API sends it:")
    print(page_sql)
    print("its plan:")
    print(plan)


if __name__ == "__main__":
    main()
