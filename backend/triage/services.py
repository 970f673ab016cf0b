"""Triage rules: what an agent may see and do to a report; every change appends to the trail."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from backend.db import in_constants
from backend.directory.models import Agent, Category, Program, Unit
from backend.errors import DomainError, InvalidQuery
from backend.media import services as media_services
from backend.media.models import Media
from backend.pagination import DATETIME, Page, decode_cursor, paginate
from backend.queue import after_commit
from backend.reports import services as reports
from backend.reports.models import Report, ReportEvent, format_reference
from backend.triage import notifications, workflow


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409
    message = "This move is not allowed from the report's status for your role."


class NoteRequired(DomainError):
    code = "note_required"
    status = 422
    message = "Rejecting or referring a report needs a note saying why."


class StaleReport(DomainError):
    code = "stale_report"
    status = 412
    message = "The report changed since you read it: reload it, then make your change again."


class VersionRequired(DomainError):
    code = "version_required"
    status = 428
    message = "Say which version of the report you changed: If-Match with its ETag, or a version field."


def visible_report(session: Session, agent: Agent, reference: str) -> Report:
    """The report, if the agent's directorate handles it (admins: all); 404 otherwise, so a
    report of another directorate is not revealed."""
    report = reports.get_report(session, reference)
    if agent.role != "admin" and report.directorate_id != agent.directorate_id:
        raise reports.ReportNotFound()
    return report


def transition(
    session: Session,
    agent: Agent,
    reference: str,
    *,
    to: str,
    version: int | None,
    now: datetime,
    note: str | None = None,
    note_public: bool = False,
    duplicate_of: str | None = None,
    queue: Any = None,
) -> Report:
    """Move the report along the workflow, if ``version`` is still current; flush.

    Raises :class:`VersionRequired`, :class:`StaleReport`, :class:`InvalidTransition`,
    :class:`NoteRequired`, or ``ReportNotFound``.
    """
    report = visible_report(session, agent, reference)
    if version is None:
        raise VersionRequired()
    if version != report.version:
        raise StaleReport()
    if not workflow.allowed(agent.role, report.status, to):
        raise InvalidTransition(errors={"json": {"to": [f"{report.status} → {to} is not allowed for a {agent.role}"]}})
    note = (note or "").strip() or None
    if to in workflow.NOTE_REQUIRED and not note:
        raise NoteRequired(errors={"json": {"note": ["required to reject or refer"]}})
    original = None
    if to == "duplicate":
        if not duplicate_of:
            raise InvalidTransition(
                "Say which report this one duplicates.", errors={"json": {"duplicate_of": ["required"]}}
            )
        original = visible_report(session, agent, duplicate_of)
        if original.id == report.id or original.status not in (*workflow.ACTIVE, "resolved"):
            raise InvalidTransition(
                "A report duplicates another, open or resolved, report.",
                errors={"json": {"duplicate_of": ["not a report this one can duplicate"]}},
            )
    previous = report.status
    # Compare-and-set in SQL: of two agents saving at once, the second is refused, not lost.
    changed = session.execute(
        update(Report)
        .where(Report.id == report.id, Report.version == version)
        .values(status=to, version=Report.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise StaleReport()
    data: dict[str, Any] = {"from": previous, "status": to}
    if note:
        data["note" if note_public else "internal_note"] = note
    if original is not None:
        data["duplicate_of"] = original.reference
        session.execute(
            update(Report)
            .where(Report.id == original.id)
            .values(support_count=Report.support_count + report.support_count + 1)
            .execution_options(synchronize_session=False)
        )
    event = _trace(session, agent, report, "status", data, now=now, public=to in workflow.PUBLIC_CHANGES)
    session.refresh(report)
    if queue is not None and notifications.should_tell(report, to):
        after_commit(session, queue, notifications.JOB, event.id)
    return report


PRIORITIES = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
PRIORITY_NAMES = {value: name for name, value in PRIORITIES.items()}


class SupervisorsOnly(DomainError):
    code = "forbidden_for_role"
    status = 403
    message = "Only a supervisor (or an admin) may do this."


class UnknownAgent(DomainError):
    code = "unknown_agent"
    status = 422
    message = "No active agent of this directorate has this e-mail."


def add_note(session: Session, agent: Agent, reference: str, *, text: str, public: bool, now: datetime) -> Report:
    """A note on the trail: public (shown on the public timeline) or internal (agents only)."""
    report = visible_report(session, agent, reference)
    data = {"note": text} if public else {"internal_note": text}
    _trace(session, agent, report, "note", data, now=now, public=public)
    return report


class UnknownUnit(DomainError):
    code = "unknown_unit"
    status = 422
    message = "No active unit of this report's directorate has this code (another directorate's: reroute it)."


# assign(): leave the assignee as it is (only the unit changes). Compared by identity: no
# client value can be it.
KEEP_ASSIGNEE: Any = object()


def assign(
    session: Session,
    agent: Agent,
    reference: str,
    *,
    assignee_email: str | None,
    unit_code: str | None = None,
    version: int | None,
    now: datetime,
    queue: Any = None,
) -> Report:
    """Give the report to an agent of its directorate (or to nobody), and/or to another unit of
    its directorate (the public routing record is left as decided; another directorate is a
    reroute; the unit is told as of a new report); supervisors only."""
    if agent.role not in ("supervisor", "admin"):
        raise SupervisorsOnly()
    report = visible_report(session, agent, reference)
    values: dict[str, Any] = {}
    data: dict[str, Any] = {}
    unit = None
    if assignee_email is not KEEP_ASSIGNEE:
        assignee = None
        if assignee_email:
            assignee = session.scalar(
                select(Agent).where(
                    Agent.email == assignee_email.strip().lower(),
                    Agent.active.is_(True),
                    Agent.directorate_id == report.directorate_id,
                )
            )
            if assignee is None:
                raise UnknownAgent(errors={"json": {"agent": ["no active agent of this directorate"]}})
        values["assigned_agent_id"] = assignee.id if assignee else None
        data["agent"] = assignee.email if assignee else None
    if unit_code is not None:
        unit = session.scalar(
            select(Unit).where(
                Unit.code == unit_code, Unit.active.is_(True), Unit.directorate_id == report.directorate_id
            )
        )
        if unit is None:
            raise UnknownUnit(errors={"json": {"unit": ["no active unit of this report's directorate"]}})
        values["unit_id"] = unit.id
        data["unit"] = unit.code
    handed_over = unit is not None and unit.id != report.unit_id
    report, event = _change(session, agent, report, version, now, "assigned", values, data)
    if handed_over:
        _tell_unit(session, unit, report, event, queue)
    return report


def set_priority(
    session: Session, agent: Agent, reference: str, *, priority: str, version: int | None, now: datetime
) -> Report:
    report = visible_report(session, agent, reference)
    report, _ = _change(
        session, agent, report, version, now, "priority", {"priority": PRIORITIES[priority]}, {"priority": priority}
    )
    return report


def _change(
    session: Session,
    agent: Agent,
    report: Report,
    version: int | None,
    now: datetime,
    kind: str,
    values: dict[str, Any],
    data: dict[str, Any],
) -> tuple[Report, ReportEvent]:
    """Apply ``values`` if ``version`` is current (compare-and-set), and trace it (internal)."""
    if version is None:
        raise VersionRequired()
    changed = session.execute(
        update(Report)
        .where(Report.id == report.id, Report.version == version)
        .values(**values, version=Report.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise StaleReport()
    event = _trace(session, agent, report, kind, data, now=now)
    session.refresh(report)
    return report, event


def _trace(
    session: Session,
    agent: Agent,
    report: Report,
    kind: str,
    data: dict[str, Any],
    *,
    now: datetime,
    public: bool = False,
) -> ReportEvent:
    """Append what an agent did to the report's trail (internal unless ``public``)."""
    event = ReportEvent(
        report_id=report.id, kind=kind, at=now, actor_type="agent", actor_id=agent.id, public=public, data=data
    )
    session.add(event)
    session.flush()
    return event


def _tell_unit(session: Session, unit: Unit, report: Report, event: ReportEvent, queue: Any) -> None:
    """A report handed over to ``unit``: its webhook hears of it as of a new one, after commit
    (e-mail units find it in their next digest)."""
    if queue is not None and unit.notify_method == "webhook":
        after_commit(session, queue, "backend.triage.jobs.notify_unit", report.id, event.id)


SORTS = {
    # name: (column, descending)
    "received": (Report.received_at, True),
    "oldest": (Report.received_at, False),
    "supports": (Report.support_count, True),
    "due": (Report.due_at, False),
    "priority": (Report.priority, True),
}


# What a queue row shows: plain columns, no JSON to parse, no ORM object to build (a page of 50
# is read at every scroll of every agent).
QUEUE_COLUMNS = (
    Report.id,
    Report.received_at,
    Report.status,
    Report.due_at,
    Report.commune_code,
    Report.support_count,
    Report.priority,
    Report.assigned_agent_id,
    Report.lat,
    Report.lon,
    Report.version,
    Category.code.label("category_code"),
    Category.name.label("category_name"),
    Program.code.label("program_code"),
    Unit.code.label("unit_code"),
)


def _queue_rows() -> Any:
    return (
        select(*QUEUE_COLUMNS)
        .join(Category, Report.category_id == Category.id)
        .join(Program, Report.program_id == Program.id)
        .outerjoin(Unit, Report.unit_id == Unit.id)
    )


def queue_entries(session: Session, report_ids: list[int]) -> list[Any]:
    """The queue rows of these reports, in this order."""
    rows = {row.id: row for row in session.execute(_queue_rows().where(Report.id.in_(report_ids)))}
    return [rows[report_id] for report_id in report_ids]


# What the first value of a queue cursor is, by sort (a report has no due date when its
# category has no target).
_CURSOR_VALUES = {"received": DATETIME, "oldest": DATETIME, "due": (DATETIME, None), "supports": int, "priority": int}


def queue(
    session: Session,
    agent: Agent,
    *,
    filters: dict[str, Any],
    sort: str,
    limit: int,
    cursor: str | None,
    now: datetime,
    with_counts: bool = True,
    known_id: Callable[[str, str], int | None] = lambda kind, code: None,
) -> tuple[Page[Any], dict[str, int] | None]:
    """The agent's queue: their directorate's reports (admins: all), filtered, in a stable order,
    one keyset page at a time (rows of :data:`QUEUE_COLUMNS`); and the count per status under the
    same filters. ``known_id(kind, code)`` may answer the id of a category, program or unit code
    without a query (the routing table); None means ask the database."""
    shape, params = _queue_filters(session, agent, filters, now, known_id)
    column = SORTS[sort][0]
    after: str | None = None
    if cursor is not None:
        value, last_id = decode_cursor(cursor, (_CURSOR_VALUES[sort], int))
        after = "after_null" if value is None else "after"
        params.update(after=value, after_id=last_id)
    statuses = tuple(sorted(set(filters.get("status") or ())))  # a few known values: part of the shape
    # Plain rows: run on the session's connection, without the ORM's layer.
    connection = session.connection()
    rows = connection.execute(_page_statement(shape, statuses, sort, after), {**params, "limit": limit + 1}).all()

    def key(row: Any) -> list[Any]:
        value = getattr(row, column.key)
        return [value.isoformat() if isinstance(value, datetime) else value, row.id]

    counts = None
    if with_counts:  # a count over every matching report (whatever its status): page 1 wants it, scrolling does not
        counts = dict(connection.execute(_count_statement(shape), params).all())
    return paginate(rows, limit, key), counts


# The queue's SQL is built once per shape (which filters apply, the order, whether a cursor is
# given) with bound parameters, then reused: building a statement costs more than running a page.
_FILTERS: dict[str, Callable[[], Any]] = {
    "directorate": lambda: Report.directorate_id == bindparam("directorate"),
    "category": lambda: Report.category_id == bindparam("category"),
    "program": lambda: Report.program_id == bindparam("program"),
    "unit": lambda: Report.unit_id == bindparam("unit"),
    "assigned": lambda: Report.assigned_agent_id == bindparam("assigned"),
    "unassigned": lambda: Report.assigned_agent_id.is_(None),
    "commune": lambda: Report.commune_code == bindparam("commune"),
    "bbox": lambda: and_(
        Report.lon.between(bindparam("min_lon"), bindparam("max_lon")),
        Report.lat.between(bindparam("min_lat"), bindparam("max_lat")),
    ),
    "received_from": lambda: Report.received_at >= bindparam("received_from"),
    "received_to": lambda: Report.received_at < bindparam("received_to"),
    "overdue": lambda: and_(Report.due_at < bindparam("now"), in_constants(Report.status, workflow.ACTIVE)),
    "with_media": lambda: select(Media.id).where(Media.report_id == Report.id).exists(),
    "without_media": lambda: ~select(Media.id).where(Media.report_id == Report.id).exists(),
    "q": lambda: func.lower(Report.description).like(bindparam("q"), escape="/"),
}


def _queue_filters(
    session: Session,
    agent: Agent,
    filters: dict[str, Any],
    now: datetime,
    known_id: Callable[[str, str], int | None] = lambda kind, code: None,
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Which of :data:`_FILTERS` apply, and their values (checked: an unknown code is a 422)."""
    shape: list[str] = []
    params: dict[str, Any] = {}

    def apply(name: str, **values: Any) -> None:
        shape.append(name)
        params.update(values)

    if agent.role != "admin":
        apply("directorate", directorate=agent.directorate_id)
    for name, model in (("category", Category), ("program", Program), ("unit", Unit)):
        if filters.get(name):
            found = known_id(name, filters[name])
            if found is None:
                found = session.scalar(select(model.id).where(model.code == filters[name]))
            if found is None:
                raise InvalidQuery(name, f"unknown {name}", code=f"unknown_{name}")
            apply(name, **{name: found})
    assigned = filters.get("assigned")
    if assigned == "me":
        apply("assigned", assigned=agent.id)
    elif assigned == "nobody":
        apply("unassigned")
    elif assigned:
        assignee = session.scalar(select(Agent.id).where(Agent.email == assigned.strip().lower()))
        if assignee is None:
            raise InvalidQuery("assigned", "me, nobody, or an agent's e-mail", code="unknown_agent")
        apply("assigned", assigned=assignee)
    if filters.get("commune"):
        apply("commune", commune=filters["commune"])
    if filters.get("bbox"):
        min_lon, min_lat, max_lon, max_lat = filters["bbox"]
        apply("bbox", min_lon=min_lon, min_lat=min_lat, max_lon=max_lon, max_lat=max_lat)
    if filters.get("received_from"):
        apply("received_from", received_from=filters["received_from"])
    if filters.get("received_to"):
        apply("received_to", received_to=filters["received_to"])
    if filters.get("overdue"):
        apply("overdue", now=now)
    if filters.get("has_media") is not None:
        apply("with_media" if filters["has_media"] else "without_media")
    if filters.get("q"):
        escaped = filters["q"].lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
        apply("q", q=f"%{escaped}%")
    return tuple(shape), params


def _where(shape: tuple[str, ...], statuses: tuple[str, ...]) -> list[Any]:
    conditions = [_FILTERS[name]() for name in shape]
    if statuses:
        conditions.append(in_constants(Report.status, statuses))
    return conditions


@functools.lru_cache(maxsize=512)
def _page_statement(shape: tuple[str, ...], statuses: tuple[str, ...], sort: str, after: str | None) -> Any:
    column, descending = SORTS[sort]
    query = (
        _queue_rows()
        .where(*_where(shape, statuses))
        .order_by(column.desc() if descending else column.asc(), Report.id.desc() if descending else Report.id.asc())
        .limit(bindparam("limit"))
    )
    if after is not None:
        tie = Report.id < bindparam("after_id") if descending else Report.id > bindparam("after_id")
        if after == "after_null":  # the last row had no value (a report with no due date)
            query = query.where(and_(column.is_(None), tie))
        else:
            value = bindparam("after")
            query = query.where(or_(column < value if descending else column > value, and_(column == value, tie)))
    return query


@functools.lru_cache(maxsize=512)
def _count_statement(shape: tuple[str, ...]) -> Any:
    return select(Report.status, func.count()).where(*_where(shape, ())).group_by(Report.status)


CSV_COLUMNS = (
    "reference",
    "status",
    "program",
    "category",
    "received_at",
    "due_at",
    "commune",
    "unit",
    "priority",
    "support_count",
    "lat",
    "lon",
    "description",
)


def queue_csv_query(session: Session, agent: Agent, *, filters: dict[str, Any], now: datetime) -> Any:
    """The statement of the CSV export (filters checked now, so a bad one is a 422, not a broken
    download). Run it with ``yield_per`` to read in batches: constant memory."""
    shape, params = _queue_filters(session, agent, filters, now)
    return (
        select(
            Report.id,
            Report.received_at,
            Report.status,
            Program.code,
            Category.code,
            Report.due_at,
            Report.commune_code,
            Unit.code,
            Report.priority,
            Report.support_count,
            Report.lat,
            Report.lon,
            Report.description,
        )
        .join(Program, Report.program_id == Program.id)
        .join(Category, Report.category_id == Category.id)
        .outerjoin(Unit, Report.unit_id == Unit.id)
        .where(*_where(shape, tuple(filters.get("status") or ())))
        .order_by(Report.received_at.desc(), Report.id.desc())
        .execution_options(yield_per=500)
        .params(params)
    )


def csv_values(row: Any) -> list[Any]:
    (
        report_id,
        received_at,
        status,
        program,
        category,
        due_at,
        commune,
        unit,
        priority,
        supports,
        lat,
        lon,
        description,
    ) = row
    return [
        format_reference(received_at, report_id),
        status,
        program,
        category,
        received_at.isoformat(),
        due_at.isoformat() if due_at else "",
        commune or "",
        unit or "",
        PRIORITY_NAMES[priority],
        supports,
        lat,
        lon,
        description,
    ]


class RerouteRefused(DomainError):
    code = "invalid_reroute"
    status = 422
    message = "The report cannot be rerouted there."


def reroute(
    session: Session,
    agent: Agent,
    reference: str,
    *,
    unit_code: str,
    note: str,
    version: int | None,
    now: datetime,
    queue: Any = None,
) -> Report:
    """Send the report to another unit (of any directorate); supervisors only. The report leaves
    this queue, the routing record says it was decided by hand, the trail says why, and the unit
    is told as of a new report."""
    if agent.role not in ("supervisor", "admin"):
        raise SupervisorsOnly()
    report = visible_report(session, agent, reference)
    if not (note or "").strip():
        raise NoteRequired("Rerouting needs a note saying why.", errors={"json": {"note": ["required"]}})
    unit = session.scalar(select(Unit).where(Unit.code == unit_code, Unit.active.is_(True)))
    if unit is None:
        raise RerouteRefused(errors={"json": {"unit": ["unknown unit"]}})
    if report.status not in workflow.ACTIVE:
        raise RerouteRefused("Only an open report can be rerouted.", errors={"json": {"status": [report.status]}})
    previous = {"directorate": report.routing["directorate"], "unit": report.routing.get("unit")}
    routing = {
        **report.routing,
        "directorate": {"code": unit.directorate.code, "name": unit.directorate.name},
        "unit": {"code": unit.code, "name": unit.name},
        "referred_to": None,
        "rule": "manual",
        "message": f"Votre signalement a été transmis à : {unit.directorate.name} ({unit.name}).",
    }
    report, event = _change(
        session,
        agent,
        report,
        version,
        now,
        "rerouted",
        {
            "directorate_id": unit.directorate_id,
            "unit_id": unit.id,
            "referred_to_id": None,
            "routing": routing,
            "assigned_agent_id": None,
        },
        {"from": previous, "to": {"directorate": unit.directorate.code, "unit": unit.code}, "internal_note": note},
    )
    _tell_unit(session, unit, report, event, queue)
    return report


def stats(session: Session, agent: Agent, *, since: datetime, until: datetime) -> dict[str, Any]:
    """Counts by status, category and unit, and median hours to acknowledge and to resolve, for
    the reports received in [since, until) of the agent's directorate (admins: all)."""
    scope = [Report.received_at >= since, Report.received_at < until]
    if agent.role != "admin":
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


MAX_BULK = 200


class BulkRefused(DomainError):
    code = "bulk_refused"
    status = 409
    message = "Some reports refuse this action: none was changed."


def bulk(
    session: Session,
    agent: Agent,
    references: list[str],
    *,
    action: str,
    now: datetime,
    to: str | None = None,
    note: str | None = None,
    note_public: bool = False,
    assignee_email: str | None = KEEP_ASSIGNEE,
    unit_code: str | None = None,
    queue: Any = None,
) -> list[Report]:
    """One transition or assignment on up to 200 reports, all or nothing: every report is
    checked first, and one refusal refuses all, with the reasons by reference."""
    if agent.role not in ("supervisor", "admin"):
        raise SupervisorsOnly()
    problems: dict[str, list[str]] = {}
    found: list[Report] = []
    for reference in dict.fromkeys(references):
        try:
            report = visible_report(session, agent, reference)
        except DomainError:
            problems[reference] = ["no such report in your queue"]
            continue
        if action == "transition":
            if not workflow.allowed(agent.role, report.status, to or ""):
                problems[reference] = [f"{report.status} → {to} is not allowed"]
            elif to in workflow.NOTE_REQUIRED and not (note or "").strip():
                problems[reference] = ["a note is required"]
        found.append(report)
    if problems:
        raise BulkRefused(errors={"json": {"references": problems}})
    changed = []
    for report in found:
        # Each report at the version just read: checked and changed in this one transaction.
        if action == "transition":
            changed.append(
                transition(
                    session,
                    agent,
                    report.reference,
                    to=to or "",
                    version=report.version,
                    now=now,
                    note=note,
                    note_public=note_public,
                    queue=queue,
                )
            )
        else:
            changed.append(
                assign(
                    session,
                    agent,
                    report.reference,
                    assignee_email=assignee_email,
                    unit_code=unit_code,
                    version=report.version,
                    now=now,
                    queue=queue,
                )
            )
    return changed


def add_media(
    session: Session, agent: Agent, reference: str, files: dict[str, list[bytes]], *, media: Any, now: datetime
) -> tuple[Report, list[Any]]:
    """Photos or a video added by an agent (a site visit, say), same checks as the reporter's:
    the report and the new media."""

    report = visible_report(session, agent, reference)
    if not any(files.values()):
        raise reports.InvalidReport({"photos": ["send at least one file"]}, "No file was sent.")
    uploads = media.check(files, report.program.code)
    rows = media.attach(session, report.id, uploads)
    _trace(session, agent, report, "media_added", {"media_ids": [m.id for m in rows]}, now=now)
    return report, rows


def agent_media(session: Session, agent: Agent, media_id: int) -> tuple[Media, Report]:
    """A medium and its report, if the agent's directorate handles the report (admins: all);
    :class:`MediaNotFound` otherwise, so another directorate's medium is not revealed."""
    found = session.get(Media, media_id)
    report = session.get(Report, found.report_id) if found else None
    if report is None or (agent.role != "admin" and report.directorate_id != agent.directorate_id):
        raise media_services.MediaNotFound()
    return found, report


def publish_media(
    session: Session, agent: Agent, media_id: int, *, storage: Any, now: datetime
) -> tuple[Media, Report]:
    """Publish a held medium of a report of the agent's directorate (a video, a photo of a
    sensitive sighting); traced."""
    found, report = agent_media(session, agent, media_id)
    media_services.publish(session, found, sensitive=report.sensitive, storage=storage, now=now)
    _trace(session, agent, report, "media_published", {"media_id": found.id}, now=now)
    return found, report


def unpublish_media(session: Session, agent: Agent, media_id: int, *, now: datetime) -> tuple[Media, Report]:
    """Withdraw a published medium from the public; traced."""
    found, report = agent_media(session, agent, media_id)
    media_services.unpublish(session, found, sensitive=report.sensitive, now=now)
    _trace(session, agent, report, "media_unpublished", {"media_id": found.id}, now=now)
    return found, report


def nearby_open_reports(session: Session, report: Report, now: datetime) -> list[dict[str, Any]]:
    """Open reports of the same category near this one (the intake's "similar reports")."""
    return reports.similar_reports(session, report, now)
