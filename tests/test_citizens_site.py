"""The citizens' site: report from any browser, without JavaScript, and follow what happens."""

from __future__ import annotations

import io
import re
from html import unescape

from sqlalchemy import func, select

from backend.reports.models import Report
from tests.factories import NOISY_LE_SEC_STREET, ON_RD932_PANTIN, PARIS_NOTRE_DAME, bearer_for, make_agent
from tests.media.files import jpeg_from_phone


def text_of(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def hidden(client, url: str) -> dict[str, str]:
    html = client.get(url).get_data(as_text=True)
    return {n: re.search(rf'name="{n}" value="([^"]*)"', html).group(1) for n in ("csrf_token", "idempotency_key")}


def send(client, code: str, fields: dict, photos=(), video=None, form=None):
    data = (form or hidden(client, f"/signaler/{code}")) | fields
    if photos:
        data["photos"] = [(io.BytesIO(p), f"photo{i}.jpg") for i, p in enumerate(photos)]
    if video is not None:
        data["video"] = (io.BytesIO(video), "clip.mp4")
    return client.post(f"/signaler/{code}", data=data, content_type="multipart/form-data")


def reference_in(answer) -> str:
    return re.search(r"S93-\d{4}-\d{6}", answer.get_data(as_text=True)).group(0)


def count_reports(session) -> int:
    return session.scalar(select(func.count()).select_from(Report))


def test_a_resident_chooses_what_to_report(client):
    page = text_of(client.get("/signaler"))
    assert "Vigies de l'Eau</h2>" in page
    assert 'id="programme-vigies-eau"' in page
    assert 'href="/signaler/nid-de-poule"' in page
    form = text_of(client.get("/signaler/debordement-avaloir"))
    assert 'name="attr-pluie"' in form  # generated from the category's definition
    assert 'name="video"' in form  # Vigies de l'Eau takes a video
    assert 'name="video"' not in text_of(client.get("/signaler/nid-de-poule"))
    assert client.get("/signaler/nope").status_code == 404


def test_a_report_typed_without_javascript_goes_to_the_dea_with_its_message(client, session):
    lon, lat = ON_RD932_PANTIN
    answer = send(
        client,
        "debordement-avaloir",
        {"lat": str(lat).replace(".", ","), "lon": str(lon), "attr-pluie": "oui", "email": "habitante@example.org"},
        photos=[jpeg_from_phone()],
    )
    assert answer.status_code == 200, text_of(answer)[-2000:]
    page = text_of(answer)
    assert "Signalement envoyé" in page
    reference = reference_in(answer)
    report = session.scalar(select(Report).where(Report.id == int(reference[-6:])))
    assert report.routing["directorate"]["code"] == "DEA"
    assert report.routing["message"] in page
    assert "signal93_suivi=" in answer.headers["Set-Cookie"]
    follow = text_of(client.get(f"/suivi/{reference}"))
    assert "Ce que vous avez envoyé" in follow  # this browser made it
    assert "<dt>Pleut-il ou a-t-il plu récemment ?</dt><dd>Oui</dd>" in follow
    assert "habitante@example.org" in follow
    mine = text_of(client.get("/suivi"))
    assert reference in mine
    stranger = client.application.test_client()
    other = text_of(stranger.get(f"/suivi/{reference}"))
    assert "Ce que vous avez envoyé" not in other
    assert "habitante@example.org" not in other


def test_a_pothole_far_from_departmental_roads_is_referred_to_its_commune(client, session):
    lon, lat = NOISY_LE_SEC_STREET
    answer = send(client, "nid-de-poule", {"lat": str(lat), "lon": str(lon), "attr-taille": "moyen"})
    page = text_of(answer)
    assert "Ce lieu ne relève pas du Département" in page
    assert "elle est gérée par la commune (Noisy-le-Sec), à qui votre signalement est transmis" in page
    assert "(Commune de Noisy-le-Sec)" in page


def test_a_point_outside_the_departement_is_refused_in_french(client, session):
    lon, lat = PARIS_NOTRE_DAME
    answer = send(client, "nid-de-poule", {"lat": str(lat), "lon": str(lon), "attr-taille": "moyen"})
    assert answer.status_code == 422
    page = text_of(answer)
    assert "hors de la Seine-Saint-Denis" in page
    assert f'value="{lat}"' in page  # what was typed is kept
    assert "outside" not in page
    assert count_reports(session) == 0


def test_a_double_submission_makes_one_report(client, session):
    form = hidden(client, "/signaler/nid-de-poule")
    lon, lat = ON_RD932_PANTIN
    fields = {"lat": str(lat), "lon": str(lon), "attr-taille": "moyen"}
    first = send(client, "nid-de-poule", fields, form=form)
    second = send(client, "nid-de-poule", fields, form=form)
    assert reference_in(first) == reference_in(second)
    assert count_reports(session) == 1


def test_a_commune_and_a_place_stand_for_a_map(client, session):
    answer = send(client, "nid-de-poule", {"commune": "93001", "lieu": "devant la mairie", "attr-taille": "petit"})
    assert answer.status_code == 200, text_of(answer)[-1500:]
    report = session.scalar(select(Report).where(Report.id == int(reference_in(answer)[-6:])))
    assert report.commune_code == "93001"
    assert report.description.startswith("Lieu : devant la mairie")


def test_errors_are_in_french_beside_their_field(client, session):
    lon, lat = ON_RD932_PANTIN
    for fields, field, message in (
        ({}, "position", "Indiquez où"),
        ({"lat": "quarante-huit", "lon": "2"}, "position", "Indiquez où"),
        ({"lat": str(lat), "lon": str(lon), "attr-taille": "enorme"}, "attr-taille", "Choisissez parmi"),
        ({"lat": str(lat), "lon": str(lon), "attr-taille": "moyen", "email": "x"}, "email", "adresse e-mail valide"),
    ):
        answer = send(client, "nid-de-poule", fields)
        assert answer.status_code == 422, fields
        page = text_of(answer)
        assert message in page, (fields, page[-3000:])
        assert f'<li><a href="#{field}">' in page
    assert count_reports(session) == 0


def test_the_follow_page_shows_the_acknowledgement_and_its_public_note(client, session):
    lon, lat = ON_RD932_PANTIN
    reference = reference_in(send(client, "nid-de-poule", {"lat": str(lat), "lon": str(lon), "attr-taille": "moyen"}))
    before = text_of(client.get(f"/suivi/{reference}"))
    assert "Statut</dt><dd><strong>Ouvert" in before
    agent = bearer_for(session, make_agent(session, "agent.dvd@seinesaintdenis.fr", directorate="DVD"))
    moved = client.post(
        f"/api/v1/triage/reports/{reference}/transitions",
        json={"to": "acknowledged", "note": "Équipe prévue jeudi", "note_public": True, "version": 1},
        headers=agent,
    )
    assert moved.status_code == 200, moved.get_json()
    after = text_of(client.get(f"/suivi/{reference}"))
    assert "Pris en compte" in after
    assert "Équipe prévue jeudi" in after


def test_the_map_background_is_our_own_communes_and_roads_compressed(client):
    answer = client.get("/signaler/fond-de-carte.geojson", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["Content-Encoding"] == "gzip"
    import gzip
    import json

    collection = json.loads(gzip.decompress(answer.get_data()))
    kinds = {feature["properties"]["kind"] for feature in collection["features"]}
    assert kinds == {"commune", "road"}
    assert sum(1 for f in collection["features"] if f["properties"]["kind"] == "commune") == 39
    assert len(answer.get_data()) < 20_000  # simplified, then compressed
    again = client.get(
        "/signaler/fond-de-carte.geojson",
        headers={"If-None-Match": answer.headers["ETag"], "Accept-Encoding": "gzip"},
    )
    assert again.status_code == 304
    leaflet = client.get("/static/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "br"})
    assert (leaflet.status_code, leaflet.headers["Content-Encoding"]) == (200, "br")
    leaflet.close()
    for path in ("/static/vendor/leaflet/../../../../etc/passwd", "/static/vendor/nope/x.js", "/static/vendor/leaflet"):
        assert client.get(path).status_code == 404


def test_forged_or_foreign_follow_cookies_show_nothing_private(client, session):
    lon, lat = ON_RD932_PANTIN
    stranger = client.application.test_client()
    reference = reference_in(
        send(stranger, "nid-de-poule", {"lat": str(lat), "lon": str(lon), "attr-taille": "moyen", "nom": "Awa Diallo"})
    )
    for value in ("garbage", f"{reference}~rt_forged", "~.~~." * 300, f"{reference}~" + "x" * 3000):
        client.set_cookie("signal93_suivi", value)
        mine = client.get("/suivi")
        assert mine.status_code == 200
        assert reference not in text_of(mine)
        page = text_of(client.get(f"/suivi/{reference}"))
        assert "Awa Diallo" not in page
        assert "Ce que vous avez envoyé" not in page
    for missing in ("S93-2026-999999", "nope", "S93-2026-99999999999999999999"):
        answer = client.get(f"/suivi/{missing}")
        assert answer.status_code == 404
        assert "Page introuvable" in text_of(answer)
