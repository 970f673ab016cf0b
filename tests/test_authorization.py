"""The authorisation matrix: every triage and admin endpoint, for every kind of caller, on a report
of the caller's directorate and on one of another directorate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.db import utcnow
from backend.directory.models import AgentToken
from tests.factories import AULNAY, report_payload, submit
from tests.test_agents import bearer, create, sign_in

IDENTITIES = ["none", "expired", "disabled", "dvd_agent", "dea_agent", "dvd_supervisor", "admin"]
DIRECTORATE = {
    "dvd_agent": "DVD",
    "dea_agent": "DEA",
    "dvd_supervisor": "DVD",
    "admin": "DVD",
    "expired": "DVD",
    "disabled": "DVD",
}
ROLE = {"dvd_supervisor": "supervisor", "admin": "admin"}


def endpoints(reference):
    base = f"/api/v1/triage/reports/{reference}"
    return {
        "read": ("get", base, None),
        "move": ("post", f"{base}/transitions", {"to": "acknowledged", "version": 1}),
        "note": ("post", f"{base}/notes", {"text": "Vu"}),
        "assign": ("put", f"{base}/assignment", {"agent": None, "version": 1}),
        "priority": ("put", f"{base}/priority", {"priority": "high", "version": 1}),
        "reroute": ("post", f"{base}/reroute", {"unit": "DNPB-ODBU", "note": "Autre service", "version": 1}),
        "queue": ("get", "/api/v1/triage/reports", None),
        "stats": ("get", "/api/v1/triage/stats", None),
        "admin_agents": ("get", "/api/v1/admin/agents", None),
        "admin_category": ("patch", "/api/v1/admin/categories/eclairage", {"description": "Lampadaires"}),
    }


def expected(identity: str, action: str, own: bool) -> int:
    if identity == "none":
        return 401
    if identity in ("expired", "disabled"):
        return 401
    role = ROLE.get(identity, "agent")
    if action in ("admin_agents", "admin_category"):
        return 200 if role == "admin" else 403
    if action in ("queue", "stats"):
        return 200
    if action in ("assign", "reroute") and role == "agent":
        return 403
    if not own and role != "admin":
        return 404
    return 201 if action == "note" else 200


CASES = [
    (identity, action, own)
    for identity in IDENTITIES
    for action in endpoints("x")
    for own in (True, False)
    if own or action not in ("queue", "stats", "admin_agents", "admin_category")
]


@pytest.mark.parametrize(("identity", "action", "own"), CASES)
def test_authorisation_matrix(app, client, session, identity, action, own):
    dvd_report = submit(client, report_payload()).get_json()["reference"]
    dea_report = submit(client, report_payload("debordement-avaloir", at=AULNAY)).get_json()["reference"]
    headers = {}
    if identity != "none":
        email = f"{identity}@seinesaintdenis.fr"
        create(app, email, directorate=DIRECTORATE[identity], role=ROLE.get(identity, "agent"))
        headers = bearer(sign_in(client, email).get_json()["token"])
        if identity == "expired":
            for token in session.scalars(select(AgentToken)):
                token.expires_at = utcnow() - timedelta(minutes=1)
            session.commit()
        if identity == "disabled":
            app.test_cli_runner().invoke(args=["agents", "disable", email])
    mine = dea_report if DIRECTORATE.get(identity) == "DEA" else dvd_report
    theirs = dvd_report if mine == dea_report else dea_report
    method, url, body = endpoints(mine if own else theirs)[action]
    response = (
        getattr(client, method)(url, json=body, headers=headers)
        if body
        else getattr(client, method)(url, headers=headers)
    )
    assert response.status_code == expected(identity, action, own), response.get_json()
