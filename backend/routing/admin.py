"""What admins change in routing: the rules' order, activity and public message (new reports only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import InvalidFields, NotFound
from backend.revision import bump_revision
from backend.routing.models import RoutingRule
from backend.routing.rules import check_message


def list_rules(session: Session) -> list[RoutingRule]:
    """The routing rules, in the order they are tried."""
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def update_rule(session: Session, code: str, changes: dict[str, Any]) -> RoutingRule:
    """Change a rule; every process routes new reports with it at once. ``NotFound``, or
    ``InvalidFields`` for a public message naming fields the rules do not know."""
    rule = session.scalar(select(RoutingRule).where(RoutingRule.code == code))
    if rule is None:
        raise NotFound("No such routing rule.")
    if "public_message" in changes and (unknown := check_message(changes["public_message"])):
        raise InvalidFields(errors={"json": {"public_message": [f"unknown fields: {', '.join(unknown)}"]}})
    for field in ("active", "position", "public_message"):
        if field in changes:
            setattr(rule, field, changes[field])
    session.flush()
    bump_revision(session)  # every process routes new reports with the new rules
    return rule
