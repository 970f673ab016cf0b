"""Observ'acteurs: species autocompletion over a 10,000-taxon list, through the API, on
PostgreSQL (the Darwin Core Archive's benchmark joins it when the archive lands).

    .venv/bin/python -m bench.observations [--database-url postgresql://postgres@127.0.0.1:5432/test] [--taxa 10000]

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


if __name__ == "__main__":
    main()
