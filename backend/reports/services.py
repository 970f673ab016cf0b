"""Report intake, public reads and supports."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, and_, bindparam, func, insert, literal_column, or_, select, true, update
from sqlalchemy import column as sql_column
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from backend.db import in_constants
from backend.directory.models import Category, Program
from backend.errors import DomainError, InvalidFields, InvalidQuery, NotFound
from backend.media import images
from backend.media import services as media_services
from backend.observations.models import Taxon
from backend.pagination import DATETIME, Page, decode_cursor, paginate
from backend.queue import after_commit
from backend.reports.models import (
    OPEN_STATUSES,
    Report,
    Reporter,
    ReportEvent,
    Support,
    format_reference,
    parse_reference,
    public_point,
)
from backend.routing.services import Router

log = logging.getLogger(__name__)

MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_OBSERVATION_AGE = timedelta(days=30)
SIMILAR_WINDOW = timedelta(days=30)
SIMILAR_LIMIT = 10
STRING_MAX, TEXT_MAX = 200, 4000
METRES_PER_DEGREE_LAT = 111_132.0


class InvalidReport(InvalidFields):
    """Some fields of the report are invalid; nothing was stored."""

    def __init__(self, errors: dict[str, Any], message: str | None = None):
        super().__init__(message, errors={"json": errors})


class UnknownCategory(InvalidReport):
    code = "unknown_category"

    def __init__(self) -> None:
        super().__init__({"category": ["unknown category"]}, "Unknown category: see GET /api/v1/categories.")


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    status = 409
    message = "This idempotency key (or client_id) was already used for a different report."


class ReportNotFound(NotFound):
    code = "report_not_found"
    message = "No report has this reference."


class InvalidReporterToken(DomainError):
    code = "invalid_reporter_token"
    status = 401
    message = "This reporter token does not belong to this report."


class ReporterTokenMissing(DomainError):
    code = "reporter_token_missing"
    status = 401
    message = "Send the reporter token given at submission: 'Authorization: Reporter <token>'."


class ReportClosed(DomainError):
    code = "report_closed"
    status = 409
    message = "This report is closed: it no longer takes supports."


@dataclass
class Submission:
    """The outcome of a submit: the report, its reporter token, similar reports, and whether
    this was a replay of an earlier identical request."""

    report: Report
    reporter_token: str
    similar_reports: list[dict[str, Any]] = field(default_factory=list)
    replayed: bool = False


# --- reporter tokens -----------------------------------------------------------------------


def reporter_token(secret_key: str, seed: str) -> str:
    """The reporter's secret. Derived from the idempotency key with the server secret, so a retry
    of the same request gets the same token back, although only its hash is stored."""
    digest = hmac.new(secret_key.encode(), b"signal93-reporter-token\0" + seed.encode(), hashlib.sha256).digest()
    return "rt_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def verify_reporter_token(report: Report, token: str) -> None:
    """Raise :class:`InvalidReporterToken` unless ``token`` is this report's (constant time)."""
    if not hmac.compare_digest(token_hash(token), report.reporter_token_hash):
        raise InvalidReporterToken()


# --- intake --------------------------------------------------------------------------------


def submit_report(
    session: Session,
    data: dict[str, Any],
    *,
    router: Router,
    secret_key: str,
    now: datetime,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
    files: dict[str, list[bytes]] | None = None,
    media: Any = None,
) -> Submission:
    """Validate, route and store a report with its first two trail events.

    A request carrying an ``idempotency_key`` (header, or else the ``client_id``) that was
    already stored returns that report (``replayed``) when ``fingerprint`` matches, and
    raises :class:`IdempotencyConflict` otherwise. Raises :class:`InvalidReport`,
    :class:`UnknownCategory`, ``OutsideTerritory`` or ``NoRoute`` for bad input, having
    stored nothing.

    ``files`` (``photos``, ``video``) are checked before anything is stored, then kept with the
    report through ``media`` (a :class:`backend.media.services.MediaIntake`).

    The report is inserted first and the key checked by the database (``ON CONFLICT DO
    NOTHING``): a new report costs no look-up, and two retries racing on two processes
    resolve to one row without an error.
    """
    client_id = str(data["client_id"]) if data.get("client_id") else None
    key = idempotency_key or (f"client_id:{client_id}" if client_id else None)
    try:
        uploads, data, location_source = _uploads_and_location(session, data, files or {}, router, media)
        report = prepare_report(session, data, router=router, now=now)
        report.location_source = location_source
        notify_method = _notify_method(router.table(session), report)
    except DomainError:
        # A retry of a report accepted earlier gets it back even if it would not pass today
        # (30 days later, or after its category was retired).
        existing = _by_key(session, key) if key else None
        if existing is None:
            raise
        return _replay(session, existing, key, fingerprint, secret_key, now)

    token = reporter_token(secret_key, key or secrets.token_hex(16))
    report.client_id = client_id
    report.idempotency_key = key
    report.request_fingerprint = fingerprint
    report.reporter_token_hash = token_hash(token)
    connection = session.connection()  # plain Core statements: no unit of work to consult
    similar = None
    if connection.dialect.name == "postgresql":
        report.id, similar = _store_with_similar(connection, report, now)
    else:
        report.id = _insert_report(session, report)
    if report.id is None:  # the key is taken: a retry, possibly racing its twin
        existing = _by_key(session, key)
        return _replay(session, existing, key, fingerprint, secret_key, now)
    for event in report.events:
        event.report_id = report.id
    if similar is None:
        connection.execute(_INSERT_EVENT, [_columns(event, ReportEvent) for event in report.events])
        similar = similar_reports(session, report, now)
    if report.reporter is not None:
        report.reporter.report_id = report.id
        connection.execute(_INSERT_REPORTER, _columns(report.reporter, Reporter))
    if media is not None and notify_method == "webhook":
        after_commit(session, media.queue, "backend.triage.jobs.notify_unit", report.id)
    rows = media.attach(session, report.id, uploads) if uploads else []
    set_committed_value(report, "media", rows)
    return Submission(report, token, similar)


def _notify_method(table: Any, report: Report) -> str:
    """How the report's unit hears of new reports (from the routing table: no query)."""
    unit = report.routing.get("unit")
    recipient = table.directory.units.get(unit["code"]) if unit else None
    return recipient.notify_method if recipient else "none"


def _uploads_and_location(
    session: Session, data: dict[str, Any], files: dict[str, list[bytes]], router: Router, media: Any
) -> tuple[list[Any], dict[str, Any], str]:
    """Check the files (before anything is stored) and take the location from the first photo's
    EXIF GPS when the report has none. Returns the uploads, the data and the location source."""
    uploads = []
    if any(files.values()):
        category = router.table(session).categories.get(data["category"])
        if category is None:
            raise UnknownCategory()
        uploads = media.check(files, category.program.code)
    if data.get("location") is not None:
        return uploads, data, "device"
    for upload in uploads:
        if upload.content_type in images.PHOTO_TYPES and (found := images.gps_location(upload.data)):
            lon, lat = found
            return uploads, {**data, "location": {"lon": lon, "lat": lat}}, "exif"
    return uploads, data, "device"  # no location at all: prepare_report says so


def prepare_report(session: Session, data: dict[str, Any], *, router: Router, now: datetime) -> Report:
    """Validate and route, storing nothing: a transient report (with its routing decision and
    first events), or a DomainError. Intake stores what this returns; the sandbox does not."""
    table = router.table(session)
    category = table.categories.get(data["category"])
    if category is None:
        raise UnknownCategory()
    errors: dict[str, Any] = {}
    observed_at = data.get("observed_at")
    if observed_at is not None:
        if observed_at > now + MAX_CLOCK_SKEW:
            errors["observed_at"] = ["is in the future"]
        elif observed_at < now - MAX_OBSERVATION_AGE:
            errors["observed_at"] = ["is more than 30 days old"]
    attributes, attribute_errors = validate_attributes(category.attributes, data.get("attributes") or {})
    if attribute_errors:
        errors["attributes"] = attribute_errors
    if data.get("location") is None:
        errors["location"] = ["Missing data for required field (or send a photo with GPS data)."]
    if errors:
        raise InvalidReport(errors)

    location = data["location"]
    decision = table.route(location["lon"], location["lat"], category.program.code, category.code)
    status = "referred" if decision.referred else "open"
    sensitive = _is_sensitive(session, category.attributes, attributes)
    public_lon, public_lat = public_point(location["lon"], location["lat"], sensitive)
    report = Report(
        program_id=category.program_id,
        category_id=category.id,
        status=status,
        lon=location["lon"],
        lat=location["lat"],
        accuracy_m=location.get("accuracy_m"),
        location_source="device",
        sensitive=sensitive,
        public_lon=public_lon,
        public_lat=public_lat,
        observed_at=observed_at,
        received_at=now,
        description=data.get("description") or "",
        attributes=attributes,
        directorate_id=decision.directorate_id,
        unit_id=decision.unit.id if decision.unit else None,
        referred_to_id=decision.referred_to.id if decision.referred_to else None,
        routing=decision.record(table.revision),
        commune_code=next((z["code"] for z in decision.zones if z["kind"] == "commune"), None),
        due_at=now + timedelta(days=category.target_days),
        support_count=0,
        version=1,
        updated_at=now,
    )
    # Relationships for the response (from the routing table's catalog), set without attaching
    # the report to the session: it is written with plain INSERT statements.
    set_committed_value(report, "category", category)
    set_committed_value(report, "program", category.program)
    contact = data.get("reporter")
    reporter = None
    if contact and any(contact.get(f) for f in ("name", "email", "phone")):
        reporter = Reporter(
            name=contact.get("name"),
            email=contact.get("email"),
            phone=contact.get("phone"),
            consent_contact=bool(contact.get("consent_contact", False)),
        )
    set_committed_value(report, "reporter", reporter)
    events = [
        ReportEvent(kind="submitted", at=now, actor_type="citizen", actor_id=None, public=True, data={}),
        ReportEvent(
            kind="routed",
            at=now,
            actor_type="system",
            actor_id=None,
            public=True,
            data={
                "rule": decision.rule,
                "directorate": decision.directorate_code,
                "unit": decision.unit.code if decision.unit else None,
                "referred_to": decision.referred_to.code if decision.referred_to else None,
                "status": status,
                "message": decision.message,
                "zones": list(decision.zones),
            },
        ),
    ]
    set_committed_value(report, "events", events)
    return report


def _columns(instance: Any, model: Any) -> dict[str, Any]:
    """The column values set on a transient instance (its primary key excepted)."""
    state = instance.__dict__
    return {c.key: state[c.key] for c in model.__mapper__.column_attrs if c.key in state and c.key != "id"}


def _insert_report(session: Session, report: Report) -> int | None:
    """INSERT the report unless its idempotency key is taken; its id, or None on a conflict."""
    connection = session.connection()
    statement = _insert_report_statement(connection.dialect.name)
    return connection.execute(statement, _columns(report, Report)).scalar_one_or_none()


@functools.cache
def _insert_report_statement(dialect: str) -> Any:
    dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = Report.__table__
    return dialect_insert(table).on_conflict_do_nothing(index_elements=[table.c.idempotency_key]).returning(table.c.id)


# Statements built once: building a statement costs more, in Python, than running it.
_INSERT_EVENT = insert(ReportEvent.__table__)
_INSERT_REPORTER = insert(Reporter.__table__)


def _store_with_similar(connection: Any, report: Report, now: datetime) -> tuple[int | None, list[dict[str, Any]]]:
    """PostgreSQL: INSERT the report (unless its idempotency key is taken) and its first events,
    and read the similar reports, in one statement: one round trip instead of three on the
    busiest write path. The report's id (None on a conflict: nothing was written) and the similar
    reports. All parts of the statement read one snapshot, so the new report is not among them."""
    params = _with_defaults(_columns(report, Report), _REPORT_COLUMNS)
    events = ReportEvent.__table__.c
    params["events"] = [
        {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in _with_defaults(_columns(event, ReportEvent), [events[k] for k in _EVENT_COLUMNS]).items()
        }
        for event in report.events
    ]
    params.update(_similar_params(report, now))
    rows = connection.execute(_STORE_WITH_SIMILAR, params).all()
    return rows[0].new_id, _nearby(report, [row for row in rows if row.id is not None])


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
        .on_conflict_do_nothing(index_elements=[reports.c.idempotency_key])
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
    similar = _SIMILAR.subquery("similar")
    one_row = select(literal_column("1").label("one")).subquery("one")  # the new id comes back with no similar row too
    return (
        select(select(new_report.c.id).scalar_subquery().label("new_id"), *similar.c)
        .select_from(one_row.outerjoin(similar, true()))
        .add_cte(new_events)
    )


def _by_key(session: Session, key: str) -> Report | None:
    report_id = session.scalar(select(Report.id).where(Report.idempotency_key == key))
    return session.get(Report, report_id) if report_id is not None else None


def _replay(
    session: Session, report: Report, key: str, fingerprint: str | None, secret_key: str, now: datetime
) -> Submission:
    if fingerprint is None or report.request_fingerprint != fingerprint:
        raise IdempotencyConflict()
    return Submission(report, reporter_token(secret_key, key), similar_reports(session, report, now), replayed=True)


def validate_attributes(
    definitions: list[dict[str, Any]], values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check values against the category's attribute definitions (Open311 datatypes).

    Returns the cleaned values and the errors by attribute code.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    by_code = {d["code"]: d for d in definitions}
    for code in values:
        if code not in by_code:
            errors[code] = ["unknown attribute for this category"]
    for code, definition in by_code.items():
        value = values.get(code)
        if value is None or value == "" or value == []:
            if definition.get("required"):
                errors[code] = ["is required"]
            continue
        problem = _attribute_problem(definition, value)
        if problem:
            errors[code] = [problem]
        else:
            cleaned[code] = value
    return cleaned, errors


def _attribute_problem(definition: dict[str, Any], value: Any) -> str | None:
    datatype = definition["datatype"]
    keys = {v["key"] for v in definition.get("values", [])}
    if datatype == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return "must be a number"
    elif datatype in ("string", "text"):
        limit = STRING_MAX if datatype == "string" else TEXT_MAX
        if not isinstance(value, str):
            return "must be a string"
        if len(value) > limit:
            return f"must be at most {limit} characters"
    elif datatype == "datetime":
        if not isinstance(value, str):
            return "must be an ISO 8601 date-time with a time zone"
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return "must be an ISO 8601 date-time with a time zone"
        if parsed.tzinfo is None:
            return "must include a time zone offset"
    elif datatype == "singlevaluelist":
        if not isinstance(value, str) or value not in keys:
            return "must be one of the allowed values"
    elif datatype == "multivaluelist":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "must be a list of allowed values"
        if not set(value) <= keys:
            return "contains values that are not allowed"
        if len(set(value)) != len(value):
            return "contains a value twice"
    return None


def _is_sensitive(session: Session, definitions: list[dict[str, Any]], values: dict[str, Any]) -> bool:
    """A report naming a sensitive species must never show its precise location in public."""
    names: list[str] = []
    for definition in definitions:
        if definition.get("values_from") == "taxa" and definition["code"] in values:
            value = values[definition["code"]]
            names += value if isinstance(value, list) else [value]
    if not names:
        return False
    return bool(session.scalar(select(Taxon.id).where(Taxon.scientific_name.in_(names), Taxon.sensitive.is_(True))))


# --- similar reports and supports ------------------------------------------------------------


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def similar_reports(session: Session, report: Report, now: datetime) -> list[dict[str, Any]]:
    """Open reports of the same category near this one, received in the last 30 days, nearest
    first. Sensitive sightings are left out: a distance would reveal where they are."""
    rows = session.connection().execute(_SIMILAR, _similar_params(report, now))
    return _nearby(report, rows)


def _radius(report: Report) -> int:
    return report.category.similar_radius_m if report.category else 50


def _similar_params(report: Report, now: datetime) -> dict[str, Any]:
    radius = _radius(report)
    dlat = radius / METRES_PER_DEGREE_LAT
    dlon = radius / (111_320.0 * math.cos(math.radians(report.lat)))
    scale = math.cos(math.radians(report.lat))
    return {
        "category_id": report.category_id,
        "report_id": report.id or 0,
        "since": now - SIMILAR_WINDOW,
        "lat": report.lat,
        "lon": report.lon,
        "scale2": scale * scale,
        "min_lat": report.lat - dlat,
        "max_lat": report.lat + dlat,
        "min_lon": report.lon - dlon,
        "max_lon": report.lon + dlon,
    }


def _nearby(report: Report, rows: Any) -> list[dict[str, Any]]:
    """The rows of :data:`_SIMILAR` within the category's radius, nearest first, as the API shows them."""
    radius = _radius(report)
    found = []
    for other in rows:
        distance = distance_m(report.lon, report.lat, other.lon, other.lat)
        if distance <= radius:
            found.append((distance, other))
    found.sort(key=lambda item: (item[0], item[1].id))
    return [
        {
            "reference": format_reference(other.received_at, other.id),
            "distance_m": round(distance, 1),
            "status": other.status,
        }
        for distance, other in found
    ]


# Nearest first in SQL (planar, in degrees scaled to metres), so a crowded spot costs a bounded
# read; the exact distance and the radius are checked in Python.
_PLANAR = (Report.lat - bindparam("lat")) * (Report.lat - bindparam("lat")) + (Report.lon - bindparam("lon")) * (
    Report.lon - bindparam("lon")
) * bindparam("scale2")
_SIMILAR = (
    select(Report.id, Report.received_at, Report.lon, Report.lat, Report.status)
    .where(
        Report.category_id == bindparam("category_id"),
        Report.id != bindparam("report_id"),
        in_constants(Report.status, OPEN_STATUSES),
        Report.sensitive.is_(False),
        Report.received_at >= bindparam("since", type_=Report.received_at.type),
        Report.lat.between(bindparam("min_lat"), bindparam("max_lat")),
        Report.lon.between(bindparam("min_lon"), bindparam("max_lon")),
    )
    .order_by(_PLANAR, Report.id)
    .limit(SIMILAR_LIMIT)
)
_STORE_WITH_SIMILAR = _store_with_similar_statement()


def add_media(
    session: Session, reference: str, token: str | None, files: dict[str, list[bytes]], *, media: Any
) -> tuple[Report, list[Any]]:
    """Photos (and a video) sent after the report, by its reporter (slow networks send the report
    first): the report and the new media. Counts include what the report already has; nothing is
    stored if one file is refused."""
    report = get_report(session, reference)
    if token is None:
        raise ReporterTokenMissing()
    verify_reporter_token(report, token)
    if not any(files.values()):
        raise InvalidReport({"photos": ["send at least one file"]}, "No file was sent.")
    photos = sum(1 for m in report.media if m.kind == "photo")
    videos = sum(1 for m in report.media if m.kind == "video")
    if photos + len(files.get("photos", [])) > media_services.MAX_PHOTOS:
        raise media_services.UploadRefused(
            "photos", "too_many_files", f"at most {media_services.MAX_PHOTOS} photos per report"
        )
    if videos + len(files.get("video", [])) > media_services.MAX_VIDEOS:
        raise media_services.UploadRefused("video", "too_many_files", "at most one video per report")
    uploads = media.check(files, report.program.code)
    return report, media.attach(session, report.id, uploads)


def add_support(session: Session, reference: str, client_id: str, now: datetime) -> tuple[Report, bool]:
    """Count one "me too" per phone; returns the report and whether this support is new."""
    report = get_report(session, reference)
    if report.status not in OPEN_STATUSES:
        raise ReportClosed()
    savepoint = session.begin_nested()
    try:
        session.add(Support(report_id=report.id, client_id=client_id, created_at=now))
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        return report, False
    savepoint.commit()
    # Counted in SQL, so concurrent supports on two processes add up.
    session.execute(
        update(Report)
        .where(Report.id == report.id)
        .values(support_count=Report.support_count + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(report, ["support_count"])
    return report, True


# --- public reads --------------------------------------------------------------------------


def get_report(session: Session, reference: str) -> Report:
    """The report with this public reference; :class:`ReportNotFound` otherwise."""
    parsed = parse_reference(reference)
    if parsed is None:
        raise ReportNotFound()
    year, report_id = parsed
    report = session.scalar(
        select(Report)
        .where(Report.id == report_id)
        .options(
            joinedload(Report.category),
            joinedload(Report.program),
            selectinload(Report.events),
            selectinload(Report.media),
        )
    )
    if report is None or report.received_at.year != year:
        raise ReportNotFound()
    return report


def list_reports(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    category: str | None = None,
    program: str | None = None,
    statuses: list[str] | None = None,
    since: datetime | None = None,
) -> Page[Report]:
    """Reports, newest first (received time, then number: a stable order), one page at a time."""
    query = (
        select(Report)
        .options(
            joinedload(Report.category),
            joinedload(Report.program),
            selectinload(Report.events),
            selectinload(Report.media),
        )
        .order_by(Report.received_at.desc(), Report.id.desc())
        .limit(limit + 1)
    )
    if category is not None:
        category_id = session.scalar(select(Category.id).where(Category.code == category))
        if category_id is None:
            raise InvalidQuery("category", "unknown category", code="unknown_category")
        query = query.where(Report.category_id == category_id)
    if program is not None:
        program_id = session.scalar(select(Program.id).where(Program.code == program))
        if program_id is None:
            raise InvalidQuery("program", "unknown program", code="unknown_program")
        query = query.where(Report.program_id == program_id)
    if statuses:
        query = query.where(Report.status.in_(statuses))
    if since is not None:
        query = query.where(Report.received_at >= since)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        # On the public location: a small box cannot pin a sensitive species down.
        query = query.where(Report.public_lon.between(min_lon, max_lon), Report.public_lat.between(min_lat, max_lat))
    if cursor is not None:
        received_at, last_id = decode_cursor(cursor, (DATETIME, int))
        query = query.where(
            or_(
                Report.received_at < received_at,
                and_(Report.received_at == received_at, Report.id < last_id),
            )
        )
    rows = list(session.scalars(query))
    return paginate(rows, limit, lambda r: [r.received_at.isoformat(), r.id])
