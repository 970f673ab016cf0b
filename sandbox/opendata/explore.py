"""The records of a dataset version as the Explore API v2.1 answers them (``{total_count,
results}``), read by DuckDB from the version's Parquet file with a compiled ODSQL query, within
the portal's bounds: ``limit`` up to 100 (10 by default), ``offset + limit`` up to 10,000, or
20,000 with a ``group_by``."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from backend.spreadsheets import SafeWriter
from sandbox.opendata.odsql import OdsqlError, Query, compile_query

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


def records(connection: Any, parquet: Path | None, fields: dict[str, str], request: RecordsRequest) -> dict[str, Any]:
    """``{"total_count", "results"}`` of ``request`` on a version, through a DuckDB ``connection``
    of the caller's where the table ``data`` holds its rows (or, given the version's ``parquet``
    file, where it registers the view ``data``; one connection per request). Raises
    :class:`ExploreError`."""
    grouped = bool(request.group_by)
    window = MAX_WINDOW_GROUPED if grouped else MAX_WINDOW
    if not 0 <= request.limit <= MAX_LIMIT:
        raise ExploreError("invalid_limit", "limit", f"limit must be between 0 and {MAX_LIMIT}")
    if request.offset < 0 or request.offset + request.limit > window:
        raise ExploreError("invalid_offset", "offset", f"offset + limit must not exceed {window}")
    query, where = _compiled(connection, parquet, fields, request)
    with _answerable(where):
        # The compiled query is a subquery of these two: the count, then one page.
        total = connection.execute(f"SELECT count(*) FROM ({query.sql}) AS matching", query.params).fetchone()[0]  # noqa: S608
        page = connection.execute(
            f"SELECT * FROM ({query.sql}) AS matching LIMIT ? OFFSET ?",  # noqa: S608
            [*query.params, request.limit, request.offset],
        ).fetchall()
    return {"total_count": total, "results": [dict(zip(query.columns, map(_json, row), strict=True)) for row in page]}


def _compiled(connection: Any, parquet: Path | None, fields: dict[str, str], request: Any) -> tuple[Query, str | None]:
    """The request's compiled query (and its whole condition); the view ``data`` registered if
    the rows come from a Parquet file."""
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
    if parquet is not None:
        connection.register("data", connection.read_parquet(str(parquet)))
    return query, where


@contextmanager
def _answerable(where: str | None) -> Iterator[None]:
    try:
        yield
    except (duckdb.ConversionException, duckdb.BinderException, duckdb.OutOfRangeException) as refusal:
        # A well-formed question the data cannot answer: a value of the wrong type for its field.
        reason = str(refusal).splitlines()[0].split(": ", 1)[-1]
        raise ExploreError(
            "odsql_error", "where" if where else "select", f"the data cannot answer this: {reason}"
        ) from None


# --- exports: the whole result, streamed ----------------------------------------------------------

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "jsonl": "application/jsonl",
    "geojson": "application/geo+json",
    "parquet": "application/vnd.apache.parquet",
}
DELIMITERS = (";", ",", "\t", "|")  # as the portal takes them (a tab sent as %09)
EXPORT_BATCH = 2000


@dataclass(frozen=True)
class ExportRequest:
    """The query parameters of ``…/exports/{format}``: those of the records but the page (``limit``
    -1, the default: every row), and the CSV's ``delimiter`` (``;`` as on the portal) and BOM."""

    select: str | None = None
    where: str | None = None
    group_by: str | None = None
    order_by: str | None = None
    limit: int = -1
    refine: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    delimiter: str = ";"
    with_bom: bool = True


def export(
    connection: Any, parquet: Path | None, fields: dict[str, str], request: ExportRequest, format: str, work: Path
) -> Iterator[bytes]:
    """The whole answer to ``request`` in ``format`` (:data:`EXPORT_TYPES`), as chunks to stream.
    The query runs before this returns (an :class:`ExploreError` is raised here, not half-way
    through a download); rows are then read a batch at a time. ``work``: a scratch folder the
    caller removes (the Parquet export is written there by DuckDB first)."""
    if request.limit < -1:
        raise ExploreError("invalid_limit", "limit", "limit must be -1 (every row) or more")
    if request.delimiter not in DELIMITERS:
        raise ExploreError("invalid_delimiter", "delimiter", "delimiter must be one of ; , | or a tab")
    query, where = _compiled(connection, parquet, fields, request)
    sql, params = query.sql, list(query.params)
    if request.limit >= 0:
        sql, params = f"SELECT * FROM ({sql}) AS matching LIMIT ?", [*params, request.limit]  # noqa: S608
    with _answerable(where):
        if format == "parquet":
            target = work / "export.parquet"
            connection.execute(f"COPY ({sql}) TO ? (FORMAT parquet)", [*params, str(target)])
            return _file_chunks(target)
        cursor = connection.execute(sql, params)
    points = [name for name in query.columns if fields.get(name) == "geo_point_2d"]
    writer = {"csv": _csv, "json": _json_array, "jsonl": _json_lines, "geojson": _geojson}[format]
    return writer(_batches(cursor, query.columns), query.columns, points, request)


def _batches(cursor: Any, columns: list[str]) -> Iterator[list[dict[str, Any]]]:
    while rows := cursor.fetchmany(EXPORT_BATCH):
        yield [dict(zip(columns, map(_json, row), strict=True)) for row in rows]


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(1 << 16):
            yield chunk


def _csv(batches, columns, points, request: ExportRequest) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = SafeWriter(buffer, delimiter=request.delimiter, lineterminator="\n")
    writer.writerow(columns)
    yield ("\ufeff" if request.with_bom else "").encode() + buffer.getvalue().encode()
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        for record in batch:
            writer.writerow([_csv_cell(record[name]) for name in columns])
        yield buffer.getvalue().encode()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"lon", "lat"}:
        return f"{value['lat']}, {value['lon']}"  # as the portal's CSV exports write a point: "lat, lon"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _json_array(batches, columns, points, request) -> Iterator[bytes]:
    yield b"["
    first = True
    for batch in batches:
        text = ",\n".join(json.dumps(record, ensure_ascii=False) for record in batch)
        yield (("\n" if first else ",\n") + text).encode()
        first = False
    yield b"\n]\n"


def _json_lines(batches, columns, points, request) -> Iterator[bytes]:
    for batch in batches:
        yield "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in batch).encode()


def _geojson(batches, columns, points, request) -> Iterator[bytes]:
    yield b'{"type": "FeatureCollection", "features": ['
    first = True
    for batch in batches:
        features = []
        for record in batch:
            point = record.get(points[0]) if points else None
            geometry = {"type": "Point", "coordinates": [point["lon"], point["lat"]]} if point else None
            properties = {name: value for name, value in record.items() if name not in points}
            features.append(
                json.dumps({"type": "Feature", "geometry": geometry, "properties": properties}, ensure_ascii=False)
            )
        yield (("\n" if first else ",\n") + ",\n".join(features)).encode()
        first = False
    yield b"\n]}\n"


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
