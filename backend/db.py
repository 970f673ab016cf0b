"""Database engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from sqlalchemy import JSON, Connection, DateTime, Engine, MetaData, create_engine, event, literal_column
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations can name what they alter on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name == "postgresql":
            # make_engine's sessions run in UTC: psycopg already returns aware UTC datetimes, and
            # a queue page has a hundred of them.
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every backend model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


def utcnow() -> datetime:
    return datetime.now(UTC)


# The range of an integer column (PostgreSQL's integer): a larger number a client sends cannot be
# an id, a count or a version, and would fail in the database instead of being a clear 4xx.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


_CONSTANT_RE = re.compile(r"^[a-z][a-z_]*$")


def stream(session: Session, statement: Any, params: dict[str, Any] | None = None) -> Iterator[Any]:
    """The rows of a statement read in batches (``yield_per``: a server-side cursor on
    PostgreSQL), its result closed however the reading ends: exhausted, an exception, or the
    reader dropping the generator early (a download cut short) — never a cursor left open."""
    result = session.execute(statement, params or {})
    try:
        yield from result
    finally:
        result.close()


def in_constants(column: Any, values: Iterable[str]) -> Any:
    """``column IN ('a', 'b')`` with a few known constants (statuses) written into the SQL.
    ``column.in_(values)`` would render its list at every execution, and the driver could not
    reuse its parsed statement."""
    values = list(values)
    if not all(_CONSTANT_RE.match(value) for value in values):
        raise ValueError(f"not a code constant: {values!r}")
    return column.in_([literal_column(f"'{value}'") for value in values])


# A pooled connection idle for longer than this is tested before use (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 10.0


def make_engine(url: str, *, ping_after_idle: float = PING_AFTER_IDLE_SECONDS, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets real transactions and enforced foreign keys; a server's
    pooled connections are tested after they sat idle."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
    else:
        _utc_sessions(engine)
        _ping_when_idle(engine, ping_after_idle)
    return engine


def _utc_sessions(engine: Engine) -> None:
    # Timestamps come back in UTC whatever the server's TimeZone (UTCDateTime relies on it).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        dbapi_connection.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.autocommit = autocommit


def _ping_when_idle(engine: Engine, seconds: float) -> None:
    # SQLAlchemy's pool_pre_ping tests every connection at every checkout: one more round trip on
    # every request. A connection in steady use
    # is known alive; one that sat idle in the pool (the database restarted, a firewall dropped
    # the idle socket) is tested, and a dead one is replaced before the request sees it (raising
    # DisconnectionError in "checkout" makes the pool reconnect, SQLAlchemy's documented recipe).
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection was dead after {seconds:g} s idle: {exc}") from exc


def _sqlite_transactions(engine: Engine) -> None:
    # SQLAlchemy's documented pysqlite recipe: let SQLAlchemy emit BEGIN itself, so
    # SAVEPOINTs and rolled-back test transactions behave as on PostgreSQL. IMMEDIATE takes
    # the write lock up front: two processes writing at once queue (busy_timeout) instead of
    # failing with "database is locked" when the second one upgrades its read lock.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A read-only session reads a snapshot without taking the write lock.
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


READ_ONLY_OPTION = "signal93_read_only"


class ReadOnlySession(RuntimeError):
    """A read-only session was asked to write: a bug (its view must not be marked read-only)."""


def _refuse_statement(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlySession(f"a read-only session cannot run: {str(state.statement)[:80]}")


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySession("a read-only session cannot flush changes")


class Database:
    """The engine and the session factory of one app (or one test)."""

    def __init__(self, engine: Engine, bind: Any = None, **session_options: Any):
        self.engine = engine
        self._pid = os.getpid()
        self.sessionmaker = sessionmaker(
            bind=bind if bind is not None else engine, expire_on_commit=False, **session_options
        )
        # Reads with no transaction to open and commit (PostgreSQL: autocommit, two round trips
        # fewer per request; SQLite: a deferred BEGIN, no write lock). A test's bound connection
        # keeps its transaction.
        if bind is not None:
            read_bind = bind
        elif engine.dialect.name == "sqlite":
            read_bind = engine.execution_options(**{READ_ONLY_OPTION: True})
        else:
            read_bind = engine.execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY_OPTION: True})
        self.read_sessionmaker = sessionmaker(bind=read_bind, expire_on_commit=False, **session_options)
        event.listen(self.read_sessionmaker, "do_orm_execute", _refuse_statement)
        event.listen(self.read_sessionmaker, "before_flush", _refuse_flush)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    def session(self, read_only: bool = False) -> Session:
        """A session; ``read_only``: one that refuses every INSERT, UPDATE and DELETE, for the
        hot read paths (see ``read_bind`` above)."""
        return self.read_sessionmaker() if read_only else self.sessionmaker()

    def ensure_process_local(self) -> None:
        """After a fork (an rq work horse), drop the parent's pooled connections: a connection
        must never be shared by two processes."""
        if os.getpid() != self._pid:
            self.engine.dispose(close=False)
            self._pid = os.getpid()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error."""
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def upsert(session: Session, model: type[Base], key: dict[str, Any], values: dict[str, Any]) -> tuple[Any, str]:
    """Create the row identified by ``key`` or bring it to ``values``; flush.

    Returns the row and what happened: ``"created"``, ``"updated"`` or ``"unchanged"``,
    so loaders can be re-run and report what they changed.
    """
    row = session.query(model).filter_by(**key).one_or_none()
    if row is None:
        row = model(**key, **values)
        session.add(row)
        session.flush()
        return row, "created"
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        session.flush()
    return row, "updated" if changed else "unchanged"


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None, script_location: Path = MIGRATIONS_DIR) -> AlembicConfig:
    """Alembic's configuration, built in code (no alembic.ini to keep in sync)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option(
        "file_template", "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s"
    )
    config.set_main_option("version_path_separator", "os")
    config.attributes["connection"] = connection
    return config


def migrate(
    engine_or_connection: Engine | Connection, revision: str = "head", script_location: Path = MIGRATIONS_DIR
) -> None:
    """Bring the schema to ``revision`` (both SQLite and PostgreSQL)."""
    if isinstance(engine_or_connection, Engine):
        with engine_or_connection.begin() as connection:
            alembic_command.upgrade(alembic_config(connection, script_location), revision)
    else:
        alembic_command.upgrade(alembic_config(engine_or_connection, script_location), revision)


def revision_state(
    connection: Connection, script_location: Path = MIGRATIONS_DIR, version_table: str = "alembic_version"
) -> tuple[str | None, str | None]:
    """The database's revision (read on ``connection``) and the code's head (``None`` for a
    database never migrated)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(None, script_location)).get_current_head()
    current = MigrationContext.configure(connection, opts={"version_table": version_table}).get_current_revision()
    return current, head


def migrations_disagreement(engine: Engine, script_location: Path = MIGRATIONS_DIR) -> str | None:
    """What ``alembic check`` finds between the models and the migrations, or None."""
    from alembic.util.exc import AutogenerateDiffsDetected

    with engine.begin() as connection:
        try:
            alembic_command.check(alembic_config(connection, script_location))
        except AutogenerateDiffsDetected as exc:
            return str(exc)
    return None


def run_alembic_env(context: Any, metadata: MetaData, version_table: str = "alembic_version") -> None:
    """The body of an ``env.py``: migrate the connection handed in (or the configured database),
    comparing only the tables of ``metadata``: other components share the database."""

    def only_ours(obj: Any, name: str, type_: str, reflected: bool, compare_to: Any) -> bool:
        return not (type_ == "table" and reflected and compare_to is None)

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            include_object=only_ours,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    from backend.config import Settings

    engine = make_engine(Settings.from_env().database_url)
    with engine.begin() as conn:
        run(conn)
    engine.dispose()
