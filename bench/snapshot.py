"""Building the `signalements` snapshot from a million reports, against PostgreSQL's own
`COPY (SELECT the same columns) TO STDOUT WITH CSV` into a file, in the same run; and the build's
peak memory at 100,000 and at 1,000,000 reports.

    .venv/bin/python -m bench.snapshot [--database-url postgresql://postgres@127.0.0.1:5432/test] [--reports 1000000]

Loads the reports (and their acknowledged / resolved events) with INSERT … SELECT
generate_series, server side. Then, alternating, three times each: the COPY alone into a file,
and the build's CSV and Parquet files (the seam's COPY, typed and scrubbed by DuckDB into
data.parquet, data.csv written from it). Prints the medians and the ratio COPY / build (target:
the build at >= 0.5x COPY's speed). Then a whole build (GeoJSON, data package, checksums, the
changelog against the previous version, the files stored) in a fresh process, at 100,000 reports
and at the full count, with its peak resident memory (target <= 300 MB whatever the count).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import psycopg

from backend.db import Database, make_engine
from backend.export import PUBLIC_REPORTS_SQL
from backend.seeding import load_seeds
from bench import postgres_schema

LOAD = """
INSERT INTO reports (id, program_id, category_id, status, lon, lat, accuracy_m, location_source, sensitive,
    public_lon, public_lat, public_cell, received_at, description, description_public, attributes, directorate_id,
    unit_id, routing, support_count, reporter_token_hash, version, updated_at, priority, commune_code)
SELECT g, p.id, c.id,
    (ARRAY['open','acknowledged','in_progress','resolved','rejected','open'])[1 + (g % 6)],
    2.35 + random() * 0.25, 48.85 + random() * 0.15, 10, 'device', g % 50 = 0,
    2.35 + (g * 7919 % 25000) / 100000.0, 48.85 + (g * 104729 % 15000) / 100000.0,
    (floor((48.85 + (g * 104729 % 15000) / 100000.0) * 100)::integer + 9000) * 100000
    + floor((2.35 + (g * 7919 % 25000) / 100000.0) * 100)::integer + 18000,
    now() - (g % 525600) * interval '1 minute', 'Nid-de-poule devant le numéro ' || g, g % 100 = 0, '{}'::json,
    u.directorate_id, u.id,
    json_build_object('rule', 'bench', 'message', '', 'status', 'open',
        'directorate', json_build_object('code', 'DVD', 'name', 'Direction de la Voirie et des Déplacements'),
        'unit', json_build_object('code', 'DVD-T6', 'name', 'DVD - Territoire Plaine Commune'),
        'zones', json_build_array(
            json_build_object('kind', 'commune', 'code', '93066', 'name', 'Saint-Denis'),
            json_build_object('kind', 'territory', 'code', 'T6', 'name', 'Plaine Commune'))),
    g % 7, md5(g::text), 1, now(), 1, '93066'
FROM generate_series(%(first)s, %(last)s) AS g
CROSS JOIN (SELECT id, directorate_id FROM units WHERE code = 'DVD-T6') AS u
CROSS JOIN (SELECT id FROM programs WHERE code = 'patrouillage') AS p
CROSS JOIN (SELECT id FROM categories WHERE code = 'nid-de-poule') AS c
"""
EVENTS = """
INSERT INTO report_events (report_id, kind, at, actor_type, public, data)
SELECT id, 'status', received_at + interval '1 hour' * (1 + id % 48), 'agent', true,
    json_build_object('status', 'acknowledged')
FROM reports WHERE id BETWEEN %(first)s AND %(last)s AND status <> 'open'
UNION ALL
SELECT id, 'status', received_at + interval '1 hour' * (50 + id % 200), 'agent', true,
    json_build_object('status', 'resolved')
FROM reports WHERE id BETWEEN %(first)s AND %(last)s AND status = 'resolved'
"""
CHILD = """
import json, sys, time
from datetime import UTC, datetime
from backend.db import Database, make_engine
from backend.storage import make_storage
from sandbox.opendata import snapshots
from sandbox.opendata.datasets import dataset_or_none
database = Database(make_engine(sys.argv[1]))
storage = make_storage(sys.argv[2])
start = time.perf_counter()
with database.transaction() as session:
    version = snapshots.build(session, storage, dataset_or_none("signalements"), now=datetime.now(UTC))
    rows = version.rows if version else 0
seconds = time.perf_counter() - start
peak = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": peak}))
"""


def load(conninfo: str, schema: str, first: int, last: int) -> float:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'SET search_path TO "{schema}"')
        start = time.perf_counter()
        for step in range(first, last + 1, 250_000):
            bounds = {"first": step, "last": min(step + 249_999, last)}
            connection.execute(LOAD.replace("%(first)s", str(bounds["first"])).replace("%(last)s", str(bounds["last"])))
            connection.execute(
                EVENTS.replace("%(first)s", str(bounds["first"])).replace("%(last)s", str(bounds["last"]))
            )
        connection.execute("VACUUM ANALYZE reports")
        connection.execute("VACUUM ANALYZE report_events")
        connection.execute(f"SELECT setval(pg_get_serial_sequence('reports', 'id'), {last})")
        return time.perf_counter() - start


def copy_to_file(conninfo: str, schema: str, path: Path) -> float:
    """PostgreSQL's COPY of the same columns into a file: the floor."""
    with psycopg.connect(conninfo) as connection, path.open("wb") as file:
        connection.execute(f'SET search_path TO "{schema}"')
        connection.execute("SET TIME ZONE 'UTC'")
        start = time.perf_counter()
        with connection.cursor().copy(f"COPY ({PUBLIC_REPORTS_SQL}) TO STDOUT WITH CSV") as copy:
            for block in copy:
                file.write(block)
        return time.perf_counter() - start


def csv_and_parquet(database: Database, folder: Path) -> float:
    """The build's CSV and Parquet files (no GeoJSON, nothing stored), as the build makes them."""
    from sandbox.opendata import snapshots
    from sandbox.opendata.datasets import dataset_or_none

    dataset = replace(dataset_or_none("signalements"), spatial=False)
    for leftover in folder.iterdir():
        leftover.unlink()
    with database.transaction() as session:
        start = time.perf_counter()
        snapshots._write_bulk(session, dataset, folder)
        return time.perf_counter() - start


def whole_build(url: str, storage_url: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, url, storage_url], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the build failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    schema = f"bench_snapshot_{os.getpid()}"
    conninfo = args.database_url
    work = Path(tempfile.mkdtemp(prefix="signal93-bench-snapshot-"))
    storage_url = f"file://{work / 'media'}"
    with postgres_schema(conninfo, schema) as url:
        engine = make_engine(url)
        database = Database(engine)
        with database.transaction() as session:
            load_seeds(session)
        small = min(100_000, args.reports)
        seconds = load(conninfo, schema, 1, small)
        first = whole_build(url, storage_url)
        print(
            f"{small:,} reports loaded in {seconds:.0f} s; whole build: {first['seconds']:.1f} s, "
            f"peak memory {first['peak_mb']:.0f} MB"
        )
        if args.reports > small:
            seconds = load(conninfo, schema, small + 1, args.reports)
            print(f"{args.reports:,} reports loaded in {seconds:.0f} s")

        floor, ours = [], []
        (work / "build").mkdir()
        for _ in range(args.runs):
            floor.append(copy_to_file(conninfo, schema, work / "copy.csv"))
            ours.append(csv_and_parquet(database, work / "build"))
        sizes = {name: (work / "build" / name).stat().st_size / 1e6 for name in ("data.csv", "data.parquet")}
        copy_s, build_s = statistics.median(floor), statistics.median(ours)
        print(
            f"COPY (SELECT …) TO STDOUT WITH CSV into a file: {copy_s:5.2f} s   "
            f"build, data.csv ({sizes['data.csv']:.0f} MB) + data.parquet ({sizes['data.parquet']:.0f} MB): "
            f"{build_s:5.2f} s   speed {copy_s / build_s:4.2f}x COPY's  (target >= 0.5x)"
        )
        if args.reports == small:
            return
        whole = whole_build(url, storage_url)
        print(
            f"whole build of {whole['rows']:,} rows (CSV, Parquet, GeoJSON, package, checksums, changelog, stored): "
            f"{whole['seconds']:.1f} s, peak memory {whole['peak_mb']:.0f} MB  (target <= 300 MB; "
            f"{first['peak_mb']:.0f} MB at {small:,})"
        )
        engine.dispose()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
