"""A graceful stop (issue 14): SIGTERM to gunicorn while a report is still being sent — the request
in flight finishes (201) before the server goes; SIGTERM to an rq worker while it makes a photo's
derivatives — the job finishes (the photo is ready) before the worker exits."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

from sqlalchemy import text

from backend.db import make_engine
from tests.factories import report_payload
from tests.media.files import jpeg_from_phone
from tests.servers import ROOT, app_env, flask, free_port, spawn_gunicorn


def wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("waited in vain")
        time.sleep(0.1)


def ready(port: int) -> bool:
    """The worker answers (the master listens before its worker has booted)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def test_sigterm_lets_the_request_in_flight_and_the_running_job_finish(tmp_path, fresh_database_url, own_redis):
    redis_url, _, _ = own_redis
    env = app_env(tmp_path / "instance", fresh_database_url, SECRET_KEY="k" * 40, REDIS_URL=redis_url)
    assert flask(env, "seed").returncode == 0
    port = free_port()
    web = spawn_gunicorn(env, port, "--workers", "1", "--graceful-timeout", "30")
    try:
        wait_for(lambda: ready(port))
        # A phone on a slow network: half the report sent, then SIGTERM, then the rest.
        boundary = uuid.uuid4().hex
        photo = jpeg_from_phone(6000, 4000)  # 24 MP: its derivatives take a moment to make
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="report"\r\n\r\n'
                f"{json.dumps(report_payload())}\r\n"
                f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="p.jpg"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            + photo
            + f"\r\n--{boundary}--\r\n".encode()
        )
        head = (
            f"POST /api/v1/reports/with-files HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        phone = socket.create_connection(("127.0.0.1", port), timeout=30)
        phone.sendall(head + body[: len(body) // 2])
        time.sleep(0.5)
        web.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        phone.sendall(body[len(body) // 2 :])
        answer = b""
        while chunk := phone.recv(65536):
            answer += chunk
        phone.close()
        assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
        assert web.wait(30) == 0
    finally:
        if web.poll() is None:
            web.kill()

    # The photo waits for a worker; SIGTERM reaches it while it makes the derivatives.
    engine = make_engine(fresh_database_url)

    def status() -> str:
        with engine.connect() as connection:
            return connection.execute(text("SELECT status FROM media")).scalar()

    assert status() == "pending"
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis
        from rq import Queue
        from rq.registry import StartedJobRegistry

        queue = Queue("signal93", connection=redis.Redis.from_url(redis_url))
        wait_for(lambda: StartedJobRegistry(queue=queue).count > 0 or status() == "ready")
        worker.send_signal(signal.SIGTERM)  # warm shutdown: the job in hand first
        assert worker.wait(60) == 0
        assert status() == "ready"
    finally:
        if worker.poll() is None:
            worker.kill()
        engine.dispose()
