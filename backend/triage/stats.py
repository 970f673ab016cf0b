"""A directorate's figures over a window of received dates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.directory.models import Agent, Category, Unit
from backend.errors import InvalidQuery
from backend.reports.models import Report, ReportEvent

DEFAULT_WINDOW = timedelta(days=30)


def stats(
    session: Session, agent: Agent, *, since: datetime | None, until: datetime | None, now: datetime
) -> dict[str, Any]:
    """Counts by status, category and unit, and median hours to acknowledge and to resolve, for
    the reports received in [since, until) of the agent's directorate (admins: all). ``until``
    defaults to now, ``since`` to 30 days before ``until``; :class:`InvalidQuery` unless
    ``since`` comes first."""
    until = until or now
    since = since or until - DEFAULT_WINDOW
    if since >= until:
        raise InvalidQuery("since", "must be before until")
    scope = [Report.received_at >= since, Report.received_at < until]
    if not agent.powers.every_directorate:
        scope.append(Report.directorate_id == agent.directorate_id)

    def counts(column: Any, join: Any = None) -> dict[str, int]:
        query = select(column, func.count()).select_from(Report)
        if join is not None:
            query = query.outerjoin(*join)
        return {key or "": n for key, n in session.execute(query.where(*scope).group_by(column))}

    def median_hours(status: str) -> float | None:
        first = (
            select(ReportEvent.report_id, func.min(ReportEvent.at).label("at"))
            .where(ReportEvent.kind == "status", ReportEvent.data["status"].as_string() == status)
            .group_by(ReportEvent.report_id)
            .subquery()
        )
        rows = session.execute(
            select(Report.received_at, first.c.at).join(first, first.c.report_id == Report.id).where(*scope)
        ).all()
        hours = sorted((at - received).total_seconds() / 3600 for received, at in rows if at is not None)
        if not hours:
            return None
        middle = len(hours) // 2
        return round(hours[middle] if len(hours) % 2 else (hours[middle - 1] + hours[middle]) / 2, 2)

    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "by_status": counts(Report.status),
        "by_category": counts(Category.code, (Category, Report.category_id == Category.id)),
        "by_unit": counts(Unit.code, (Unit, Report.unit_id == Unit.id)),
        "median_hours_to_acknowledge": median_hours("acknowledged"),
        "median_hours_to_resolve": median_hours("resolved"),
    }
