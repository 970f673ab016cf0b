"""The console's queue page on a million reports, against the triage API's JSON for the same page,
in the same run, on PostgreSQL.

    .venv/bin/python -m bench.console [--database-url postgresql://postgres@127.0.0.1:5432/test] [--reports 1000000]

Loads the reports as bench/queue.py does, signs an agent in to the console (its session cookie)
and to the API (a token), then times, in process, the first page of the queue filtered by status
and unit (50 rows, counts per status): the console's HTML page, the API's JSON, and the map's
points of the same filtered set (up to 5,000). Prints p50/p95 of each and the ratio of
the page to the API at p95 (target <= 2x, and the page's p95 < 100 ms).
"""

from __future__ import annotations

import argparse
import os
import re
import time

from backend.directory import agents
from bench import percentiles
from bench.queue import STATUSES, UNIT, million_reports

EMAIL = "bench.console@seinesaintdenis.fr"
PASSWORD = "a bench pass phrase"  # noqa: S105 (a throwaway schema)


def timed(call, runs: int) -> list[float]:
    for _ in range(10):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    def bench_agent(session) -> None:
        agents.create_agent(session, email=EMAIL, password=PASSWORD, directorate="DVD", role="agent")

    schema = f"bench_console_{os.getpid()}"
    with million_reports(args.database_url, schema, args.reports, prepare=bench_agent) as (app, _engine, loaded):
        api = app.test_client()
        token = api.post("/api/v1/auth/tokens", json={"email": EMAIL, "password": PASSWORD}).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        console = app.test_client()
        form = console.get("/console/connexion").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        signed = console.post("/console/connexion", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf})
        assert signed.status_code == 303, signed.get_data(as_text=True)[:300]
        query = f"status={STATUSES.replace(',', '&status=')}&unit={UNIT}"

        def page() -> None:
            response = console.get(f"/console/?{query}")
            assert response.status_code == 200
            assert response.get_data().count(b'<tr data-href="') == 50

        def json_page() -> None:
            response = api.get(f"/api/v1/triage/reports?{query}&limit=50", headers=headers)
            assert response.status_code == 200
            assert len(response.get_json()["items"]) == 50

        def points() -> None:
            response = console.get(f"/console/carte.json?{query}")
            assert response.status_code == 200
            assert len(response.get_json()["points"]) == 5000

        page_ms, api_ms, points_ms = [], [], []
        for _ in range(args.runs // 20):  # interleaved: the machine's drift touches each alike
            page_ms += timed(page, 20)
            api_ms += timed(json_page, 20)
            points_ms += timed(points, 5)
    page50, page95 = percentiles(page_ms)
    api50, api95 = percentiles(api_ms)
    points50, points95 = percentiles(points_ms)
    print(f"{args.reports:,} reports loaded in {loaded:.1f} s; page 1 of the queue, status + unit, 50 rows, counts")
    print(f"triage API (JSON)     : p50 {api50:6.1f} ms   p95 {api95:6.1f} ms")
    print(f"console page (HTML)   : p50 {page50:6.1f} ms   p95 {page95:6.1f} ms  (target p95 < 100 ms)")
    print(f"ratio at p95          : {page95 / api95:6.2f}x  (target <= 2x)")
    print(f"the map's points (5,000)  : p50 {points50:6.1f} ms   p95 {points95:6.1f} ms  (target p95 < 100 ms)")


if __name__ == "__main__":
    main()
