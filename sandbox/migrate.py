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


def doctor_check() -> tuple[bool, str]:
    """bac à sable / sandbox"""
    from backend import deps

    with deps.core().database.session() as session:
        current, head = db.revision_state(session.connection(), MIGRATIONS_DIR, VERSION_TABLE)
    if current != head:
        return False, (
            f"révision {current} au lieu de {head} : lancez « flask --app wsgi sandbox db upgrade » / "
            f"revision {current} instead of {head}: run 'flask --app wsgi sandbox db upgrade'"
        )
    return True, f"révision {head} (à jour / up to date)"
