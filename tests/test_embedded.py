"""The README's first command, piece by piece: seed a fresh instance folder, then serve it."""

from __future__ import annotations

import sys

from tests.servers import app_env, flask, free_port, request, running


def test_fresh_instance_is_seeded_once_and_served(tmp_path):
    env = app_env(tmp_path / "instance")
    first = flask(env, "seed")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "instance" / "signal93.sqlite3").exists()
    assert (tmp_path / "instance" / "secret_key").exists()
    second = flask(env, "seed")
    assert second.returncode == 0, second.stderr
    assert "Seed data up to date." in second.stdout

    port = free_port()
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)]
    with running(command, env, port) as base:
        status, body = request("GET", f"{base}/api/v1/zones?kind=commune&limit=100")
        assert status == 200
        assert len(body["features"]) == 39
