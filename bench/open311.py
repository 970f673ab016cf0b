"""Open311's busiest read on a million reports: ``GET /open311/v2/requests.json`` answering 1,000
requests, against the same rows fetched by the bare SQL statement and serialised by the standard json
module, in the same run, on PostgreSQL; and the XML rendering of that page against the JSON one.

    .venv/bin/python -m bench.open311 [--database-url postgresql://postgres@127.0.0.1:5432/test] [--reports 1000000]

Targets: the API <= 3x the bare statement + json; the XML <= 2x the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import psycopg
from sqlalchemy import event

from bench import percentiles
from bench.queue import million_reports

PAGE = "/open311/v2/requests.{fmt}?page_size=1000"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    schema = f"bench_open311_{os.getpid()}"
    conninfo = args.database_url
    with million_reports(conninfo, schema, args.reports) as (app, engine, loaded):
        client = app.test_client()
        sent: list[tuple[str, dict]] = []

        def catch(_conn, _cursor, statement, parameters, _context, _executemany):
            sent.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", catch)
        client.get(PAGE.format(fmt="json"))
        event.remove(engine, "before_cursor_execute", catch)
        page_sql, page_params = next((sql, p) for sql, p in sent if "FROM reports JOIN categories" in sql)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'SET search_path TO "{schema}"')

            def bare() -> str:
                cursor = connection.execute(page_sql, page_params)
                names = [column.name for column in cursor.description]
                return json.dumps([dict(zip(names, row, strict=True)) for row in cursor], default=str)

            def api(fmt: str) -> bytes:
                response = client.get(PAGE.format(fmt=fmt))
                assert response.status_code == 200
                return response.get_data()

            assert len(json.loads(api("json"))) == 1000
            assert len(json.loads(bare())) == 1000
            for _ in range(5):  # warm-up, every side
                bare(), api("json"), api("xml")
            timings: dict[str, list[float]] = {"bare": [], "json": [], "xml": []}
            for _ in range(args.runs):
                for name, call in (("bare", bare), ("json", lambda: api("json")), ("xml", lambda: api("xml"))):
                    t = time.perf_counter()
                    call()
                    timings[name].append((time.perf_counter() - t) * 1000)
        engine.dispose()
    bare50, bare95 = percentiles(timings["bare"])
    json50, json95 = percentiles(timings["json"])
    xml50, xml95 = percentiles(timings["xml"])
    print(f"{args.reports:,} reports loaded in {loaded:.1f} s; GET requests, 1,000 of the last 90 days, newest first")
    print(f"bare SQL + json module : p50 {bare50:7.1f} ms   p95 {bare95:7.1f} ms")
    print(f"requests.json (API)    : p50 {json50:7.1f} ms   p95 {json95:7.1f} ms")
    print(f"requests.xml (API)     : p50 {xml50:7.1f} ms   p95 {xml95:7.1f} ms")
    print(f"JSON API / bare at p50 : {json50 / bare50:5.2f}x  (target <= 3x)")
    print(f"XML / JSON at p50      : {xml50 / json50:5.2f}x  (target <= 2x)")


if __name__ == "__main__":
    main()
