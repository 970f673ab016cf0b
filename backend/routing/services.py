"""Route a report: locate the point, check it is in the département, apply the rules."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from backend.directory.models import Category, Directorate, ExternalBody, Program, Unit
from backend.errors import DomainError
from backend.revision import current_revision
from backend.routing.geometry import IndexedZone, Place, ZoneIndex
from backend.routing.models import RoutingRule
from backend.routing.rules import Decision, Directory, Recipient, Rule, decide
from backend.zones.geometry import from_geojson
from backend.zones.models import Zone

log = logging.getLogger(__name__)


class OutsideTerritory(DomainError):
    """The point is not in Seine-Saint-Denis."""

    code = "outside_territory"
    status = 422
    message = (
        "This location is outside the Seine-Saint-Denis département (93); Signal93 only handles reports within it."
    )


class NoRoute(DomainError):
    """No rule can route this report: the rules are incomplete (an operator must fix them)."""

    code = "no_route"
    status = 422
    message = "No directorate handles this category at this location."


@dataclass(frozen=True)
class ProgramInfo:
    id: int
    code: str


@dataclass(frozen=True)
class CategoryInfo:
    """An active category as intake needs it (same attribute names as the model)."""

    id: int
    code: str
    name: str
    program_id: int
    program: ProgramInfo
    attributes: list[dict[str, Any]]
    similar_radius_m: int
    target_days: int


@dataclass(frozen=True)
class RoutingTable:
    """Everything routing needs, loaded from the database at one revision: zones, rules,
    recipients, and the active categories (so intake reads no catalog row per report).

    Whatever changes zones, rules, units, bodies or categories must call :func:`bump_revision`.
    """

    revision: str
    index: ZoneIndex
    rules: list[Rule]
    directory: Directory
    categories: dict[str, CategoryInfo]

    def locate(self, lon: float, lat: float) -> Place:
        return self.index.locate(lon, lat)

    def generalised(self, place: Place) -> tuple[float, float, float] | None:
        """Where the public is told a sensitive sighting at ``place`` (:meth:`locate`) is: the
        reference point of the park it is in (else of its commune) and that area's radius; None
        outside both."""
        area = place.first("park") or place.commune
        return self.index.reference_point(area.id) if area else None

    def id_of(self, kind: str, code: str) -> int | None:
        """The id of an active category, program or unit by its code; None if this table does not
        know it (inactive, or newer than the table): ask the database then. Codes never change
        their id, so a known one is always right."""
        if kind == "category":
            category = self.categories.get(code)
            return category.id if category else None
        if kind == "program":
            return next((c.program.id for c in self.categories.values() if c.program.code == code), None)
        if kind == "unit":
            unit = self.directory.units.get(code)
            return unit.id if unit else None
        return None

    def route(self, lon: float, lat: float, program: str, category: str) -> Decision:
        """The decision for a point; :class:`OutsideTerritory` or :class:`NoRoute` otherwise."""
        place = self.index.locate(lon, lat)
        if not place.in_territory:
            raise OutsideTerritory(errors={"json": {"location": ["outside the Seine-Saint-Denis département"]}})
        decision = decide(place, self.index, program, category, self.rules, self.directory)
        if decision is None:
            log.error("no routing rule matched", extra={"program": program, "category": category})
            raise NoRoute(errors={"json": {"category": ["no routing rule matches this category here"]}})
        return decision


def load_table(session: Session, revision: str) -> RoutingTable:
    """Read zones, rules, units and bodies into an immutable routing table."""
    zones = [
        (
            IndexedZone(id=z.id, kind=z.kind, code=z.code, name=z.name, parent_id=z.parent_id, corridor_m=z.corridor_m),
            from_geojson(z.geometry),
        )
        for z in session.scalars(select(Zone).order_by(Zone.id))
    ]
    rules = [
        Rule(
            code=r.code,
            programs=frozenset(r.programs),
            categories=frozenset(r.categories),
            condition=r.condition,
            zone_kind=r.zone_kind,
            target=r.target,
            directorate_code=r.directorate_code,
            unit_code=r.unit_code,
            unit_of=r.unit_of,
            message=r.public_message,
        )
        for r in session.scalars(
            select(RoutingRule).where(RoutingRule.active.is_(True)).order_by(RoutingRule.position, RoutingRule.id)
        )
    ]
    directory = Directory()
    for unit in session.scalars(select(Unit).where(Unit.active.is_(True)).options(joinedload(Unit.directorate))):
        recipient = Recipient(
            id=unit.id,
            code=unit.code,
            name=unit.name,
            directorate_id=unit.directorate_id,
            directorate_code=unit.directorate.code,
            directorate_name=unit.directorate.name,
            notify_method=unit.notify_method,
        )
        directory.units[unit.code] = recipient
        if unit.zone_id is not None:
            directory.unit_by_zone[(unit.directorate.code, unit.zone_id)] = recipient
    for body in session.scalars(select(ExternalBody).where(ExternalBody.active.is_(True))):
        if body.zone_id is not None:
            directory.body_by_zone[body.zone_id] = Recipient(id=body.id, code=body.code, name=body.name)
    for program, directorate in session.execute(
        select(Program.code, Directorate).join(Directorate, Program.directorate_id == Directorate.id)
    ):
        directory.program_directorate[program] = (directorate.id, directorate.code, directorate.name)
    categories = {
        category.code: CategoryInfo(
            id=category.id,
            code=category.code,
            name=category.name,
            program_id=category.program_id,
            program=ProgramInfo(id=category.program.id, code=category.program.code),
            attributes=category.attributes,
            similar_radius_m=category.similar_radius_m,
            target_days=category.target_days,
        )
        for category in session.scalars(
            select(Category)
            .join(Category.program)
            .where(Category.active.is_(True), Program.active.is_(True))
            .options(joinedload(Category.program))
        )
    }
    return RoutingTable(
        revision=revision, index=ZoneIndex(zones), rules=rules, directory=directory, categories=categories
    )


class Router:
    """Holds this process's routing table and rebuilds it when the database's revision moves.

    The revision is read at most once every ``refresh_seconds`` (0: on every use), so a
    change made by any process reaches every other within that delay.
    """

    def __init__(self, refresh_seconds: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._table: RoutingTable | None = None
        self._checked_at = -math.inf
        self._lock = threading.Lock()
        self.refresh_seconds = refresh_seconds
        self._clock = clock

    def table(self, session: Session) -> RoutingTable:
        """The current routing table."""
        table = self._table
        now = self._clock()
        if table is not None and now - self._checked_at < self.refresh_seconds:
            return table
        revision = current_revision(session)
        if table is not None and table.revision == revision:
            self._checked_at = now
            return table
        with self._lock:
            if self._table is None or self._table.revision != revision:
                self._table = load_table(session, revision)
                log.info("routing table built", extra={"revision": revision, "zones": len(self._table.index.zones)})
            self._checked_at = now
            return self._table
