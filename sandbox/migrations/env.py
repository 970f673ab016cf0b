"""Alembic environment of the sandbox: its own tables, its own version table."""

from alembic import context

from backend.db import run_alembic_env
from sandbox.migrate import VERSION_TABLE
from sandbox.models import SandboxBase

run_alembic_env(context, SandboxBase.metadata, version_table=VERSION_TABLE)
