"""Test fixtures: a migrated, seeded database per run, one rolled-back transaction per test.

By default the suite runs on SQLite with in-process jobs. With ``TEST_DATABASE_URL`` (and
``TEST_REDIS_URL``) set, it runs against those servers and fails at once if they cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.config import Settings, normalize_database_url
from backend.db import Database, make_engine, migrate
from backend.seeding import load_seeds
from sandbox.migrate import migrate as migrate_sandbox

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
DATA = Path(__file__).parent / "data"


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"signal93 database: {TEST_DATABASE_URL or 'SQLite (temporary file)'}",
        f"signal93 @postgresql tests: {'run' if (TEST_DATABASE_URL or '').startswith('postgresql') else 'deselected'}",
        f"signal93 redis: {TEST_REDIS_URL or 'none: jobs in-process, @redis tests deselected'}",
        f"signal93 browser: {shutil.which('chromium') or 'none: @browser tests deselected (run in CI)'}",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests of the real PostgreSQL and Redis run in .ci/run's second pass, where TEST_DATABASE_URL
    # and TEST_REDIS_URL are set; browser tests wherever Chromium is installed, and always in CI
    # (.ci/run installs it).
    skipped_markers = set()
    if not (TEST_DATABASE_URL or "").startswith("postgresql"):
        skipped_markers.add("postgresql")
    if not TEST_REDIS_URL:
        skipped_markers.add("redis")
    if not (os.environ.get("CI") or shutil.which("chromium")):
        skipped_markers.add("browser")
    selected = [item for item in items if not skipped_markers & set(item.keywords)]
    deselected = [item for item in items if skipped_markers & set(item.keywords)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def _reachable_or_exit(engine: Engine) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.exit(f"TEST_DATABASE_URL is set but the database cannot be reached: {exc}", returncode=3)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if TEST_DATABASE_URL:
        return normalize_database_url(TEST_DATABASE_URL)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'signal93-test.sqlite3'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The test database, emptied, migrated to head and seeded once per run."""
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        _reachable_or_exit(engine)
        with engine.begin() as connection:  # each run starts from a clean database
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    if TEST_REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).flushdb()  # a clean start
        except redis.RedisError as exc:
            pytest.exit(f"TEST_REDIS_URL is set but Redis cannot be reached: {exc}", returncode=3)
    migrate(engine)
    migrate_sandbox(engine)
    with Database(engine).transaction() as session:
        load_seeds(session)
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of this run's kind: a new SQLite file, or a new PostgreSQL
    schema (dropped afterwards), for tests that need their own, really committed, data."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    schema = f"fresh_{uuid.uuid4().hex[:12]}"
    admin = make_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in database_url else "?"
    try:
        yield f"{database_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    transaction = connection.begin()
    yield connection
    transaction.rollback()
    connection.close()


@pytest.fixture
def database(engine: Engine, connection: Connection) -> Database:
    """Sessions bound to the test's transaction: their commits are savepoints."""
    return Database(engine, bind=connection, join_transaction_mode="create_savepoint")


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    session = database.session()
    yield session
    session.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        mode="embedded",
        instance_path=tmp_path / "instance",
        database_url=database_url,
        redis_url=TEST_REDIS_URL,
        secret_key="test-secret-key-that-is-long-enough-000",
        media_storage_url=f"file://{tmp_path / 'media'}",
        public_base_url="http://signal93.test",
        routing_refresh_seconds=0.0,  # tests change rules and zones, then route at once
        log_json=True,
        # Tests send many reports from 127.0.0.1; the limits are tested on their own (test_ratelimits.py).
        intake_rate_limit="100000 per minute",
        support_rate_limit="100000 per minute",
    )


@pytest.fixture
def app(settings: Settings, database: Database):
    app = create_app(settings, database=database)
    app.testing = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def wsgi_app(app, settings, database):
    """The app as ``wsgi.py`` serves it: the backend, the sandbox mounted at /sandbox."""
    from sandbox.app import create_sandbox_app, mount

    if TEST_REDIS_URL:  # the sandbox's limits live in Redis: each test starts from zero
        import redis

        redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    mount(app, create_sandbox_app(settings, database=database))
    return app


@pytest.fixture
def wsgi_client(wsgi_app):
    return wsgi_app.test_client()


class MailBox:
    """What a real SMTP server (aiosmtpd, on 127.0.0.1) received."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, MailBox]]:
    """A real SMTP server on a free local port; yields its URL and the messages it received."""
    from aiosmtpd.controller import Controller

    from tests.servers import free_port

    box = MailBox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}", box
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's standalone S3 server on 127.0.0.1: real HTTP, real S3 protocol, no mock of boto3."""
    from moto.server import ThreadedMotoServer

    from tests.servers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, on a free port (the shared one is never stopped)."""
    from tests.servers import free_port

    port = free_port()
    command = [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    command += ["--dir", str(tmp_path)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait_up() -> None:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    wait_up()
    state = {"server": server}

    def stop() -> None:
        state["server"].terminate()
        state["server"].wait(10)

    def start() -> None:
        state["server"] = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_up()

    yield f"redis://127.0.0.1:{port}/0", stop, start
    state["server"].terminate()
    state["server"].wait(10)
