"""The intake's SQL, by dialect: INSERT … ON CONFLICT for the idempotency key, and on
PostgreSQL one statement that stores the report with its first events and reads the similar
reports. Built once: building a statement costs more, in Python, than running it."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, bindparam, func, insert, literal_column, select, true
from sqlalchemy import column as sql_column
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from backend.reports.models import Report, Reporter, ReportEvent
from backend.reports.nearby import SIMILAR, nearby, similar_params


def columns(instance: Any, model: Any) -> dict[str, Any]:
    """The column values set on a transient instance (its primary key excepted)."""
    state = instance.__dict__
    return {c.key: state[c.key] for c in model.__mapper__.column_attrs if c.key in state and c.key != "id"}


def insert_report(session: Session, report: Report) -> int | None:
    """INSERT the report unless its idempotency key (or sighting key) is taken; its id, or None on
    a conflict."""
    connection = session.connection()
    statement = _insert_report_statement(connection.dialect.name)
    return connection.execute(statement, columns(report, Report)).scalar_one_or_none()


@functools.cache
def _insert_report_statement(dialect: str) -> Any:
    dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = Report.__table__
    # No conflict target: the idempotency key, or a device's sighting already counted (a "me too").
    return dialect_insert(table).on_conflict_do_nothing().returning(table.c.id)


# Statements built once: building a statement costs more, in Python, than running it.
INSERT_EVENT = insert(ReportEvent.__table__)

INSERT_REPORTER = insert(Reporter.__table__)


def store_with_similar(connection: Any, report: Report, now: datetime) -> tuple[int | None, list[dict[str, Any]]]:
    """PostgreSQL: INSERT the report (unless its idempotency key is taken) and its first events,
    and read the similar reports, in one statement: one round trip instead of three on the
    busiest write path. The report's id (None on a conflict: nothing was written) and the similar
    reports. All parts of the statement read one snapshot, so the new report is not among them."""
    params = _with_defaults(columns(report, Report), _REPORT_COLUMNS)
    events = ReportEvent.__table__.c
    params["events"] = [
        {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in _with_defaults(columns(event, ReportEvent), [events[k] for k in _EVENT_COLUMNS]).items()
        }
        for event in report.events
    ]
    params.update(similar_params(report, now))
    rows = connection.execute(_STORE_WITH_SIMILAR, params).all()
    return rows[0].new_id, nearby(report, [row for row in rows if row.id is not None])


_REPORT_COLUMNS = [column for column in Report.__table__.columns if column.key != "id"]

_EVENT_COLUMNS = ["kind", "at", "actor_type", "actor_id", "public", "data"]


def _with_defaults(values: dict[str, Any], columns: list[Any]) -> dict[str, Any]:
    """A value for each column: the one set, or the column's Python-side default (which an
    explicit VALUES list does not apply)."""

    def default(column: Any) -> Any:
        if column.default is None:
            return None
        return column.default.arg if column.default.is_scalar else column.default.arg(None)

    return {column.key: values[column.key] if column.key in values else default(column) for column in columns}


def _store_with_similar_statement() -> Any:
    # Under 50 parameters and free of IN lists rendered per execution, so psycopg keeps the
    # statement parsed (and prepared, from its fifth run): the events travel as one JSON array.
    reports, events = Report.__table__, ReportEvent.__table__
    new_report = (
        postgresql_insert(reports)
        .values({column.key: bindparam(column.key, type_=column.type) for column in _REPORT_COLUMNS})
        .on_conflict_do_nothing()  # the idempotency key, or a device's sighting already counted
        .returning(reports.c.id)
        .cte("new_report")
    )
    event_rows = (
        func.json_to_recordset(bindparam("events", type_=JSON()))
        .table_valued(*(sql_column(key, events.c[key].type) for key in _EVENT_COLUMNS))
        .render_derived(name="event", with_types=True)
    )
    new_events = (
        insert(events)
        .from_select(
            ["report_id", *_EVENT_COLUMNS],
            select(new_report.c.id, *(event_rows.c[key] for key in _EVENT_COLUMNS)).select_from(
                new_report.join(event_rows, true())
            ),
        )
        .cte("new_events")
    )
    similar = SIMILAR.subquery("similar")
    one_row = select(literal_column("1").label("one")).subquery("one")  # the new id comes back with no similar row too
    return (
        select(select(new_report.c.id).scalar_subquery().label("new_id"), *similar.c)
        .select_from(one_row.outerjoin(similar, true()))
        .add_cte(new_events)
    )


_STORE_WITH_SIMILAR = _store_with_similar_statement()
