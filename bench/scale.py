"""How cost grows with ten years of data: the same figures at 100,000 and at 5,000,000 reports.

    .venv/bin/python -m bench.scale [--database-url postgresql://postgres@127.0.0.1:5432/test]
                                    [--reports 5000000] [--small 100000] [--seconds 10]

In one throwaway PostgreSQL schema, seeded: the newest ``--small`` reports (with their two trail
events each) are loaded with ``COPY``, then measured; then the older ones, down to ten years back,
are loaded the same way and everything is measured again. Reports arrive at a steady rate over
ten years; those of the last two months are in every state, older ones nearly all closed (a few in
a forgotten backlog). Measured each time, side by side:

1. intake: ``POST /api/v1/reports`` through gunicorn (2 sync workers) against the floor app
   (bench/floor_app.py) on the same database: the throughput ratio and Signal93's p99 at half its
   maximum rate;
2. the agents' queue (in process, through the API): page 1 with the counts per status, and page 2
   (status + unit, newest first), p50 and p95;
3. the public list by bounding box (a square kilometre, 50 reports, newest first), p50 and p95;
4. the similar-reports look-up intake runs for each new report, p50 and p95.

Then routing at scale: 20,000 road segments and 2,000 park zones added to the seeded zones, our
route() against a bare STRtree query over the same indexed shapes (target: at most 3x).

Prints each figure at both sizes and its growth factor (target: at most 1.5x), and the plan of
every statement at the large size, flagging those that grew.
"""

from __future__ import annotations

import argparse
import gc
import io
import math
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import shapely
from sqlalchemy import event, select

from backend.app import create_app
from backend.config import Settings, normalize_database_url
from backend.db import Database, make_engine
from backend.directory import agents
from backend.directory.models import Category, Unit
from backend.reports.models import Report, public_cell
from backend.reports.nearby import SIMILAR, similar_params
from backend.routing.geometry import ZoneIndex
from backend.routing.services import RoutingTable
from backend.zones.models import Zone
from bench import percentiles
from bench.intake import bodies, seeded_schema, side_by_side

YEARS = 10
RECENT = timedelta(days=60)  # the part of the history still being worked on
BBOX_KM = 1.0
QUEUE_UNIT = "DVD-T6"
QUEUE_STATUSES = "open,acknowledged"
RECENT_STATUSES = ["open"] * 20 + ["acknowledged"] * 15 + ["in_progress"] * 15 + ["resolved"] * 40 + ["rejected"] * 10
OLD_STATUSES = ["resolved"] * 850 + ["rejected"] * 149 + ["in_progress"]  # 0.1 %: a forgotten backlog
REPORT_COLUMNS = (
    "id, program_id, category_id, status, lon, lat, accuracy_m, location_source, sensitive, public_lon, "
    "public_lat, public_cell, received_at, description, attributes, directorate_id, unit_id, routing, commune_code, "
    "due_at, support_count, priority, reporter_token_hash, version, updated_at"
)
COUNT_ALL = """
INSERT INTO report_counts (directorate_id, unit_id, program_id, category_id, commune_code, status, n)
SELECT directorate_id, coalesce(unit_id, 0), program_id, category_id, coalesce(commune_code, ''), status, count(*)
FROM reports GROUP BY 1, 2, 3, 4, 5, 6
"""
EVENT_COLUMNS = "report_id, kind, at, actor_type, public, data"
ROUTING = '{"rule": "bench", "zones": [], "message": "", "directorate": {}}'


class History:
    """Reports spread over ten years at a steady rate: ``total`` in all, numbered newest first."""

    def __init__(self, session, total: int, now: datetime):
        self.total, self.now = total, now
        self.step = timedelta(days=365.25 * YEARS) / total
        units: dict[int, list[int]] = {}
        for unit in session.scalars(select(Unit).where(Unit.active.is_(True))):
            units.setdefault(unit.directorate_id, []).append(unit.id)
        self.categories = [
            (c.id, c.program_id, c.program.directorate_id, units.get(c.program.directorate_id) or [None])
            for c in session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.id))
            if c.program.code != "observacteurs"  # sightings: few, and their public point is generalised
        ]
        self.communes = list(session.scalars(select(Zone.code).where(Zone.kind == "commune")))
        outline = next(
            shapely.geometry.shape(z.geometry) for z in session.scalars(select(Zone).where(Zone.kind == "departement"))
        )
        self.bounds = outline.bounds

    def copy(self, conninfo: str, schema: str, first: int, last: int) -> float:
        """COPY reports ``first``..``last`` (1 the newest) and their events; seconds taken."""
        rng = random.Random(first)
        min_lon, min_lat, max_lon, max_lat = self.bounds
        start = time.perf_counter()
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'SET search_path TO "{schema}"')
            # A bulk load counts once at the end, as migration 0018 does, rather than row by row, and
            # builds the plain indexes once at the end (their definitions as the migrations made them).
            connection.execute("ALTER TABLE reports DISABLE TRIGGER report_counts_insert")
            indexes = connection.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s "
                "AND tablename IN ('reports', 'report_events') AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
                (schema,),
            ).fetchall()
            for name, _ in indexes:
                connection.execute(f'DROP INDEX "{name}"')
            with connection.cursor() as cursor:
                with cursor.copy(f"COPY reports ({REPORT_COLUMNS}) FROM STDIN") as copy:
                    batch = io.StringIO()
                    for n in range(first, last + 1):
                        received = self.now - self.step * n
                        recent = self.now - received < RECENT
                        status = rng.choice(RECENT_STATUSES if recent else OLD_STATUSES)
                        category, program, directorate, units = self.categories[n % len(self.categories)]
                        unit = units[n % len(units)]
                        lon, lat = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
                        batch.write(
                            f"{self.total + 1 - n}\t{program}\t{category}\t{status}\t{lon}\t{lat}\t10\tdevice\tf\t"
                            f"{lon}\t{lat}\t{public_cell(lon, lat)}\t{received.isoformat()}\t"
                            f"Signalement de charge\t{{}}\t{directorate}\t"
                            f"{unit if unit is not None else chr(92) + 'N'}\t{ROUTING}\t"
                            f"{self.communes[n % len(self.communes)]}\t{(received + timedelta(days=14)).isoformat()}\t"
                            f"{n % 7}\t1\t{n:064x}\t1\t{received.isoformat()}\n"
                        )
                        if n % 20000 == 0:
                            copy.write(batch.getvalue())
                            batch = io.StringIO()
                    copy.write(batch.getvalue())
                with cursor.copy(f"COPY report_events ({EVENT_COLUMNS}) FROM STDIN") as copy:
                    batch = io.StringIO()
                    for n in range(first, last + 1):
                        received = (self.now - self.step * n).isoformat()
                        report_id = self.total + 1 - n
                        batch.write(f"{report_id}\tsubmitted\t{received}\tcitizen\tt\t{{}}\n")
                        batch.write(f"{report_id}\trouted\t{received}\tsystem\tt\t{{}}\n")
                        if n % 20000 == 0:
                            copy.write(batch.getvalue())
                            batch = io.StringIO()
                    copy.write(batch.getvalue())
            for _, definition in indexes:
                connection.execute(definition)
            connection.execute("ALTER TABLE reports ENABLE TRIGGER report_counts_insert")
            connection.execute("DELETE FROM report_counts")
            connection.execute(COUNT_ALL)
            connection.execute("SELECT setval(pg_get_serial_sequence('reports', 'id'), (SELECT max(id) FROM reports))")
            connection.execute("VACUUM ANALYZE reports")  # as autovacuum leaves a table at rest
            connection.execute("VACUUM ANALYZE report_events")
            connection.execute("CHECKPOINT")  # the load's dirty pages written now, not during the measures
        return time.perf_counter() - start


def timed(call: Callable[[], object], runs: int, rounds: int = 2) -> tuple[float, float]:
    """p50 and p95 in ms of ``runs`` calls, the round with the lowest p95 of ``rounds`` (this
    machine is shared: the least disturbed round is the fairest, as for the intake)."""
    for _ in range(max(5, runs // 10)):  # warm-up (psycopg prepares a statement on its 5th run)
        call()
    best = None
    for _ in range(rounds):
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            call()
            samples.append((time.perf_counter() - start) * 1000)
        figures = percentiles(samples)
        best = figures if best is None or figures[1] < best[1] else best
    return best


class Statements:
    """The SQL statements the app sends for a call, caught on their way to the driver."""

    def __init__(self, engine):
        self.engine, self.sent = engine, []

    def __call__(self, call: Callable[[], object], marker: str) -> list[tuple[str, object]]:
        self.sent = []

        def catch(_conn, _cursor, statement, parameters, _context, _executemany):
            self.sent.append((statement, parameters))

        event.listen(self.engine, "before_cursor_execute", catch)
        try:
            call()
        finally:
            event.remove(self.engine, "before_cursor_execute", catch)
        return [(sql, params) for sql, params in self.sent if marker in sql]


def measure(args, conninfo: str, schema: str, url: str, env: dict[str, str], history: History) -> dict:
    """Every figure at the data's current size, and the statements behind the read figures."""
    figures: dict[str, tuple[float, ...]] = {}
    statements: dict[str, list[tuple[str, object]]] = {}
    ours, floor, latencies = side_by_side(env, bodies(5000), args.seconds, args.rounds, ports=(18097, 18098))
    figures["intake throughput ratio"] = (ours / floor, ours, floor)
    figures["intake p99 (ms)"] = (float(np.percentile(latencies, 99)),)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'SET search_path TO "{schema}"')
        # What the intake rounds added goes: both sizes are then measured on the history alone.
        for table in ("report_events", "reporters"):
            connection.execute(f"DELETE FROM {table} WHERE report_id > %s", (history.total,))  # noqa: S608
        connection.execute("DELETE FROM reports WHERE id > %s", (history.total,))
        connection.execute("VACUUM ANALYZE reports")

    engine = make_engine(url)
    database = Database(engine)
    settings = Settings(
        database_url=url,
        secret_key="s" * 40,
        media_storage_url="file:///tmp/signal93-bench",
        log_level="WARNING",
        routing_refresh_seconds=600,
    )
    app = create_app(settings, database=database)
    gc.freeze()
    try:
        client = app.test_client()
        token = client.post(
            "/api/v1/auth/tokens", json={"email": "scale@seinesaintdenis.fr", "password": "a bench pass phrase"}
        ).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        catch = Statements(engine)
        page1 = f"/api/v1/triage/reports?status={QUEUE_STATUSES}&unit={QUEUE_UNIT}&limit=50"
        first = client.get(page1, headers=headers).get_json()
        page2 = f"{page1}&counts=false&cursor={first['next_cursor']}"

        def get(path: str, **kwargs) -> Callable[[], object]:
            def call() -> None:
                response = client.get(path, **kwargs)
                assert response.status_code == 200, response.get_json()

            return call

        figures["queue page 1, with counts (ms)"] = timed(get(page1, headers=headers), args.runs // 4)
        statements["queue page 1, with counts (ms)"] = catch(get(page1, headers=headers), "FROM reports")
        figures["queue page 2 (ms)"] = timed(get(page2, headers=headers), args.runs)
        statements["queue page 2 (ms)"] = catch(get(page2, headers=headers), "FROM reports")

        rng = np.random.default_rng(7)
        min_lon, min_lat, max_lon, max_lat = history.bounds
        dlat = BBOX_KM / 111.32 / 2
        dlon = BBOX_KM / (111.32 * math.cos(math.radians(48.9))) / 2
        centres = [
            (rng.uniform(min_lon + 0.02, max_lon - 0.02), rng.uniform(min_lat + 0.02, max_lat - 0.02))
            for _ in range(64)
        ]
        boxes = [
            f"/api/v1/reports?bbox={lon - dlon:.5f},{lat - dlat:.5f},{lon + dlon:.5f},{lat + dlat:.5f}&limit=50"
            for lon, lat in centres
        ]
        turn = iter(range(10**9))
        figures["public list by 1 km² bbox (ms)"] = timed(lambda: get(boxes[next(turn) % len(boxes)])(), args.runs // 2)
        statements["public list by 1 km² bbox (ms)"] = catch(get(boxes[0]), "FROM reports")

        with database.transaction() as session:
            categories = {c.id: c for c in session.scalars(select(Category))}
            now = datetime.now(UTC)
            # A new report a few metres from a recent open one of its category, as duplicates come.
            recent = session.execute(
                select(Report.category_id, Report.lon, Report.lat)
                .where(Report.status == "open", Report.received_at > now - timedelta(days=20))
                .order_by(Report.id.desc())
                .limit(256)
            ).all()
            probes = [
                similar_params(Report(category=categories[c], category_id=c, lon=lon + 0.00005, lat=lat + 0.00003), now)
                for c, lon, lat in recent
            ]
            connection = session.connection()
            figures["similar-reports look-up (ms)"] = timed(
                lambda: connection.execute(SIMILAR, probes[next(turn) % len(probes)]).all(), args.runs * 5
            )
            statements["similar-reports look-up (ms)"] = catch(
                lambda: connection.execute(SIMILAR, probes[0]).all(), "FROM reports"
            )
            session.expunge_all()
    finally:
        gc.unfreeze()
        engine.dispose()
    return {"figures": figures, "statements": statements}


def routing_at_scale(url: str, roads: int, park_zones: int, points: int) -> tuple[int, float, float]:
    """Zones, bare STRtree µs/point and route() µs/point with ``roads`` road segments and
    ``park_zones`` park zones more than the seeds."""
    from backend.revision import current_revision
    from backend.routing.geometry import IndexedZone, geometry_from_metres
    from backend.routing.services import load_table
    from bench.routing import random_points

    engine = make_engine(url)
    with Database(engine).transaction() as session:
        seeded = load_table(session, current_revision(session))
        outline = next(
            shapely.geometry.shape(z.geometry) for z in session.scalars(select(Zone).where(Zone.kind == "departement"))
        )
        parks = [shapely.geometry.shape(z.geometry) for z in session.scalars(select(Zone).where(Zone.kind == "park"))]
    engine.dispose()
    rng = np.random.default_rng(2026)
    zones = [(z, geometry_from_metres(g)) for z, g in zip(seeded.index.zones, seeded.index.geometries, strict=True)]
    next_id = max(zone.id for zone, _ in zones) + 1
    starts = random_points(outline.buffer(-0.002), roads, seed=11)
    for i, (lon, lat) in enumerate(starts.tolist()):
        angle = rng.uniform(0, math.pi)
        length = rng.uniform(0.001, 0.004)  # 70 to 300 m: a road between two crossings
        line = shapely.LineString([(lon, lat), (lon + length * math.cos(angle), lat + length * math.sin(angle))])
        zone = IndexedZone(id=next_id, kind="road", code=f"RD-BENCH-{i}", name=f"RD bench {i}", corridor_m=15)
        zones.append((zone, line))
        next_id += 1
    park_points = np.vstack([random_points(park, park_zones // len(parks) + 1, seed=i) for i, park in enumerate(parks)])
    for i, (lon, lat) in enumerate(park_points[:park_zones].tolist()):
        zone = IndexedZone(id=next_id, kind="park_zone", code=f"zone-bench-{i}", name=f"Zone {i}")
        zones.append((zone, shapely.Point(lon, lat).buffer(0.0006)))  # about 45 m across
        next_id += 1
    index = ZoneIndex(zones)
    table = RoutingTable(
        revision="bench",
        index=index,
        rules=seeded.rules,
        directory=seeded.directory,
        categories=seeded.categories,
    )
    sample = random_points(outline, points, seed=93)
    from backend.routing.geometry import METRES_PER_DEGREE_LAT, METRES_PER_DEGREE_LON, ORIGIN_LAT, ORIGIN_LON

    tree = shapely.STRtree(index.areas)
    metres = [
        ((lon - ORIGIN_LON) * METRES_PER_DEGREE_LON, (lat - ORIGIN_LAT) * METRES_PER_DEGREE_LAT)
        for lon, lat in sample.tolist()
    ]
    kinds = [("patrouillage", "nid-de-poule"), ("vigies-eau", "debordement-avaloir")]

    def bare() -> None:
        for x, y in metres:
            tree.query(shapely.Point(x, y), predicate="intersects")

    def ours() -> None:
        for i, (lon, lat) in enumerate(sample.tolist()):
            program, category = kinds[i % 2]
            table.route(lon, lat, program, category)

    bare()
    ours()
    bare_us = min(_seconds(bare) for _ in range(3)) / points * 1e6
    ours_us = min(_seconds(ours) for _ in range(3)) / points * 1e6
    return len(zones), bare_us, ours_us


def _seconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--reports", type=int, default=5_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="each intake round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating intake rounds; the best of each counts")
    parser.add_argument("--runs", type=int, default=400, help="timed calls of each read")
    args = parser.parse_args()

    results = {}
    with seeded_schema(args.database_url, "bench_scale") as (conninfo, schema, env):
        url = normalize_database_url(env["DATABASE_URL"])
        engine = make_engine(url)
        with Database(engine).transaction() as session:
            agents.create_agent(
                session,
                email="scale@seinesaintdenis.fr",
                password="a bench pass phrase",  # noqa: S106 (a throwaway schema)
                directorate="DVD",
                role="agent",
            )
        with Database(engine).transaction() as session:
            history = History(session, args.reports, datetime.now(UTC))
        engine.dispose()
        loads = {}
        loads["small"] = history.copy(conninfo, schema, 1, args.small)
        results["small"] = measure(args, conninfo, schema, url, env, history)
        loads["large"] = history.copy(conninfo, schema, args.small + 1, args.reports)
        results["large"] = measure(args, conninfo, schema, url, env, history)
        zones, bare_us, route_us = routing_at_scale(url, 20_000, 2_000, 20_000)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'SET search_path TO "{schema}"')
            sizes = connection.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('reports')), "
                "pg_size_pretty(pg_total_relation_size('report_events'))"
            ).fetchone()
            plans = {}
            for name, sent in results["large"]["statements"].items():
                plans[name] = []
                for sql, params in sent:
                    rows = connection.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
                    plans[name].append("\n".join(r[0] for r in rows))

    small, large = results["small"]["figures"], results["large"]["figures"]
    print(
        f"{args.small:,} reports loaded with COPY in {loads['small']:.1f} s; "
        f"{args.reports:,} in all after {loads['large']:.1f} s more (reports {sizes[0]}, events {sizes[1]})"
    )
    print(f"{'figure':42} {'at ' + format(args.small, ','):>22} {'at ' + format(args.reports, ','):>22}  growth")
    grew = []
    for name in small:
        a, b = small[name], large[name]
        if name == "intake throughput ratio":
            factor = a[0] / b[0]  # a lower ratio is worse
            left = f"{a[0]:.2f} ({a[1]:.0f}/{a[2]:.0f} req/s)"
            right = f"{b[0]:.2f} ({b[1]:.0f}/{b[2]:.0f} req/s)"
        elif len(a) == 1:
            factor = b[0] / a[0]
            left, right = f"{a[0]:.1f}", f"{b[0]:.1f}"
        else:
            factor = max(b[0] / a[0], b[1] / a[1])
            left, right = f"p50 {a[0]:.2f} p95 {a[1]:.2f}", f"p50 {b[0]:.2f} p95 {b[1]:.2f}"
        flag = "ok" if factor <= 1.5 else "OVER TARGET"
        if factor > 1.2 and name in results["large"]["statements"]:
            grew.append(name)
        print(f"{name:42} {left:>22} {right:>22}  {factor:.2f}x {flag}")
    print(f"target: no figure more than 1.5x worse at {args.reports:,} than at {args.small:,}")
    print(
        f"routing, {zones:,} zones (20,000 road segments, 2,000 park zones more than the seeds): "
        f"route() {route_us:.1f} us/point vs a bare STRtree query {bare_us:.1f} us: {route_us / bare_us:.2f}x "
        "(target <= 3x)"
    )
    for name, texts in plans.items():
        print(f"\n--- {name}: {'GREW, ' if name in grew else ''}plan at {args.reports:,} reports")
        for text in texts:
            print(text)


if __name__ == "__main__":
    main()
