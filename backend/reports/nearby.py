"""Similar reports: open reports of the same category near a point, nearest first."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from backend.db import in_constants
from backend.reports.models import OPEN_STATUSES, Report, format_reference

SIMILAR_WINDOW = timedelta(days=30)
SIMILAR_LIMIT = 10
METRES_PER_DEGREE_LAT = 111_132.0


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def similar_reports(session: Session, report: Report, now: datetime) -> list[dict[str, Any]]:
    """Open reports of the same category near this one, received in the last 30 days, nearest
    first. Sensitive sightings are left out: a distance would reveal where they are."""
    rows = session.connection().execute(SIMILAR, similar_params(report, now))
    return nearby(report, rows)


def _radius(report: Report) -> int:
    return report.category.similar_radius_m if report.category else 50


def similar_params(report: Report, now: datetime) -> dict[str, Any]:
    radius = _radius(report)
    dlat = radius / METRES_PER_DEGREE_LAT
    dlon = radius / (111_320.0 * math.cos(math.radians(report.lat)))
    scale = math.cos(math.radians(report.lat))
    return {
        "category_id": report.category_id,
        "report_id": report.id or 0,
        "since": now - SIMILAR_WINDOW,
        "lat": report.lat,
        "lon": report.lon,
        "scale2": scale * scale,
        "min_lat": report.lat - dlat,
        "max_lat": report.lat + dlat,
        "min_lon": report.lon - dlon,
        "max_lon": report.lon + dlon,
    }


def nearby(report: Report, rows: Any) -> list[dict[str, Any]]:
    """The rows of :data:`SIMILAR` within the category's radius, nearest first, as the API shows them."""
    radius = _radius(report)
    found = []
    for other in rows:
        distance = distance_m(report.lon, report.lat, other.lon, other.lat)
        if distance <= radius:
            found.append((distance, other))
    found.sort(key=lambda item: (item[0], item[1].id))
    return [
        {
            "reference": format_reference(other.received_at, other.id),
            "distance_m": round(distance, 1),
            "status": other.status,
        }
        for distance, other in found
    ]


# Nearest first in SQL (planar, in degrees scaled to metres), so a crowded spot costs a bounded
# read; the exact distance and the radius are checked in Python.
_PLANAR = (Report.lat - bindparam("lat")) * (Report.lat - bindparam("lat")) + (Report.lon - bindparam("lon")) * (
    Report.lon - bindparam("lon")
) * bindparam("scale2")

SIMILAR = (
    select(Report.id, Report.received_at, Report.lon, Report.lat, Report.status)
    .where(
        Report.category_id == bindparam("category_id"),
        Report.id != bindparam("report_id"),
        in_constants(Report.status, OPEN_STATUSES),
        Report.sensitive.is_(False),
        Report.received_at >= bindparam("since", type_=Report.received_at.type),
        Report.lat.between(bindparam("min_lat"), bindparam("max_lat")),
        Report.lon.between(bindparam("min_lon"), bindparam("max_lon")),
    )
    .order_by(_PLANAR, Report.id)
    .limit(SIMILAR_LIMIT)
)
