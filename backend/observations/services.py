"""The parks' walks and their nature zones, as the apps and the zone pages show them."""

from __future__ import annotations

import bisect
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pyproj import Geod
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from backend.directory.agents import require_admin
from backend.directory.models import Agent, Category, Program, Taxon, Unit, search_text
from backend.errors import DomainError, InvalidFields, NotFound
from backend.media import services as media_services
from backend.media.models import Media
from backend.observations.models import Balade, BaladeStation, ZoneSpecies
from backend.reports.models import Report
from backend.revision import current_revision
from backend.zones import services as zones
from backend.zones.models import Zone

_GEOD = Geod(ellps="WGS84")
# A sighting counts in the zones' and parks' figures unless an ecologist found it unverifiable
# (its species, corrected or not, is the one its attributes hold).
COUNTED = or_(Report.identification.is_(None), Report.identification != "unverifiable")


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
    return zone.centre


def save_balade(session: Session, park: Zone, *, title: str, description: str, stations: list[Zone]) -> str:
    """Create or update the park's walk through ``stations`` in that order: its route is the line
    through their reference points, its length measured on the ellipsoid. Flushes; says
    ``created``, ``updated`` or ``unchanged``."""
    points = [centre(zone) for zone in stations]
    route: dict[str, Any] = {"type": "LineString", "coordinates": [[lon, lat] for lon, lat in points]}
    if len(points) == 1:  # a walk of one station (GeoJSON's LineString needs two positions)
        route = {"type": "Point", "coordinates": list(points[0])}
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


def zone_card(session: Session, slug: str, *, now: datetime) -> dict[str, Any]:
    """What a walker's app shows of a nature zone: the zone, its park, its station on the walk and
    its neighbours, the species commonly seen there, those seen there in the last 12 months (with
    how many sightings) and the photos published of them — never a sensitive species."""
    zone = get_park_zone(session, slug)
    observed: dict[str, int] = {}
    photos: list[int] = []
    rows = session.execute(
        select(Report.id, Report.attributes, Category.attributes)
        .join(Category, Category.id == Report.category_id)
        .where(
            Report.zone_id == zone.id,
            Report.sensitive.is_(False),
            Report.received_at >= now - timedelta(days=365),
            Report.status.not_in(("rejected", "duplicate")),
            COUNTED,
        )
        .order_by(Report.id.desc())
    )  # a year of one zone: read at once (a read-only session has no transaction to stream in)
    report_ids = []
    for report_id, values, definitions in rows:
        name = sighting_species(values, definitions)
        if name:
            observed[name] = observed.get(name, 0) + 1
        report_ids.append(report_id)
    taxa = {t.scientific_name: t for t in session.scalars(select(Taxon).where(Taxon.scientific_name.in_(observed)))}
    species = [
        {"scientific_name": name, "french_name": taxa[name].french_name, "sightings": count}
        for name, count in sorted(observed.items(), key=lambda item: (-item[1], item[0]))
        if name in taxa and not taxa[name].sensitive
    ]
    if report_ids:
        media = session.scalars(
            select(Media).where(Media.report_id.in_(report_ids[:500])).order_by(Media.id.desc()).limit(50)
        )
        photos = [m.id for m in media if m.kind == "photo" and media_services.is_public(m, sensitive=False)][:6]
    return {
        "zone": zone,
        "station": station_of(session, zone),
        "species": common_species(session, zone),
        "observed": species,
        "photos": photos,
    }


def park_card(session: Session, slug: str) -> dict[str, Any]:
    park = get_park(session, slug)
    balade = session.scalar(select(Balade).where(Balade.park_id == park.id))
    nature_zones = session.scalars(
        select(Zone).where(Zone.kind == "park_zone", Zone.parent_id == park.id).order_by(Zone.code)
    ).all()
    return {"park": park, "balade": balade, "zones": list(nature_zones)}


SPECIES_LIMIT = 20


@dataclass(frozen=True)
class SpeciesEntry:
    id: int
    search_key: str
    scientific_name: str
    french_name: str
    group: str
    status: str
    sensitive: bool
    taxref_cd_nom: int | None


# The species list, held by each process and reloaded when the reference data's revision moves (a
# taxon added, renamed, given its TAXREF id): autocompletion answers from memory, the database asked
# one primary-key read.
_SPECIES: dict[str, Any] = {"key": None, "entries": [], "blob": "", "offsets": []}
_SPECIES_LOCK = threading.Lock()


def _species_list(session: Session) -> dict[str, Any]:
    key = current_revision(session)  # bumped by whatever changes the species (the seed, a TAXREF import)
    with _SPECIES_LOCK:
        if _SPECIES["key"] != key:
            rows = session.execute(
                select(
                    Taxon.id,
                    Taxon.search_key,
                    Taxon.scientific_name,
                    Taxon.french_name,
                    Taxon.group,
                    Taxon.status,
                    Taxon.sensitive,
                    Taxon.taxref_cd_nom,
                ).order_by(Taxon.french_name, Taxon.id)
            )
            entries = [SpeciesEntry(*row) for row in rows]
            # Every key on its own line: a regular expression finds matches in C, not a Python loop.
            offsets, position = [], 1  # the blob opens with a newline: every name follows one
            for entry in entries:
                offsets.append(position)
                position += len(entry.search_key) + 1
            blob = "\n" + "\n".join(entry.search_key for entry in entries) + "\n"
            _SPECIES.update(key=key, entries=entries, blob=blob, offsets=offsets)
        return _SPECIES


def search_species(
    session: Session, q: str | None, *, group: str | None = None, park: str | None = None, limit: int = SPECIES_LIMIT
) -> list[SpeciesEntry]:
    """Species whose French or scientific name contains ``q`` (accents and case ignored), those
    whose name starts with it first, then by French name; of a ``group``, or seen in the nature
    zones of a ``park``. Sensitive species are listed: walkers must be able to report them."""
    words = search_text(q or "")
    if (q or "").strip() and not words:
        return []  # typed, but nothing a name holds (punctuation only)
    in_park: set[int] | None = None
    if park:
        the_park = get_park(session, park)
        in_park = set(
            session.scalars(
                select(ZoneSpecies.taxon_id)
                .join(Zone, Zone.id == ZoneSpecies.zone_id)
                .where(Zone.kind == "park_zone", Zone.parent_id == the_park.id)
            )
        )
    species = _species_list(session)
    entries, blob, offsets = species["entries"], species["blob"], species["offsets"]

    def keep(index: int) -> bool:
        entry = entries[index]
        return (not group or entry.group == group) and (in_park is None or entry.id in in_park)

    if not words:
        return [entry for index, entry in enumerate(entries) if keep(index)][:limit]
    found: dict[int, None] = {}  # names starting with the words (French-name order), then those containing them
    literal = re.escape(words)
    starting: list[int] = []
    for pattern in ("\n" + literal, "\\|" + literal):  # at the start of a French or of a scientific name
        taken = 0
        for match in re.finditer(pattern, blob):
            index = bisect.bisect_right(offsets, match.start() + 1) - 1
            if keep(index):
                starting.append(index)
                taken += 1
                if taken >= limit:
                    break
    for index in sorted(set(starting))[:limit]:
        found[index] = None
    if len(found) < limit:
        for match in re.finditer(literal, blob):
            index = bisect.bisect_right(offsets, match.start()) - 1
            if index not in found and keep(index):
                found[index] = None
                if len(found) >= limit:
                    break
    return [entries[i] for i in found]


BIODIVERSITY_MONTHS = 12


def sighting_species(values: dict[str, Any] | None, definitions: list[dict[str, Any]] | None) -> str | None:
    """The species a sighting names (its first species attribute), None when it names none."""
    for definition in definitions or []:
        if definition.get("values_from") == "taxa":
            value = (values or {}).get(definition["code"])
            if isinstance(value, list):
                value = value[0] if value else None
            if value:
                return str(value)
    return None


def park_biodiversity(session: Session, slug: str, *, now: datetime) -> dict[str, Any]:
    """A park's last 12 months of sightings: how many species, sightings per month, the most
    seen species, how many sensitive species (no place, no date), the walk's stations with the
    sightings made in each (sensitive ones counted in no station: a count would place them)."""
    park = get_park(session, slug)
    first = now.year * 12 + now.month - 1 - (BIODIVERSITY_MONTHS - 1)  # months since year 0
    since = now.replace(year=first // 12, month=first % 12 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    months = [f"{(first + n) // 12:04d}-{(first + n) % 12 + 1:02d}" for n in range(BIODIVERSITY_MONTHS)]
    units = select(Unit.id).where(Unit.zone_id == park.id)
    rows = session.execute(
        select(Report.received_at, Report.observed_at, Report.zone_id, Report.sensitive, Report.attributes)
        .add_columns(Category.attributes)
        .join(Category, Category.id == Report.category_id)
        .join(Program, Program.id == Report.program_id)
        .where(
            Program.code == "observacteurs",
            Report.unit_id.in_(units),
            Report.received_at >= since,
            Report.status.not_in(("rejected", "duplicate")),
            COUNTED,
        )
    )  # a year of one park: read at once (a read-only session has no transaction to stream in)
    balade = session.scalar(select(Balade).where(Balade.park_id == park.id))
    stations = list(balade.stations if balade else [])
    per_month = dict.fromkeys(months, 0)
    per_station = {station.zone_id: 0 for station in stations}
    seen: dict[str, int] = {}
    sensitive: set[str] = set()
    taxa = {t.scientific_name: t for t in session.scalars(select(Taxon))}
    for received_at, observed_at, zone_id, is_sensitive, values, definitions in rows:
        month = (observed_at or received_at).strftime("%Y-%m")
        if month in per_month:
            per_month[month] += 1
        name = next(
            (
                values.get(d["code"])
                for d in definitions or []
                if d.get("values_from") == "taxa" and values.get(d["code"])
            ),
            None,
        )
        if isinstance(name, list):
            name = name[0] if name else None
        if name:
            if is_sensitive or (taxa.get(name) and taxa[name].sensitive):
                sensitive.add(name)
            else:
                seen[name] = seen.get(name, 0) + 1
        if not is_sensitive and zone_id in per_station:
            per_station[zone_id] += 1
    top = sorted(seen.items(), key=lambda item: (-item[1], item[0]))[:10]
    return {
        "park": {"slug": park.code, "name": park.name},
        "since": since.date().isoformat(),
        "species_richness": len(seen) + len(sensitive),
        "sightings_per_month": [{"month": month, "sightings": count} for month, count in per_month.items()],
        "most_seen": [
            {
                "scientific_name": name,
                "french_name": taxa[name].french_name if name in taxa else name,
                "sightings": count,
            }
            for name, count in top
        ],
        "sensitive_species": len(sensitive),
        "stations": [
            {
                "number": station.position,
                "slug": station.zone.code,
                "name": station.zone.name,
                "sightings": per_station[station.zone_id],
            }
            for station in stations
        ],
    }


class NatureAdminsOnly(DomainError):
    code = "forbidden_for_directorate"
    status = 403
    message = "Only an admin of the nature and biodiversity directorate (DNPB) may edit the walks."


class InvalidBalade(InvalidFields):
    message = "The walk cannot be saved as it is."


def update_balade(
    session: Session, agent: Agent, slug: str, *, title: str, description: str, stations: list[str]
) -> Balade:
    """Replace a park's walk (its title, description and stations, in order) — DNPB admins only.
    Each station must be a nature zone of that park, once."""
    require_admin(agent)
    if agent.directorate.code != "DNPB":
        raise NatureAdminsOnly()
    park = get_park(session, slug)
    zones_of_park = {
        zone.code: zone
        for zone in session.scalars(select(Zone).where(Zone.kind == "park_zone", Zone.parent_id == park.id))
    }
    problems = [f"{code!r} is not a nature zone of this park" for code in stations if code not in zones_of_park]
    if len(set(stations)) != len(stations):
        problems.append("a zone is listed twice")
    if problems:
        raise InvalidBalade(errors={"json": {"stations": problems}})
    save_balade(
        session, park, title=title, description=description, stations=[zones_of_park[code] for code in stations]
    )
    return get_balade(session, park)
