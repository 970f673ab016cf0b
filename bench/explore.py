"""Explore v2.1 records on a version of a million reports: each query through the API, against
the same statements sent straight to DuckDB on the same Parquet file, in the same run.

    .venv/bin/python -m bench.explore [--database-url postgresql://postgres@127.0.0.1:5432/test] [--rows 1000000]

Writes a `signalements` version of --rows synthetic reports (the dataset's very fields; 14
categories, 39 communes, two years of dates) with DuckDB, publishes it (its row in PostgreSQL, its
files in the media storage), then times three queries a team writes: a category and a bbox filter
ordered by date (one page); a full-text `search()`; a `group_by` commune with `count(*)`. The API
side is the whole request in process (parameters, version lookup, ODSQL compiled, the count and
the page, JSON); the direct side runs the API's own compiled statements (caught on their way to
DuckDB) on the same engine: the version's DuckDB database, made once from its Parquet file.
Prints p50/p95 of both, the ratio (target p95 <= 2x) and the filtered page's API p95 (target
< 50 ms).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from backend.config import Settings
from backend.db import Database, make_engine
from bench import percentiles, postgres_schema
from sandbox import app as sandbox_app
from sandbox.models import DatasetVersion
from sandbox.opendata import explore, services, snapshots

QUERIES = {
    "category + bbox, by date (a page)": {
        "where": "category = 'nid-de-poule' and in_bbox(geo_point_2d, 48.88, 2.35, 48.94, 2.45)",
        "order_by": "received_at desc",
        "limit": "20",
    },
    'search(commune_name, "denis")': {"where": 'search(commune_name, "denis")', "limit": "20"},
    "group_by commune, count(*)": {
        "select": "commune_name, count(*) as n",
        "group_by": "commune_name",
        "order_by": "n desc",
        "limit": "50",
    },
}
CATEGORIES = [
    "nid-de-poule",
    "signalisation-endommagee",
    "feu-tricolore-en-panne",
    "eclairage",
    "trottoir",
    "debordement-avaloir",
    "pollution",
    "odeur",
    "equipement-endommage",
    "observation-espece",
    "espece-invasive",
    "dechets",
    "arbre",
    "autre",
]
COMMUNES = [
    "Aubervilliers", "Aulnay-sous-Bois", "Bagnolet", "Bobigny", "Bondy", "Clichy-sous-Bois", "Coubron",
    "Drancy", "Dugny", "Épinay-sur-Seine", "Gagny", "Gournay-sur-Marne", "L'Île-Saint-Denis", "La Courneuve",
    "Le Blanc-Mesnil", "Le Bourget", "Le Pré-Saint-Gervais", "Le Raincy", "Les Lilas",
    "Les Pavillons-sous-Bois", "Livry-Gargan", "Montfermeil", "Montreuil", "Neuilly-Plaisance",
    "Neuilly-sur-Marne", "Noisy-le-Grand", "Noisy-le-Sec", "Pantin", "Romainville", "Rosny-sous-Bois",
    "Saint-Denis", "Saint-Ouen-sur-Seine", "Sevran", "Stains", "Tremblay-en-France", "Vaujours",
    "Villemomble", "Villepinte", "Villetaneuse",
]  # fmt: skip


def synthetic_version(path: Path, rows: int) -> None:
    """data.parquet of ``rows`` reports, as a build writes it (the fields and types of REPORT_FIELDS)."""
    categories = "[" + ", ".join(f"'{code}'" for code in CATEGORIES) + "]"
    communes = "[" + ", ".join("'" + name.replace("'", "''") + "'" for name in COMMUNES) + "]"
    with duckdb.connect() as connection:
        connection.execute(
            f"""
            COPY (
              SELECT 'S93-2026-' || lpad(i::VARCHAR, 7, '0') AS reference,
                CASE WHEN i % 14 < 5 THEN 'patrouillage' WHEN i % 14 < 9 THEN 'vigies-eau' ELSE 'observacteurs' END
                  AS program,
                {categories}[1 + i % 14] AS category, {categories}[1 + i % 14] AS category_name,
                (['open', 'acknowledged', 'in_progress', 'resolved', 'rejected'])[1 + i % 5] AS status,
                struct_pack(lon := 2.30 + random() * 0.30, lat := 48.82 + random() * 0.20) AS geo_point_2d,
                'exact' AS location_precision, '93' || lpad((i % 39)::VARCHAR, 3, '0') AS commune,
                {communes}[1 + i % 39] AS commune_name, 'T' || (6 + i % 4) AS territory,
                'Territoire ' || (6 + i % 4) AS territory_name, 'DVD' AS directorate, 'DVD-T6' AS unit,
                TIMESTAMP '2025-01-01' + to_seconds((random() * 63072000)::BIGINT) AS received_at,
                NULL::TIMESTAMP AS acknowledged_at, NULL::TIMESTAMP AS resolved_at,
                (i % 7)::BIGINT AS support_count, NULL::VARCHAR AS description
              FROM range({rows}) AS t(i)
            ) TO ? (FORMAT parquet, ROW_GROUP_SIZE 32768)
            """,  # noqa: S608 (constants)
            [str(path)],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="signal93-bench-explore-"))
    with postgres_schema(args.database_url, f"bench_explore_{os.getpid()}") as url:
        engine = make_engine(url)
        database = Database(engine)
        parquet = work / "data.parquet"
        synthetic_version(parquet, args.rows)
        settings = Settings(
            database_url=url,
            instance_path=work / "instance",
            secret_key="e" * 40,
            media_storage_url=f"file://{work / 'media'}",
            log_level="WARNING",
        )
        app = sandbox_app.create_sandbox_app(settings, database=database)
        app.extensions["sandbox.limiter"].enabled = False  # the engine is measured, not the limits
        version = datetime.now(UTC).date().isoformat() + ".1"
        storage = make_storage_for(settings)
        storage.put_file(
            snapshots.storage_key("signalements", version, "data.parquet"), parquet, "application/octet-stream"
        )
        digest = hashlib.sha256(parquet.read_bytes()).hexdigest()
        with database.transaction() as session:
            session.add(
                DatasetVersion(
                    dataset="signalements",
                    version=version,
                    created_at=datetime.now(UTC),
                    rows=args.rows,
                    data_sha256=digest,
                    files={"data.parquet": {"bytes": parquet.stat().st_size, "sha256": digest}},
                    changes={"added": args.rows, "removed": 0, "changed": 0},
                )
            )
        client = app.test_client()
        print(f"{args.rows:,} rows, data.parquet {parquet.stat().st_size / 1e6:.0f} MB")

        sent: list[tuple[str, list]] = []
        original = explore.records

        def catch(connection, path, fields, request):
            class Spy:
                def __init__(self, inner):
                    self.inner = inner

                def __getattr__(self, name):
                    return getattr(self.inner, name)

                def execute(self, sql, params=None):
                    sent.append((sql, params))
                    return self.inner.execute(sql, params)

            return original(Spy(connection), path, fields, request)

        base = "/api/explore/v2.1/catalog/datasets/signalements/records"
        for label, query in QUERIES.items():
            first = client.get(base, query_string=query)
            assert first.status_code == 200, first.get_json()
            sent.clear()
            explore.records = catch
            client.get(base, query_string=query)
            explore.records = original
            statements = list(sent)
            # The engine the API queries: the version's database (made from its Parquet file on
            # the first query), through its own cursor.
            direct = services._open(
                services._cached(storage, settings.instance_path / "opendata-cache", "signalements", version)
            ).cursor()
            for _ in range(10):  # warm-up, both sides (file cache, DuckDB's metadata cache)
                client.get(base, query_string=query)
                for sql, params in statements:
                    direct.execute(sql, params).fetchall()
            api_ms, direct_ms = [], []
            for _ in range(args.runs):
                start = time.perf_counter()
                answer = client.get(base, query_string=query)
                api_ms.append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 200
                start = time.perf_counter()
                for sql, params in statements:
                    direct.execute(sql, params).fetchall()
                direct_ms.append((time.perf_counter() - start) * 1000)
            (api50, api95), (direct50, direct95) = percentiles(api_ms), percentiles(direct_ms)
            total = first.get_json()["total_count"]
            target = "  (target p95 < 50 ms)" if "page" in label else ""
            print(
                f"{label:38} {total:>9,} matching   API p50 {api50:6.1f} ms p95 {api95:6.1f} ms{target}   "
                f"DuckDB p50 {direct50:6.1f} ms p95 {direct95:6.1f} ms   ratio p95 {api95 / direct95:4.2f}x "
                "(target <= 2x)"
            )
        engine.dispose()
    shutil.rmtree(work, ignore_errors=True)


def make_storage_for(settings: Settings):
    from backend.storage import make_storage

    return make_storage(settings.media_storage_url)


if __name__ == "__main__":
    main()
