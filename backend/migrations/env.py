"""Alembic environment of the backend."""

from alembic import context

import backend.models  # noqa: F401  (registers every table on the metadata)
from backend.db import Base, run_alembic_env

run_alembic_env(context, Base.metadata)
