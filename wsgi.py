"""The WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``.

The backend app serves /api/v1; the sandbox app is mounted beside it at /sandbox.
"""

import atexit
import gc
import sys

from backend import deps
from backend.app import create_app
from backend.config import ConfigError
from sandbox.app import create_sandbox_app, mount

try:
    app = create_app()
    context = deps.current(app)
    mount(app, create_sandbox_app(context.settings, database=context.database, redis_client=context.redis))
except ConfigError as exc:
    # A clear message and a non-zero exit, not a traceback, for a bad environment.
    sys.exit(str(exc))

# What the app holds from now on (routes, schemas, the OpenAPI documents…) lives as long as the
# process: out of the garbage collector's full passes, which otherwise walked it all every few
# large answers (a 5,000-point map took 120 ms instead of 25 at p95: bench/console.py).
gc.freeze()
atexit.register(gc.unfreeze)  # collected as usual when the process ends (extension modules check it)
