"""A new team, in a real browser (headless Chromium), as a new user would go about it."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.servers import app_env, flask, gunicorn, request

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.browser


def test_a_team_registers_copies_its_key_calls_the_api_hits_the_limit_and_revokes(tmp_path, fresh_database_url):
    from playwright.sync_api import sync_playwright

    env = app_env(tmp_path / "instance", fresh_database_url, SECRET_KEY="k" * 40)
    for command in (
        ["seed"],
        [
            "sandbox",
            "events",
            "create",
            "--slug",
            "hackathon-2026",
            "--name",
            "Hackathon Signal93 2026",
            "--starts",
            "2026-01-01T09:00",
            "--ends",
            "2099-12-31T18:00",
        ],
    ):
        result = flask(env, *command)
        assert result.returncode == 0, result.stderr

    with gunicorn(env, workers=1) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context()
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        page = context.new_page()
        page.goto(f"{base}/sandbox/")
        page.click("text=Inscrire une équipe")
        page.fill("#name", "Les Martins-pêcheurs")
        page.fill("#contact_email", "martins@example.org")
        page.select_option("#event", "hackathon-2026")
        page.check("input[name=accepted_terms]")
        page.click("button[type=submit]")

        shown = page.text_content("#api-key").strip()
        page.click("button[data-copy=api-key]")
        page.wait_for_function(  # the copy is asynchronous: wait for the button to say it is done
            "document.querySelector('button[data-copy=api-key]').textContent === 'Copié !'", timeout=5000
        )
        key = page.evaluate("navigator.clipboard.readText()")
        assert key == shown
        assert key.startswith("s93_")

        status, body = request("GET", f"{base}/sandbox/api/v1/catalog/categories", headers={"X-API-Key": key})
        assert status == 200
        assert len(body["items"]) >= 14

        limited = flask(env, "sandbox", "teams", "limits", "Les Martins-pêcheurs", "--quota", "2")
        assert limited.returncode == 0, limited.stderr
        statuses = [request("GET", f"{base}/sandbox/api/v1/reports", headers={"X-API-Key": key})[0] for _ in range(3)]
        assert statuses[-1] == 429

        page.goto(f"{base}/sandbox/equipe")
        page.click("button.danger")
        assert "révoquée" in page.content()
        status, body = request("GET", f"{base}/sandbox/api/v1/reports", headers={"X-API-Key": key})
        assert (status, body["code"]) == (401, "api_key_revoked")
        browser.close()


def test_chromium_is_there_when_ci_runs():
    # CI installs it (.ci/run); a missing browser must fail there, never skip quietly.
    assert os.path.exists(CHROMIUM), "Chromium is missing: apt-get install chromium"


def test_a_team_finds_a_dataset_downloads_it_checks_it_and_validates_it(tmp_path, fresh_database_url):
    """The open data as a new user meets it: the portal in a browser, a download, `sha256sum -c`,
    `frictionless validate`, a query pinned to that version."""
    import hashlib
    import subprocess
    import sys

    from playwright.sync_api import sync_playwright

    from tests.servers import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = app_env(tmp_path / "instance", fresh_database_url, SECRET_KEY="k" * 40, PUBLIC_BASE_URL=base)
    assert flask(env, "seed").returncode == 0
    built = flask(env, "sandbox", "snapshot", "build", "--all")
    assert built.returncode == 0, built.stderr
    folder = tmp_path / "telechargement"
    folder.mkdir()

    with gunicorn(env, workers=1, port=port), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_context(accept_downloads=True).new_page()
        page.goto(f"{base}/sandbox/")
        page.click("summary:has-text('Communes de la Seine-Saint-Denis')")
        communes = page.locator("details#jeu-communes")
        assert "39 lignes" in communes.locator("summary").text_content()
        for name in ("data.csv", "data.parquet", "data.geojson", "datapackage.json", "SHA256SUMS", "CHANGELOG.md"):
            with page.expect_download() as download:
                communes.locator(f"a:text-is('{name}')").click()
            download.value.save_as(folder / name)
        browser.close()
        version = json.loads((folder / "datapackage.json").read_text())["version"]
        status, pinned = request(
            "GET", f"{base}/sandbox/api/explore/v2.1/catalog/datasets/communes/records?limit=0&version={version}"
        )
        assert (status, pinned["total_count"]) == (200, 39)

    for line in (folder / "SHA256SUMS").read_text().splitlines():  # sha256sum -c SHA256SUMS
        digest, name = line.split("  ")
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    validate = subprocess.run(
        [sys.executable, "-m", "frictionless", "validate", "datapackage.json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr
