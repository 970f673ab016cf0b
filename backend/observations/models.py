"""The species list (taxa) that Observ'acteurs walkers pick from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, utcnow


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
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
