"""The published seam between the backend and the sandbox (version 4: the open-data rows, a
sensitive sighting generalised to its park or commune with its uncertainty, and a sighting's
species as the nature directorate reviewed it).

The sandbox reads backend data and uses backend behaviour only through these functions
(import-linter enforces it). They return plain, anonymised data: never a model, never a
reporter's contact, a device id, free text or a sensitive species' precise location.
Their shapes are, for now, the public HTTP schemas' (the catalog's categories and zones, the
report's routing record): a change to those schemas changes this seam too, and must bump
:data:`EXPORT_VERSION`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO

import marshmallow as ma
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from backend.db import stream
from backend.directory import agents as directory_agents
from backend.directory import services as directory
from backend.directory.models import Category, Directorate, Program, Taxon
from backend.directory.schemas import CategorySchema
from backend.errors import DomainError, InvalidFields
from backend.fields import ResponseSchema
from backend.reports import intake
from backend.reports import schemas as report_schemas
from backend.reports.models import REFERENCE_PREFIX, Report, Reporter, ReportEvent, format_reference
from backend.routing.services import Router
from backend.web import sessions as console_session
from backend.zones import schemas as zone_schemas
from backend.zones import services as zones
from backend.zones.models import ZONE_KINDS, Zone

EXPORT_VERSION = 4
__all__ = [
    "CATEGORY_FIELDS",
    "CONSOLE_COOKIE",
    "DIRECTORATE_FIELDS",
    "EXPORT_VERSION",
    "RAW_REPORT_COLUMNS",
    "REPORT_EXAMPLE",
    "REPORT_FIELDS",
    "SIGHTING_FIELDS",
    "ZONE_FIELDS",
    "ZONE_KINDS",
    "CategoryShape",
    "PreviewShape",
    "ReportPayloadShape",
    "ReportRejected",
    "ZoneFeatureShape",
    "categories",
    "category_rows",
    "console_admin",
    "copy_public_reports",
    "department_bbox",
    "directorate_rows",
    "preview_report",
    "public_reports",
    "scrub",
    "sightings",
    "zone_rows",
    "zones_of_kind",
]
MAX_ZONES = 200
CONSOLE_COOKIE = console_session.COOKIE


def console_admin(session: Session, payload: Any, *, now: datetime) -> str | None:
    """The e-mail of the admin signed in to the staff console with this session cookie's content
    (``payload``, already verified), if the session is live, its token valid and the account an
    active admin's; None otherwise. The sandbox's organiser pages recognise admins so."""
    token = console_session.live_token(payload, now.timestamp())
    if token is None:
        return None
    try:
        agent, _ = directory_agents.authenticate(session, token, now=now)
    except DomainError:
        return None
    return agent.email if agent.powers.administers else None


# The sandbox routes with the same rules as intake; the table follows every change at once.
_router = Router(refresh_seconds=0.0)
_create_schema = report_schemas.ReportCreateSchema()


# The shapes of this seam, for the sandbox's document (marshmallow schemas: dump only).


class CategoryShape(CategorySchema):
    """A category as :func:`categories` yields it (plain keys, where the catalog's schema reads a model)."""

    program = ma.fields.String(required=True)
    directorate = ma.fields.String(required=True)


ZoneFeatureShape = zone_schemas.ZoneFeatureSchema
ReportPayloadShape = report_schemas.ReportCreateSchema
REPORT_EXAMPLE = report_schemas.REPORT_EXAMPLE


class PreviewShape(ResponseSchema):
    """What the real intake would answer to a report, without reference or reporter token."""

    category = ma.fields.Nested(report_schemas.CodeNameSchema, required=True)
    program = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["open", "referred"]})
    location = ma.fields.Nested(report_schemas.PublicLocationSchema, required=True)
    routing = ma.fields.Nested(report_schemas.RoutingSchema, required=True)
    export_version = ma.fields.Integer(required=True)


class ReportRejected(InvalidFields):
    """The payload would be refused by the real intake; ``errors`` names the fields."""


def categories(session: Session) -> list[dict[str, Any]]:
    """Active categories with their attribute definitions (the public catalog's shape)."""
    return CategorySchema(many=True).dump(directory.list_categories(session))


def zones_of_kind(session: Session, kind: str) -> dict[str, Any]:
    """Zones of one kind as a GeoJSON FeatureCollection (at most ``MAX_ZONES``)."""
    page = zones.list_zones(session, kind=kind, limit=MAX_ZONES)
    return {"type": "FeatureCollection", "features": [zone_schemas.zone_feature(z) for z in page.items]}


def preview_report(session: Session, payload: Any, *, now: datetime) -> dict[str, Any]:
    """Run a report through the real intake's validation and routing, storing nothing.

    Returns the public view the real intake would give (routing decision included), without
    reference or reporter token. Raises :class:`ReportRejected` (or the intake's own domain
    error, such as ``outside_territory``) when the real intake would refuse it.
    """
    try:
        data = _create_schema.load(payload)
    except ma.ValidationError as exc:
        raise ReportRejected("The report contains invalid fields.", errors={"json": exc.messages}) from exc
    report = intake.prepare_report(session, data, router=_router, now=now)
    return {
        "category": {"code": report.category.code, "name": report.category.name},
        "program": report.program.code,
        "status": report.status,
        "location": {
            "lat": report.public_lat,
            "lon": report.public_lon,
            "precision": "coarsened" if report.sensitive else "exact",
            "uncertainty_m": report.public_uncertainty_m,
        },
        "routing": report_schemas.RoutingSchema().dump(report.routing),
        "export_version": EXPORT_VERSION,
    }


# --- open data (version 2) --------------------------------------------------------------------
# Each row stream below is what a dataset publishes, column by column: its fields and their types
# (the Explore API's: text, int, double, boolean, date, datetime, geo_point_2d), then the rows,
# read in batches (constant memory, whatever the table's size).

REPORT_FIELDS = {
    "reference": "text",
    "program": "text",
    "category": "text",
    "category_name": "text",
    "status": "text",
    "geo_point_2d": "geo_point_2d",
    "location_precision": "text",
    "location_uncertainty_m": "double",
    "commune": "text",
    "commune_name": "text",
    "territory": "text",
    "territory_name": "text",
    "directorate": "text",
    "unit": "text",
    "received_at": "datetime",
    "acknowledged_at": "datetime",
    "resolved_at": "datetime",
    "support_count": "int",
    "description": "text",
}
BATCH = 1000

# What a published description must not carry: e-mail addresses, phone numbers, links.
_SCRUBBED = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE), "[courriel masqué]"),
    (
        re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:fr|com|org|net|eu|info|io)(?:/\S*)?\b", re.I),
        "[lien masqué]",
    ),
    (
        re.compile(r"(?:(?:\+|00)\d{2,3}[\s.-]?\(?0?\)?[\s.-]?[1-9]|\b0[1-9])(?:[\s.-]?\d{2}){4}\b"),
        "[téléphone masqué]",
    ),
)


def scrub(text: str, names: tuple[str, ...] = ()) -> str:
    """``text`` without e-mail addresses, phone numbers, links, nor any of ``names`` (the
    reporter's own, when it is written in the text)."""
    for pattern, replacement in _SCRUBBED:
        text = pattern.sub(replacement, text)
    for name in names:
        if name and len(name.strip()) >= 3:
            text = re.sub(re.escape(name.strip()), "[nom masqué]", text, flags=re.I)
    return text.strip()


def _first_status(status: str) -> Any:
    """When each report first reached ``status`` (a subquery: report_id, at)."""
    event = aliased(ReportEvent)
    return (
        select(event.report_id, func.min(event.at).label("at"))
        .where(event.kind == "status", event.data["status"].as_string() == status)
        .group_by(event.report_id)
        .subquery()
    )


def public_reports(session: Session) -> Iterator[dict[str, Any]]:
    """Every report as the public may see it, oldest first (:data:`REPORT_FIELDS`): its public
    point (a sensitive species' coarsened to about 1 km), where and to whom it was routed (as
    recorded), its dates. No reporter, no device id; the description only where an agent marked
    it publishable, and then :func:`scrub`-bed."""
    for raw in _raw_reports(session):
        row = dict(zip(RAW_REPORT_COLUMNS, raw, strict=True))
        name, description = row.pop("reporter_name"), row.pop("description")
        lon, lat = row.pop("lon"), row.pop("lat")
        yield {
            **{field: row[field] for field in REPORT_FIELDS if field in row},
            "geo_point_2d": {"lon": lon, "lat": lat},
            "description": (scrub(description, (name or "",)) or None) if description is not None else None,
        }


# The same rows in bulk, for the open data's largest file: REPORT_FIELDS with the point as two
# columns, the description unscrubbed (only where publishable) and the reporter's name beside it
# (only there too), for :func:`scrub` to remove it from the text. Never published as they are.
RAW_REPORT_COLUMNS = {
    "reference": "VARCHAR",
    "program": "VARCHAR",
    "category": "VARCHAR",
    "category_name": "VARCHAR",
    "status": "VARCHAR",
    "lon": "DOUBLE",
    "lat": "DOUBLE",
    "location_precision": "VARCHAR",
    "location_uncertainty_m": "DOUBLE",
    "commune": "VARCHAR",
    "commune_name": "VARCHAR",
    "territory": "VARCHAR",
    "territory_name": "VARCHAR",
    "directorate": "VARCHAR",
    "unit": "VARCHAR",
    "received_at": "TIMESTAMPTZ",
    "acknowledged_at": "TIMESTAMPTZ",
    "resolved_at": "TIMESTAMPTZ",
    "support_count": "BIGINT",
    "description": "VARCHAR",
    "reporter_name": "VARCHAR",
}
_ZONE = (
    "(SELECT zone ->> '{field}' FROM json_array_elements(r.routing -> 'zones') AS zone"
    " WHERE zone ->> 'kind' = '{kind}' LIMIT 1)"
)
_FIRST = (
    "(SELECT report_id, min(at) AS at FROM report_events WHERE kind = 'status' AND data ->> 'status' = '{status}'"
    " GROUP BY report_id)"
)
# What PostgreSQL's COPY sends: the very rows of :func:`_raw_reports`, computed by the server.
PUBLIC_REPORTS_SQL = f"""
SELECT '{REFERENCE_PREFIX}-' || to_char(r.received_at AT TIME ZONE 'UTC', 'YYYY') || '-' || to_char(r.id, 'FM000000'),
    p.code, c.code, c.name, r.status, r.public_lon, r.public_lat,
    CASE WHEN r.sensitive THEN 'coarsened' ELSE 'exact' END, r.public_uncertainty_m, r.commune_code,
    {_ZONE.format(field="name", kind="commune")}, {_ZONE.format(field="code", kind="territory")},
    {_ZONE.format(field="name", kind="territory")},
    r.routing -> 'directorate' ->> 'code', r.routing -> 'unit' ->> 'code',
    r.received_at, acknowledged.at, resolved.at, r.support_count,
    CASE WHEN r.description_public THEN r.description END, CASE WHEN r.description_public THEN reporter.name END
FROM reports AS r
JOIN programs AS p ON p.id = r.program_id
JOIN categories AS c ON c.id = r.category_id
LEFT JOIN {_FIRST.format(status="acknowledged")} AS acknowledged ON acknowledged.report_id = r.id
LEFT JOIN {_FIRST.format(status="resolved")} AS resolved ON resolved.report_id = r.id
LEFT JOIN reporters AS reporter ON reporter.report_id = r.id
ORDER BY r.id
"""  # noqa: S608 (constants only)


def copy_public_reports(session: Session, file: BinaryIO) -> None:
    """Every report, in the raw layout of :data:`RAW_REPORT_COLUMNS`, as CSV with a header into
    ``file``: PostgreSQL's COPY streams it on that server (the rows never pass through Python),
    elsewhere the rows are read in batches and written. Constant memory either way."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY ({PUBLIC_REPORTS_SQL}) TO STDOUT WITH (FORMAT csv)") as copy:
            file.write((",".join(RAW_REPORT_COLUMNS) + "\n").encode())
            for block in copy:
                file.write(block)
        return
    text = io.TextIOWrapper(file, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(RAW_REPORT_COLUMNS)
    for raw in _raw_reports(session):
        writer.writerow(["" if value is None else _text(value) for value in raw])
    text.detach()


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + ("" if value.tzinfo else "+00:00")
    return value


def _raw_reports(session: Session) -> Iterator[tuple[Any, ...]]:
    """The rows of :data:`RAW_REPORT_COLUMNS`, oldest report first, read in batches."""
    acknowledged, resolved = _first_status("acknowledged"), _first_status("resolved")
    statement = (
        select(
            Report.id,
            Report.received_at,
            Report.status,
            Program.code,
            Category.code,
            Category.name,
            Report.public_lon,
            Report.public_lat,
            Report.sensitive,
            Report.public_uncertainty_m,
            Report.commune_code,
            Report.routing,
            Report.support_count,
            acknowledged.c.at,
            resolved.c.at,
            Report.description_public,
            Report.description,
            Reporter.name,
        )
        .join(Program, Report.program_id == Program.id)
        .join(Category, Report.category_id == Category.id)
        .outerjoin(acknowledged, acknowledged.c.report_id == Report.id)
        .outerjoin(resolved, resolved.c.report_id == Report.id)
        .outerjoin(Reporter, Reporter.report_id == Report.id)
        .order_by(Report.id)
        .execution_options(yield_per=BATCH)
    )
    for row in stream(session, statement):
        (report_id, received_at, status, program, category, category_name, lon, lat, sensitive, uncertainty) = row[:10]
        commune, routing, supports, acknowledged_at, resolved_at, publishable, description, name = row[10:]
        zones_by_kind: dict[str, dict[str, Any]] = {}
        for zone in routing.get("zones", []):
            zones_by_kind.setdefault(zone["kind"], zone)  # the first of each kind, as the SQL takes it
        yield (
            format_reference(received_at, report_id),
            program,
            category,
            category_name,
            status,
            lon,
            lat,
            "coarsened" if sensitive else "exact",
            uncertainty,
            commune,
            zones_by_kind.get("commune", {}).get("name"),
            zones_by_kind.get("territory", {}).get("code"),
            zones_by_kind.get("territory", {}).get("name"),
            (routing.get("directorate") or {}).get("code"),
            (routing.get("unit") or {}).get("code"),
            received_at,
            acknowledged_at,
            resolved_at,
            supports,
            description if publishable else None,
            name if publishable else None,
        )


ZONE_FIELDS = {
    "code": "text",
    "name": "text",
    "parent": "text",
    "parent_name": "text",
    "approximate": "boolean",
    "geo_point_2d": "geo_point_2d",
}


def zone_rows(session: Session, kind: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """The zones of ``kind`` (communes, territories, parks, departmental roads…) by code: each a
    row of :data:`ZONE_FIELDS` (its point: the centre of its bounding box) and its GeoJSON
    geometry (WGS84)."""
    parent = aliased(Zone)
    statement = (
        select(Zone, parent.code, parent.name)
        .outerjoin(parent, Zone.parent_id == parent.id)
        .where(Zone.kind == kind)
        .order_by(Zone.code)
        .execution_options(yield_per=100)
    )
    for zone, parent_code, parent_name in stream(session, statement):
        row = {
            "code": zone.code,
            "name": zone.name,
            "parent": parent_code,
            "parent_name": parent_name,
            "approximate": zone.approximate,
            "geo_point_2d": {"lon": (zone.min_lon + zone.max_lon) / 2, "lat": (zone.min_lat + zone.max_lat) / 2},
        }
        yield row, zone.geometry


def department_bbox(session: Session) -> tuple[float, float, float, float] | None:
    """The département's extent (min lon, min lat, max lon, max lat: its communes'), None before
    the zones are loaded."""
    extent = session.execute(
        select(func.min(Zone.min_lon), func.min(Zone.min_lat), func.max(Zone.max_lon), func.max(Zone.max_lat)).where(
            Zone.kind == "commune"
        )
    ).one()
    return None if extent[0] is None else tuple(extent)  # type: ignore[return-value]


CATEGORY_FIELDS = {
    "code": "text",
    "name": "text",
    "description": "text",
    "program": "text",
    "program_name": "text",
    "directorate": "text",
    "keywords": "text",
    "target_days": "int",
    "attributes": "text",
}


def category_rows(session: Session) -> Iterator[dict[str, Any]]:
    """The active categories (:data:`CATEGORY_FIELDS`); ``attributes``: their definitions as the
    catalog gives them, in JSON."""
    for category in categories(session):
        program = session.scalar(select(Program).where(Program.code == category["program"]))
        yield {
            "code": category["code"],
            "name": category["name"],
            "description": category["description"],
            "program": category["program"],
            "program_name": program.name if program else None,
            "directorate": category["directorate"],
            "keywords": ", ".join(category["keywords"]),
            "target_days": category["target_days"],
            "attributes": json.dumps(category["attributes"], ensure_ascii=False),
        }


DIRECTORATE_FIELDS = {
    "code": "text",
    "name": "text",
    "description": "text",
    "programs": "text",
    "units_count": "int",
    "units": "text",
}


def directorate_rows(session: Session) -> Iterator[dict[str, Any]]:
    """The directorates (:data:`DIRECTORATE_FIELDS`): their programs and their active units (by
    name; never where a unit is notified)."""
    for directorate in session.scalars(select(Directorate).order_by(Directorate.code)):
        programs = session.scalars(
            select(Program.code).where(Program.directorate_id == directorate.id, Program.active.is_(True))
        )
        units = [unit.name for unit in directorate.units if unit.active]
        yield {
            "code": directorate.code,
            "name": directorate.name,
            "description": directorate.description,
            "programs": ", ".join(sorted(programs)),
            "units_count": len(units),
            "units": " ; ".join(units),
        }


SIGHTING_FIELDS = {
    "reference": "text",
    "category": "text",
    "species": "text",
    "species_name": "text",
    "group": "text",
    "count": "int",
    "observed_at": "datetime",
    "geo_point_2d": "geo_point_2d",
    "location_precision": "text",
    "location_uncertainty_m": "double",
    "park": "text",
    "park_name": "text",
    "zone": "text",
    "status": "text",
    "identification": "text",
}


def sightings(session: Session) -> Iterator[dict[str, Any]]:
    """The public sightings (:data:`SIGHTING_FIELDS`): each report naming a species, oldest
    first, its point public as the public API gives it (a sensitive species' coarsened), the park
    it was routed to, and its nature zone when it came through one."""
    statement = (
        select(Report.id, Report.received_at, Report.observed_at, Report.status, Category.code, Category.attributes)
        .add_columns(Report.attributes, Report.public_lon, Report.public_lat, Report.sensitive, Report.routing)
        .add_columns(Report.public_uncertainty_m, Zone.code, Report.identification)
        .outerjoin(Zone, Zone.id == Report.zone_id)
        .join(Category, Report.category_id == Category.id)
        .join(Program, Report.program_id == Program.id)
        .where(Program.code == "observacteurs")
        .order_by(Report.id)
        .execution_options(yield_per=BATCH)
    )
    taxa: dict[str, Taxon] = {}
    for row in stream(session, statement):
        report_id, received_at, observed_at, status, category, definitions, values = row[:7]
        lon, lat, sensitive, routing, uncertainty, zone_code, identification = row[7:]
        species = next(
            (values.get(d["code"]) for d in definitions if d.get("values_from") == "taxa" and values.get(d["code"])),
            None,
        )
        if isinstance(species, list):
            species = species[0] if species else None
        if species and species not in taxa:
            taxon = session.scalar(select(Taxon).where(Taxon.scientific_name == species))
            if taxon is not None:
                taxa[species] = taxon
        taxon = taxa.get(species) if species else None
        count = values.get("nombre")
        park = next((zone for zone in routing.get("zones", []) if zone["kind"] == "park"), {})
        yield {
            "reference": format_reference(received_at, report_id),
            "category": category,
            "species": species,
            "species_name": taxon.french_name if taxon else None,
            "group": taxon.group if taxon else None,
            "count": int(count) if isinstance(count, int | float) and count == count and abs(count) < 2**53 else None,
            "observed_at": observed_at or received_at,
            "geo_point_2d": {"lon": lon, "lat": lat},
            "location_precision": "coarsened" if sensitive else "exact",
            "location_uncertainty_m": uncertainty,
            "park": park.get("code"),
            "park_name": park.get("name"),
            "zone": None if sensitive else zone_code,  # a sensitive species is placed in no zone
            "status": status,
            "identification": identification or "unverified",
        }
