"""The published seam between the backend and the sandbox (version 1).

The sandbox reads backend data and uses backend behaviour only through these functions
(import-linter enforces it). They return plain, anonymised data: never a model, never a
reporter's contact, a device id, free text or a sensitive species' precise location.
Their shapes are, for now, the public HTTP schemas' (the catalog's categories and zones, the
report's routing record): a change to those schemas changes this seam too, and must bump
:data:`EXPORT_VERSION`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma
from sqlalchemy.orm import Session

from backend.directory import services as directory
from backend.directory.schemas import CategorySchema
from backend.errors import InvalidFields
from backend.fields import ResponseSchema
from backend.reports import intake
from backend.reports import schemas as report_schemas
from backend.routing.services import Router
from backend.zones import schemas as zone_schemas
from backend.zones import services as zones
from backend.zones.models import ZONE_KINDS

EXPORT_VERSION = 1
__all__ = [
    "EXPORT_VERSION",
    "REPORT_EXAMPLE",
    "ZONE_KINDS",
    "CategoryShape",
    "PreviewShape",
    "ReportPayloadShape",
    "ReportRejected",
    "ZoneFeatureShape",
    "categories",
    "preview_report",
    "zones_of_kind",
]
MAX_ZONES = 200

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
        },
        "routing": report_schemas.RoutingSchema().dump(report.routing),
        "export_version": EXPORT_VERSION,
    }
