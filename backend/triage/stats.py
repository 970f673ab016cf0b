"""A directorate's figures over a window of received dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.directory.models import Agent, Category, Directorate, Unit
from backend.errors import InvalidQuery
from backend.reports.models import OPEN_STATUSES, Report, ReportEvent

DEFAULT_WINDOW = timedelta(days=30)


def stats(
    session: Session, agent: Agent, *, since: datetime | None, until: datetime | None, now: datetime
) -> dict[str, Any]:
    """Counts by status, directorate, category and unit, the median and 90th percentile of the
    hours to acknowledge and to resolve, how many are overdue, and the reports received and
    resolved per week, for the reports received in [since, until) of the agent's directorate
    (admins: all). ``until``
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

    def hours_to(status: str) -> tuple[list[float], list[datetime]]:
        """Hours from reception to the first move to ``status``, sorted; and those moments."""
        first = (
            select(ReportEvent.report_id, func.min(ReportEvent.at).label("at"))
            .where(ReportEvent.kind == "status", ReportEvent.data["status"].as_string() == status)
            .group_by(ReportEvent.report_id)
            .subquery()
        )
        rows = session.execute(
            select(Report.received_at, first.c.at).join(first, first.c.report_id == Report.id).where(*scope)
        ).all()
        pairs = [(_aware(received), _aware(at)) for received, at in rows if at is not None]
        return sorted((at - received).total_seconds() / 3600 for received, at in pairs), [at for _, at in pairs]

    to_acknowledge, _ = hours_to("acknowledged")
    to_resolve, resolved_at = hours_to("resolved")
    received = [_aware(moment) for moment in session.scalars(select(Report.received_at).where(*scope))]
    overdue = session.scalar(
        select(func.count())
        .select_from(Report)
        .where(*scope, Report.status.in_(OPEN_STATUSES), Report.due_at.is_not(None), Report.due_at < now)
    )
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "by_status": counts(Report.status),
        "by_directorate": counts(Directorate.code, (Directorate, Report.directorate_id == Directorate.id)),
        "by_category": counts(Category.code, (Category, Report.category_id == Category.id)),
        "by_unit": counts(Unit.code, (Unit, Report.unit_id == Unit.id)),
        "median_hours_to_acknowledge": percentile(to_acknowledge, 0.5),
        "p90_hours_to_acknowledge": percentile(to_acknowledge, 0.9),
        "median_hours_to_resolve": percentile(to_resolve, 0.5),
        "p90_hours_to_resolve": percentile(to_resolve, 0.9),
        "overdue": overdue or 0,
        "weeks": _weeks(received, resolved_at, since, until),
    }


LOCAL_TIME = ZoneInfo("Europe/Paris")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile of sorted ``values`` (linear between the two nearest), in hours to the
    hundredth; None without values."""
    if not values:
        return None
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return round(values[low] + (values[high] - values[low]) * (position - low), 2)


def _week(moment: datetime) -> date:
    """The Monday (Paris time) of the week of ``moment``."""
    day = moment.astimezone(LOCAL_TIME).date()
    return day - timedelta(days=day.weekday())


def _weeks(
    received: list[datetime], resolved: list[datetime], since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Reports received and resolved per week (Monday, Paris time) over the window, every week
    listed, empty ones too."""
    weeks: dict[date, dict[str, Any]] = {}
    week, last = _week(since), _week(until - timedelta(microseconds=1))
    while week <= last and len(weeks) < 520:
        weeks[week] = {"week": week.isoformat(), "received": 0, "resolved": 0}
        week += timedelta(days=7)
    for moment in received:
        if (key := _week(moment)) in weeks:
            weeks[key]["received"] += 1
    for moment in resolved:
        if (key := _week(moment)) in weeks:
            weeks[key]["resolved"] += 1
    return list(weeks.values())
