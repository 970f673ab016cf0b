"""Zone import, upsert and lookup."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from backend.db import upsert
from backend.errors import DomainError, InvalidQuery, NotFound
from backend.pagination import Page, decode_cursor, paginate
from backend.revision import bump_revision
from backend.zones import geometry as geo
from backend.zones.models import LINE_KINDS, ZONE_KINDS, Zone, ZoneAlias

DEFAULT_CORRIDOR_M = 15.0


class InvalidFeatures(DomainError):
    """Some features of an import cannot be used; nothing was imported."""

    code = "invalid_features"
    status = 422
    message = "Some features are invalid; nothing was imported."


class ZoneNotFound(NotFound):
    code = "zone_not_found"
    message = "No zone of that kind has that code."


@dataclass
class ZoneInput:
    """A zone ready to be stored: geometry already in WGS84 and checked."""

    kind: str
    code: str
    name: str
    geometry: BaseGeometry
    corridor_m: float | None = None
    approximate: bool = False
    properties: dict[str, Any] = field(default_factory=dict)
    parent: Zone | None = None


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)


def check_kind(kind: str) -> None:
    if kind not in ZONE_KINDS:
        raise InvalidQuery("kind", f"unknown zone kind; one of {', '.join(ZONE_KINDS)}", code="unknown_zone_kind")


def read_features(
    collection: Any,
    *,
    kind: str,
    srid: int = geo.WGS84,
    name_property: str = "name",
    code_property: str = "code",
) -> list[ZoneInput]:
    """Turn a GeoJSON FeatureCollection into zones, or raise :class:`InvalidFeatures` listing
    every bad feature by index (so a file is imported whole or not at all)."""
    check_kind(kind)
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise InvalidFeatures(
            "The file is not a GeoJSON FeatureCollection.", errors={"file": ["not a FeatureCollection"]}
        )
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidFeatures("The FeatureCollection has no features.", errors={"file": ["no features"]})
    problems: dict[str, list[str]] = {}
    zones: list[ZoneInput] = []
    seen: dict[str, int] = {}
    line = kind in LINE_KINDS
    for index, feature in enumerate(features):
        reasons: list[str] = []
        props = feature.get("properties") or {} if isinstance(feature, dict) else {}
        code = str(props.get(code_property) or "").strip()
        name = str(props.get(name_property) or "").strip()
        if not code:
            reasons.append(f"property {code_property!r} is missing")
        elif code in seen:
            reasons.append(f"code {code!r} already used by feature {seen[code]}")
        else:
            seen[code] = index
        if not name:
            reasons.append(f"property {name_property!r} is missing")
        shape = None
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise geo.GeometryError("not a GeoJSON Feature")
            shape = geo.round_coordinates(geo.reproject(geo.from_geojson(feature.get("geometry")), srid, geo.WGS84))
            geo.check(shape, line=line)
        except geo.GeometryError as exc:
            reasons.append(str(exc))
        if reasons:
            problems[str(index)] = reasons
            continue
        corridor = props.get("corridor_m", DEFAULT_CORRIDOR_M) if line else None
        extra = {k: v for k, v in props.items() if k not in (code_property, name_property, "corridor_m")}
        zones.append(
            ZoneInput(
                kind=kind,
                code=code,
                name=name,
                geometry=shape,
                corridor_m=float(corridor) if corridor is not None else None,
                approximate=bool(props.get("approximate", False)),
                properties=extra,
            )
        )
    if problems:
        raise InvalidFeatures(
            f"{len(problems)} of {len(features)} features are invalid; nothing was imported.",
            errors={"features": problems},
        )
    return zones


def store_zones(session: Session, zones: list[ZoneInput]) -> ImportResult:
    """Create or update each zone by (kind, code); flush."""
    result = ImportResult()
    for zone in zones:
        _, status = store_zone(session, zone)
        result.count(status)
    if result.created or result.updated:
        bump_revision(session)  # every process rebuilds its routing index
    return result


def store_zone(session: Session, zone: ZoneInput) -> tuple[Zone, str]:
    min_lon, min_lat, max_lon, max_lat = zone.geometry.bounds
    return upsert(
        session,
        Zone,
        {"kind": zone.kind, "code": zone.code},
        {
            "name": zone.name,
            "geometry": geo.to_geojson(zone.geometry),
            "min_lon": min_lon,
            "min_lat": min_lat,
            "max_lon": max_lon,
            "max_lat": max_lat,
            "corridor_m": zone.corridor_m,
            "approximate": zone.approximate,
            "properties": zone.properties,
            "parent_id": zone.parent.id if zone.parent else None,
        },
    )


def list_zones(
    session: Session,
    *,
    kind: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[Zone]:
    """Zones ordered by (kind, code), optionally of one kind and intersecting a bounding box."""
    query = select(Zone).order_by(Zone.kind, Zone.code).limit(limit + 1)
    if kind is not None:
        check_kind(kind)
        query = query.where(Zone.kind == kind)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        query = query.where(
            Zone.max_lon >= min_lon, Zone.min_lon <= max_lon, Zone.max_lat >= min_lat, Zone.min_lat <= max_lat
        )
    if cursor is not None:
        last_kind, last_code = decode_cursor(cursor, (str, str), "zones")
        query = query.where(tuple_(Zone.kind, Zone.code) > tuple_(last_kind, last_code))
    rows = list(session.scalars(query))
    return paginate(rows, limit, lambda zone: [zone.kind, zone.code], "zones")


def get_zone(session: Session, kind: str, code: str) -> Zone:
    """The zone of that kind and code, or the one a former code now stands for."""
    zone = session.scalar(select(Zone).where(Zone.kind == kind, Zone.code == code))
    if zone is None:
        alias = session.scalar(select(ZoneAlias).where(ZoneAlias.kind == kind, ZoneAlias.code == code))
        if alias is not None:
            zone = alias.zone
    if zone is None:
        raise ZoneNotFound()
    return zone
