"""Zones: named geometries of a kind, and the former codes that still resolve to them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import Base, utcnow

# Kinds of zone the service knows; roads are lines with a corridor width, the others areas.
ZONE_KINDS = ("departement", "territory", "commune", "park", "park_zone", "road", "water_sector")
LINE_KINDS = ("road",)


class Zone(Base):
    """A named geometry (GeoJSON, WGS84) with its bounding box kept in plain indexed columns."""

    __tablename__ = "zones"
    __table_args__ = (
        UniqueConstraint("kind", "code"),
        Index("ix_zones_kind_bbox", "kind", "min_lon", "max_lon", "min_lat", "max_lat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    geometry: Mapped[dict[str, Any]]
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    corridor_m: Mapped[float | None] = mapped_column(Float)
    approximate: Mapped[bool] = mapped_column(default=False)
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    parent: Mapped[Zone | None] = relationship(remote_side=[id])

    @property
    def centre(self) -> tuple[float, float]:
        """The zone's reference point (lon, lat): the one its seed gives, else its bounding box's
        centre (what a zone card shows and where a sighting named by its zone is placed)."""
        given = (self.properties or {}).get("centre")
        if given:
            return float(given[0]), float(given[1])
        return (self.min_lon + self.max_lon) / 2, (self.min_lat + self.max_lat) / 2


class ZoneAlias(Base):
    """A former code that still resolves to a zone (Pierrefitte-sur-Seine's 93059 → 93066)."""

    __tablename__ = "zone_aliases"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    since: Mapped[date | None]
    reason: Mapped[str] = mapped_column(String(500), default="")

    zone: Mapped[Zone] = relationship()
