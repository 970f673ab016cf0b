"""The console tried as a new agent would, in headless Chromium against a real gunicorn and SMTP
server: an agent of the DEA signs in, filters the queue to the open reports, finds the overflow
reported this morning, opens it, acknowledges it with a public note and sees it on the trail,
and the reporter gets the e-mail; an agent of the DVD never sees it; a supervisor of the DVD
assigns three reports at once and reads the figures; each signs out. Every page
passes axe-core and is written to instance/screenshots/console-*.png."""

from __future__ import annotations

import subprocess

import pytest

from tests.factories import report_payload
from tests.servers import ROOT, app_env, flask, free_port, gunicorn, request
from tests.test_citizens_browser import FLASK
from tests.test_zone_pages_browser import SCREENSHOTS, accessibility_problems, browser

pytestmark = pytest.mark.browser
DESK = {"viewport": {"width": 1366, "height": 900}}
PASSWORD = "un mot de passe assez long"
OVERFLOW_AT = (2.4440, 48.9300)  # Bobigny, on no departmental road: the DEA's


def create_agent(env, email: str, directorate: str, role: str = "agent") -> None:
    created = subprocess.run(
        [
            *FLASK,
            "agents",
            "create",
            "--email",
            email,
            "--directorate",
            directorate,
            "--role",
            role,
            "--password-stdin",
        ],
        cwd=ROOT,
        env=env,
        input=f"{PASSWORD}\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/console/")
    assert "/console/connexion" in page.url
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/console/")


def test_a_dea_agent_acknowledges_the_morning_s_overflow_and_a_dvd_agent_never_sees_it(
    tmp_path, fresh_database_url, smtp_server
):
    from playwright.sync_api import sync_playwright

    smtp_url, box = smtp_server
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = app_env(
        tmp_path / "instance", fresh_database_url, SECRET_KEY="k" * 40, PUBLIC_BASE_URL=base, SMTP_URL=smtp_url
    )
    assert flask(env, "seed").returncode == 0
    create_agent(env, "agent.eau@seinesaintdenis.fr", "DEA")
    create_agent(env, "agent.voirie@seinesaintdenis.fr", "DVD")
    create_agent(env, "chef.voirie@seinesaintdenis.fr", "DVD", role="supervisor")
    create_agent(env, "admin.console@seinesaintdenis.fr", "DVD", role="admin")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with gunicorn(env, workers=2, port=port) as served, sync_playwright() as playwright:
        contact = {"name": "Awa", "email": "awa@example.org", "consent_contact": True}
        status, created = request(
            "POST",
            f"{served}/api/v1/reports",
            report_payload("debordement-avaloir", at=OVERFLOW_AT, attributes={"pluie": "oui"}, reporter=contact),
        )
        assert status == 201, created
        overflow = created["reference"]
        status, created = request("POST", f"{served}/api/v1/reports", report_payload())
        assert status == 201, created
        pothole = created["reference"]

        chromium = browser(playwright)
        page = chromium.new_context(**DESK).new_page()
        page.goto(f"{served}/console/connexion")
        assert accessibility_problems(page) == []
        page.screenshot(path=str(SCREENSHOTS / "console-connexion.png"), full_page=True)

        # The DEA's agent: the queue, filtered to what is open, holds the overflow and not the pothole.
        sign_in(page, served, "agent.eau@seinesaintdenis.fr")
        page.get_by_label("Ouvert", exact=True).check()
        page.get_by_role("button", name="Filtrer").click()
        page.wait_for_url("**/console/?status=open*")
        assert page.get_by_role("link", name=overflow).is_visible()
        assert page.get_by_role("link", name=pothole).count() == 0
        # The map shows the same reports; a box drawn with Shift around the point filters the queue.
        page.wait_for_selector("#carte[data-loaded]")
        assert page.get_attribute("#carte", "data-loaded") == "1"
        assert accessibility_problems(page) == []
        page.screenshot(path=str(SCREENSHOTS / "console-file.png"), full_page=True)
        page.locator("#carte").scroll_into_view_if_needed()
        area = page.locator("#carte").bounding_box()
        middle_x, middle_y = area["x"] + area["width"] / 2, area["y"] + area["height"] / 2
        page.keyboard.down("Shift")
        page.mouse.move(middle_x - 120, middle_y - 90)
        page.mouse.down()
        page.mouse.move(middle_x + 120, middle_y + 90, steps=8)
        page.mouse.up()
        page.keyboard.up("Shift")
        page.wait_for_url("**bbox=*")
        assert "status=open" in page.url
        assert page.get_by_role("link", name=overflow).is_visible()

        # The keyboard: ? lists the shortcuts, j chooses the first report, o opens it.
        page.keyboard.press("?")
        assert page.get_by_role("heading", name="Raccourcis clavier").is_visible()
        page.keyboard.press("j")
        page.keyboard.press("o")
        page.wait_for_url(f"**/console/signalements/{overflow}")
        assert page.get_by_text("awa@example.org").is_visible()
        assert accessibility_problems(page) == []
        page.screenshot(path=str(SCREENSHOTS / "console-signalement.png"), full_page=True)
        page.get_by_label("Nouveau statut").select_option("acknowledged")
        page.get_by_label("Note", exact=True).fill("Équipe d'assainissement prévenue, passage ce matin")
        page.get_by_label("Note publique (visible").check()
        page.get_by_role("button", name="Changer le statut").click()
        page.wait_for_url(f"**/console/signalements/{overflow}")
        assert page.get_by_role("status").inner_text() == "Statut changé : Pris en compte."
        assert page.get_by_text("Statut : Pris en compte — « Équipe d'assainissement prévenue").is_visible()
        assert accessibility_problems(page) == []
        page.screenshot(path=str(SCREENSHOTS / "console-signalement-pris-en-compte.png"), full_page=True)
        mails = [m for m in box.messages if m["To"] == "awa@example.org"]
        assert len(mails) == 1
        assert "passage ce matin" in mails[0].get_content()
        page.get_by_role("button", name="Se déconnecter").click()
        page.wait_for_url("**/console/connexion")

        # The DVD's agent never sees it: not in the queue, and its page is a 404.
        sign_in(page, served, "agent.voirie@seinesaintdenis.fr")
        assert page.get_by_role("link", name=pothole).is_visible()
        assert page.get_by_role("link", name=overflow).count() == 0
        answer = page.goto(f"{served}/console/signalements/{overflow}")
        assert answer.status == 404
        assert page.get_by_role("heading", name="Page introuvable").is_visible()
        page.goto(f"{served}/console/")
        page.get_by_role("button", name="Se déconnecter").click()

        # A DVD supervisor assigns three reports at once, after the summary; then reads the figures.
        more = []
        for _ in range(3):
            status, created = request("POST", f"{served}/api/v1/reports", report_payload())
            assert status == 201, created
            more.append(created["reference"])
        sign_in(page, served, "chef.voirie@seinesaintdenis.fr")
        for reference in more:
            page.get_by_label(f"Choisir {reference}").check()
        page.get_by_label("Action", exact=True).select_option("affectation")
        page.get_by_label("Agent (affectation)").fill("agent.voirie@seinesaintdenis.fr")
        page.get_by_role("button", name="Voir le récapitulatif").click()
        assert page.get_by_text("Affecter à agent.voirie@seinesaintdenis.fr : 3 signalements").is_visible()
        assert accessibility_problems(page) == []
        page.screenshot(path=str(SCREENSHOTS / "console-lot.png"), full_page=True)
        page.get_by_role("button", name="Confirmer").click()
        page.wait_for_url(f"{served}/console/")
        assert "3 signalements modifiés" in page.locator("#avis").inner_text()
        page.get_by_role("link", name="Statistiques").click()
        page.wait_for_url("**/console/statistiques")
        assert page.get_by_role("heading", name="Par semaine").is_visible()
        assert accessibility_problems(page) == []
        page.screenshot(path=str(SCREENSHOTS / "console-statistiques.png"), full_page=True)
        page.get_by_role("button", name="Se déconnecter").click()
        page.wait_for_url("**/console/connexion")

        # An admin's pages: agents, categories, routing rules, units.
        sign_in(page, served, "admin.console@seinesaintdenis.fr")
        page.get_by_role("link", name="Administration").click()
        for section, heading in (
            ("agents", "Agents"),
            ("categories", "Catégories"),
            ("regles", "Règles d'acheminement"),
            ("unites", "Unités"),
        ):
            page.goto(f"{served}/console/admin/{section}")
            assert page.get_by_role("heading", name=f"Administration : {heading}").is_visible()
            assert accessibility_problems(page) == [], section
            page.screenshot(path=str(SCREENSHOTS / f"console-admin-{section}.png"), full_page=True)

        # Without JavaScript: signing in, the queue and a report read as well (the map says why it is empty).
        plain = chromium.new_context(**DESK, java_script_enabled=False).new_page()
        sign_in(plain, served, "agent.eau@seinesaintdenis.fr")
        assert plain.get_by_text("La carte a besoin de JavaScript").is_visible()
        plain.get_by_role("link", name=overflow).click()
        plain.wait_for_url(f"**/console/signalements/{overflow}")
        assert plain.get_by_text("Statut : Pris en compte — « Équipe d'assainissement prévenue").is_visible()
        chromium.close()
