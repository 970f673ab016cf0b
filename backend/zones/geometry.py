"""Pure geometry helpers: projections, validity, GeoJSON round trips, approximate outlines."""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

WGS84 = 4326
LAMBERT93 = 2154
AREA_TYPES = ("Polygon", "MultiPolygon")
LINE_TYPES = ("LineString", "MultiLineString")
# 7 decimals of a degree is about 1 cm: enough for any outline, stable across re-imports.
COORDINATE_DECIMALS = 7


class GeometryError(ValueError):
    """A geometry cannot be used; the message says why."""


@cache
def _transformer(source: int, target: int) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def reproject(geometry: BaseGeometry, source: int, target: int) -> BaseGeometry:
    """The geometry in another coordinate system (x = lon/easting, y = lat/northing)."""
    if source == target:
        return geometry
    transformer = _transformer(source, target)
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def round_coordinates(geometry: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geometry, lambda xy: np.round(xy, COORDINATE_DECIMALS))


def from_geojson(data: Any) -> BaseGeometry:
    """A shapely geometry from a GeoJSON geometry object; :class:`GeometryError` if malformed."""
    if not isinstance(data, dict) or "type" not in data:
        raise GeometryError("not a GeoJSON geometry object")
    try:
        geometry = shapely.from_geojson(json.dumps(data))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise GeometryError(f"malformed GeoJSON geometry: {exc}") from exc
    if geometry is None or geometry.is_empty:
        raise GeometryError("empty geometry")
    return geometry


def to_geojson(geometry: BaseGeometry) -> dict[str, Any]:
    return json.loads(shapely.to_geojson(geometry))


def check(geometry: BaseGeometry, *, line: bool) -> None:
    """Raise :class:`GeometryError` unless the geometry is a valid area (or line) in WGS84."""
    expected = LINE_TYPES if line else AREA_TYPES
    if geometry.geom_type not in expected:
        raise GeometryError(f"expected {' or '.join(expected)}, got {geometry.geom_type}")
    min_x, min_y, max_x, max_y = geometry.bounds
    if not all(math.isfinite(v) for v in geometry.bounds):
        raise GeometryError("coordinates must be finite numbers")
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise GeometryError("coordinates are not longitude/latitude; for Lambert-93 input pass --srid 2154")
    if not geometry.is_valid:
        raise GeometryError(f"invalid geometry: {explain_validity(geometry)}")


def approximate_disc(lon: float, lat: float, area_ha: float, segments: int = 48) -> BaseGeometry:
    """A disc of the given area around a centre, drawn in Lambert-93 so the area is true."""
    centre = reproject(shapely.Point(lon, lat), WGS84, LAMBERT93)
    radius = math.sqrt(area_ha * 10_000 / math.pi)
    disc = centre.buffer(radius, quad_segs=max(1, segments // 4))
    return round_coordinates(reproject(disc, LAMBERT93, WGS84))
