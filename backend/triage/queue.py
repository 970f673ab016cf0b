"""The agents' queue: filters, a stable order, keyset pages, counts per status, and the CSV export.

Its SQL is built once per shape (which filters apply, the order, whether a cursor is given)
with bound parameters, then reused: building a statement costs more than running a page.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from backend.db import Database, in_constants, stream
from backend.directory.models import Agent, Category, Program, Unit
from backend.errors import InvalidQuery
from backend.media.models import Media
from backend.pagination import DATETIME, Page, decode_cursor, paginate
from backend.reports.models import OPEN_STATUSES, PRIORITY_NAMES, Report, ReportCount, format_reference
from backend.spreadsheets import SafeWriter

SORTS = {
    # name: (column, descending)
    "received": (Report.received_at, True),
    "oldest": (Report.received_at, False),
    "supports": (Report.support_count, True),
    "due": (Report.due_at, False),
    "priority": (Report.priority, True),
}
# The query parameters that filter (the others order and page).
FILTERS = (
    "status",
    "category",
    "program",
    "unit",
    "commune",
    "bbox",
    "received_from",
    "received_to",
    "overdue",
    "has_media",
    "q",
    "assigned",
)

# What a filter refuses (status, code), for the API's document.
FILTER_ERRORS = (
    (422, "unknown_category"),
    (422, "unknown_program"),
    (422, "unknown_unit"),
    (422, "unknown_agent"),
)

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


def filters_of(args: dict[str, Any]) -> dict[str, Any]:
    """The filters among a queue request's parsed arguments (the rest orders and pages)."""
    return {name: args[name] for name in FILTERS if name in args}


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
        value, last_id = decode_cursor(cursor, (_CURSOR_VALUES[sort], int), f"triage:{sort}")
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
        if set(shape) <= set(_COUNTERS):  # kept by the database as reports change: no report read
            counts = {status: int(n) for status, n in connection.execute(_counter_statement(shape), params)}
        else:
            counts = dict(connection.execute(_count_statement(shape), params).all())
    return paginate(rows, limit, key, f"triage:{sort}"), counts


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
    "overdue": lambda: and_(Report.due_at < bindparam("now"), in_constants(Report.status, OPEN_STATUSES)),
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

    if not agent.powers.every_directorate:
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
        found = session.execute(
            select(Agent.id, Agent.directorate_id).where(Agent.email == assigned.strip().lower())
        ).first()
        # Another directorate's agent answers as an unknown one: the filter tells no one who works where.
        if found is None or not agent.sees_directorate(found.directorate_id):
            raise InvalidQuery("assigned", "me, nobody, or an agent's e-mail", code="unknown_agent")
        apply("assigned", assigned=found.id)
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


MAX_POINTS = 5000  # the map's points of a filtered queue


def queue_points(
    session: Session,
    agent: Agent,
    *,
    filters: dict[str, Any],
    now: datetime,
    limit: int = MAX_POINTS,
    known_id: Callable[[str, str], int | None] = lambda kind, code: None,
) -> list[Any]:
    """The queue's reports under the filters as map points (id, received_at, status, lat, lon),
    the most recent first, at most ``limit``: the same filters, the same visibility."""
    shape, params = _queue_filters(session, agent, filters, now, known_id)
    statuses = tuple(sorted(set(filters.get("status") or ())))
    statement = (
        select(Report.id, Report.received_at, Report.status, Report.lat, Report.lon)
        .where(*_where(shape, statuses))
        .order_by(Report.received_at.desc(), Report.id.desc())
        .limit(limit)
    )
    return session.connection().execute(statement, params).all()


# The filters ``report_counts`` answers (the others need the reports themselves).
_COUNTERS: dict[str, Callable[[], Any]] = {
    "directorate": lambda: ReportCount.directorate_id == bindparam("directorate"),
    "category": lambda: ReportCount.category_id == bindparam("category"),
    "program": lambda: ReportCount.program_id == bindparam("program"),
    "unit": lambda: ReportCount.unit_id == bindparam("unit"),
    "commune": lambda: ReportCount.commune_code == bindparam("commune"),
}


@functools.lru_cache(maxsize=64)
def _counter_statement(shape: tuple[str, ...]) -> Any:
    total = func.sum(ReportCount.n)
    return (
        select(ReportCount.status, total)
        .where(*(_COUNTERS[name]() for name in shape))
        .group_by(ReportCount.status)
        .having(total > 0)
    )


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


def queue_csv(
    session: Session,
    database: Database,
    agent: Agent,
    *,
    filters: dict[str, Any],
    now: datetime,
    sort: str = "received",
) -> Iterator[str]:
    """The filtered queue as CSV text (UTF-8, a header row), in chunks of about 64 kB. The
    filters are checked now, so a bad one is a 422, not a broken download; the rows are read
    as the chunks are taken, in batches, on a session of ``database`` of their own (the
    request's is closed before the body streams): constant memory, whatever the queue's size."""
    query = _csv_query(session, agent, filters=filters, now=now, sort=sort)

    def chunks() -> Iterator[str]:
        # A transaction of its own: streaming (yield_per) needs one on PostgreSQL.
        with database.session() as reader:
            buffer = io.StringIO()
            writer = SafeWriter(buffer)
            writer.writerow(CSV_COLUMNS)
            for row in stream(reader, query):
                writer.writerow(_csv_values(row))
                if buffer.tell() > 64 * 1024:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

    return chunks()


def _csv_query(session: Session, agent: Agent, *, filters: dict[str, Any], now: datetime, sort: str) -> Select[Any]:
    shape, params = _queue_filters(session, agent, filters, now)
    column, descending = SORTS[sort]
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
        .order_by(column.desc() if descending else column.asc(), Report.id.desc() if descending else Report.id.asc())
        .execution_options(yield_per=500)
        .params(params)
    )


def _csv_values(row: Any) -> list[Any]:
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
