"""The parks, their walks and their nature zones as the apps read them."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from backend.fields import ResponseSchema
from backend.observations import qr
from backend.observations.services import centre
from backend.zones.schemas import GeometrySchema, ZoneFeatureSchema, ZonePropertiesSchema, zone_feature


class LonLatSchema(ResponseSchema):
    lon = ma.fields.Float(required=True)
    lat = ma.fields.Float(required=True)


class ZoneLinkSchema(ResponseSchema):
    slug = ma.fields.String(required=True, metadata={"example": "sausset-marais"})
    name = ma.fields.String(required=True, metadata={"example": "Le marais"})


class StationSchema(ResponseSchema):
    number = ma.fields.Integer(required=True, metadata={"description": "Station n…"})
    of = ma.fields.Integer(required=True, metadata={"description": "…of N on the walk"})
    previous = ma.fields.Nested(ZoneLinkSchema, allow_none=True, required=True)
    next = ma.fields.Nested(ZoneLinkSchema, allow_none=True, required=True)


class SpeciesBriefSchema(ResponseSchema):
    scientific_name = ma.fields.String(required=True, metadata={"example": "Ardea cinerea"})
    french_name = ma.fields.String(required=True, metadata={"example": "Héron cendré"})
    group = ma.fields.String(required=True, metadata={"example": "oiseau"})


class ObservedSpeciesSchema(ResponseSchema):
    scientific_name = ma.fields.String(required=True)
    french_name = ma.fields.String(required=True)
    sightings = ma.fields.Integer(required=True)


class ZonePhotoSchema(ResponseSchema):
    thumb = ma.fields.String(required=True, metadata={"example": "/api/v1/media/12/thumb"})
    display = ma.fields.String(required=True, metadata={"example": "/api/v1/media/12/display"})


class ParkZonePropertiesSchema(ZonePropertiesSchema):
    habitat = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    look_for = ma.fields.String(required=True, metadata={"description": "What to look for here"})
    season = ma.fields.String(required=True, metadata={"description": "The best season"})
    centre = ma.fields.Nested(LonLatSchema, required=True, metadata={"description": "The zone's reference point"})
    radius_m = ma.fields.Float(required=True, metadata={"description": "Its approximate radius, metres"})
    station = ma.fields.Nested(StationSchema, allow_none=True, required=True)
    species = ma.fields.List(
        ma.fields.Nested(SpeciesBriefSchema),
        required=True,
        metadata={"description": "Species commonly seen here (sensitive species are never listed for a zone)"},
    )
    page_url = ma.fields.String(required=True, metadata={"description": "The zone's page, the address its QR holds"})
    observed = ma.fields.List(
        ma.fields.Nested(ObservedSpeciesSchema),
        required=True,
        metadata={"description": "Species seen here in the last 12 months, most seen first (never a sensitive one)"},
    )
    photos = ma.fields.List(
        ma.fields.Nested(ZonePhotoSchema), required=True, metadata={"description": "Photos published of them"}
    )


class ParkZoneCardSchema(ZoneFeatureSchema):
    """A nature zone as a GeoJSON Feature, its properties the zone card."""

    properties = ma.fields.Nested(ParkZonePropertiesSchema, required=True)


def _link(zone: Any) -> dict[str, str] | None:
    return {"slug": zone.code, "name": zone.name} if zone else None


def park_zone_card(card: dict[str, Any], public_base_url: str) -> dict[str, Any]:
    zone, station = card["zone"], card["station"]
    feature = zone_feature(zone)
    lon, lat = centre(zone)
    feature["properties"].update(
        centre={"lon": lon, "lat": lat},
        radius_m=(zone.properties or {}).get("radius_m") or 0.0,
        habitat=(zone.properties or {}).get("habitat", ""),
        description=(zone.properties or {}).get("description", ""),
        look_for=(zone.properties or {}).get("look_for", ""),
        season=(zone.properties or {}).get("season", ""),
        station=(
            {
                "number": station.number,
                "of": station.of,
                "previous": _link(station.previous),
                "next": _link(station.next),
            }
            if station
            else None
        ),
        species=[
            {"scientific_name": t.scientific_name, "french_name": t.french_name, "group": t.group}
            for t in card["species"]
        ],
        page_url=qr.zone_url(public_base_url, zone.code),
        observed=card["observed"],
        photos=[{"thumb": f"/api/v1/media/{m}/thumb", "display": f"/api/v1/media/{m}/display"} for m in card["photos"]],
    )
    return feature


class BaladeStationSchema(ResponseSchema):
    number = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    habitat = ma.fields.String(required=True)
    centre = ma.fields.Nested(LonLatSchema, required=True)
    page_url = ma.fields.String(required=True)


class ParkRefSchema(ResponseSchema):
    slug = ma.fields.String(required=True, metadata={"example": "sausset"})
    name = ma.fields.String(required=True)


class BaladeSchema(ResponseSchema):
    park = ma.fields.Nested(ParkRefSchema, required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    length_m = ma.fields.Float(required=True, metadata={"description": "Along the route, metres"})
    route = ma.fields.Nested(GeometrySchema, required=True, metadata={"description": "A LineString, WGS84"})
    stations = ma.fields.List(ma.fields.Nested(BaladeStationSchema), required=True)


def balade_view(balade: Any, public_base_url: str) -> dict[str, Any]:
    stations = []
    for station in balade.stations:
        lon, lat = centre(station.zone)
        stations.append(
            {
                "number": station.position,
                "slug": station.zone.code,
                "name": station.zone.name,
                "habitat": (station.zone.properties or {}).get("habitat", ""),
                "centre": {"lon": lon, "lat": lat},
                "page_url": qr.zone_url(public_base_url, station.zone.code),
            }
        )
    return {
        "park": {"slug": balade.park.code, "name": balade.park.name},
        "title": balade.title,
        "description": balade.description,
        "length_m": balade.length_m,
        "route": balade.route,
        "stations": stations,
    }


class BaladeBriefSchema(ResponseSchema):
    title = ma.fields.String(required=True)
    length_m = ma.fields.Float(required=True)
    stations = ma.fields.Integer(required=True, metadata={"description": "How many stations"})


class ParkSchema(ResponseSchema):
    slug = ma.fields.String(required=True, metadata={"example": "sausset"})
    name = ma.fields.String(required=True)
    approximate = ma.fields.Boolean(required=True, metadata={"description": "The outline is an approximation"})
    communes = ma.fields.List(ma.fields.String(), required=True)
    area_ha = ma.fields.Float(required=True)
    centre = ma.fields.Nested(LonLatSchema, required=True)
    geometry = ma.fields.Nested(GeometrySchema, required=True)
    balade = ma.fields.Nested(BaladeBriefSchema, allow_none=True, required=True)
    zones = ma.fields.List(
        ma.fields.Nested(ZoneLinkSchema), required=True, metadata={"description": "Its nature zones"}
    )


def park_view(card: dict[str, Any]) -> dict[str, Any]:
    park, balade = card["park"], card["balade"]
    lon, lat = centre(park)
    return {
        "slug": park.code,
        "name": park.name,
        "approximate": park.approximate,
        "communes": list((park.properties or {}).get("communes", [])),
        "area_ha": float((park.properties or {}).get("area_ha") or 0.0),
        "centre": {"lon": lon, "lat": lat},
        "geometry": park.geometry,
        "balade": (
            {"title": balade.title, "length_m": balade.length_m, "stations": len(balade.stations)} if balade else None
        ),
        "zones": [{"slug": zone.code, "name": zone.name} for zone in card["zones"]],
    }


class SpeciesQuerySchema(ma.Schema):
    q = ma.fields.String(
        validate=ma.validate.Length(max=100),
        metadata={"description": "Part of a French or scientific name (accents and case ignored)", "example": "blong"},
    )
    group = ma.fields.String(
        validate=ma.validate.Length(max=64), metadata={"description": "oiseau, mammifère, plante…", "example": "oiseau"}
    )
    park = ma.fields.String(
        validate=ma.validate.Length(max=64), metadata={"description": "Species seen in this park's nature zones"}
    )
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))


class SpeciesSchema(ResponseSchema):
    scientific_name = ma.fields.String(required=True, metadata={"example": "Ixobrychus minutus"})
    french_name = ma.fields.String(required=True, metadata={"example": "Blongios nain"})
    group = ma.fields.String(required=True, metadata={"example": "oiseau"})
    status = ma.fields.String(required=True, metadata={"description": "Protection or interest"})
    sensitive = ma.fields.Boolean(
        required=True, metadata={"description": "Its sightings are shown at their park's reference point only"}
    )
    taxref_cd_nom = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "TAXREF's CD_NOM, when a TAXREF extract gave it"}
    )


class SpeciesListSchema(ResponseSchema):
    items = ma.fields.List(ma.fields.Nested(SpeciesSchema), required=True)


class MonthCountSchema(ResponseSchema):
    month = ma.fields.String(required=True, metadata={"example": "2026-11"})
    sightings = ma.fields.Integer(required=True)


class SpeciesCountSchema(ResponseSchema):
    scientific_name = ma.fields.String(required=True)
    french_name = ma.fields.String(required=True)
    sightings = ma.fields.Integer(required=True)


class StationCountSchema(ResponseSchema):
    number = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    sightings = ma.fields.Integer(
        required=True, metadata={"description": "Sightings in this zone (sensitive species are counted in none)"}
    )


class BiodiversitySchema(ResponseSchema):
    park = ma.fields.Nested(ParkRefSchema, required=True)
    since = ma.fields.String(required=True, metadata={"description": "The first day counted (12 months)"})
    species_richness = ma.fields.Integer(required=True, metadata={"description": "Species seen, sensitive included"})
    sightings_per_month = ma.fields.List(ma.fields.Nested(MonthCountSchema), required=True)
    most_seen = ma.fields.List(
        ma.fields.Nested(SpeciesCountSchema), required=True, metadata={"description": "Never a sensitive species"}
    )
    sensitive_species = ma.fields.Integer(
        required=True, metadata={"description": "How many sensitive species were seen (no place, no date)"}
    )
    stations = ma.fields.List(ma.fields.Nested(StationCountSchema), required=True)


class BaladeUpdateSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    stations = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        required=True,
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "The park's nature zones (slugs), in walking order"},
    )
