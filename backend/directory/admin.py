"""What admins manage in the directory: agents and categories (each change reaches every process)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.directory import agents
from backend.directory.agents import EMAIL_RE
from backend.directory.models import ROLES, Agent, Category, Unit
from backend.errors import DomainError, InvalidFields, NotFound
from backend.revision import bump_revision


class LastAdmin(DomainError):
    code = "last_admin"
    status = 409
    message = "This is the last active admin: make another agent admin first."


def list_agents(session: Session) -> list[Agent]:
    return list(session.scalars(select(Agent).order_by(Agent.email)))


def update_agent(session: Session, agent_id: int, changes: dict[str, Any]) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("No such agent.")
    if "role" in changes and changes["role"] not in ROLES:
        raise InvalidFields(errors={"json": {"role": [f"one of {', '.join(ROLES)}"]}})
    if "unit" in changes:
        unit = None
        if changes["unit"] is not None:
            unit = session.scalar(select(Unit).where(Unit.code == changes["unit"]))
            if unit is None or unit.directorate_id != agent.directorate_id:
                raise InvalidFields(errors={"json": {"unit": ["unknown unit of the agent's directorate"]}})
        agent.unit_id = unit.id if unit else None
    stays_admin = changes.get("role", agent.role) == "admin" and changes.get("active", agent.active)
    if agent.role == "admin" and agent.active and not stays_admin:
        others = session.scalar(
            select(Agent.id).where(Agent.role == "admin", Agent.active.is_(True), Agent.id != agent.id).limit(1)
        )
        if others is None:  # nobody could manage the agents any more (until someone used the CLI)
            raise LastAdmin(errors={"json": {"active" if "active" in changes else "role": ["last active admin"]}})
    for field in ("role", "active"):
        if field in changes:
            setattr(agent, field, changes[field])
    session.flush()
    return agent


def create_agent(session: Session, data: dict[str, Any]) -> Agent:
    return agents.create_agent(
        session,
        email=data["email"],
        password=data["password"],
        directorate=data["directorate"],
        role=data["role"],
        unit=data.get("unit"),
    )


def list_categories(session: Session) -> list[Category]:
    """Every category, active or not, by program and position."""
    return list(session.scalars(select(Category).order_by(Category.program_id, Category.position, Category.code)))


def update_category(session: Session, code: str, changes: dict[str, Any]) -> Category:
    category = session.scalar(select(Category).where(Category.code == code))
    if category is None:
        raise NotFound("No such category.")
    for field in ("name", "description", "target_days", "similar_radius_m", "active"):
        if field in changes:
            setattr(category, field, changes[field])
    session.flush()
    bump_revision(session)  # intake reads categories from the routing table
    return category


NOTIFY_METHODS = ("none", "email", "webhook")  # nothing, a daily e-mail digest, a signed webhook per report


def list_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).order_by(Unit.directorate_id, Unit.code)))


def update_unit(session: Session, code: str, changes: dict[str, Any]) -> Unit:
    """Change how a unit hears of its reports (``notify_method``, ``notify_target``: an e-mail
    address for the digest, an https address for the webhook) or whether it is active."""
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound("No such unit.")
    method = changes.get("notify_method", unit.notify_method)
    target = (changes.get("notify_target", unit.notify_target) or "").strip() or None
    if method not in NOTIFY_METHODS:
        raise InvalidFields(errors={"json": {"notify_method": [f"one of {', '.join(NOTIFY_METHODS)}"]}})
    if method == "email" and not (target and EMAIL_RE.match(target)):
        raise InvalidFields(errors={"json": {"notify_target": ["an e-mail address for the digest"]}})
    if method == "webhook" and not (target and target.startswith("https://") and len(target) <= 500):
        raise InvalidFields(errors={"json": {"notify_target": ["an https:// address for the webhook"]}})
    unit.notify_method, unit.notify_target = method, target if method != "none" else None
    if "active" in changes:
        unit.active = changes["active"]
    session.flush()
    bump_revision(session)  # the routing table holds the units
    return unit
