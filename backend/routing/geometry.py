"""Where a point is: one STRtree over every zone, in metres, answering "inside what, near what"."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# A local equirectangular projection centred on the département: within its 20 km the error
# on distances is far below a GPS fix's, and it costs two multiplications per point.
ORIGIN_LON, ORIGIN_LAT = 2.48, 48.91
METRES_PER_DEGREE_LAT = 111_132.0
METRES_PER_DEGREE_LON = 111_320.0 * math.cos(math.radians(ORIGIN_LAT))

# GPS error plus simplified outlines: a point this close to the département still counts.
TERRITORY_TOLERANCE_M = 200.0
# How far to look for the nearest commune when a point falls in a gap between outlines.
COMMUNE_SNAP_M = 2_000.0


def to_metres(lon: float | np.ndarray, lat: float | np.ndarray) -> tuple:
    return (
        (np.asarray(lon) - ORIGIN_LON) * METRES_PER_DEGREE_LON,
        (np.asarray(lat) - ORIGIN_LAT) * METRES_PER_DEGREE_LAT,
    )


def from_metres(x: float | np.ndarray, y: float | np.ndarray) -> tuple:
    return (np.asarray(x) / METRES_PER_DEGREE_LON + ORIGIN_LON, np.asarray(y) / METRES_PER_DEGREE_LAT + ORIGIN_LAT)


def geometry_to_metres(geometry: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geometry, lambda xy: np.column_stack(to_metres(xy[:, 0], xy[:, 1])))


def geometry_from_metres(geometry: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geometry, lambda xy: np.column_stack(from_metres(xy[:, 0], xy[:, 1])))


@dataclass(frozen=True)
class IndexedZone:
    """What routing needs to know of a zone."""

    id: int
    kind: str
    code: str
    name: str
    parent_id: int | None = None
    corridor_m: float | None = None


@dataclass
class Place:
    """The zones around one point: those containing it, by kind (deepest first), and the
    line zones (roads) whose corridor it is in, nearest first."""

    inside: dict[str, list[IndexedZone]] = field(default_factory=dict)
    corridors: dict[str, list[tuple[IndexedZone, float]]] = field(default_factory=dict)
    in_territory: bool = True
    commune: IndexedZone | None = None
    commune_snapped_m: float = 0.0

    def first(self, kind: str) -> IndexedZone | None:
        zones = self.inside.get(kind)
        return zones[0] if zones else None


class ZoneIndex:
    """An immutable spatial index over zones; build once, query from any thread.

    Every question is a point-in-polygon test against one STRtree: a road is indexed as its
    corridor (the line buffered by ``corridor_m``), the département as its outline widened by
    the tolerance. One prepared query per point answers inside what, near which road, and in
    the territory or not.
    """

    def __init__(self, zones: list[tuple[IndexedZone, BaseGeometry]]):
        self.zones = [zone for zone, _ in zones]
        self.by_id = {zone.id: zone for zone in self.zones}
        self._positions = {zone.id: position for position, zone in enumerate(self.zones)}
        self.geometries = np.array([geometry_to_metres(g) for _, g in zones], dtype=object)
        self.is_line = np.array([g.geom_type in ("LineString", "MultiLineString") for g in self.geometries], dtype=bool)
        areas = []
        for zone, geometry, line in zip(self.zones, self.geometries, self.is_line.tolist(), strict=True):
            if line:
                areas.append(geometry.buffer(zone.corridor_m or 0.0))
            elif zone.kind == "departement":
                areas.append(geometry.buffer(TERRITORY_TOLERANCE_M))
            else:
                areas.append(geometry)
        self.areas = np.array(areas, dtype=object)
        shapely.prepare(self.areas)
        self.tree = shapely.STRtree(self.areas)
        communes = [i for i, zone in enumerate(self.zones) if zone.kind == "commune"]
        self._commune_positions = np.array(communes, dtype=int)
        self._commune_tree = shapely.STRtree(self.geometries[communes]) if communes else None
        self.has_departement = any(zone.kind == "departement" for zone in self.zones)

    def reference_point(self, zone_id: int) -> tuple[float, float, float]:
        """An area's reference point (lon, lat: its centroid) and its radius from there (metres:
        the farthest point of its outline), what a generalised location says instead of a point."""
        geometry = self.geometries[self._positions[zone_id]]
        centre = geometry.centroid
        radius = centre.hausdorff_distance(geometry.boundary if geometry.geom_type.endswith("Polygon") else geometry)
        lon = centre.x / METRES_PER_DEGREE_LON + ORIGIN_LON
        lat = centre.y / METRES_PER_DEGREE_LAT + ORIGIN_LAT
        return round(lon, 6), round(lat, 6), float(math.ceil(radius))

    def locate(self, lon: float, lat: float) -> Place:
        """Describe the point's surroundings; deterministic for a given index."""
        point = shapely.Point((lon - ORIGIN_LON) * METRES_PER_DEGREE_LON, (lat - ORIGIN_LAT) * METRES_PER_DEGREE_LAT)
        place = Place(in_territory=not self.has_departement)
        found = self.tree.query(point, predicate="intersects")
        found.sort()  # id order: the same answer every time
        for position in found.tolist():
            zone = self.zones[position]
            if self.is_line[position]:
                distance = float(shapely.distance(self.geometries[position], point))
                place.corridors.setdefault(zone.kind, []).append((zone, distance))
            elif zone.kind == "departement":
                place.in_territory = True
            else:
                place.inside.setdefault(zone.kind, []).append(zone)
        for roads in place.corridors.values():
            roads.sort(key=lambda item: (item[1], item[0].code))
        communes = place.inside.get("commune", [])
        if len(communes) > 1:
            # Overlapping simplified outlines: the commune the point is deepest inside.
            communes.sort(key=lambda zone: (-self._depth(zone, point), zone.code))
        place.commune = communes[0] if communes else self._nearest_commune(point, place)
        return place

    def _depth(self, zone: IndexedZone, point: shapely.Point) -> float:
        position = self._positions[zone.id]
        return float(shapely.distance(self.geometries[position].boundary, point))

    def _nearest_commune(self, point: shapely.Point, place: Place) -> IndexedZone | None:
        """A point in a gap between simplified outlines belongs to the nearest commune."""
        if self._commune_tree is None or not place.in_territory:
            return None
        found, distances = self._commune_tree.query_nearest(
            point, max_distance=COMMUNE_SNAP_M, return_distance=True, all_matches=True
        )
        if found.size == 0:
            return None
        order = sorted(
            range(found.size), key=lambda i: (distances[i], self.zones[self._commune_positions[found[i]]].code)
        )
        best = self.zones[self._commune_positions[found[order[0]]]]
        place.commune_snapped_m = float(distances[order[0]])
        return best
