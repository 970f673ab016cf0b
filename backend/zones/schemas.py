"""Zones as GeoJSON, and the zone list's query parameters."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from backend.fields import BBOX_METADATA, BBoxField, OpenNested, ResponseSchema
from backend.pagination import DEFAULT_LIMIT, MAX_LIMIT
from backend.zones.models import ZONE_KINDS


class ZoneQuerySchema(ma.Schema):
    kind = ma.fields.String(validate=ma.validate.OneOf(ZONE_KINDS), metadata={"description": "Zone kind"})
    bbox = BBoxField(metadata=BBOX_METADATA)
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT, validate=ma.validate.Range(1, MAX_LIMIT))
    cursor = ma.fields.String(metadata={"description": "The `next_cursor` of the previous page"})


def zone_feature(zone: Any) -> dict[str, Any]:
    """A zone as a GeoJSON Feature; the zone's own properties, then ours (which win)."""
    properties = dict(zone.properties or {})
    properties.update(
        kind=zone.kind,
        code=zone.code,
        name=zone.name,
        approximate=zone.approximate,
        parent={"kind": zone.parent.kind, "code": zone.parent.code, "name": zone.parent.name} if zone.parent else None,
    )
    if zone.corridor_m is not None:
        properties["corridor_m"] = zone.corridor_m
    return {
        "type": "Feature",
        "id": f"{zone.kind}:{zone.code}",
        "bbox": [zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat],
        "geometry": zone.geometry,
        "properties": properties,
    }


GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")


class GeometrySchema(ResponseSchema):
    """A GeoJSON geometry (RFC 7946), WGS84 ``[lon, lat]`` positions."""

    type = ma.fields.String(required=True, metadata={"enum": list(GEOMETRY_TYPES)})
    coordinates = ma.fields.List(
        ma.fields.Raw(),
        required=True,
        metadata={
            "description": "Positions [lon, lat], nested as the type says (a Polygon: rings of positions)",
            "items": {},
        },
    )


class ZoneRefOutSchema(ResponseSchema):
    kind = ma.fields.String(required=True, metadata={"enum": list(ZONE_KINDS)})
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class ZonePropertiesSchema(ResponseSchema):
    """The zone's own properties (from its source file: kept as they are), then Signal93's."""

    kind = ma.fields.String(required=True, metadata={"enum": list(ZONE_KINDS)})
    code = ma.fields.String(required=True, metadata={"example": "93066"})
    name = ma.fields.String(required=True, metadata={"example": "Saint-Denis"})
    approximate = ma.fields.Boolean(required=True, metadata={"description": "The outline is an approximation"})
    parent = ma.fields.Nested(ZoneRefOutSchema, allow_none=True, required=True)
    corridor_m = ma.fields.Float(metadata={"description": "A road's corridor width, metres"})


class ZoneFeatureSchema(ResponseSchema):
    """A GeoJSON Feature (geometry in WGS84, [lon, lat])."""

    type = ma.fields.String(required=True, metadata={"enum": ["Feature"]})
    id = ma.fields.String(required=True, metadata={"example": "commune:93066"})
    bbox = ma.fields.List(ma.fields.Float(), required=True, metadata={"minItems": 4, "maxItems": 4})
    geometry = ma.fields.Nested(GeometrySchema, required=True)
    properties = OpenNested(ZonePropertiesSchema, required=True)


class ZoneCollectionSchema(ResponseSchema):
    """A GeoJSON FeatureCollection with the cursor of the next page."""

    type = ma.fields.String(required=True, metadata={"enum": ["FeatureCollection"]})
    features = ma.fields.List(ma.fields.Nested(ZoneFeatureSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)
