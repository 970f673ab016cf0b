"""Builders of valid requests, so each test states only what it changes."""

from __future__ import annotations

import copy
from typing import Any

# Points in the seeded data (see seeds/): checked by the routing tests themselves.
ON_RD932_PANTIN = (2.3990, 48.9010)  # a vertex of RD 932, in Pantin (Est Ensemble)
NOISY_LE_SEC_STREET = (2.4700, 48.8900)  # far from any seeded departmental road
AULNAY = (2.4975, 48.9386)  # Aulnay-sous-Bois (Paris Terres d'Envol)
SAUSSET_PARK_CENTRE = (2.5075, 48.9592)
SAUSSET_MARAIS = (2.5128, 48.9633)  # in the Sausset, 550 m from its centre: the marsh's nature zone
PARIS_NOTRE_DAME = (2.3499, 48.8530)

DEFAULTS: dict[str, dict[str, Any]] = {
    "nid-de-poule": {"attributes": {"taille": "moyen"}},
    "debordement-avaloir": {"attributes": {"pluie": "oui"}},
    "observation-espece": {"attributes": {"espece": "Ardea cinerea", "nombre": 2}},
}


def near(point: dict[str, float], lon: float, lat: float, metres: float) -> bool:
    """Whether a {lon, lat} point is within ``metres`` of (lon, lat)."""
    import math

    dx = (point["lon"] - lon) * 111_320 * math.cos(math.radians(lat))
    dy = (point["lat"] - lat) * 111_132
    return math.hypot(dx, dy) <= metres


def report_payload(category: str = "nid-de-poule", at: tuple[float, float] = ON_RD932_PANTIN, **fields: Any):
    payload: dict[str, Any] = {
        "category": category,
        "location": {"lon": at[0], "lat": at[1], "accuracy_m": 8},
        "description": "Signalé depuis l'application",
    }
    payload.update(copy.deepcopy(DEFAULTS.get(category, {})))
    payload.update(fields)
    return payload


def submit(client, payload: dict[str, Any] | None = None, **headers: str):
    return client.post("/api/v1/reports", json=payload or report_payload(), headers=headers)


def use_queue(app, queue) -> None:
    """Run ``app``'s jobs through ``queue`` (an inline queue, a queue that loses them…)."""
    from dataclasses import replace

    from backend import deps

    deps.install(app, replace(deps.current(app), queue=queue))


def make_agent(session, email: str, *, directorate: str = "DVD", role: str = "agent", unit: str | None = None):
    """An agent account, as ``flask agents create`` makes it (without typing a password)."""
    from backend.directory import agents

    agent = agents.create_agent(
        session, email=email, password="correct horse battery staple", directorate=directorate, role=role, unit=unit
    )
    session.commit()
    return agent


def bearer_for(session, agent) -> dict[str, str]:
    """The headers of a signed-in agent: a token row as sign-in stores it, with no password check."""
    import hashlib
    import secrets
    from datetime import timedelta

    from backend.db import utcnow
    from backend.directory.models import AgentToken

    token = "at_" + secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AgentToken(
            agent_id=agent.id,
            digest=hashlib.sha256(token.encode()).hexdigest(),
            created_at=now,
            expires_at=now + timedelta(hours=12),
        )
    )
    session.commit()
    return {"Authorization": f"Bearer {token}"}
