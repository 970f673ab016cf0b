"""Alembic environment: migrates the connection it is given, or the configured database."""

from alembic import context

import backend.models  # noqa: F401  (registers every table on the metadata)
from backend.config import Settings
from backend.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _only_ours(obj, name, type_, reflected, compare_to) -> bool:
    # Other components (the sandbox) keep their own tables in the same database.
    return not (type_ == "table" and reflected and compare_to is None)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_only_ours,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
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
