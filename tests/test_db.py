"""The database layer: pooled connections that died while idle, read-only sessions."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from backend.db import Database, ReadOnlySession, make_engine
from backend.directory.models import Program
from backend.reports.models import Report


def _kill_pooled_connection(engine, database_url: str) -> int:
    """Check a connection in and out of the pool, then have the server end it; its backend pid."""
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    killer = make_engine(database_url)
    with killer.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    gone = text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the signal is sent; wait until the backend is gone
        with killer.connect() as connection:
            if connection.execute(gone, {"pid": pid}).scalar_one():
                break
        time.sleep(0.01)
    else:
        pytest.fail(f"backend {pid} still alive 5 s after pg_terminate_backend")
    killer.dispose()
    return pid


@pytest.mark.postgresql
def test_a_pooled_connection_that_died_while_idle_is_replaced_before_a_request_uses_it(database_url):
    engine = make_engine(database_url, ping_after_idle=0)  # every return to the pool counts as idle
    dead = _kill_pooled_connection(engine, database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != dead
    engine.dispose()


@pytest.mark.postgresql
def test_a_connection_in_steady_use_is_not_pinged(database_url):
    # The other side of the trade: within the idle delay, the pool trusts the connection (a
    # request right after the database died fails, and the pool is renewed).
    engine = make_engine(database_url, ping_after_idle=3600)
    _kill_pooled_connection(engine, database_url)
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    with engine.connect() as connection:  # the next one gets a new connection
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()


@pytest.mark.postgresql
def test_timestamps_come_back_in_utc_whatever_the_server_s_time_zone(database_url):
    from datetime import UTC, datetime, timedelta

    from backend.reports.models import ReportEvent

    separator = "&" if "?" in database_url else "?"
    tokyo = make_engine(f"{database_url}{separator}options=-ctimezone%3DAsia/Tokyo")
    with tokyo.connect() as connection:
        at = connection.execute(select(func.now())).scalar_one()
        stored = connection.execute(select(ReportEvent.at).limit(1)).scalar_one_or_none()
        typed = connection.execute(select(func.cast(func.now(), ReportEvent.at.type))).scalar_one()
    assert at.utcoffset() == timedelta(0)
    assert typed.tzinfo is not None
    assert typed.utcoffset() == timedelta(0)
    assert abs(typed - datetime.now(UTC)) < timedelta(minutes=5)
    assert stored is None or stored.utcoffset() == timedelta(0)
    tokyo.dispose()


def test_a_read_only_session_refuses_to_write_and_writes_nothing(fresh_database_url):
    from backend.db import migrate
    from backend.seeding import load_seeds

    engine = make_engine(fresh_database_url)
    migrate(engine)
    database = Database(engine)
    with database.transaction() as session:
        load_seeds(session)
    session = database.session(read_only=True)
    program = session.scalars(select(Program).order_by(Program.id)).first()
    program.name = "Renamed"
    with pytest.raises(ReadOnlySession):
        session.flush()
    session.rollback()
    with pytest.raises(ReadOnlySession):
        session.execute(Program.__table__.update().values(name="Renamed"))
    with pytest.raises(ReadOnlySession):
        session.execute(Report.__table__.delete())
    session.close()
    with database.transaction() as session:
        assert session.scalar(select(func.count()).where(Program.name == "Renamed")) == 0
    engine.dispose()


def test_embedded_reads_go_on_while_a_long_write_holds_the_sqlite_write_lock(tmp_path, settings):
    # Read-only views (the catalog, the public list, the queue) begin a plain deferred
    # transaction: a zone import or a burst of reports holding the write lock does not stall them.
    from dataclasses import replace

    from backend.app import create_app
    from backend.db import migrate
    from backend.seeding import load_seeds

    url = f"sqlite:///{tmp_path / 'embedded.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    database = Database(engine)
    with database.transaction() as session:
        load_seeds(session)
    client = create_app(replace(settings, database_url=url), database=database).test_client()
    writer = make_engine(url)
    with writer.connect() as connection, connection.begin():  # BEGIN IMMEDIATE: the write lock
        connection.execute(Program.__table__.update().values(name="Pendant l'écriture"))
        programs = client.get("/api/v1/programs")
        reports = client.get("/api/v1/reports")
    assert programs.status_code == 200
    assert "Pendant l'écriture" not in {p["name"] for p in programs.get_json()["items"]}  # not yet committed
    assert reports.status_code == 200
    writer.dispose()
    engine.dispose()


def test_in_constants_writes_only_code_constants_into_the_sql():
    from backend.db import in_constants

    rendered = str(in_constants(Report.status, ["open", "in_progress"]).compile())
    assert "'open'" in rendered
    assert "'in_progress'" in rendered
    for value in ["open'); DROP TABLE reports; --", "Open", "", "open status"]:
        with pytest.raises(ValueError, match="not a code constant"):
            in_constants(Report.status, ["open", value])
