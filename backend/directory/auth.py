"""The agent behind a request's bearer token (the HTTP side of ``agents.authenticate``)."""

from __future__ import annotations

from flask import g

from backend.db import utcnow
from backend.directory import agents
from backend.directory.models import Agent
from backend.http import authorization, db_session


def current_agent() -> Agent:
    """The agent of this request's bearer token (checked once per request); 401 otherwise."""
    if "agent" not in g:
        g.agent, g.agent_token_id = agents.authenticate(db_session(), authorization("Bearer"), now=utcnow())
    return g.agent


def current_admin() -> Agent:
    """:func:`current_agent`, if an admin; 403 ``forbidden_for_role`` otherwise."""
    agent = current_agent()
    agents.require_admin(agent)
    return agent
