"""Admins manage agents, categories and routing rules over the API; changes reach new reports at once."""

from __future__ import annotations

import pytest

from tests.factories import AULNAY, report_payload, submit
from tests.test_agents import bearer, create, sign_in


@pytest.fixture
def admin(app, client):
    create(app, "admin.si@seinesaintdenis.fr", directorate="DVD", role="admin")
    return bearer(sign_in(client, "admin.si@seinesaintdenis.fr").get_json()["token"])


@pytest.fixture
def agent(app, client):
    create(app, "simple@seinesaintdenis.fr", directorate="DEA")
    return bearer(sign_in(client, "simple@seinesaintdenis.fr").get_json()["token"])


def test_only_admins_manage(client, agent):
    for method, url in [("get", "/api/v1/admin/agents"), ("get", "/api/v1/admin/routing-rules")]:
        response = getattr(client, method)(url, headers=agent)
        assert (response.status_code, response.get_json()["code"]) == (403, "forbidden_for_role")


def test_admins_create_change_and_disable_agents(client, admin):
    created = client.post(
        "/api/v1/admin/agents",
        json={
            "email": "nouvelle@seinesaintdenis.fr",
            "password": "une phrase de passe longue",
            "directorate": "DNPB",
            "unit": "DNPB-ODBU",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.get_json()
    new = created.get_json()
    assert new == {
        "id": new["id"],
        "email": "nouvelle@seinesaintdenis.fr",
        "role": "agent",
        "active": True,
        "directorate": "DNPB",
        "unit": "DNPB-ODBU",
    }
    refused = client.post(
        "/api/v1/admin/agents", json={"email": "x", "password": "court", "directorate": "DXX"}, headers=admin
    )
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) >= {"email", "password", "directorate"}
    token = sign_in(client, "nouvelle@seinesaintdenis.fr", password="une phrase de passe longue").get_json()["token"]
    promoted = client.patch(f"/api/v1/admin/agents/{new['id']}", json={"role": "supervisor"}, headers=admin)
    assert promoted.get_json()["role"] == "supervisor"
    client.patch(f"/api/v1/admin/agents/{new['id']}", json={"active": False}, headers=admin)
    assert client.get("/api/v1/triage/reports", headers=bearer(token)).get_json()["code"] == "token_invalid"
    listed = [a["email"] for a in client.get("/api/v1/admin/agents", headers=admin).get_json()["items"]]
    assert "nouvelle@seinesaintdenis.fr" in listed


def test_a_retired_category_is_refused_for_new_reports_at_once(client, admin):
    assert submit(client, report_payload("eclairage", attributes={})).status_code == 201
    changed = client.patch(
        "/api/v1/admin/categories/eclairage", json={"active": False, "target_days": 5}, headers=admin
    )
    assert changed.status_code == 200
    refused = submit(client, report_payload("eclairage", attributes={}))
    assert (refused.status_code, refused.get_json()["code"]) == (422, "unknown_category")


def test_a_rule_change_applies_to_new_reports(client, admin):
    rules = client.get("/api/v1/admin/routing-rules", headers=admin).get_json()["items"]
    assert [r["position"] for r in rules] == sorted(r["position"] for r in rules)
    bad = client.patch(
        "/api/v1/admin/routing-rules/vigies-eau-territoire", json={"public_message": "Vers {nulle}"}, headers=admin
    )
    assert bad.status_code == 422
    client.patch(
        "/api/v1/admin/routing-rules/vigies-eau-territoire",
        json={"public_message": "Transmis à l'assainissement, territoire {territory}."},
        headers=admin,
    )
    body = submit(client, report_payload("debordement-avaloir", at=AULNAY)).get_json()
    assert body["routing"]["message"] == "Transmis à l'assainissement, territoire Paris Terres d'Envol."


def test_the_last_active_admin_cannot_disable_or_demote_themself(app, client, admin):
    """Issue 17, item 8: then no admin would exist until someone used the command line."""
    me = next(a for a in client.get("/api/v1/admin/agents", headers=admin).get_json()["items"] if a["role"] == "admin")
    for change, field in (({"active": False}, "active"), ({"role": "supervisor"}, "role")):
        refused = client.patch(f"/api/v1/admin/agents/{me['id']}", json=change, headers=admin)
        assert (refused.status_code, refused.get_json()["code"]) == (409, "last_admin")
        assert refused.get_json()["errors"] == {"json": {field: ["last active admin"]}}
    create(app, "relais@seinesaintdenis.fr", directorate="DEA", role="admin")
    stepped_down = client.patch(f"/api/v1/admin/agents/{me['id']}", json={"role": "supervisor"}, headers=admin)
    assert stepped_down.status_code == 200
