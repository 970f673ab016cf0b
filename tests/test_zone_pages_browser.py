"""Tried as a new walker would: the QR printed on the Sausset's sheet, read by a QR decoder, opens
the zone's page on a phone-sized browser; from there a sighting of Blongios nain reaches the
Sausset team and the observatory at once, marked urgent, and nothing public places it closer than
the park's reference point. Then the same page without JavaScript. The pages pass axe-core."""

from __future__ import annotations

import shutil

import pytest
import zxingcpp

from tests.factories import near
from tests.media.files import jpeg_from_phone
from tests.servers import ROOT, app_env, flask, free_port, gunicorn, request

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "instance" / "screenshots"  # named in the README
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
pytestmark = pytest.mark.browser


def accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page as shown."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']}: {violation['help']} ({len(violation['nodes'])})"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def browser(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    )


def test_a_walker_scans_a_post_and_reports_a_blongios(tmp_path, fresh_database_url, smtp_server):
    import pypdf
    from playwright.sync_api import sync_playwright

    smtp_url, box = smtp_server
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = app_env(
        tmp_path / "instance", fresh_database_url, SECRET_KEY="k" * 40, PUBLIC_BASE_URL=base, SMTP_URL=smtp_url
    )
    assert flask(env, "seed").returncode == 0
    sheet = tmp_path / "sausset.pdf"
    printed = flask(env, "zones", "qr-sheet", "--park", "sausset", "--out", str(sheet))
    assert printed.returncode == 0, printed.stderr
    # The first label of the sheet, read as a phone's camera would read it from the paper.
    codes = [
        zxingcpp.read_barcodes(image.image.convert("L"))[0].text for image in pypdf.PdfReader(sheet).pages[0].images
    ]
    assert f"{base}/z/sausset-marais" in codes
    photo = tmp_path / "blongios.jpg"
    photo.write_bytes(jpeg_from_phone())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with gunicorn(env, workers=2, port=port), sync_playwright() as playwright:
        chromium = browser(playwright)
        page = chromium.new_context(**PHONE).new_page()
        page.goto(f"{base}/z/sausset-marais")
        assert page.title() == "Le marais · Signal93 Seine-Saint-Denis"
        assert page.locator("h1").inner_text() == "Le marais"
        assert accessibility_problems(page) == []
        page.screenshot(path=str(SCREENSHOTS / "zone-page.png"), full_page=True)

        page.get_by_label("Chercher une espèce").fill("blongios")
        page.get_by_role("button", name="Chercher").click()
        page.get_by_label("Blongios nain (Ixobrychus minutus)").check()
        page.get_by_label("Combien d'individus ?").fill("1")
        page.get_by_label("Que faisait-elle ?").select_option("repos")
        page.get_by_label("Une photo", exact=True).set_input_files(str(photo))
        page.get_by_label("Adresse e-mail").fill("promeneuse@example.org")
        page.screenshot(path=str(SCREENSHOTS / "zone-page-form.png"), full_page=True)
        page.get_by_role("button", name="Envoyer l'observation").click()

        page.wait_for_selector("text=Merci pour votre observation")
        reference = page.locator(".reference").inner_text()
        assert "Une espèce protégée" in page.content()
        assert accessibility_problems(page) == []
        page.screenshot(path=str(SCREENSHOTS / "zone-page-thanks.png"), full_page=True)

        # Told at once, marked urgent: the park's team and the observatory.
        assert sorted(message["To"] for message in box.messages if "[URGENT]" in message["Subject"]) == [
            "dnpb-sausset@signal93.invalid",
            "odbu@signal93.invalid",
        ]
        # Public outputs: at the park's reference point, never closer.
        from shapely.geometry import shape

        status, park = request("GET", f"{base}/api/v1/parks/sausset")
        reference_point = shape(park["geometry"]).centroid
        status, public = request("GET", f"{base}/api/v1/reports/{reference}")
        assert status == 200
        assert public["location"]["precision"] == "coarsened"
        assert near(public["location"], reference_point.x, reference_point.y, 30)  # the park's reference point
        assert public["location"]["uncertainty_m"] >= 500
        assert not near(public["location"], 2.5128, 48.9633, 300)  # nowhere near the marsh it was seen in
        zone_page = page.context.new_page()
        zone_page.goto(f"{base}/z/sausset-marais")
        assert "Blongios" not in zone_page.content()

        # The same page without JavaScript: the form still works (the zone gives the place).
        no_script = chromium.new_context(**PHONE, java_script_enabled=False).new_page()
        no_script.goto(f"{base}/z/sausset-bocage?q=herisson")
        no_script.get_by_label("Hérisson d'Europe (Erinaceus europaeus)").check()
        no_script.get_by_role("button", name="Envoyer l'observation").click()
        no_script.wait_for_selector("text=Merci pour votre observation")
        second = no_script.locator(".reference").inner_text()
        assert second != reference
        status, hedgehog = request("GET", f"{base}/api/v1/reports/{second}")
        assert hedgehog["attributes"]["espece"] == "Erinaceus europaeus"
        chromium.close()
