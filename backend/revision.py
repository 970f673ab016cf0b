"""The routing revision: one row that changes whenever zones, rules, units or categories change,
so that every process rebuilds its routing table on its next report.

Zones, the directory and routing all bump it; it imports no domain package, so each can.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.db import Base, utcnow

STATE_ID = 1


class RoutingState(Base):
    """The one row whose ``revision`` every process compares with its routing table's."""

    __tablename__ = "routing_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def bump_revision(session: Session) -> str:
    """Record that zones, rules, units or categories changed; flush. Every process's router
    notices on its next use. Returns the new revision."""
    revision = uuid.uuid4().hex
    state = session.get(RoutingState, STATE_ID)
    if state is None:
        session.add(RoutingState(id=STATE_ID, revision=revision))
    else:
        state.revision = revision
    session.flush()
    return revision


_REVISION = select(RoutingState.revision).where(RoutingState.id == STATE_ID)


def current_revision(session: Session) -> str:
    """The revision now in the database ("" before the first seed)."""
    return session.scalar(_REVISION) or ""
