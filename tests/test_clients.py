"""App developers' clients, generated from the OpenAPI documents as the README says, with no
warning, and the example programs of sandbox/examples run on them against a live server (Python
on openapi-python-client's client; TypeScript on openapi-typescript's types, compiled with
tsc --strict): list categories, submit with an idempotency key, read with the reporter token,
add a photo, and an agent acknowledges the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.media import files
from tests.servers import ROOT, app_env, flask, gunicorn, request

EXAMPLES = ROOT / "sandbox" / "examples"
BIN = Path(sys.executable).parent
AGENT, PASSWORD = "agent.exemple@seinesaintdenis.fr", "correct horse battery staple"
AGENT_ARGS = ("--email", AGENT, "--directorate", "DVD", "--password-stdin")
DOCUMENTS = (("/api/v1/openapi.json", "signal93_client"), ("/sandbox/api/v1/openapi.json", "sandbox_client"))


def example_env(base: str) -> dict[str, str]:
    return {"SIGNAL93_URL": base, "SIGNAL93_AGENT_EMAIL": AGENT, "SIGNAL93_AGENT_PASSWORD": PASSWORD}


@pytest.fixture
def live_server(tmp_path, fresh_database_url):
    env = app_env(tmp_path / "instance", fresh_database_url, SECRET_KEY="k" * 40)
    assert flask(env, "seed").returncode == 0
    created = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "agents", "create", *AGENT_ARGS],
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    with gunicorn(env, workers=1) as base:
        yield base


def generate_python_client(document: dict, package: str, into: Path) -> str:
    """openapi-python-client, as the README runs it; its output (which must hold no warning)."""
    path = into / f"{package}.json"
    path.write_text(json.dumps(document))
    result = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            *("generate", "--path", str(path), "--meta", "none", "--output-path", str(into / package)),
            *("--config", str(EXAMPLES / "openapi-python-client.yaml")),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": f"{BIN}:/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_the_python_example_runs_on_clients_generated_without_warning(live_server, tmp_path):
    for url, package in (
        ("/api/v1/openapi.json", "signal93_client"),
        ("/sandbox/api/v1/openapi.json", "sandbox_client"),
    ):
        status, document = request("GET", f"{live_server}{url}")
        assert status == 200
        output = generate_python_client(document, package, tmp_path)
        assert "warning" not in output.lower(), output
    photo = tmp_path / "nid-de-poule.jpg"
    photo.write_bytes(files.jpeg_from_phone())

    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "python" / "example.py"), str(photo)],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": f"{BIN}:/usr/bin:/bin",
            "PYTHONPATH": str(tmp_path),
            **example_env(live_server),
        },
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "categories: 14, including Nid-de-poule"
    reference = lines[1].split()[1].rstrip(",")
    assert lines[1].startswith("submitted: S93-")
    assert "routed to DVD" in lines[1]
    assert lines[2].startswith("read back with the reporter token: open")
    assert lines[3] == "photos added: 1 (pending)"
    assert lines[4] == f"acknowledged by {AGENT}: acknowledged, version 2"
    status, report = request("GET", f"{live_server}/api/v1/reports/{reference}")
    assert (status, report["status"], len(report["media"])) == (200, "acknowledged", 1)


def npx(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["npx", "--no-install", *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=NODE_ENV
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


# A field with a default is optional in a request: openapi-typescript's default makes it required.
TYPESCRIPT_OPTIONS = ("--default-non-nullable", "false")
NODE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "npm_config_update_notifier": "false"}


def test_the_typescript_example_compiles_strict_on_generated_types_and_runs(live_server, tmp_path):
    project = tmp_path / "typescript"
    project.mkdir()
    for name in ("package.json", "package-lock.json", "tsconfig.json", "example.ts"):
        (project / name).write_bytes((EXAMPLES / "typescript" / name).read_bytes())
    installed = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=project, capture_output=True, text=True, timeout=300, env=NODE_ENV
    )
    assert installed.returncode == 0, installed.stderr
    for url, types in (("/api/v1/openapi.json", "signal93.d.ts"), ("/sandbox/api/v1/openapi.json", "sandbox.d.ts")):
        output = npx(
            "openapi-typescript", f"{live_server}{url}", "--default-non-nullable", "false", "-o", types, cwd=project
        )
        assert "warn" not in output.lower(), output
    npx("tsc", "--strict", "--noEmit", "sandbox.d.ts", cwd=project)
    npx("tsc", "--strict", "--noEmit", "-p", ".", cwd=project)
    npx("tsc", "-p", ".", cwd=project)
    photo = tmp_path / "nid-de-poule.jpg"
    photo.write_bytes(files.jpeg_from_phone())
    run = subprocess.run(
        ["node", "dist/example.js", str(photo)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **NODE_ENV,
            "SIGNAL93_URL": live_server,
            "SIGNAL93_AGENT_EMAIL": AGENT,
            "SIGNAL93_AGENT_PASSWORD": PASSWORD,
        },
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "categories: 14, including Nid-de-poule"
    assert lines[3] == "photos added: 1 (pending)"
    assert lines[4] == f"acknowledged by {AGENT}: acknowledged, version 2"
