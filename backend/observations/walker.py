"""What a walker's page shows of a nature zone: its card, a small plan of the walk drawn from our
own geometry, the species to pick from (narrowed by a search that needs no script), and the
choices of the sighting form. Pure reading: the page's form goes through the reports' intake."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.observations.models import Balade
from backend.observations.services import get_balade, search_species, zone_card
from backend.routing.services import Router
from backend.zones.models import Zone

SIGHTING_CATEGORY = "observation-espece"
PLAN_WIDTH = 320
PLAN_MARGIN = 18
SEARCH_LIMIT = 25


@dataclass(frozen=True)
class Choice:
    """A species a walker may pick: its scientific name (the value sent), its French name."""

    scientific_name: str
    french_name: str


@dataclass(frozen=True)
class PlanStation:
    x: float
    y: float
    number: int
    name: str
    slug: str
    here: bool


@dataclass(frozen=True)
class Plan:
    """The walk drawn in a box ``width`` wide and ``height`` high: the park's outline (SVG path), the route
    (SVG points) and its stations."""

    width: int
    height: int
    outline: str
    route: str
    stations: list[PlanStation] = field(default_factory=list)


@dataclass
class ZonePage:
    card: dict[str, Any]
    park: Zone | None
    plan: Plan | None
    query: str
    choices: list[Choice]
    attributes: dict[str, dict[str, Any]]


def zone_page(session: Session, slug: str, *, query: str, router: Router, now: datetime) -> ZonePage:
    """The zone's page: its card, the plan of its park's walk, the species to pick (the zone's
    common ones, or those matching ``query``) and the sighting's attribute definitions."""
    card = zone_card(session, slug, now=now)
    zone: Zone = card["zone"]
    park = zone.parent
    query = query.strip()[:100]
    if query:
        found = search_species(session, query, limit=SEARCH_LIMIT)
        choices = [Choice(entry.scientific_name, entry.french_name) for entry in found]
    else:
        choices = [Choice(taxon.scientific_name, taxon.french_name) for taxon in card["species"]]
    category = router.table(session).categories.get(SIGHTING_CATEGORY)
    attributes = {a["code"]: a for a in category.attributes} if category else {}
    return ZonePage(card, park, _plan(session, zone, park), query, choices, attributes)


def _plan(session: Session, zone: Zone, park: Zone | None) -> Plan | None:
    """The park's outline and its walk, projected (equirectangular at the park's latitude: a
    park is small enough) into a box ``PLAN_WIDTH`` wide; None when the park has no walk."""
    if park is None or session.scalar(select(Balade.id).where(Balade.park_id == park.id)) is None:
        return None
    stations = [station.zone for station in get_balade(session, park).stations]
    rings = _rings(park.geometry)
    points = [point for ring in rings for point in ring] + [s.centre for s in stations]
    min_lon, max_lon = min(p[0] for p in points), max(p[0] for p in points)
    min_lat, max_lat = min(p[1] for p in points), max(p[1] for p in points)
    squeeze = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lon - min_lon) * squeeze, 1e-9)
    span_y = max(max_lat - min_lat, 1e-9)
    scale = (PLAN_WIDTH - 2 * PLAN_MARGIN) / span_x
    height = round(span_y * scale + 2 * PLAN_MARGIN)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (
            round(PLAN_MARGIN + (lon - min_lon) * squeeze * scale, 1),
            round(PLAN_MARGIN + (max_lat - lat) * scale, 1),
        )

    outline = " ".join("M" + " L".join(f"{x},{y}" for x, y in (project(*p) for p in ring)) + " Z" for ring in rings)
    placed = [project(*s.centre) for s in stations]
    return Plan(
        width=PLAN_WIDTH,
        height=height,
        outline=outline,
        route=" ".join(f"{x},{y}" for x, y in placed),
        stations=[
            PlanStation(x, y, number, s.name, s.code, s.id == zone.id)
            for number, ((x, y), s) in enumerate(zip(placed, stations, strict=True), start=1)
        ],
    )


def _rings(geometry: dict[str, Any] | None) -> list[list[tuple[float, float]]]:
    """The outer rings of a Polygon or MultiPolygon, as (lon, lat) pairs."""
    if not geometry:
        return []
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        return []
    return [[(float(p[0]), float(p[1])) for p in polygon[0]] for polygon in polygons if polygon]
