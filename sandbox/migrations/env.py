"""Alembic environment of the sandbox: its own tables, its own version table."""

from alembic import context

from backend.config import Settings
from backend.db import make_engine
from sandbox.migrate import VERSION_TABLE
from sandbox.models import SandboxBase

config = context.config


def _only_ours(obj, name, type_, reflected, compare_to) -> bool:
    # The backend's tables live in the same database: they are not ours to compare or drop.
    return not (type_ == "table" and reflected and compare_to is None)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SandboxBase.metadata,
        version_table=VERSION_TABLE,
        include_object=_only_ours,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(Settings.from_env().database_url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
