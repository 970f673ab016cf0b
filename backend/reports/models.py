"""Reports, their private reporter, their append-only event trail, and supports."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, false, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import INT_MAX, Base, utcnow
from backend.directory.models import Category, Directorate, ExternalBody, Program, Unit
from backend.media.models import Media

REFERENCE_PREFIX = "S93"
_REFERENCE_RE = re.compile(rf"^{REFERENCE_PREFIX}-(\d{{4}})-(\d{{6,}})$")

# The workflow's statuses (see ARCHITECTURE.md §3); the moves between them belong to triage.
OPEN_STATUSES = ("received", "open", "acknowledged", "in_progress")
CLOSED_STATUSES = ("resolved", "rejected", "duplicate", "referred")
STATUSES = OPEN_STATUSES + CLOSED_STATUSES
# How urgent a report is (the ``priority`` column holds the number; the API, the name).
PRIORITIES = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
PRIORITY_NAMES = {value: name for name, value in PRIORITIES.items()}
# What residents and agents read of a status and a priority (the fronts, the e-mails).
STATUS_LABELS = {
    "received": "Reçu",
    "open": "Ouvert",
    "acknowledged": "Pris en compte",
    "in_progress": "En cours de traitement",
    "resolved": "Résolu",
    "rejected": "Rejeté",
    "duplicate": "Doublon d'un autre signalement",
    "referred": "Transmis à un autre organisme",
}
PRIORITY_LABELS = {"low": "Basse", "normal": "Normale", "high": "Haute", "urgent": "Urgente"}
# Written as the similar-reports query writes its conditions (each dialect's way of "IS false"),
# so that the planner sees the query matches the partial index's.
_OPEN = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_STATUSES))
# Where no park nor commune is known, a sensitive species is shown on a 0.01 degree grid (~1 km).
COARSE_DECIMALS = 2


def public_point(lon: float, lat: float, sensitive: bool) -> tuple[float, float]:
    """The location the public may see: exact, or (a sensitive species, no area known) coarsened."""
    if sensitive:
        return round(lon, COARSE_DECIMALS), round(lat, COARSE_DECIMALS)
    return lon, lat


# The public list's grid: cells of 0.01 degree (about 1.1 km north-south, 0.73 km east-west here).
CELLS_PER_DEGREE = 100
CELL_ROW = 100_000  # a cell is row * CELL_ROW + column (rows count latitude, columns longitude)


def public_cell(lon: float, lat: float) -> int:
    """The grid cell of a public point: the leading key of the index the public list by bounding
    box reads, one short newest-first range per cell whatever the years of history."""
    row = math.floor(lat * CELLS_PER_DEGREE) + 90 * CELLS_PER_DEGREE
    return row * CELL_ROW + math.floor(lon * CELLS_PER_DEGREE) + 180 * CELLS_PER_DEGREE


class Report(Base):
    """One citizen observation, routed once at intake; the decision is stored, never recomputed."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_received_at_id", "received_at", "id"),
        Index("ix_reports_category_id_received_at", "category_id", "received_at"),
        Index("ix_reports_lat_lon", "lat", "lon"),
        Index("ix_reports_public_lat_public_lon", "public_lat", "public_lon"),
        # The agents' queue: a unit's reports, newest first (keyset on received time, then id).
        Index("ix_reports_unit_id_received_at_id", "unit_id", "received_at", "id"),
        # Its counts per status, for a directorate or one of its units: read from the index alone.
        Index("ix_reports_directorate_id_unit_id_status", "directorate_id", "unit_id", "status"),
        # The public list by bounding box: per grid cell, newest first, the point in the index so
        # that the box is checked on the index alone (the planner then never sorts a whole cell).
        Index("ix_reports_public_cell_received_at_id", "public_cell", "received_at", "id", "public_lon", "public_lat"),
        # The agents' queue on open statuses (its usual view): the backlog of a unit, of a
        # directorate, newest first, whatever the years of closed reports beside it.
        Index(
            "ix_reports_open_unit_id_received_at_id",
            "unit_id",
            "received_at",
            "id",
            postgresql_where=text(_OPEN),
            sqlite_where=text(_OPEN),
        ),
        Index(
            "ix_reports_open_directorate_id_received_at_id",
            "directorate_id",
            "received_at",
            "id",
            postgresql_where=text(_OPEN),
            sqlite_where=text(_OPEN),
        ),
        # Similar reports at intake: the open reports of a category near a point (the backlog,
        # not the years of closed reports), read from the index alone.
        Index(
            "ix_reports_open_category_id_lat_lon",
            "category_id",
            "lat",
            "lon",
            "received_at",
            "id",
            "status",
            postgresql_where=text(f"{_OPEN} AND sensitive IS false"),
            sqlite_where=text(f"{_OPEN} AND sensitive IS 0"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    status: Mapped[str] = mapped_column(String(16))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[str] = mapped_column(String(16), default="device")
    # Sensitive species: the public only ever sees (and can only search by) a coarsened location.
    sensitive: Mapped[bool] = mapped_column(default=False)
    public_lon: Mapped[float] = mapped_column(Float)
    public_lat: Mapped[float] = mapped_column(Float)
    # A sensitive sighting's public point is its park's reference point (or its commune's): how
    # far, at most, the sighting may be from it (that area's radius). None: the point is exact.
    public_uncertainty_m: Mapped[float | None] = mapped_column(Float)
    # :func:`public_cell` of the public point, set with it.
    public_cell: Mapped[int] = mapped_column(Integer)
    observed_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text, default="")
    # An agent judged the description fit to publish (open data: scrubbed of contacts and links).
    description_public: Mapped[bool] = mapped_column(default=False, server_default=false())
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    directorate_id: Mapped[int] = mapped_column(ForeignKey("directorates.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    referred_to_id: Mapped[int | None] = mapped_column(ForeignKey("external_bodies.id"), index=True)
    routing: Mapped[dict[str, Any]]
    # From the routing decision and the category, at intake: indexed for the agents' queue.
    commune_code: Mapped[str | None] = mapped_column(String(8), index=True)
    # A sighting's nature zone (Observ'acteurs), where its point falls: internal, never shown for a
    # sensitive species.
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    support_count: Mapped[int] = mapped_column(default=0)
    # Triage: who works on it, and how urgent it is (0 low, 1 normal, 2 high, 3 urgent).
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    priority: Mapped[int] = mapped_column(default=1, server_default=text("1"), index=True)
    client_id: Mapped[str | None] = mapped_column(String(36))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # A sighting from a device: its species, zone and day, keyed with the device id (hashed with
    # the server secret): a second one is a "me too" on the first.
    sighting_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A DNPB agent's review of a sighting's species: confirmed, corrected (the attributes hold the
    # corrected species, the trail both) or unverifiable; None until reviewed.
    identification: Mapped[str | None] = mapped_column(String(16))
    reporter_token_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    program: Mapped[Program] = relationship()
    category: Mapped[Category] = relationship()
    directorate: Mapped[Directorate] = relationship()
    unit: Mapped[Unit | None] = relationship()
    referred_to: Mapped[ExternalBody | None] = relationship()
    reporter: Mapped[Reporter | None] = relationship(back_populates="report", uselist=False)
    events: Mapped[list[ReportEvent]] = relationship(back_populates="report", order_by="ReportEvent.id")
    media: Mapped[list[Media]] = relationship(order_by="Media.id")

    @property
    def reference(self) -> str:
        """The public reference, like ``S93-2026-000123`` (year received, then the report's number)."""
        return format_reference(self.received_at, self.id)


def format_reference(received_at: datetime, report_id: int) -> str:
    return f"{REFERENCE_PREFIX}-{received_at.year}-{report_id:06d}"


def parse_reference(reference: str) -> tuple[int, int] | None:
    """``(year, id)`` of a well-formed reference, else None (an id no integer column can hold
    included)."""
    match = _REFERENCE_RE.match(reference)
    if match is None or int(match.group(2)) > INT_MAX:
        return None
    return int(match.group(1)), int(match.group(2))


class Reporter(Base):
    """The reporter's contact: private, never in public, Open311 or sandbox output."""

    __tablename__ = "reporters"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    consent_contact: Mapped[bool] = mapped_column(default=False)

    report: Mapped[Report] = relationship(back_populates="reporter")


class ReportEvent(Base):
    """One entry of a report's trail (submitted, routed, status, note…). Append-only."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None]
    public: Mapped[bool] = mapped_column(default=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    report: Mapped[Report] = relationship(back_populates="events")


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete a trail event."""


@event.listens_for(ReportEvent, "before_update")
def _no_update(_mapper: Any, _connection: Any, target: ReportEvent) -> None:
    raise AppendOnlyError(f"report event {target.id} cannot be changed: the trail is append-only")


@event.listens_for(ReportEvent, "before_delete")
def _no_delete(_mapper: Any, _connection: Any, target: ReportEvent) -> None:
    raise AppendOnlyError(f"report event {target.id} cannot be deleted: the trail is append-only")


class Support(Base):
    """A "me too" from one phone (``client_id``) on a report."""

    __tablename__ = "supports"
    __table_args__ = (UniqueConstraint("report_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    client_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime]
    # Where it came from (a keyed hash of the address, never the address): at most
    # MAX_COUNTED_PER_ADDRESS supports from one address count on a report.
    address_hash: Mapped[str | None] = mapped_column(String(64))
    counted: Mapped[bool] = mapped_column(default=True, server_default=true())


class ReportCount(Base):
    """How many reports have each status, by directorate, unit, program, category and commune:
    kept by database triggers on ``reports`` (migration 0018), so the agents' queue counts a
    unit's reports at the same cost after ten years as after one. A report without a unit counts
    under unit 0, one without a commune under ''.

    A batch migration that recreates ``reports`` on SQLite drops its triggers: create them again."""

    __tablename__ = "report_counts"

    directorate_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    unit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    program_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    category_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    commune_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
