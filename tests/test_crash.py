"""Crashes under load (issue 14), on PostgreSQL and a Redis of the test's own: gunicorn with two
workers and two rq workers; submissions (a third with a photo) from 16 clients that retry on errors
and timeouts with the same Idempotency-Key, as phones do; meanwhile web workers and rq workers are
killed with SIGKILL at random moments (gunicorn restarts its workers; the test restarts rq's). After
a final sweep: every submission that got a 2xx exists exactly once, with its photo processed; no
report, event or medium is orphaned or duplicated; every trail is complete. The figures are printed.
SUBMISSIONS sets the load (2,000 in CI)."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.db import make_engine
from tests.factories import report_payload
from tests.media.files import jpeg_from_phone
from tests.servers import ROOT, app_env, flask, free_port, spawn_gunicorn

SUBMISSIONS = int(os.environ.get("SUBMISSIONS", "2000"))
CLIENTS = 16
chance = random.Random(93)  # noqa: S311 (the moments of the kills, the same each run: not a secret)
PHOTO = jpeg_from_phone(320, 240)


def multipart(fields: dict[str, str], photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="p.jpg"\r\n'
        f"Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Load:
    def __init__(self, base: str):
        self.base = base
        self.acknowledged: dict[str, str] = {}  # idempotency key -> reference
        self.with_photo: set[str] = set()
        self.retries = 0
        self.gave_up = 0
        self.refused: list[str] = []
        self.lock = threading.Lock()

    def one(self, index: int) -> None:
        key = str(uuid.uuid4())
        payload = report_payload(at=(2.446 + chance.random() * 0.01, 48.905 + chance.random() * 0.01))  # Bobigny
        photo = index % 3 == 0
        if photo:
            body, kind = multipart({"report": json.dumps(payload)}, PHOTO)
            url = f"{self.base}/api/v1/reports/with-files"
        else:
            body, kind = json.dumps(payload).encode(), "application/json"
            url = f"{self.base}/api/v1/reports"
        for attempt in range(30):
            request = urllib.request.Request(
                url, data=body, method="POST", headers={"Content-Type": kind, "Idempotency-Key": key}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    answer = json.loads(response.read())
                with self.lock:
                    self.acknowledged[key] = answer["reference"]
                    if photo:
                        self.with_photo.add(key)
                return
            except urllib.error.HTTPError as error:
                if error.code < 500 and error.code != 429:
                    with self.lock:
                        self.refused.append(f"{error.code}: {error.read()[:300]!r}")
                    return
            except (OSError, ValueError, http.client.HTTPException):
                pass  # a killed worker: the connection dropped, or the answer was cut
            with self.lock:
                self.retries += 1
            time.sleep(min(2.0, 0.05 * 2**attempt))
        with self.lock:
            self.gave_up += 1


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.postgresql
def test_nothing_acknowledged_is_lost_when_workers_are_killed_under_load(tmp_path, fresh_database_url, own_redis):
    redis_url, _, _ = own_redis
    env = app_env(tmp_path / "instance", fresh_database_url, SECRET_KEY="k" * 40, REDIS_URL=redis_url)
    env["INTAKE_RATE_LIMIT"] = "1000000 per minute"
    assert flask(env, "seed").returncode == 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = spawn_gunicorn(env, port, "--workers", "2", "--timeout", "30")
    worker_command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
    workers = [
        subprocess.Popen(worker_command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(2)
    ]
    kills = {"web": 0, "rq": 0}
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/readyz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        load = Load(base)
        started = time.monotonic()
        done = threading.Event()

        def killer() -> None:
            turn = 0
            while not done.wait(chance.uniform(0.8, 2.0)):
                turn += 1
                if turn % 3:
                    pids = children(web.pid)
                    if pids:
                        os.kill(chance.choice(pids), signal.SIGKILL)
                        kills["web"] += 1
                else:
                    index = chance.randrange(len(workers))
                    workers[index].kill()
                    workers[index].wait()
                    kills["rq"] += 1
                    workers[index] = subprocess.Popen(
                        worker_command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                    )

        chaos = threading.Thread(target=killer, daemon=True)
        chaos.start()
        queue = list(range(SUBMISSIONS))
        lock = threading.Lock()

        def client() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    index = queue.pop()
                load.one(index)

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        chaos.join()
        elapsed = time.monotonic() - started

        # The final sweep, as the periodic one would: the jobs lost with killed workers, sent again.
        swept = flask(env, "sweep", "--older-than", "0")
        assert swept.returncode == 0, swept.stderr
        engine = make_engine(fresh_database_url)
        deadline = time.monotonic() + 120
        while True:
            with engine.connect() as connection:
                pending = connection.execute(text("SELECT count(*) FROM media WHERE status = 'pending'")).scalar()
            if pending == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT idempotency_key, count(*) FROM reports GROUP BY 1")).all()
            stored = {key: count for key, count in rows}
            media = dict(
                connection.execute(
                    text(
                        "SELECT r.idempotency_key, count(m.id) FROM reports r "
                        "JOIN media m ON m.report_id = r.id GROUP BY 1"
                    )
                ).all()
            )
            ready = connection.execute(text("SELECT count(*) FROM media WHERE status = 'ready'")).scalar()
            orphan_events = connection.execute(
                text(
                    "SELECT count(*) FROM report_events e LEFT JOIN reports r ON r.id = e.report_id WHERE r.id IS NULL"
                )
            ).scalar()
            orphan_media = connection.execute(
                text("SELECT count(*) FROM media m LEFT JOIN reports r ON r.id = m.report_id WHERE r.id IS NULL")
            ).scalar()
            incomplete = connection.execute(
                text(
                    "SELECT count(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM report_events e "
                    "WHERE e.report_id = r.id AND e.kind = 'submitted') OR NOT EXISTS (SELECT 1 FROM report_events e "
                    "WHERE e.report_id = r.id AND e.kind = 'routed')"
                )
            ).scalar()
        engine.dispose()
        print(  # noqa: T201 (the test's figures, for the CI log)
            f"crash test: {SUBMISSIONS} submissions in {elapsed:.0f} s from {CLIENTS} clients, "
            f"{len(load.acknowledged)} acknowledged ({len(load.with_photo)} with a photo), {load.retries} retries, "
            f"{load.gave_up} given up; killed {kills['web']} web and {kills['rq']} rq workers; "
            f"{sum(stored.values())} reports stored, {ready} photos ready, {pending} pending after the sweep"
        )
        assert load.refused == []
        assert load.gave_up == 0
        assert kills["web"] > 0
        assert kills["rq"] > 0
        for key, reference in load.acknowledged.items():
            assert stored.get(key) == 1, (key, reference)  # exactly once
        assert all(count == 1 for count in stored.values())
        assert all(media.get(key) == 1 for key in load.with_photo)
        assert pending == 0
        assert ready >= len(load.with_photo)
        assert (orphan_events, orphan_media, incomplete) == (0, 0, 0)
    finally:
        web.terminate()
        web.wait(20)
        for worker in workers:
            worker.terminate()
            worker.wait(20)
