"""Routing rules: ordered data saying who receives a report of a program or category, where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, utcnow

CONDITIONS = ("anywhere", "inside", "corridor")
TARGETS = ("unit", "referral")


class RoutingRule(Base):
    """One rule; the first active rule (by position) whose scope and condition match wins.

    ``condition`` is ``anywhere``, ``inside`` a zone of ``zone_kind``, or within the
    ``corridor`` of a zone of ``zone_kind`` (a road). A ``unit`` target names a fixed
    ``unit_code``, or ``directorate_code`` plus ``unit_of`` (the unit attached to the zone
    of that kind containing the point). A ``referral`` goes to the external body attached to
    the zone of kind ``unit_of`` containing the point.
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int]
    programs: Mapped[list[Any]] = mapped_column(default=list)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    condition: Mapped[str] = mapped_column(String(16))
    zone_kind: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(16))
    directorate_code: Mapped[str | None] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(64))
    unit_of: Mapped[str | None] = mapped_column(String(32))
    public_message: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
