"""Routing speed: our route() against a bare shapely STRtree query over the same zones.

    .venv/bin/python -m bench.routing [--points 100000]

Loads the seeds into a throwaway SQLite database, builds the routing table, then times, on the
same random points inside the département: (1) a bare STRtree query per point, the floor any
point-in-zone lookup pays; (2) our full route() per point (locate, territory check, rules).
Prints both, their ratio (target: at most 3x), and our points per second over the whole batch.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

from backend.db import Database, make_engine, migrate
from backend.revision import current_revision
from backend.routing.services import load_table
from backend.seeding import load_seeds
from backend.zones.geometry import from_geojson
from backend.zones.models import Zone

CATEGORIES = [
    ("patrouillage", "nid-de-poule"),
    ("vigies-eau", "debordement-avaloir"),
    ("observacteurs", "observation-espece"),
]


def seeded_table(folder: Path):
    engine = make_engine(f"sqlite:///{folder / 'bench.sqlite3'}")
    migrate(engine)
    database = Database(engine)
    with database.transaction() as session:
        load_seeds(session)
    with database.transaction() as session:
        table = load_table(session, current_revision(session))
        zones = [from_geojson(z.geometry) for z in session.query(Zone).order_by(Zone.id)]
        outline = next(from_geojson(z.geometry) for z in session.query(Zone).filter(Zone.kind == "departement"))
    return table, zones, outline


def random_points(outline, count: int, seed: int = 93) -> np.ndarray:
    rng = np.random.default_rng(seed)
    min_x, min_y, max_x, max_y = outline.bounds
    shapely.prepare(outline)
    points = np.empty((0, 2))
    while len(points) < count:
        batch = np.column_stack([rng.uniform(min_x, max_x, count), rng.uniform(min_y, max_y, count)])
        inside = shapely.contains_xy(outline, batch[:, 0], batch[:, 1])
        points = np.vstack([points, batch[inside]])
    return points[:count]


def per_point_us(run, points: np.ndarray, repeats: int = 5) -> float:
    """Best of ``repeats``: the least disturbed run of each side (this machine is shared)."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(points)
        timings.append((time.perf_counter() - start) / len(points) * 1e6)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=20_000, help="points per side-by-side timing")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        table, zones, outline = seeded_table(Path(folder))
    tree = shapely.STRtree(np.array(zones, dtype=object))
    points = random_points(outline, args.points)
    sample = points[: args.sample]

    def bare(pts: np.ndarray) -> None:
        for lon, lat in pts.tolist():
            tree.query(shapely.Point(lon, lat), predicate="intersects")

    def ours(pts: np.ndarray) -> None:
        for i, (lon, lat) in enumerate(pts.tolist()):
            program, category = CATEGORIES[i % 3]
            table.route(lon, lat, program, category)

    bare(sample[:1000])
    ours(sample[:1000])  # warm-up
    bare_us = per_point_us(bare, sample)
    ours_us = per_point_us(ours, sample)
    start = time.perf_counter()
    ours(points)
    batch_seconds = time.perf_counter() - start

    print(f"zones: {len(zones)}, rules: {len(table.rules)}, points: {len(sample)} (side by side)")
    print(f"bare STRtree query : {bare_us:8.1f} us/point")
    print(f"signal93 route()   : {ours_us:8.1f} us/point")
    print(f"overhead ratio     : {ours_us / bare_us:8.2f}x  (target <= 3x)")
    print(f"batch of {len(points):,}: {len(points) / batch_seconds:,.0f} points/s ({batch_seconds:.2f} s)")


if __name__ == "__main__":
    main()
