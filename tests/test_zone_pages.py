"""The page a walker's QR code opens, ``/z/{slug}``: the zone card and the sighting form,
server-rendered, in French, working without JavaScript, through the real intake."""

from __future__ import annotations

import io
import re
from html import unescape

from sqlalchemy import func, select

from backend.media.models import Media
from backend.reports.models import Report, ReportEvent
from tests.media.files import jpeg_from_phone
from tests.test_observations import rename_the_vallon
from tests.test_seeding import seeds_copy  # noqa: F401 (a fixture)


def text_of(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def form_of(client, slug: str = "sausset-marais", query: str = "") -> dict[str, str]:
    """The hidden fields of the zone page's form, as a browser would send them back."""
    html = client.get(f"/z/{slug}{query}").get_data(as_text=True)
    return {
        name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1) for name in ("csrf_token", "idempotency_key")
    }


def post(client, fields: dict, slug: str = "sausset-marais", photo: bytes | None = None):
    data = dict(fields)
    if photo is not None:
        data["photos"] = (io.BytesIO(photo), "photo.jpg")
    return client.post(f"/z/{slug}", data=data, content_type="multipart/form-data")


def reference_in(answer) -> str:
    return re.search(r"S93-\d{4}-\d{6}", answer.get_data(as_text=True)).group(0)


def stored(session, reference: str) -> Report:
    return session.scalar(select(Report).where(Report.id == int(reference[-6:])))


def count_reports(session) -> int:
    return session.scalar(select(func.count()).select_from(Report))


def test_the_zone_page_shows_the_card_the_walk_and_a_form(client):
    answer = client.get("/z/sausset-bocage")
    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    html = text_of(answer)
    assert '<html lang="fr">' in html
    assert "<h1>Le bocage</h1>" in html
    assert "Parc départemental du Sausset · station 2 sur 6" in html
    assert "Hérisson d'Europe" in html  # commonly seen here: offered to pick
    assert 'href="/z/sausset-marais" rel="prev">← Station 1 : Le marais' in html
    assert 'href="/z/sausset-foret" rel="next">Station 3 : La forêt →' in html
    assert html.count("<circle") == 6  # the plan of the walk: six stations
    assert 'aria-label="Station 2 : Le bocage (vous êtes ici)"' in html
    assert "J'ai vu une espèce" in html
    assert "Pie-grièche" not in html  # sensitive: the page would place it in this zone
    for label in ('for="nombre"', 'for="comportement"', 'for="photos"', 'for="email"', 'for="consent"'):
        assert label in html  # every field has its label
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_the_shared_assets_are_versioned_and_cached(client):
    html = client.get("/z/sausset-marais").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/site\.css\?v=[0-9a-f]{12})"', html).group(1)
    answer = client.get(stylesheet)
    assert answer.status_code == 200
    assert answer.mimetype == "text/css"
    assert "max-age=31536000" in answer.headers["Cache-Control"]
    answer.close()
    assert client.get("/static/nope.css").status_code == 404


def test_a_search_narrows_the_species_without_javascript(client):
    html = text_of(client.get("/z/sausset-marais?q=blongios"))
    assert 'value="Ixobrychus minutus"' in html
    assert "Blongios nain" in html
    assert "Héron cendré" not in html  # narrowed to what matches
    nothing = text_of(client.get("/z/sausset-marais?q=zzzz"))
    assert "Aucune espèce ne correspond à « zzzz »" in nothing
    assert "Espèce inconnue : je joins une photo" in nothing


def test_unknown_zones_are_a_french_404_and_a_former_slug_still_opens(client, session, seeds_copy):  # noqa: F811
    missing = client.get("/z/nulle-part")
    assert missing.status_code == 404
    assert "Page introuvable" in text_of(missing)
    assert missing.mimetype == "text/html"
    rename_the_vallon(session, seeds_copy)
    old_post = client.get("/z/sausset-vallon")  # a post printed before the renaming
    assert old_post.status_code == 200
    assert "station 5 sur 6" in text_of(old_post)


def test_a_sighting_sent_from_the_page_goes_through_the_intake(client, session):
    form = form_of(client) | {"espece": "Ardea cinerea", "nombre": "3", "comportement": "vol"}
    answer = post(client, form)
    assert answer.status_code == 200
    page = text_of(answer)
    assert "Merci pour votre observation" in page
    reference = reference_in(answer)
    assert "transmise à la Direction de la Nature, des Paysages et de la Biodiversité" in page
    report = stored(session, reference)
    assert report.attributes == {"espece": "Ardea cinerea", "nombre": 3, "comportement": "vol"}
    assert report.location_source == "zone"
    assert report.routing["unit"]["code"] == "DNPB-PARC-SAUSSET"
    again = post(client, form)  # a double tap, or the browser sending the form again
    assert reference_in(again) == reference
    assert count_reports(session) == 1


def test_a_position_from_the_browser_is_used_inside_the_park(client, session):
    fields = form_of(client) | {"espece": "Ardea cinerea", "lon": "2.5075", "lat": "48.9592", "accuracy_m": "12"}
    report = stored(session, reference_in(post(client, fields)))
    assert (report.lon, report.lat, report.accuracy_m, report.location_source) == (2.5075, 48.9592, 12, "device")


def test_an_unknown_species_with_a_photo_is_accepted_and_without_one_explained_in_french(client, session):
    form = form_of(client) | {"espece": "", "nombre": "2,0"}
    refused = post(client, form)
    assert refused.status_code == 422
    page = text_of(refused)
    assert "Le formulaire est à corriger" in page
    assert "Choisissez l'espèce dans la liste, ou « Espèce inconnue » en joignant une photo." in page
    assert 'value="2,0"' in page  # what was typed is kept
    assert "is required" not in page
    assert "invalid" not in page
    assert count_reports(session) == 0
    taken = post(client, form, photo=jpeg_from_phone())
    assert taken.status_code == 200
    report = stored(session, reference_in(taken))
    assert report.attributes == {"nombre": 2}
    assert session.scalar(select(func.count()).select_from(Media).where(Media.report_id == report.id)) == 1


def test_wrong_values_are_explained_beside_their_field(client, session):
    for field, fields, message in (
        (
            "nombre",
            {"espece": "Ardea cinerea", "nombre": "0"},
            "Indiquez un nombre entier d'individus, entre 1 et 10 000.",
        ),
        ("nombre", {"espece": "Ardea cinerea", "nombre": "1e400"}, "Indiquez un nombre entier d'individus, entre 1 et"),
        ("comportement", {"espece": "Ardea cinerea", "comportement": "danse"}, "Choisissez dans la liste ce qu'elle"),
        ("email", {"espece": "Ardea cinerea", "email": "pas-une-adresse"}, "Indiquez une adresse e-mail valide"),
        ("espece", {"espece": "Inventus inexistens"}, "Choisissez l'espèce dans la liste"),
    ):
        answer = post(client, form_of(client) | fields)
        assert answer.status_code == 422, fields
        html = text_of(answer)
        assert message in html, fields
        assert f'<li><a href="#{field}">' in html  # the summary links to the field
        assert f'id="{field}-erreur"' in html  # the message sits beside it, tied to it
    # Bytes that are not UTF-8, as a broken client could send them.
    hidden = form_of(client)
    boundary = "b0undary"
    parts = [(name, value.encode()) for name, value in hidden.items()] + [("espece", b"Ardea\xffcinerea")]
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
            for name, value in parts
        )
        + f"--{boundary}--\r\n".encode()
    )
    broken = client.post("/z/sausset-marais", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert broken.status_code == 422
    assert "Choisissez l'espèce dans la liste" in text_of(broken)
    text_photo = post(client, form_of(client) | {"espece": "Ardea cinerea"}, photo=b"not an image at all")
    assert text_photo.status_code in (415, 422)
    assert "Cette photo n'a pas pu être acceptée" in text_of(text_photo)
    assert count_reports(session) == 0


def test_a_form_without_its_csrf_token_stores_nothing(client, session):
    form = form_of(client) | {"espece": "Ardea cinerea"}
    del form["csrf_token"]
    answer = post(client, form)
    assert answer.status_code == 400
    assert "Page expirée" in text_of(answer)
    forged = post(client, form | {"csrf_token": "forged"})
    assert forged.status_code == 400
    assert count_reports(session) == 0


def test_the_same_walker_seeing_the_same_species_again_is_a_me_too(client, session):
    first = post(client, form_of(client) | {"espece": "Ardea cinerea", "nombre": "1"})
    assert "signal93_appareil=" in first.headers["Set-Cookie"]
    assert "HttpOnly" in first.headers["Set-Cookie"]
    second = post(client, form_of(client) | {"espece": "Ardea cinerea", "nombre": "4"})  # the cookie goes with it
    assert reference_in(second) == reference_in(first)
    assert "Vous aviez déjà signalé cette espèce dans cette zone aujourd'hui" in text_of(second)
    report = stored(session, reference_in(first))
    kinds = session.scalars(select(ReportEvent.kind).where(ReportEvent.report_id == report.id)).all()
    assert kinds.count("seen_again") == 1
    other = post(client, form_of(client) | {"espece": "Fulica atra"})
    assert reference_in(other) != reference_in(first)


def test_a_sensitive_species_from_the_page_is_protected(client, session):
    answer = post(client, form_of(client, query="?q=blongios") | {"espece": "Ixobrychus minutus"})
    page = text_of(answer)
    assert "Une espèce protégée" in page
    assert "ne sera jamais publié" in page
    report = stored(session, reference_in(answer))
    assert report.sensitive
    assert report.priority == 2
    zone_page = text_of(client.get("/z/sausset-marais"))
    assert "Blongios" not in zone_page
    assert "Ixobrychus" not in zone_page


def test_reading_the_page_writes_nothing(client, session):
    before = count_reports(session)
    for _ in range(3):
        client.get("/z/sausset-marais?q=heron")
    assert count_reports(session) == before
