"""Observ'acteurs on PostgreSQL: species autocompletion over a 10,000-taxon list, through the API;
then the Darwin Core Archive of 200,000 sightings against the csv module writing the same query's
rows (three runs each, medians), and the archive's peak memory in a fresh process.

    .venv/bin/python -m bench.observations [--database-url URL] [--sightings 200000] [--taxa 10000]

Adds --taxa synthetic species (Latin-looking binomials, French names with accents) to the seeded
list, then times GET /api/v1/species?q= for what walkers type (two to six letters, accents or
not, a scientific name) in process: p50 and p95 (target p95 < 5 ms).
"""

from __future__ import annotations

import argparse
import os
import time

from backend.app import create_app
from backend.config import Settings
from backend.db import Database, make_engine
from backend.directory.models import Taxon
from backend.seeding import load_seeds
from bench import percentiles, postgres_schema

GENERA = ["Ardea", "Parus", "Turdus", "Sylvia", "Carex", "Rosa", "Salix", "Bombus", "Lycaena", "Rana", "Myotis"]
EPITHETS = ["alba", "minor", "major", "vulgaris", "europaea", "communis", "palustris", "sylvestris", "arvensis"]
FRENCH = ["Héron", "Mésange", "Grive", "Fauvette", "Laîche", "Églantier", "Saule", "Bourdon", "Cuivré", "Grenouille"]
ADJECTIVES = ["pâle", "des marais", "des bois", "commun", "à tête noire", "élégant", "des prés", "d'Europe"]
QUERIES = ["he", "mes", "grive", "herisson", "ecur", "palus", "Ixobrychus", "des bois", "fauv", "saule ma"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--taxa", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--sightings", type=int, default=200_000)
    args = parser.parse_args()
    with postgres_schema(args.database_url, f"bench_observations_{os.getpid()}") as url:
        engine = make_engine(url)
        database = Database(engine)
        with database.transaction() as session:
            load_seeds(session)
            for number in range(args.taxa):
                genus, epithet = GENERA[number % len(GENERA)], EPITHETS[(number // len(GENERA)) % len(EPITHETS)]
                french, adjective = FRENCH[number % len(FRENCH)], ADJECTIVES[(number // len(FRENCH)) % len(ADJECTIVES)]
                session.add(
                    Taxon(
                        scientific_name=f"{genus} {epithet} n{number}",
                        french_name=f"{french} {adjective} {number}",
                        group="autre",
                        status="",
                        sensitive=False,
                    )
                )
        settings = Settings(
            database_url=url, secret_key="o" * 40, media_storage_url="file:///tmp/signal93-bench", log_level="WARNING"
        )
        client = create_app(settings, database=database).test_client()
        timings = []
        for query in QUERIES * 3:  # warm-up
            client.get("/api/v1/species", query_string={"q": query})
        for _ in range(args.runs):
            for query in QUERIES:
                start = time.perf_counter()
                answer = client.get("/api/v1/species", query_string={"q": query})
                timings.append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 200
        p50, p95 = percentiles(timings)
        print(
            f"species autocompletion over {args.taxa + 35:,} taxa, {len(QUERIES)} queries x {args.runs}: "
            f"p50 {p50:.2f} ms, p95 {p95:.2f} ms  (target p95 < 5 ms)"
        )
        engine.dispose()
    dwca_benchmark(args.database_url, args.sightings, runs=3)


# --- the Darwin Core Archive ----------------------------------------------------------------------

LOAD_SIGHTINGS = """
INSERT INTO reports (program_id, category_id, status, lon, lat, accuracy_m, location_source, sensitive,
    public_lon, public_lat, public_cell, received_at, description, description_public, attributes, directorate_id,
    unit_id, routing, support_count, reporter_token_hash, version, updated_at, priority, commune_code, zone_id)
SELECT p.id, c.id, 'open', 2.5075 + (random() - 0.5) * 0.01, 48.9592 + (random() - 0.5) * 0.01, 8, 'device',
    false, 2.5075, 48.9592, (floor((48.9592) * 100)::integer + 9000) * 100000
    + floor((2.5075) * 100)::integer + 18000,
    now() - (g % 300000) * interval '1 minute', '', false,
    json_build_object('espece', (ARRAY['Ardea cinerea', 'Fulica atra', 'Erinaceus europaeus', 'Bufo bufo',
        'Picus viridis', 'Vulpes vulpes'])[1 + g % 6], 'nombre', 1 + g % 5),
    u.directorate_id, u.id,
    json_build_object('rule', 'bench', 'message', '', 'directorate', json_build_object('code', 'DNPB'),
        'unit', json_build_object('code', 'DNPB-PARC-SAUSSET'),
        'zones', json_build_array(json_build_object('kind', 'park', 'code', 'sausset',
            'name', 'Parc départemental du Sausset'),
            json_build_object('kind', 'commune', 'code', '93005', 'name', 'Aulnay-sous-Bois'))),
    0, md5(g::text), 1, now(), 1, '93005', z.id
FROM generate_series(1, %(count)s) AS g
CROSS JOIN (SELECT id, directorate_id FROM units WHERE code = 'DNPB-PARC-SAUSSET') AS u
CROSS JOIN (SELECT id FROM programs WHERE code = 'observacteurs') AS p
CROSS JOIN (SELECT id FROM categories WHERE code = 'observation-espece') AS c
CROSS JOIN (SELECT id FROM zones WHERE kind = 'park_zone' AND code = 'sausset-marais') AS z
"""
DWCA_CHILD = """
import sys
from datetime import UTC, datetime
from backend.db import Database, make_engine
from backend.observations import dwca
database = Database(make_engine(sys.argv[1]))
with database.session() as session:
    dwca.write_archive(session, sys.argv[2], public_base_url="https://signal93.example", now=datetime.now(UTC))
print(int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024)
"""


def dwca_benchmark(conninfo: str, sightings: int, runs: int) -> None:
    """The DwC-A of ``sightings`` sightings vs the csv module writing the same query's rows."""
    import csv
    import statistics
    import subprocess
    import sys
    import tempfile
    from datetime import UTC, datetime
    from pathlib import Path

    import psycopg

    from backend.observations import dwca

    with postgres_schema(conninfo, f"bench_dwca_{os.getpid()}") as url:
        engine = make_engine(url)
        database = Database(engine)
        with database.transaction() as session:
            load_seeds(session)
        schema = url.split("search_path%3D")[1]
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'SET search_path TO "{schema}"')
            connection.execute(LOAD_SIGHTINGS.replace("%(count)s", str(sightings)))
            connection.execute("VACUUM ANALYZE reports")
        folder = Path(tempfile.mkdtemp(prefix="signal93-bench-dwca-"))
        floor, ours = [], []
        for _ in range(runs):
            with database.session() as session:
                start = time.perf_counter()
                with (folder / "floor.csv").open("w", newline="", encoding="utf-8") as file:
                    writer = csv.writer(file, delimiter="\t")
                    for report, category in session.execute(dwca._statement()):
                        writer.writerow(
                            (report.reference, report.received_at, report.attributes, category.code, report.public_lat,
                             report.public_lon, report.routing)
                        )  # fmt: skip
                floor.append(time.perf_counter() - start)
            with database.session() as session:
                start = time.perf_counter()
                count = dwca.write_archive(
                    session, folder / "dwca.zip", public_base_url="https://signal93.example", now=datetime.now(UTC)
                )
                ours.append(time.perf_counter() - start)
        assert count == sightings
        child = subprocess.run(
            [sys.executable, "-c", DWCA_CHILD, url, str(folder / "child.zip")],
            capture_output=True,
            text=True,
            check=True,
        )
        peak = float(child.stdout.strip().splitlines()[-1])
        floor_s, ours_s = statistics.median(floor), statistics.median(ours)
        size = (folder / "dwca.zip").stat().st_size / 1e6
        print(
            f"Darwin Core Archive of {sightings:,} sightings: {ours_s:.2f} s ({size:.0f} MB zip) vs the csv module "
            f"writing the same query's rows {floor_s:.2f} s: {floor_s / ours_s:.2f}x its speed (target >= 0.5x); "
            f"peak memory {peak:.0f} MB (target <= 200 MB)"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
