"""Real server processes for end-to-end tests: the app as users reach it, over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def app_env(instance: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a fresh instance (nothing inherited from this process's settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "SIGNAL93_", "SECRET_"))}
    env["SIGNAL93_INSTANCE_PATH"] = str(instance)
    if database_url:
        env["DATABASE_URL"] = database_url
    # Tests send many reports from 127.0.0.1; the limits are tested on their own (test_ratelimits.py).
    env["INTAKE_RATE_LIMIT"] = env["SUPPORT_RATE_LIMIT"] = "100000 per minute"
    env.update(extra)
    return env


def flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    """Start a server, wait until /readyz answers, yield its base URL, stop it."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {process.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()


def spawn_gunicorn(env: dict[str, str], port: int, *options: str) -> subprocess.Popen:
    """gunicorn serving wsgi:app on ``port`` with ``options``, its output discarded: the process,
    for tests that signal or kill it (wait for /readyz before using it)."""
    command = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", *options, "wsgi:app"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def gunicorn(env: dict[str, str], workers: int = 2, port: int | None = None):
    port = port or free_port()
    command = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--limit-request-line", "8190", "--limit-request-field_size", "16380", "wsgi:app"]  # as .ci/serve
    return running(command, env, port)


def request(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
