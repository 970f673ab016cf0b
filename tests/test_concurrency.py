"""Retries racing each other on two server processes still make one report."""

from __future__ import annotations

import threading
import uuid

from tests.factories import report_payload
from tests.servers import app_env, flask, gunicorn, request

PAIRS = 12


def test_simultaneous_retries_on_two_processes_make_one_report(tmp_path, fresh_database_url):
    env = app_env(tmp_path / "instance", fresh_database_url, SECRET_KEY="s" * 40)
    seeded = flask(env, "seed")
    assert seeded.returncode == 0, seeded.stderr
    with gunicorn(env, workers=2) as base:
        for _ in range(PAIRS):
            key = str(uuid.uuid4())
            payload = report_payload()
            barrier = threading.Barrier(2)
            answers: list[tuple[int, dict]] = []

            def send(key=key, payload=payload, barrier=barrier, answers=answers) -> None:
                barrier.wait()
                answers.append(request("POST", f"{base}/api/v1/reports", payload, {"Idempotency-Key": key}))

            threads = [threading.Thread(target=send) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert [status for status, _ in answers] == [201, 201], answers
            assert answers[0][1]["reference"] == answers[1][1]["reference"]
            assert answers[0][1]["reporter_token"] == answers[1][1]["reporter_token"]
        status, listing = request("GET", f"{base}/api/v1/reports?limit=200")
        assert status == 200
        assert len(listing["items"]) == PAIRS
