"""The staff console, through the app as ``wsgi.py`` serves it (the sandbox mounted beside it):
sign in and out, the queue and its filters in the URL, a report and its actions, the CSV, what
an agent of another directorate cannot reach, stale forms, CSRF, idle and disabled sessions."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import replace
from urllib.parse import quote

import pytest

from backend.app import create_app, inline_queue
from backend.web.sessions import IDLE_SECONDS, SEEN
from sandbox.app import create_sandbox_app, mount
from tests.factories import bearer_for, make_agent, report_payload, submit, use_queue

PASSWORD = "correct horse battery staple"  # make_agent's
DVD_AGENT = "agent.voirie@seinesaintdenis.fr"
DEA_AGENT = "agent.eau@seinesaintdenis.fr"
OVERFLOW_AT = (2.4440, 48.9300)  # Bobigny, on no departmental road: the DEA's


@pytest.fixture
def console(settings, database, smtp_server, session):
    """The served app with a real SMTP server and jobs in-process; a DVD and a DEA agent."""
    url, box = smtp_server
    app = create_app(replace(settings, smtp_url=url), database=database)
    use_queue(app, inline_queue(app))
    mount(app, create_sandbox_app(settings, database=database))
    make_agent(session, DVD_AGENT, directorate="DVD")
    make_agent(session, DEA_AGENT, directorate="DEA")
    return app, box


def csrf(page) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)[:500]
    return found.group(1)


def sign_in(client, email: str, password: str = PASSWORD, target: str = ""):
    form = client.get(f"/console/connexion?suivant={target}")
    return client.post(
        "/console/connexion",
        data={"email": email, "password": password, "csrf_token": csrf(form), "suivant": target},
    )


def pothole(client) -> str:
    return submit(client, report_payload()).get_json()["reference"]


def overflow(client, **fields) -> str:
    payload = report_payload("debordement-avaloir", at=OVERFLOW_AT, attributes={"pluie": "oui"}, **fields)
    answer = submit(client, payload)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["reference"]


def text(response) -> str:
    return response.get_data(as_text=True)


def test_an_agent_signs_in_and_lands_on_the_page_asked_for_with_a_safe_cookie(console):
    app, _ = console
    client = app.test_client()
    asked = client.get("/console/?status=open")
    assert asked.status_code == 303
    assert asked.headers["Location"].startswith("/console/connexion?suivant=")

    wrong = sign_in(client, DVD_AGENT, "not the password", "/console/?status=open")
    assert wrong.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect" in text(wrong)
    assert client.get("/console/").status_code == 303  # still not signed in

    signed = sign_in(client, DVD_AGENT, target="/console/?status=open")
    assert (signed.status_code, signed.headers["Location"]) == (303, "/console/?status=open")
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    page = client.get("/console/?status=open")
    assert page.status_code == 200
    assert "File des signalements" in text(page)
    assert DVD_AGENT in text(page)
    assert page.headers["Cache-Control"] == "no-store"
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]

    # After signing in, only the console's own pages: never another site.
    elsewhere = sign_in(app.test_client(), DVD_AGENT, target="https://ailleurs.example/console/")
    assert elsewhere.headers["Location"] == "/console/"


def test_the_queue_filters_from_the_url_counts_pages_and_exports_what_it_shows(console):
    app, _ = console
    client = app.test_client()
    mine = [pothole(client) for _ in range(3)]
    theirs = overflow(client)
    sign_in(client, DVD_AGENT)

    page = text(client.get("/console/"))
    assert all(reference in page for reference in mine)
    assert theirs not in page  # the DEA's report is not in the DVD's queue
    assert "3 signalements sous ces filtres" in page

    first = client.get("/console/?limit=2&sort=oldest")
    assert mine[0] in text(first)
    assert mine[2] not in text(first)
    following = re.search(r'href="(\?[^"]*cursor=[^"]+)"', text(first)).group(1).replace("&amp;", "&")
    second = text(client.get(f"/console/{following}"))
    assert mine[2] in second
    assert mine[0] not in second

    assert "Aucun signalement" in text(client.get("/console/?status=resolved"))
    refused = client.get("/console/?commune=%27--")
    assert refused.status_code == 422
    assert "Filtres à corriger" in text(refused)

    export = client.get("/console/export.csv?sort=oldest&limit=2")
    assert export.status_code == 200
    assert export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text(export))))
    assert [row["reference"] for row in rows] == mine  # every report under the filters, in the page's order


def test_an_agent_of_another_directorate_reaches_nothing_of_a_report(console, session):
    app, _ = console
    client = app.test_client()
    reference = pothole(client)
    sign_in(client, DEA_AGENT)
    page = client.get(f"/console/signalements/{reference}")
    assert page.status_code == 404
    assert "Page introuvable" in text(page)
    token = csrf(client.get("/console/"))
    for action, form in (
        ("statut", {"statut": "acknowledged", "version": "1"}),
        ("note", {"note": "vu"}),
        ("affectation", {"agent": DEA_AGENT, "version": "1"}),
        ("priorite", {"priorite": "urgent", "version": "1"}),
    ):
        answer = client.post(f"/console/signalements/{reference}/{action}", data={**form, "csrf_token": token})
        assert answer.status_code == 404, action
    admin = bearer_for(session, make_agent(session, "admin.console@seinesaintdenis.fr", role="admin"))
    trail = client.get(f"/api/v1/triage/reports/{reference}", headers=admin).get_json()["trail"]
    assert [event["kind"] for event in trail if event["actor"] == "agent"] == []  # nothing was changed


def test_a_dea_agent_acknowledges_the_overflow_with_a_public_note_and_the_reporter_is_mailed(console):
    app, box = console
    client = app.test_client()
    contact = {"name": "Awa", "email": "awa@example.org", "consent_contact": True}
    reference = overflow(client, reporter=contact)
    sign_in(client, DEA_AGENT)
    assert reference in text(client.get("/console/?status=open"))
    page = client.get(f"/console/signalements/{reference}")
    assert page.status_code == 200
    assert "awa@example.org" in text(page)  # contact shown: the reporter consented
    version = re.search(r'name="version" value="(\d+)"', text(page)).group(1)
    moved = client.post(
        f"/console/signalements/{reference}/statut",
        data={
            "statut": "acknowledged",
            "note": "Équipe d'assainissement prévenue",
            "publique": "oui",
            "version": version,
            "csrf_token": csrf(page),
        },
    )
    assert moved.status_code == 303
    after = text(client.get(moved.headers["Location"]))
    assert "Statut changé : Pris en compte." in after
    assert "Équipe d&#39;assainissement prévenue" in after
    assert len(box.messages) == 1
    assert box.messages[0]["To"] == "awa@example.org"
    assert "Équipe d'assainissement prévenue" in box.messages[0].get_content()


def test_a_stale_form_is_refused_with_what_changed_never_a_silent_overwrite(console, session):
    app, _ = console
    client = app.test_client()
    reference = pothole(client)
    sign_in(client, DVD_AGENT)
    page = client.get(f"/console/signalements/{reference}")
    token = csrf(page)
    opened = re.search(r'name="ouvert_le" value="([^"]+)"', text(page)).group(1)
    colleague = bearer_for(session, make_agent(session, "collegue.voirie@seinesaintdenis.fr"))
    assert (
        client.put(
            f"/api/v1/triage/reports/{reference}/priority", json={"priority": "urgent", "version": 1}, headers=colleague
        ).status_code
        == 200
    )
    stale = client.post(
        f"/console/signalements/{reference}/statut",
        data={"statut": "acknowledged", "version": "1", "ouvert_le": opened, "csrf_token": token},
    )
    assert stale.status_code == 409
    assert "a changé depuis que vous l&#39;avez ouvert" in text(stale)
    assert "Priorité changée : Urgente" in text(stale)
    assert "Pris en compte" not in text(stale).split("Agir")[0].split("Statut</dt>")[1][:80]  # not applied


def test_sign_out_revokes_the_session_and_a_disabled_account_is_out_at_once(console, session):
    app, _ = console
    client = app.test_client()
    sign_in(client, DVD_AGENT)
    copied = client.get_cookie("signal93").value
    out = client.post("/console/deconnexion", data={"csrf_token": csrf(client.get("/console/"))})
    assert out.status_code == 303
    thief = app.test_client()
    thief.set_cookie("signal93", copied)
    assert thief.get("/console/").status_code == 303  # the copy opens nothing

    sign_in(client, DVD_AGENT)
    assert client.get("/console/").status_code == 200
    from backend.directory import agents

    agents.set_active(session, DVD_AGENT, False)
    session.commit()
    assert client.get("/console/").status_code == 303


def test_an_idle_session_asks_to_sign_in_again_and_forms_need_their_csrf_token(console):
    app, _ = console
    client = app.test_client()
    sign_in(client, DVD_AGENT)
    with client.session_transaction() as cookie:
        cookie[SEEN] = int(time.time()) - IDLE_SECONDS - 5
    idle = client.get("/console/")
    assert idle.status_code == 303
    assert "raison=expiree" in idle.headers["Location"]
    assert "Votre session a expiré" in text(client.get(idle.headers["Location"]))

    sign_in(client, DVD_AGENT)
    reference = pothole(client)
    forged = client.post(f"/console/signalements/{reference}/note", data={"note": "sans jeton"})
    assert forged.status_code == 400
    assert "Page expirée" in text(forged)


def test_the_root_page_says_what_signal93_is_and_links_each_of_its_users(wsgi_client):
    """Issue 17, item 17: / answered a 404 in JSON."""
    page = wsgi_client.get("/")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    body = text(page)
    assert "Signal93 reçoit les signalements" in body
    for link in ("/console/", "/api/v1/docs", "/sandbox/", "/signaler"):
        assert f'href="{link}"' in body
        assert wsgi_client.get(link).status_code in (200, 303), link


def test_the_map_gets_the_filtered_queue_as_points_and_the_page_hears_of_new_reports(console):
    app, _ = console
    client = app.test_client()
    first = pothole(client)
    overflow(client)
    sign_in(client, DVD_AGENT)
    page = client.get("/console/?status=open")
    opened = quote(re.search(r'data-since="([^"]+)"', text(page)).group(1))
    points = client.get("/console/carte.json?status=open")
    assert points.mimetype == "application/json"
    answer = points.get_json()
    assert [point[2] for point in answer["points"]] == [first]  # the DVD's only
    lon, lat, _, status = answer["points"][0]
    assert answer["labels"][status] == "Ouvert"
    assert answer["report_url"] + first == f"/console/signalements/{first}"
    assert 2.3 < lon < 2.6
    assert 48.8 < lat < 49.0
    assert client.get("/console/carte.json?status=resolved").get_json()["points"] == []
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    assert len(client.get(f"/console/carte.json?bbox={box}").get_json()["points"]) == 1
    assert client.get("/console/carte.json?bbox=2.0,48.0,2.01,48.01").get_json()["points"] == []

    assert client.get(f"/console/nouveaux.json?status=open&received_from={opened}").get_json() == {"new": 0}
    assert client.get("/console/nouveaux.json?received_from=hier").status_code == 422
    second = pothole(client)
    assert client.get(f"/console/nouveaux.json?status=open&received_from={opened}").get_json() == {"new": 1}
    assert second in text(client.get("/console/?status=open"))


def test_a_supervisor_assigns_three_reports_at_once_after_a_summary_all_or_nothing(console, session):
    app, _ = console
    client = app.test_client()
    make_agent(session, "chef.voirie@seinesaintdenis.fr", directorate="DVD", role="supervisor")
    references = [pothole(client) for _ in range(4)]
    sign_in(client, DVD_AGENT)
    assert 'name="ref"' not in text(client.get("/console/"))  # agents: no bulk form
    client.post("/console/deconnexion", data={"csrf_token": csrf(client.get("/console/"))})

    sign_in(client, "chef.voirie@seinesaintdenis.fr")
    page = client.get("/console/?sort=oldest")
    token = csrf(page)
    chosen = references[:3]
    form = {"csrf_token": token, "ref": chosen, "action": "affectation", "agent": DVD_AGENT}
    summary = client.post("/console/lot?sort=oldest", data=form)
    assert summary.status_code == 200
    assert f"Affecter à {DVD_AGENT} : 3 signalements" in text(summary)
    admin = bearer_for(session, make_agent(session, "admin.lot@seinesaintdenis.fr", role="admin"))

    def assigned() -> list:
        return [
            client.get(f"/api/v1/triage/reports/{ref}", headers=admin).get_json()["assigned_agent_id"]
            for ref in references
        ]

    assert assigned() == [None] * 4  # the summary changes nothing
    done = client.post("/console/lot/confirmer?sort=oldest", data={**form, "csrf_token": csrf(summary)})
    assert done.status_code == 303
    assert done.headers["Location"] == "/console/?sort=oldest"
    assert "3 signalements modifiés" in text(client.get(done.headers["Location"]))
    first, second, third, fourth = assigned()
    assert first == second == third is not None
    assert fourth is None

    # All or nothing: one report that refuses the move (already resolved) and none changes.
    client.put(
        f"/api/v1/triage/reports/{references[3]}/priority", json={"priority": "high", "version": 2}, headers=admin
    )
    for to in ("acknowledged", "in_progress", "resolved"):
        version = client.get(f"/api/v1/triage/reports/{references[3]}", headers=admin).get_json()["version"]
        client.post(
            f"/api/v1/triage/reports/{references[3]}/transitions", json={"to": to, "version": version}, headers=admin
        )
    page = client.get("/console/")
    refused = client.post(
        "/console/lot/confirmer",
        data={"csrf_token": csrf(page), "ref": references, "action": "statut", "statut": "acknowledged"},
    )
    assert refused.status_code == 409
    assert "Rien n'a été modifié" in text(refused)
    assert references[3] in text(refused)
    statuses = [client.get(f"/api/v1/triage/reports/{ref}", headers=admin).get_json()["status"] for ref in references]
    assert statuses == ["open", "open", "open", "resolved"]

    # Everything under the filters: the priority of the three open ones.
    page = client.get("/console/?status=open")
    summary = client.post(
        "/console/lot?status=open",
        data={"csrf_token": csrf(page), "tout": "oui", "action": "priorite", "priorite": "urgent"},
    )
    assert "Priorité : Urgente : 3 signalements" in text(summary)
    done = client.post(
        "/console/lot/confirmer?status=open",
        data={"csrf_token": csrf(summary), "ref": references[:3], "action": "priorite", "priorite": "urgent"},
    )
    assert done.status_code == 303
    priorities = [
        client.get(f"/api/v1/triage/reports/{ref}", headers=admin).get_json()["priority"] for ref in references
    ]
    assert priorities == ["urgent", "urgent", "urgent", "normal"]


def test_the_figures_of_a_chosen_period_in_tables_and_a_chart(console):
    app, _ = console
    client = app.test_client()
    pothole(client)
    pothole(client)
    overflow(client)
    sign_in(client, DVD_AGENT)
    page = client.get("/console/statistiques")
    assert page.status_code == 200
    body = text(page)
    assert "<dt>Reçus</dt><dd>2</dd>" in body  # the DVD's only
    assert body.count('class="bar-received"') >= 5  # a week's bars, every week of the 30 days
    assert "<td>DVD</td><td>2</td>" in body
    assert "<td>nid-de-poule</td><td>2</td>" in body
    today = time.strftime("%Y-%m-%d")
    assert client.get("/console/statistiques?du=2020-01-01&au=2020-01-31").status_code == 200
    assert "<dt>Reçus</dt><dd>0</dd>" in text(client.get("/console/statistiques?du=2020-01-01&au=2020-01-31"))
    for wrong in ("du=hier", f"du={today}&au=2020-01-01", "du=0001-01-01&au=9999-12-31"):
        refused = client.get(f"/console/statistiques?{wrong}")
        assert refused.status_code == 422, wrong
        assert "error-summary" in text(refused)


def test_a_supervisor_merges_a_duplicate_reroutes_and_publishes_a_held_video(console, session):
    app, _ = console
    client = app.test_client()
    make_agent(session, "chef.voirie@seinesaintdenis.fr", directorate="DVD", role="supervisor")
    make_agent(session, "chef.eau@seinesaintdenis.fr", directorate="DEA", role="supervisor")
    original, copy = pothole(client), pothole(client)
    sign_in(client, "chef.voirie@seinesaintdenis.fr")
    page = client.get(f"/console/signalements/{copy}")
    assert f"Fusionner : doublon de {original}" in text(page)
    version = re.search(r'name="version" value="(\d+)"', text(page)).group(1)
    merged = client.post(
        f"/console/signalements/{copy}/statut",
        data={"csrf_token": csrf(page), "statut": "duplicate", "doublon_de": original, "version": version},
    )
    assert merged.status_code == 303
    assert "Doublon d&#39;un autre signalement" in text(client.get(f"/console/signalements/{copy}"))

    page = client.get(f"/console/signalements/{original}")
    version = re.search(r'name="version" value="(\d+)"', text(page)).group(1)
    why = {"csrf_token": csrf(page), "unite": "DEA-T8", "version": version}
    assert client.post(f"/console/signalements/{original}/reacheminement", data=why).status_code == 422  # no note
    moved = client.post(
        f"/console/signalements/{original}/reacheminement", data={**why, "note": "Avaloir bouché : assainissement"}
    )
    assert moved.status_code == 303
    assert client.get(f"/console/signalements/{original}").status_code == 404  # now the DEA's

    # A video arrives held: the DEA's supervisor publishes it, then withdraws it.
    from tests.media.test_videos import phone_video

    sent = client.post(
        "/api/v1/reports/with-files",
        data={
            "report": json.dumps(report_payload("debordement-avaloir", at=OVERFLOW_AT, attributes={"pluie": "oui"})),
            "video": [(io.BytesIO(phone_video()), "avaloir.mov")],
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201, sent.get_json()
    reference, media_id = sent.get_json()["reference"], sent.get_json()["media"][0]["id"]
    client.post("/console/deconnexion", data={"csrf_token": csrf(client.get("/console/"))})
    sign_in(client, "chef.eau@seinesaintdenis.fr")
    page = client.get(f"/console/signalements/{reference}")
    assert "Publier" in text(page)
    url = f"/console/signalements/{reference}/medias/{media_id}"
    assert client.post(url, data={"csrf_token": csrf(page), "publier": "oui"}).status_code == 303
    public = client.get(f"/api/v1/reports/{reference}").get_json()["media"][0]["urls"]
    assert public.get("video")
    page = client.get(f"/console/signalements/{reference}")
    assert "Retirer du public" in text(page)
    assert client.post(url, data={"csrf_token": csrf(page)}).status_code == 303
    assert client.get(f"/api/v1/reports/{reference}").get_json()["media"][0]["urls"] == {}
    # Another report's page cannot reach this medium.
    assert (
        client.post(f"/console/signalements/{original}/medias/{media_id}", data={"csrf_token": csrf(page)}).status_code
        == 404
    )


def test_an_ecologist_reviews_a_sighting_s_identification(console, session):
    app, _ = console
    client = app.test_client()
    make_agent(session, "ecologue@seinesaintdenis.fr", directorate="DNPB")
    payload = report_payload(
        "observation-espece", at=(2.5128, 48.9633), attributes={"espece": "Ardea cinerea", "nombre": 2}
    )
    reference = submit(client, payload).get_json()["reference"]
    sign_in(client, "ecologue@seinesaintdenis.fr")
    page = client.get(f"/console/signalements/{reference}")
    assert "Identification de l'espèce" in text(page)
    version = re.search(r'name="version" value="(\d+)"', text(page)).group(1)
    form = {"csrf_token": csrf(page), "verdict": "corrected", "espece": "Ardea alba", "version": version}
    refused = client.post(f"/console/signalements/{reference}/identification", data=form)
    assert refused.status_code == 422
    assert "l&#39;espèce doit être de la liste" in text(refused)
    done = client.post(
        f"/console/signalements/{reference}/identification", data={**form, "espece": "Ixobrychus minutus"}
    )
    assert done.status_code == 303
    assert "Identification revue" in text(client.get(f"/console/signalements/{reference}"))
    assert "Pris en compte" not in text(
        client.get(f"/console/signalements/{pothole(client)}")
    )  # (not its directorate: 404)


def test_admins_manage_agents_categories_rules_and_units_and_nobody_else_can(console, session):
    app, _ = console
    client = app.test_client()
    make_agent(session, "admin.console@seinesaintdenis.fr", role="admin")
    sign_in(client, DVD_AGENT)
    for section in ("agents", "categories", "regles", "unites"):
        assert client.get(f"/console/admin/{section}").status_code == 403
    token = csrf(client.get("/console/"))
    assert (
        client.post("/console/admin/unites/DVD-T8", data={"csrf_token": token, "notify_method": "none"}).status_code
        == 403
    )
    client.post("/console/deconnexion", data={"csrf_token": token})

    sign_in(client, "admin.console@seinesaintdenis.fr")
    page = client.get("/console/admin/agents")
    assert page.status_code == 200
    assert DEA_AGENT in text(page)
    created = client.post(
        "/console/admin/agents",
        data={
            "csrf_token": csrf(page),
            "email": "nouvel.agent@seinesaintdenis.fr",
            "password": "une phrase de passe longue",
            "directorate": "DEA",
            "unit": "DEA-T8",
            "role": "supervisor",
        },
    )
    assert created.status_code == 303
    assert "Agent nouvel.agent@seinesaintdenis.fr créé." in text(client.get("/console/admin/agents"))
    short = client.post(
        "/console/admin/agents",
        data={
            "csrf_token": csrf(page),
            "email": "x@seinesaintdenis.fr",
            "password": "court",
            "directorate": "DEA",
            "role": "agent",
        },
    )
    assert short.status_code == 422
    assert "À corriger : mot de passe" in text(short)

    # Disabling an agent ends their console session at once.
    other = app.test_client()
    sign_in(other, DEA_AGENT)
    assert other.get("/console/").status_code == 200
    from backend.directory.models import Agent

    dea = session.query(Agent).filter_by(email=DEA_AGENT).one()
    page = client.get("/console/admin/agents")
    assert (
        client.post(f"/console/admin/agents/{dea.id}", data={"csrf_token": csrf(page), "role": "agent"}).status_code
        == 303
    )
    assert other.get("/console/").status_code == 303

    page = client.get("/console/admin/regles")
    form = {"csrf_token": csrf(page), "position": "10", "active": "oui", "public_message": "Transmis à {inconnu}"}
    refused = client.post("/console/admin/regles/patrouillage-route-departementale", data=form)
    assert refused.status_code == 422
    assert "À corriger : message public" in text(refused)

    page = client.get("/console/admin/unites")
    form = {
        "csrf_token": csrf(page),
        "notify_method": "webhook",
        "notify_target": "http://en-clair.example/hook",
        "active": "oui",
    }
    assert client.post("/console/admin/unites/DVD-T8", data=form).status_code == 422
    done = client.post("/console/admin/unites/DVD-T8", data={**form, "notify_target": "https://sig.example/hook"})
    assert done.status_code == 303
    page = text(client.get("/console/admin/unites"))
    from backend.notifications.units import webhook_secret

    assert webhook_secret(app.config["SECRET_KEY"], "DVD-T8") in page

    page = client.get("/console/admin/categories")
    form = {
        "csrf_token": csrf(page),
        "name": "Nid-de-poule",
        "target_days": "10",
        "similar_radius_m": "40",
        "active": "oui",
    }
    assert client.post("/console/admin/categories/nid-de-poule", data=form).status_code == 303
    assert client.post("/console/admin/categories/nid-de-poule", data={**form, "target_days": "0"}).status_code == 422


def test_every_console_page_and_form_keeps_another_directorate_s_reports_out_of_reach(console, session):
    """The console's matrix, like the API's: every route of the console (walked from the app's URL
    map, so a new page is walked too), reached by a DEA supervisor with a DVD report, its photo
    and its data — each answers 404 (or shows nothing of it), and nothing changes."""
    from backend.directory.models import Agent
    from tests.media.files import jpeg_from_phone

    app, _ = console
    client = app.test_client()
    make_agent(session, "chef.eau@seinesaintdenis.fr", directorate="DEA", role="supervisor")
    sent = client.post(
        "/api/v1/reports/with-files",
        data={
            "report": json.dumps(report_payload(description="Trou privé")),
            "photos": [(io.BytesIO(jpeg_from_phone()), "p.jpg")],
        },
        content_type="multipart/form-data",
    )
    reference, media_id = sent.get_json()["reference"], sent.get_json()["media"][0]["id"]
    admin = bearer_for(session, make_agent(session, "admin.matrice@seinesaintdenis.fr", role="admin"))
    before = client.get(f"/api/v1/triage/reports/{reference}", headers=admin).get_json()
    sign_in(client, "chef.eau@seinesaintdenis.fr")
    token = csrf(client.get("/console/"))
    values = {"reference": reference, "media_id": str(media_id), "agent_id": str(session.query(Agent).first().id)}
    form = {
        "csrf_token": token,
        "version": str(before["version"]),
        "statut": "acknowledged",
        "note": "note",
        "publique": "oui",
        "agent": "chef.eau@seinesaintdenis.fr",
        "unite": "DEA-T8",
        "priorite": "urgent",
        "verdict": "confirmed",
        "publier": "oui",
        "ref": reference,
        "action": "statut",
    }
    walked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/console") or rule.endpoint in (
            "console.sign_in",
            "console.sign_in_form",
            "console.sign_out",
        ):
            continue
        if rule.arguments - set(values) - {"section", "code"}:
            raise AssertionError(f"give the matrix a value for {rule.rule}")
        url = rule.rule
        for name, value in {**values, "section": "agents", "code": "DVD-T8"}.items():
            url = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, url)
        url = re.sub(r"<any\([^)]*\):section>", "agents", url)
        walked += 1
        if "GET" in rule.methods:
            answer = client.get(url + ("?received_from=2020-01-01T00:00%2B00:00" if "nouveaux" in url else ""))
        else:
            answer = client.post(url, data=form)
        body = answer.get_data(as_text=True)
        if {"reference", "media_id"} & rule.arguments:
            assert answer.status_code == 404, (rule.rule, answer.status_code)
        elif "/admin" in rule.rule:
            assert answer.status_code == 403, (rule.rule, answer.status_code)
        else:
            assert answer.status_code in (200, 409, 422), (rule.rule, answer.status_code)
            assert reference not in body or "lot" in rule.rule, rule.rule  # a bulk page names what it refuses
            assert "Trou privé" not in body, rule.rule
    assert walked >= 20
    after = client.get(f"/api/v1/triage/reports/{reference}", headers=admin).get_json()
    assert (after["version"], after["status"], after["priority"], after["trail"]) == (
        before["version"],
        before["status"],
        before["priority"],
        before["trail"],
    )
    assert client.get(f"/api/v1/reports/{reference}").get_json()["media"][0]["urls"]  # still public, unchanged
