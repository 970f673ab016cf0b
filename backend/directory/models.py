"""Directorates and their units, external bodies, programs and categories, agents, and the species
list (taxa) that categories draw on."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import Base, utcnow
from backend.zones.models import Zone


class Directorate(Base):
    """A directorate of the département (DVD, DEA, DNPB)."""

    __tablename__ = "directorates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    units: Mapped[list[Unit]] = relationship(back_populates="directorate", order_by="Unit.code")


class Unit(Base):
    """A team inside a directorate: one per territory, per park, or a service such as the ODBU."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    directorate_id: Mapped[int] = mapped_column(ForeignKey("directorates.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # How the unit hears of new reports: "email" (a digest), "webhook" (a signed POST each), "none".
    notify_method: Mapped[str] = mapped_column(String(8), default="none", server_default="none")
    notify_target: Mapped[str | None] = mapped_column(String(500))
    last_digest_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    directorate: Mapped[Directorate] = relationship(back_populates="units")
    zone: Mapped[Zone | None] = relationship()


class ExternalBody(Base):
    """An organisation outside the département that can receive referrals (a commune)."""

    __tablename__ = "external_bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    zone: Mapped[Zone | None] = relationship()


class Program(Base):
    """One of the citizen apps: patrouillage, vigies-eau, observacteurs."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    directorate_id: Mapped[int] = mapped_column(ForeignKey("directorates.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    directorate: Mapped[Directorate] = relationship()
    categories: Mapped[list[Category]] = relationship(back_populates="program", order_by="Category.position")


class Category(Base):
    """What a citizen picks; carries typed extra attributes (Open311 service definition)."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    target_days: Mapped[int]
    similar_radius_m: Mapped[int] = mapped_column(default=50)
    attributes: Mapped[list[Any]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    program: Mapped[Program] = relationship(back_populates="categories")


@dataclass(frozen=True)
class Role:
    """What an agent's role lets them do beyond their directorate's queue (which moves each role
    may make is the workflow's table: ``backend.triage.workflow.MOVES``)."""

    supervises: bool  # assign, reroute, act in bulk
    every_directorate: bool  # sees and handles every directorate's reports
    administers: bool  # agents, categories, routing rules


# The one role table.
ROLE_TABLE: dict[str, Role] = {
    "agent": Role(supervises=False, every_directorate=False, administers=False),
    "supervisor": Role(supervises=True, every_directorate=False, administers=False),
    "admin": Role(supervises=True, every_directorate=True, administers=True),
}
ROLES = tuple(ROLE_TABLE)


class Agent(Base):
    """A staff account of a directorate (an admin sees every directorate)."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    directorate_id: Mapped[int] = mapped_column(ForeignKey("directorates.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    directorate: Mapped[Directorate] = relationship()
    unit: Mapped[Unit | None] = relationship()

    @property
    def powers(self) -> Role:
        return ROLE_TABLE[self.role]

    def sees_directorate(self, directorate_id: int) -> bool:
        """Whether this agent sees the reports of that directorate (their own; an admin, all)."""
        return self.powers.every_directorate or directorate_id == self.directorate_id


class AgentToken(Base):
    """An opaque bearer token of an agent: only its SHA-256 is kept."""

    __tablename__ = "agent_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    agent: Mapped[Agent] = relationship()


class Taxon(Base):
    """A species seen in the parks; ``sensitive`` ones get a coarsened public location."""

    __tablename__ = "taxa"

    id: Mapped[int] = mapped_column(primary_key=True)
    scientific_name: Mapped[str] = mapped_column(String(200), unique=True)
    french_name: Mapped[str] = mapped_column(String(200))
    group: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(300), default="")
    sensitive: Mapped[bool] = mapped_column(default=False)
    # TAXREF identifier: empty until a real TAXREF extract is imported (never invented).
    taxref_cd_nom: Mapped[int | None]
    # "french|scientific", lowercase, without accents or punctuation: what autocompletion searches.
    search_key: Mapped[str] = mapped_column(String(420), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def search_text(text: str) -> str:
    """``text`` as autocompletion compares it: lowercase, without accents, ligatures or
    punctuation (Martin-pêcheur d'Europe → martin pecheur d europe)."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def taxon_search_key(french_name: str, scientific_name: str) -> str:
    return f"{search_text(french_name)}|{search_text(scientific_name)}"


@event.listens_for(Taxon, "before_insert")
@event.listens_for(Taxon, "before_update")
def _search_key(_mapper: Any, _connection: Any, taxon: Taxon) -> None:
    taxon.search_key = taxon_search_key(taxon.french_name or "", taxon.scientific_name or "")
