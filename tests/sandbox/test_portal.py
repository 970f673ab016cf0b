"""The portal: registration, the key shown once, sign-in by e-mailed link, the team page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from backend.mail import SmtpMailer
from sandbox import services
from sandbox.app import create_sandbox_app
from sandbox.models import ApiKey, SignInLink
from tests.sandbox.conftest import auth


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def register(client, event, **fields):
    token = csrf_token(client.get("/inscription").get_data(as_text=True))
    form = {"csrf_token": token, "name": "Les Hérons", "contact_email": "herons@example.org", "event": event.slug}
    form["accepted_terms"] = "yes"
    form.update(fields)
    return client.post("/inscription", data={k: v for k, v in form.items() if v is not None})


def test_home_page_explains_datasets_quick_start_limits_and_docs(sandbox, event):
    page = sandbox.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Données ouvertes" in html
    assert "Démarrage rapide" in html
    assert "Limites" in html
    assert "curl -H" in html
    assert "/api/v1/docs" in html
    assert "5 requêtes par seconde" in html
    assert "1000 requêtes par jour" in html
    assert "Hackathon de test" in html
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_registration_shows_the_key_once_with_a_curl_line_that_works(sandbox, event, session):
    page = register(sandbox, event)
    assert page.status_code == 201
    assert page.headers["Cache-Control"] == "private, no-store"  # the page shows a secret
    assert "Authorization" in page.headers["Vary"]
    html = page.get_data(as_text=True)
    key = re.search(r'<code id="api-key">(s93_\w+)</code>', html).group(1)
    assert f"Apikey {key}" in html
    assert sandbox.get("/api/v1/reports", headers=auth(key)).status_code == 200
    assert key not in sandbox.get("/equipe").get_data(as_text=True)  # never shown again
    assert session.scalar(select(ApiKey.prefix)) == key[:12]


def test_a_form_without_its_csrf_token_is_refused_in_french(sandbox, event):
    response = sandbox.post(
        "/inscription",
        data={"name": "X", "contact_email": "x@example.org", "event": event.slug, "accepted_terms": "yes"},
    )
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)


def test_registration_errors_are_shown_on_the_form_in_french(sandbox, event, session):
    page = register(sandbox, event, name="", contact_email="pas-une-adresse", accepted_terms=None)
    assert page.status_code == 422
    html = unescape(page.get_data(as_text=True))
    assert "Adresse e-mail invalide." in html
    assert "Il faut accepter les conditions d'utilisation." in html
    assert "Le nom de l'équipe doit compter de 2 à 120 caractères." in html
    assert session.scalar(select(ApiKey)) is None


def test_sign_in_link_arrives_by_mail_works_once_and_opens_the_team_page(
    app, settings, database, session, team_key, smtp_server
):
    """Through wsgi.py's shape (the backend, the sandbox mounted at /sandbox), following the very link
    the e-mail holds: it once read …/sandbox/sandbox/connexion/… (issue 17, item 1)."""
    from urllib.parse import urlsplit

    from sandbox.app import mount

    url, box = smtp_server
    mount(app, create_sandbox_app(settings, database=database, mailer=SmtpMailer(url)))
    client = app.test_client()
    token = csrf_token(client.get("/sandbox/connexion").get_data(as_text=True))
    answer = client.post("/sandbox/connexion", data={"csrf_token": token, "contact_email": "equipe@example.org"})
    assert "un lien de connexion vient de lui être envoyé" in answer.get_data(as_text=True)
    assert len(box.messages) == 1
    message = box.messages[0]
    assert message["To"] == "equipe@example.org"
    assert "lien de connexion" in message["Subject"]
    link = re.search(r"http://signal93\.test/\S+", message.get_content()).group(0)
    assert urlsplit(link).path.startswith("/sandbox/connexion/")
    path = urlsplit(link).path

    fresh = app.test_client()
    confirm = fresh.get(path)  # what a mail scanner would fetch too: it uses nothing up
    assert confirm.status_code == 200
    assert fresh.get(path).status_code == 200
    followed = fresh.post(path, data={"csrf_token": csrf_token(confirm.get_data(as_text=True))})
    assert followed.status_code == 302
    assert followed.headers["Location"] == "/sandbox/equipe"
    team_page = fresh.get("/sandbox/equipe").get_data(as_text=True)
    assert "Équipe Les Vigies" in team_page
    assert team_key[1][:12] in team_page
    assert fresh.get(path).status_code == 400  # single use


def test_unknown_address_gets_the_same_answer_and_no_mail(sandbox, team_key, smtp_server, settings, database):
    url, box = smtp_server
    client = create_sandbox_app(settings, database=database, mailer=SmtpMailer(url)).test_client()
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    answer = client.post("/connexion", data={"csrf_token": token, "contact_email": "inconnu@example.org"})
    assert "un lien de connexion vient de lui être envoyé" in answer.get_data(as_text=True)
    assert box.messages == []


def test_an_expired_link_is_refused(sandbox, session, team_key):
    ((_, token),) = services.create_sign_in_links(session, "equipe@example.org", now=datetime.now(UTC))
    session.scalar(select(SignInLink)).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    response = sandbox.get(f"/connexion/{token}")
    assert response.status_code == 400
    assert "expiré" in response.get_data(as_text=True)


def test_team_page_creates_a_second_key_revokes_one_and_charts_usage(sandbox, event, session):
    first = re.search(r"(s93_\w+)</code>", register(sandbox, event).get_data(as_text=True)).group(1)
    for _ in range(3):
        sandbox.get("/api/v1/catalog/categories", headers=auth(first))
    page = sandbox.get("/equipe").get_data(as_text=True)
    assert "3 requêtes" in page
    from sqlalchemy import func, select

    from sandbox.models import Usage

    assert session.scalar(select(func.count()).select_from(Usage)) == 0  # counted, not written: a GET writes nothing
    assert "3 requêtes" in sandbox.get("/equipe").get_data(as_text=True)  # and counted once
    created = sandbox.post("/equipe/cles", data={"csrf_token": csrf_token(page)})
    second = re.search(r"(s93_\w+)</code>", created.get_data(as_text=True)).group(1)
    assert second != first
    revoke = sandbox.post(f"/equipe/cles/{first[:12]}/revocation", data={"csrf_token": csrf_token(page)})
    assert revoke.status_code == 302
    assert sandbox.get("/api/v1/reports", headers=auth(first)).get_json()["code"] == "api_key_revoked"
    assert sandbox.get("/api/v1/reports", headers=auth(second)).status_code == 200
    assert "révoquée" in sandbox.get("/equipe").get_data(as_text=True)


def test_team_page_needs_a_sign_in(sandbox):
    response = sandbox.get("/equipe")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/connexion")


@pytest.mark.parametrize("path", ["/api/v1/openapi.json"])
def test_sandbox_api_is_documented(sandbox, path):
    from openapi_spec_validator import validate

    spec = sandbox.get(path).get_json()
    validate(spec)
    assert "/api/v1/reports" in spec["paths"]


def test_sandbox_api_docs_work_offline(sandbox):
    page = sandbox.get("/api/v1/docs").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources
    for source in sources:
        assert source.startswith("/sandbox/api/v1/docs/assets/"), source
        asset = sandbox.get(source.removeprefix("/sandbox"))
        assert asset.status_code == 200
        asset.close()


def test_a_team_name_is_taken_once_per_event(sandbox, event):
    assert register(sandbox, event).status_code == 201
    again = register(sandbox.application.test_client(), event, name="les hérons", contact_email="b@example.org")
    assert again.status_code == 422
    assert "Ce nom d'équipe est déjà pris" in unescape(again.get_data(as_text=True))


def test_sign_in_requests_are_limited_per_address(sandbox):
    token = csrf_token(sandbox.get("/connexion").get_data(as_text=True))
    statuses = [
        sandbox.post("/connexion", data={"csrf_token": token, "contact_email": "x@example.org"}).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    refused = sandbox.post("/connexion", data={"csrf_token": token, "contact_email": "x@example.org"})
    assert "Trop de demandes" in refused.get_data(as_text=True)


def test_the_home_page_lists_the_open_datasets_with_links_and_ready_queries(wsgi_app):
    import shlex
    from urllib.parse import urlsplit

    from tests.factories import report_payload, submit
    from tests.sandbox.test_explore_api import build

    client = wsgi_app.test_client()
    submit(client, report_payload())
    build(wsgi_app, "--all")
    html = unescape(client.get("/sandbox/").get_data(as_text=True))
    assert "Signalements des citoyens</strong> — 1 ligne, version " in html
    assert 'href="/sandbox/catalog.jsonld"' in html
    assert client.get("/sandbox/catalog.jsonld").status_code == 200
    # Every file link of every dataset downloads that file.
    links = re.findall(r'<a href="(http://[^"]+/versions/[^"]+/[^"/]+)">([^<]+)</a>', html)
    assert len(links) >= 11 * 4
    for url, name in links[:12]:
        assert url.endswith("/" + name)
        assert client.get(urlsplit(url).path).status_code == 200, url
    assert re.search(r"<td>\d+(,\d)?\xa0(octets|Ko|Mo)</td>", html)
    # The ready curl query of each dataset answers, as curl would send it.
    queries = re.findall(r'<pre class="code">(curl -G [^<]+)</pre>', html)
    assert len(queries) >= 11
    for command in queries:
        words = shlex.split(command)
        url = urlsplit(words[2]).path
        params = dict(word.split("=", 1) for word in words[4::2])
        answer = client.get(url, query_string=params)
        assert answer.status_code == 200, (command, answer.get_json())
    reports = next(command for command in queries if "/signalements/records" in command)
    assert "--data-urlencode 'group_by=commune_name'" in reports
    assert "--data-urlencode \"where=program = 'patrouillage' and received_at >= date'2026-01-01'\"" in reports


def test_sign_out_ends_every_copy_of_the_session_and_only_the_newest_link_works(sandbox, session, team_key):
    """Issue 17, item 7: a copied session cookie still opened the team page after sign-out."""
    first, second = (
        services.create_sign_in_links(session, "equipe@example.org", now=datetime.now(UTC))[0][1] for _ in range(2)
    )
    session.commit()
    confirm = sandbox.get(f"/connexion/{second}")
    assert (
        sandbox.post(
            f"/connexion/{second}", data={"csrf_token": csrf_token(confirm.get_data(as_text=True))}
        ).status_code
        == 302
    )
    assert sandbox.get(f"/connexion/{first}").status_code == 400  # the older link died with the newer one's use
    cookie = sandbox.get_cookie("signal93_sandbox")
    copy = sandbox.application.test_client()
    copy.set_cookie(cookie.key, cookie.value)
    assert "Équipe Les Vigies" in copy.get("/equipe").get_data(as_text=True)  # the copy works while signed in
    page = sandbox.get("/equipe").get_data(as_text=True)
    assert sandbox.post("/deconnexion", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert copy.get("/equipe").status_code == 302  # to the sign-in page: the copied cookie is dead
    assert sandbox.get("/equipe").status_code == 302
