"""The parks' walks and their nature zones, as the apps and the zone pages show them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyproj import Geod
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from backend.directory.models import Taxon
from backend.errors import NotFound
from backend.observations.models import Balade, BaladeStation, ZoneSpecies
from backend.zones import services as zones
from backend.zones.models import Zone

_GEOD = Geod(ellps="WGS84")


class ParkNotFound(NotFound):
    code = "park_not_found"
    message = "No departmental park has this slug."


class ParkZoneNotFound(NotFound):
    code = "park_zone_not_found"
    message = "No nature zone has this slug."


class BaladeNotFound(NotFound):
    code = "balade_not_found"
    message = "This park has no walk yet."


def centre(zone: Zone) -> tuple[float, float]:
    """A zone's reference point (lon, lat): the one its seed gives, else its bounding box's centre."""
    given = (zone.properties or {}).get("centre")
    if given:
        return float(given[0]), float(given[1])
    return (zone.min_lon + zone.max_lon) / 2, (zone.min_lat + zone.max_lat) / 2


def save_balade(session: Session, park: Zone, *, title: str, description: str, stations: list[Zone]) -> str:
    """Create or update the park's walk through ``stations`` in that order: its route is the line
    through their reference points, its length measured on the ellipsoid. Flushes; says
    ``created``, ``updated`` or ``unchanged``."""
    points = [centre(zone) for zone in stations]
    route = {"type": "LineString", "coordinates": [[lon, lat] for lon, lat in points]}
    lons, lats = zip(*points, strict=True)
    length = round(_GEOD.line_length(lons, lats)) if len(points) > 1 else 0.0
    balade = session.scalar(select(Balade).where(Balade.park_id == park.id))
    values = {"title": title, "description": description, "length_m": float(length), "route": route}
    if balade is None:
        balade = Balade(park_id=park.id, **values)
        session.add(balade)
        status = "created"
    else:
        status = "unchanged"
        for name, value in values.items():
            if getattr(balade, name) != value:
                setattr(balade, name, value)
                status = "updated"
    order = [zone.id for zone in stations]
    if [station.zone_id for station in balade.stations] != order:
        balade.stations.clear()
        session.flush()  # the old positions go before the new ones take their place
        balade.stations.extend(
            BaladeStation(position=number, zone_id=zone_id) for number, zone_id in enumerate(order, 1)
        )
        status = "updated" if status == "unchanged" else status
    session.flush()
    return status


def set_zone_species(session: Session, zone: Zone, taxa: list[Taxon]) -> bool:
    """Make ``taxa`` the species commonly seen in ``zone``; whether anything changed. Flushes."""
    rows = session.scalars(select(ZoneSpecies).where(ZoneSpecies.zone_id == zone.id)).all()
    current = {row.taxon_id: row for row in rows}
    wanted = {taxon.id for taxon in taxa}
    for taxon_id in set(current) - wanted:
        session.delete(current[taxon_id])
    for taxon_id in wanted - set(current):
        session.add(ZoneSpecies(zone_id=zone.id, taxon_id=taxon_id))
    session.flush()
    return set(current) != wanted


def get_park(session: Session, slug: str) -> Zone:
    try:
        return zones.get_zone(session, "park", slug)
    except zones.ZoneNotFound:
        raise ParkNotFound(errors={"path": {"slug": ["no such park"]}}) from None


def get_park_zone(session: Session, slug: str) -> Zone:
    """A nature zone by its slug, or by a slug it answered to before (renamed, merged)."""
    try:
        return zones.get_zone(session, "park_zone", slug)
    except zones.ZoneNotFound:
        raise ParkZoneNotFound(errors={"path": {"slug": ["no such nature zone"]}}) from None


def get_balade(session: Session, park: Zone) -> Balade:
    balade = session.scalar(
        select(Balade)
        .where(Balade.park_id == park.id)
        .options(selectinload(Balade.stations).selectinload(BaladeStation.zone))
    )
    if balade is None:
        raise BaladeNotFound(errors={"path": {"slug": ["this park has no walk"]}})
    return balade


@dataclass(frozen=True)
class Station:
    number: int
    of: int
    previous: Zone | None
    next: Zone | None


def station_of(session: Session, zone: Zone) -> Station | None:
    """Where the zone stands on its park's walk (None when it is on none)."""
    row = session.scalar(select(BaladeStation).where(BaladeStation.zone_id == zone.id))
    if row is None:
        return None
    stations = [station.zone for station in get_balade(session, row.balade.park).stations]
    index = row.position - 1
    return Station(
        number=row.position,
        of=len(stations),
        previous=stations[index - 1] if index > 0 else None,
        next=stations[index + 1] if index + 1 < len(stations) else None,
    )


def common_species(session: Session, zone: Zone) -> list[Taxon]:
    """The species commonly seen in the zone that the public may be told of: never a sensitive
    one (a zone card naming it would place it there)."""
    return list(
        session.scalars(
            select(Taxon)
            .join(ZoneSpecies, ZoneSpecies.taxon_id == Taxon.id)
            .where(ZoneSpecies.zone_id == zone.id, Taxon.sensitive.is_(False))
            .order_by(Taxon.french_name)
        )
    )


def zone_card(session: Session, slug: str) -> dict[str, Any]:
    """What a walker's app shows of a nature zone: the zone, its park, its station on the walk and
    its neighbours, the species commonly seen there."""
    zone = get_park_zone(session, slug)
    return {"zone": zone, "station": station_of(session, zone), "species": common_species(session, zone)}


def park_card(session: Session, slug: str) -> dict[str, Any]:
    park = get_park(session, slug)
    balade = session.scalar(select(Balade).where(Balade.park_id == park.id))
    nature_zones = session.scalars(
        select(Zone).where(Zone.kind == "park_zone", Zone.parent_id == park.id).order_by(Zone.code)
    ).all()
    return {"park": park, "balade": balade, "zones": list(nature_zones)}
