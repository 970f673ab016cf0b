"""The sandbox's own tables: events, teams, keys, usage, sign-in links, test reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from backend.db import NAMING_CONVENTION, UTCDateTime, utcnow


class SandboxBase(DeclarativeBase):
    """Base of the sandbox's models: their own metadata, migrated on their own."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Event(SandboxBase):
    """A hackathon: its dates and the default limits of its teams' keys."""

    __tablename__ = "sandbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    rate_per_second: Mapped[int] = mapped_column(default=10)
    burst: Mapped[int] = mapped_column(default=20)
    daily_quota: Mapped[int] = mapped_column(default=10_000)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Team(SandboxBase):
    """A hackathon team. Limits left empty follow the event's defaults."""

    __tablename__ = "sandbox_teams"
    __table_args__ = (UniqueConstraint("event_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("sandbox_events.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    contact_email: Mapped[str] = mapped_column(String(254), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    rate_per_second: Mapped[int | None]
    burst: Mapped[int | None]
    daily_quota: Mapped[int | None]
    terms_accepted_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped at sign-out: every session cookie of the team (a copied one too) stops working.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    event: Mapped[Event] = relationship()
    keys: Mapped[list[ApiKey]] = relationship(back_populates="team", order_by="ApiKey.id")


class ApiKey(SandboxBase):
    """A key: only its HMAC and a display prefix are kept."""

    __tablename__ = "sandbox_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("sandbox_teams.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    team: Mapped[Team] = relationship(back_populates="keys")


class Usage(SandboxBase):
    """Requests per key, per day (UTC), per endpoint; written in batches, never per request."""

    __tablename__ = "sandbox_usage"
    __table_args__ = (UniqueConstraint("key_id", "day", "endpoint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("sandbox_api_keys.id"), index=True)
    day: Mapped[date]
    endpoint: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(default=0)


class SignInLink(SandboxBase):
    """A single-use, short-lived link e-mailed to a team's contact."""

    __tablename__ = "sandbox_sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("sandbox_teams.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class SandboxReport(SandboxBase):
    """A test report of a team: validated and routed like a real one, seen by no directorate."""

    __tablename__ = "sandbox_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("sandbox_teams.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    result: Mapped[dict[str, Any]]


class DatasetVersion(SandboxBase):
    """One published, immutable version of an open dataset: its files are in the media storage
    under ``opendata/<dataset>/<version>/`` before this row exists (write, then publish)."""

    __tablename__ = "sandbox_dataset_versions"
    __table_args__ = (UniqueConstraint("dataset", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(32))  # 2026-11-29.1
    created_at: Mapped[datetime]
    rows: Mapped[int]
    data_sha256: Mapped[str] = mapped_column(String(64))  # of data.csv: no new version when it is unchanged
    files: Mapped[dict[str, Any]]  # name: {bytes, sha256, media_type}
    changes: Mapped[dict[str, Any]]  # added, removed, changed (by key) since the previous version
