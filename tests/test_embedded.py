"""The README's first command, piece by piece: seed a fresh instance folder, then serve it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def embedded_env(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "SIGNAL93_", "SECRET_"))}
    env["SIGNAL93_INSTANCE_PATH"] = str(instance)
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


def test_fresh_instance_is_seeded_once_and_served(tmp_path):
    env = embedded_env(tmp_path / "instance")
    first = flask(env, "seed")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "instance" / "signal93.sqlite3").exists()
    assert (tmp_path / "instance" / "secret_key").exists()
    second = flask(env, "seed")
    assert second.returncode == 0, second.stderr
    assert "Seed data up to date." in second.stdout

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        assert body is not None
        assert '"ready"' in body
        url = f"http://127.0.0.1:{port}/api/v1/zones?kind=commune&limit=100"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.read().decode().count('"Feature"') == 39
    finally:
        server.terminate()
        server.wait(timeout=10)
