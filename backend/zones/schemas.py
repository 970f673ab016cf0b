"""Zones as GeoJSON, and the zone list's query parameters."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from backend.fields import BBOX_METADATA, BBoxField
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


class ZoneFeatureSchema(ma.Schema):
    """A GeoJSON Feature (geometry in WGS84, [lon, lat])."""

    type = ma.fields.Constant("Feature", required=True)
    id = ma.fields.String(required=True, metadata={"example": "commune:93066"})
    bbox = ma.fields.List(ma.fields.Float(), required=True)
    geometry = ma.fields.Dict(required=True)
    properties = ma.fields.Dict(required=True)


class ZoneCollectionSchema(ma.Schema):
    """A GeoJSON FeatureCollection with the cursor of the next page."""

    type = ma.fields.Constant("FeatureCollection", required=True)
    features = ma.fields.List(ma.fields.Nested(ZoneFeatureSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)
