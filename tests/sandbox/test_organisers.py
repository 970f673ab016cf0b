"""The organisers' pages, as wsgi.py serves them: an admin signed in to the staff console manages
the hackathon's events and teams at /sandbox/organisation/; a team suspended there is refused at
once on the API; nobody else gets in."""

from __future__ import annotations

import re

from tests.factories import make_agent
from tests.sandbox.conftest import register

PASSWORD = "correct horse battery staple"


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def console_sign_in(client, email: str, target: str = "") -> None:
    form = client.get("/console/connexion")
    answer = client.post(
        "/console/connexion", data={"email": email, "password": PASSWORD, "csrf_token": csrf(form), "suivant": target}
    )
    assert answer.status_code == 303


def test_an_admin_suspends_a_team_sets_its_limits_and_creates_an_event(wsgi_app, session, event, settings):
    team, key = register(session, settings, event.slug, "Les Vigies", "equipe@example.org")
    make_agent(session, "admin.hackathon@seinesaintdenis.fr", role="admin")
    make_agent(session, "agent.voirie@seinesaintdenis.fr")
    client = wsgi_app.test_client()

    first = client.get("/sandbox/organisation/")
    assert first.status_code == 303
    assert first.headers["Location"] == "/console/connexion?suivant=/sandbox/organisation/"
    console_sign_in(client, "agent.voirie@seinesaintdenis.fr")
    assert client.get("/sandbox/organisation/").status_code == 303  # an agent is not an organiser
    client.post("/console/deconnexion", data={"csrf_token": csrf(client.get("/console/"))})

    answer = client.post(
        "/console/connexion",
        data={
            "email": "admin.hackathon@seinesaintdenis.fr",
            "password": PASSWORD,
            "csrf_token": csrf(client.get("/console/connexion")),
            "suivant": "/sandbox/organisation/",
        },
    )
    assert answer.headers["Location"] == "/sandbox/organisation/"
    page = client.get("/sandbox/organisation/")
    assert page.status_code == 200
    assert "Les Vigies" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"

    api = wsgi_app.test_client()
    assert api.get("/sandbox/api/v1/reports", headers={"X-API-Key": key}).status_code == 200
    suspended = client.post(
        f"/sandbox/organisation/equipes/{team.id}/statut", data={"csrf_token": csrf(page), "statut": "suspended"}
    )
    assert suspended.status_code == 303
    refused = api.get("/sandbox/api/v1/reports", headers={"X-API-Key": key})
    assert (refused.status_code, refused.get_json()["code"]) == (403, "team_suspended")
    page = client.get("/sandbox/organisation/")
    assert "Équipe Les Vigies : suspendue." in page.get_data(as_text=True)
    client.post(f"/sandbox/organisation/equipes/{team.id}/statut", data={"csrf_token": csrf(page), "statut": "active"})
    assert api.get("/sandbox/api/v1/reports", headers={"X-API-Key": key}).status_code == 200

    limited = client.post(
        f"/sandbox/organisation/equipes/{team.id}/limites",
        data={"csrf_token": csrf(page), "rate": "2", "burst": "3", "quota": "500"},
    )
    assert limited.status_code == 303
    session.refresh(team)
    assert (team.rate_per_second, team.burst, team.daily_quota) == (2, 3, 500)
    wrong = client.post(
        f"/sandbox/organisation/equipes/{team.id}/limites", data={"csrf_token": csrf(page), "rate": "-1"}
    )
    assert wrong.status_code == 422

    form = {
        "csrf_token": csrf(page),
        "slug": "hackathon-2027",
        "name": "Hackathon 2027",
        "starts": "2027-03-01T09:00",
        "ends": "2027-03-03T18:00",
        "rate": "10",
        "burst": "20",
        "quota": "10000",
    }
    assert client.post("/sandbox/organisation/evenements", data=form).status_code == 303
    assert "Hackathon 2027" in client.get("/sandbox/organisation/").get_data(as_text=True)
    again = client.post("/sandbox/organisation/evenements", data=form)
    assert again.status_code == 422  # the same slug twice
    backwards = client.post(
        "/sandbox/organisation/evenements", data={**form, "slug": "x-2027", "ends": "2027-02-01T00:00"}
    )
    assert backwards.status_code == 422
    assert client.post("/sandbox/organisation/evenements", data={**form, "csrf_token": "faux"}).status_code == 400
