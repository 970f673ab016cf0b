"""The records of a dataset version as the Explore API v2.1 answers them (``{total_count,
results}``), read by DuckDB from the version's Parquet file with a compiled ODSQL query, within
the portal's bounds: ``limit`` up to 100 (10 by default), ``offset + limit`` up to 10,000, or
20,000 with a ``group_by``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from sandbox.opendata.odsql import OdsqlError, compile_query

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_WINDOW = 10_000
MAX_WINDOW_GROUPED = 20_000


class ExploreError(ValueError):
    """A request the Explore API refuses (400): ``code`` (``odsql_error``, ``invalid_limit``…),
    the ``parameter`` at fault, a ``message`` (with the position, for ODSQL)."""

    def __init__(self, code: str, parameter: str, message: str, position: int | None = None):
        super().__init__(message)
        self.code, self.parameter, self.message, self.position = code, parameter, message, position


@dataclass(frozen=True)
class RecordsRequest:
    """The query parameters of ``…/records`` (``refine``/``exclude``: ``field:value`` facets)."""

    select: str | None = None
    where: str | None = None
    group_by: str | None = None
    order_by: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    refine: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)


def records(connection: Any, parquet: Path, fields: dict[str, str], request: RecordsRequest) -> dict[str, Any]:
    """``{"total_count", "results"}`` of ``request`` on the version's Parquet file, through a
    DuckDB ``connection`` of the caller's (it registers the view ``data`` there; one connection
    per request). Raises :class:`ExploreError`."""
    grouped = bool(request.group_by)
    window = MAX_WINDOW_GROUPED if grouped else MAX_WINDOW
    if not 0 <= request.limit <= MAX_LIMIT:
        raise ExploreError("invalid_limit", "limit", f"limit must be between 0 and {MAX_LIMIT}")
    if request.offset < 0 or request.offset + request.limit > window:
        raise ExploreError("invalid_offset", "offset", f"offset + limit must not exceed {window}")
    where = _with_facets(request.where, request.refine, request.exclude)
    try:
        query = compile_query(
            fields,
            select=request.select,
            where=where,
            group_by=request.group_by,
            order_by=request.order_by,
        )
    except OdsqlError as error:
        raise ExploreError("odsql_error", error.parameter, str(error), error.position) from None
    connection.register("data", connection.read_parquet(str(parquet)))
    try:
        # The compiled query is a subquery of these two: the count, then one page.
        total = connection.execute(f"SELECT count(*) FROM ({query.sql}) AS matching", query.params).fetchone()[0]  # noqa: S608
        page = connection.execute(
            f"SELECT * FROM ({query.sql}) AS matching LIMIT ? OFFSET ?",  # noqa: S608
            [*query.params, request.limit, request.offset],
        ).fetchall()
    except (duckdb.ConversionException, duckdb.BinderException, duckdb.OutOfRangeException) as refusal:
        # A well-formed question the data cannot answer: a value of the wrong type for its field.
        reason = str(refusal).splitlines()[0].split(": ", 1)[-1]
        raise ExploreError(
            "odsql_error", "where" if where else "select", f"the data cannot answer this: {reason}"
        ) from None
    return {"total_count": total, "results": [dict(zip(query.columns, map(_json, row), strict=True)) for row in page]}


def _with_facets(where: str | None, refine: list[str], exclude: list[str]) -> str | None:
    """``where`` and the facets, as one ODSQL condition (each facet's value a quoted string;
    the field is checked against the schema like any other)."""
    if not refine and not exclude:
        return where  # as written: an error's position is the client's
    parts = [f"({where})"] if where else []
    for facets, operator, parameter in ((refine, "=", "refine"), (exclude, "!=", "exclude")):
        for facet in facets:
            name, separator, value = facet.partition(":")
            if not separator or not name.strip():
                raise ExploreError("odsql_error", parameter, f"{parameter} takes field:value, not {facet!r}")
            quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            parts.append(f"(`{name.strip().replace('`', '')}` {operator} {quoted})")
    return " AND ".join(parts) or None


def _json(value: Any) -> Any:
    """A value as JSON writes it: dates and times in ISO 8601 (the files hold times in UTC)."""
    if isinstance(value, datetime):
        return value.isoformat() + ("+00:00" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    return value
