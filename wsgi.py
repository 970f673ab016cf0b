"""The WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

import sys

from backend.app import create_app
from backend.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    # A clear message and a non-zero exit, not a traceback, for a bad environment.
    sys.exit(str(exc))
