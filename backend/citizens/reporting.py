"""What the citizens' site reads to draw its pages: the categories a resident can pick, by program;
the attribute fields a category's form is generated from (the same types and bounds as the API);
the communes to place a report without a map; a report as the public may follow it, with the
reporter's own view when the browser holds its token. Pure reading."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.directory.models import Category
from backend.directory.services import list_categories
from backend.errors import DomainError
from backend.reports.intake import verify_reporter_token
from backend.reports.models import STATUS_LABELS, Report
from backend.reports.services import get_report
from backend.revision import current_revision
from backend.routing.services import Router
from backend.zones.models import Zone

# What a resident reads of a report's status.
MAX_REMEMBERED = 30


class CategoryUnavailable(DomainError):
    code = "category_not_found"
    status = 404
    message = "No active category has this code."


@dataclass(frozen=True)
class ProgramChoice:
    code: str
    name: str
    description: str
    categories: list[Category]


def programs(session: Session) -> list[ProgramChoice]:
    """The active categories a resident can report in, grouped by program (their order)."""
    grouped: dict[str, ProgramChoice] = {}
    for category in list_categories(session):
        program = category.program
        if program.code not in grouped:
            grouped[program.code] = ProgramChoice(program.code, program.name, program.description or "", [])
        grouped[program.code].categories.append(category)
    return list(grouped.values())


@dataclass(frozen=True)
class Commune:
    code: str
    name: str


@dataclass
class ReportForm:
    category: Category
    communes: list[Commune]
    takes_video: bool


def report_form(session: Session, code: str) -> ReportForm:
    """What the form of a category needs: its definition, the communes (to place a report
    without a map), whether it takes a video."""
    category = session.scalar(select(Category).where(Category.code == code, Category.active.is_(True)))
    if category is None:
        raise CategoryUnavailable()
    communes = [
        Commune(code, name)
        for code, name in session.execute(
            select(Zone.code, Zone.name).where(Zone.kind == "commune").order_by(Zone.name)
        )
    ]
    return ReportForm(category, communes, category.program.code == "vigies-eau")


def commune_point(session: Session, router: Router, code: str) -> tuple[float, float, float] | None:
    """A commune's reference point and radius (metres), to place a report by its commune."""
    zone_id = session.scalar(select(Zone.id).where(Zone.kind == "commune", Zone.code == code))
    table = router.table(session)
    if zone_id is None or zone_id not in table.index.by_id:
        return None
    return table.index.reference_point(zone_id)


@dataclass
class Followed:
    report: Report
    private: bool
    status_label: str

    @property
    def attributes(self) -> list[tuple[str, str]]:
        return attribute_rows(self.report)


def follow(session: Session, reference: str, tokens: dict[str, str]) -> Followed:
    """A report as the public follows it; with the reporter's view when ``tokens`` (what this
    browser keeps) holds the right token for it."""
    report = get_report(session, reference)
    private = False
    token = tokens.get(report.reference)
    if token:
        try:
            verify_reporter_token(report, token)
            private = True
        except DomainError:
            private = False
    return Followed(report, private, STATUS_LABELS.get(report.status, report.status))


def remembered(session: Session, tokens: dict[str, str]) -> list[Followed]:
    """The reports made from this browser (newest first), each with its current status; those
    whose token no longer matches are left out."""
    out = []
    for reference in reversed(list(tokens)[-MAX_REMEMBERED:]):
        try:
            followed = follow(session, reference, tokens)
        except DomainError:
            continue
        if followed.private:
            out.append(followed)
    return out


def attribute_fields(category: Category) -> list[dict[str, Any]]:
    """The category's attributes in form order, as the template draws them."""
    return sorted(category.attributes or [], key=lambda d: d.get("order", 0))


# The map's own background, for every process: the communes' outlines and the departmental roads,
# simplified, kept until the reference data's revision moves.
_BACKGROUND: dict[str, Any] = {"revision": None, "body": b""}
SIMPLIFY_DEGREES = 0.0001  # about 10 m: invisible at the zooms a resident uses


def map_background(session: Session) -> tuple[str, bytes]:
    """The communes and the departmental roads as one GeoJSON FeatureCollection (simplified,
    coordinates to 5 decimals), and its revision (an ETag)."""
    revision = current_revision(session)
    if _BACKGROUND["revision"] != revision:
        features = []
        rows = session.execute(
            select(Zone.kind, Zone.code, Zone.name, Zone.geometry)
            .where(Zone.kind.in_(("commune", "road")))
            .order_by(Zone.kind, Zone.code)
        )
        for kind, code, name, geometry in rows:
            simplified = shapely.set_precision(shape(geometry).simplify(SIMPLIFY_DEGREES), 0.00001)
            features.append(
                {
                    "type": "Feature",
                    "properties": {"kind": kind, "code": code, "name": name},
                    "geometry": mapping(simplified),
                }
            )
        body = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")).encode()
        _BACKGROUND.update(revision=revision, body=body)
    return str(_BACKGROUND["revision"]), _BACKGROUND["body"]


def attribute_rows(report: Report) -> list[tuple[str, str]]:
    """What the reporter said in the category's attributes, as they read it: each field's French
    label and the name of the value chosen."""
    rows = []
    for definition in attribute_fields(report.category):
        value = report.attributes.get(definition["code"])
        if value in (None, "", []):
            continue
        names = {str(v["key"]): v["name"] for v in definition.get("values") or []}
        values = value if isinstance(value, list) else [value]
        text = ", ".join(names.get(str(v), str(v)) for v in values)
        rows.append((definition.get("description") or definition["code"], text))
    return rows
