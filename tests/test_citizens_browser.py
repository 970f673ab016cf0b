"""The citizens' site, tried as a new resident would on a phone-sized browser (headless Chromium):
an overflowing drain reported with a photo and a video placed on the map, routed to the DEA with its
message; a pothole off the departmental roads referred to its commune; a point outside the
département refused in French; a double submission giving one report; the follow page before and
after an agent's acknowledgement; the same report without JavaScript. Each page passes axe-core,
weighs under 200 kB as transferred, and is written to instance/screenshots/."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.factories import NOISY_LE_SEC_STREET, PARIS_NOTRE_DAME
from tests.media.files import jpeg_from_phone
from tests.media.test_videos import phone_video
from tests.servers import ROOT, app_env, flask, gunicorn, request
from tests.test_zone_pages_browser import PHONE, SCREENSHOTS, accessibility_problems, browser

pytestmark = pytest.mark.browser
BUDGET = 200 * 1024  # a page and everything it loads, as transferred, before photos
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
AGENT = ["--email", "agent.dea@seinesaintdenis.fr", "--directorate", "DEA", "--password-stdin"]


def weigh(page, url: str) -> int:
    """Open ``url`` in ``page`` and add up what crossed the network (headers and bodies as sent)."""
    sizes: list = []

    def finished(req) -> None:
        sizes.append(req.sizes())

    page.on("requestfinished", finished)
    page.goto(url, wait_until="networkidle")
    page.remove_listener("requestfinished", finished)
    return sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes)


def agent_token(env, base: str) -> dict[str, str]:
    created = subprocess.run(
        [*FLASK, "agents", "create", *AGENT],
        cwd=ROOT,
        env=env,
        input="un mot de passe assez long\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    status, body = request(
        "POST",
        f"{base}/api/v1/auth/tokens",
        {"email": "agent.dea@seinesaintdenis.fr", "password": "un mot de passe assez long"},
    )
    assert status == 201, body
    return {"Authorization": f"Bearer {body['token']}"}


def test_a_resident_reports_from_a_phone_and_follows_it(tmp_path, fresh_database_url):
    env = app_env(tmp_path / "instance", fresh_database_url, SECRET_KEY="k" * 40)
    assert flask(env, "seed").returncode == 0
    photo, video = tmp_path / "avaloir.jpg", tmp_path / "avaloir.mov"
    photo.write_bytes(jpeg_from_phone())
    video.write_bytes(phone_video())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with gunicorn(env, workers=2) as base, sync_playwright() as playwright:
        chromium = browser(playwright)
        context = chromium.new_context(**PHONE)
        page = context.new_page()

        # Choose, then the form: under budget, accessible.
        assert weigh(page, f"{base}/signaler") < BUDGET
        assert accessibility_problems(page) == []
        page.screenshot(path=str(SCREENSHOTS / "signaler.png"), full_page=True)
        page.get_by_role("link", name="Débordement d'avaloir").click()
        page.wait_for_selector(".leaflet-container .leaflet-interactive")  # the outlines are drawn
        weight = weigh(context.new_page(), page.url)
        assert weight < BUDGET, weight
        assert accessibility_problems(page) == []

        # On the map, the photo and the video, the rain: sent with a progress bar.
        page.locator("#carte").click()  # the middle of the map: Bobigny
        assert page.locator("#lat").input_value() != ""
        page.get_by_label("Pleut-il ou a-t-il plu récemment ?").select_option("oui")
        page.get_by_label("Photos (jusqu'à 5)").set_input_files(str(photo))
        page.get_by_label("Une vidéo").set_input_files(str(video))
        page.screenshot(path=str(SCREENSHOTS / "signaler-formulaire.png"), full_page=True)
        page.get_by_role("button", name="Envoyer le signalement").click()
        page.wait_for_selector("text=Signalement envoyé")
        reference = page.locator(".reference").inner_text()
        text = page.locator("main").inner_text()
        assert "Direction de l'Eau et de l'Assainissement" in text
        status, public = request("GET", f"{base}/api/v1/reports/{reference}")
        assert public["routing"]["directorate"]["code"] == "DEA"
        assert public["routing"]["message"] in text
        assert sorted(m["kind"] for m in public["media"]) == ["photo", "video"]
        assert accessibility_problems(page) == []
        page.screenshot(path=str(SCREENSHOTS / "signaler-envoye.png"), full_page=True)

        # A pothole in a street of Noisy-le-Sec, coordinates typed: referred to the commune.
        page.goto(f"{base}/signaler/nid-de-poule")
        page.get_by_label("Latitude").fill(str(NOISY_LE_SEC_STREET[1]).replace(".", ","))
        page.get_by_label("Longitude").fill(str(NOISY_LE_SEC_STREET[0]))
        page.get_by_label("Taille approximative").select_option("moyen")
        page.get_by_role("button", name="Envoyer le signalement").click()
        page.wait_for_selector("text=Signalement envoyé")
        assert "Ce lieu ne relève pas du Département" in page.content()
        assert "gérée par la commune (Noisy-le-Sec)" in page.content()

        # Paris is not Seine-Saint-Denis: said in French, beside the place.
        page.goto(f"{base}/signaler/nid-de-poule")
        page.get_by_label("Latitude").fill(str(PARIS_NOTRE_DAME[1]))
        page.get_by_label("Longitude").fill(str(PARIS_NOTRE_DAME[0]))
        page.get_by_label("Taille approximative").select_option("grand")
        page.get_by_role("button", name="Envoyer le signalement").click()
        page.wait_for_selector(".error-summary")
        assert "hors de la Seine-Saint-Denis" in page.locator("#position").inner_text()
        assert page.get_by_label("Latitude").input_value() == str(PARIS_NOTRE_DAME[1])  # kept
        assert accessibility_problems(page) == []
        page.screenshot(path=str(SCREENSHOTS / "signaler-erreur.png"), full_page=True)

        # A double tap on "Envoyer": one report.
        _, before = request("GET", f"{base}/api/v1/reports?category=nid-de-poule&limit=100")
        page.goto(f"{base}/signaler/nid-de-poule")
        page.get_by_label("Latitude").fill("48.9010")
        page.get_by_label("Longitude").fill("2.3990")
        page.get_by_label("Taille approximative").select_option("petit")
        page.get_by_role("button", name="Envoyer le signalement").dblclick()
        page.wait_for_selector("text=Signalement envoyé")
        _, after = request("GET", f"{base}/api/v1/reports?category=nid-de-poule&limit=100")
        assert len(after["items"]) == len(before["items"]) + 1

        # Following it: this browser remembers its reports; the DEA acknowledges it with a note.
        page.goto(f"{base}/suivi")
        page.get_by_role("link", name=reference).click()
        assert "Ouvert" in page.locator("dl").first.inner_text()
        assert "Ce que vous avez envoyé" in page.content()
        status, moved = request(
            "POST",
            f"{base}/api/v1/triage/reports/{reference}/transitions",
            {"to": "acknowledged", "note": "Une équipe passe demain matin.", "note_public": True, "version": 1},
            headers=agent_token(env, base),
        )
        assert status == 200, moved
        page.reload()
        assert "Pris en compte" in page.locator("main").inner_text()
        assert "Une équipe passe demain matin." in page.locator("main").inner_text()
        assert accessibility_problems(page) == []
        page.screenshot(path=str(SCREENSHOTS / "suivi.png"), full_page=True)

        # A neighbour at the same drain: the report is there already, "moi aussi" counts her.
        neighbour = chromium.new_context(**PHONE).new_page()
        neighbour.goto(f"{base}/signaler/debordement-avaloir")
        neighbour.wait_for_selector(".leaflet-container .leaflet-interactive")
        neighbour.locator("#carte").click()
        neighbour.get_by_role("button", name="Moi aussi").first.click()
        neighbour.wait_for_selector("text=Merci, c'est noté")
        assert request("GET", f"{base}/api/v1/reports/{reference}")[1]["support_count"] == 1

        # The network fails during the upload: what was typed stays, and a retry sends it once.
        flaky = chromium.new_context(**PHONE)
        form = flaky.new_page()
        form.goto(f"{base}/signaler/nid-de-poule")
        form.get_by_label("Latitude").fill("48,9010")
        form.get_by_label("Longitude").fill("2,3990")
        form.get_by_label("Taille approximative").select_option("grand")
        flaky.set_offline(True)
        form.get_by_role("button", name="Envoyer le signalement").click()
        form.wait_for_selector("text=L'envoi n'a pas abouti")
        assert form.get_by_label("Latitude").input_value() == "48,9010"
        flaky.set_offline(False)
        form.get_by_role("button", name="Réessayer l'envoi").click()
        form.wait_for_selector("text=Signalement envoyé")

        # Without JavaScript: coordinates typed, the same report made.
        plain = chromium.new_context(**PHONE, java_script_enabled=False).new_page()
        plain.goto(f"{base}/signaler/debordement-avaloir")
        assert plain.locator("#carte").is_hidden()
        plain.get_by_label("Latitude").fill("48,9362")
        plain.get_by_label("Longitude").fill("2,3574")
        plain.get_by_role("button", name="Envoyer le signalement").click()
        plain.wait_for_selector("text=Signalement envoyé")
        assert "Direction de l'Eau et de l'Assainissement" in plain.locator("main").inner_text()
        chromium.close()
