"""The sandbox's Alembic migrations, kept apart from the backend's (own version table)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import Connection, Engine

from backend import db

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "sandbox_alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    return db.alembic_config(connection, MIGRATIONS_DIR)


def migrate(engine_or_connection: Engine | Connection, revision: str = "head") -> None:
    db.migrate(engine_or_connection, revision, MIGRATIONS_DIR)
