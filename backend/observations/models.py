"""A park's walk (balade): its nature zones (zones of kind ``park_zone``) in walking order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import Base, utcnow
from backend.directory.models import Taxon
from backend.zones.models import Zone


class Balade(Base):
    """The walk of a park: a title, its length, the line it follows, its stations in order."""

    __tablename__ = "balades"

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    length_m: Mapped[float] = mapped_column(Float)
    route: Mapped[dict[str, Any]]  # a GeoJSON LineString through the stations, WGS84
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    park: Mapped[Zone] = relationship()
    stations: Mapped[list[BaladeStation]] = relationship(
        back_populates="balade", order_by="BaladeStation.position", cascade="all, delete-orphan"
    )


class BaladeStation(Base):
    """A stop of a walk: a nature zone, its number along the way (1, 2…)."""

    __tablename__ = "balade_stations"
    __table_args__ = (UniqueConstraint("balade_id", "position"), UniqueConstraint("zone_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    balade_id: Mapped[int] = mapped_column(ForeignKey("balades.id"))
    position: Mapped[int]
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))

    balade: Mapped[Balade] = relationship(back_populates="stations")
    zone: Mapped[Zone] = relationship()


class ZoneSpecies(Base):
    """A species commonly seen in a nature zone (for the ecologists; the public cards leave the
    sensitive ones out)."""

    __tablename__ = "zone_species"
    __table_args__ = (UniqueConstraint("zone_id", "taxon_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    taxon_id: Mapped[int] = mapped_column(ForeignKey("taxa.id"))

    taxon: Mapped[Taxon] = relationship()
