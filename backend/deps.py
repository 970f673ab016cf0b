"""One typed application context: the collaborators an app is built with, reached one way.

The app factory builds an :class:`AppContext` once; views, jobs and commands read it with
:func:`current` and hand what a service needs to that service as arguments (services never
read the context themselves). The sandbox, which shares the settings, the database and the storage,
builds a :class:`Core`; :func:`core` reads either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from backend.config import Settings
from backend.db import Database
from backend.mail import Mailer
from backend.queue import JobQueue
from backend.storage import Storage

if TYPE_CHECKING:  # the domain types, for annotations only: this module sits below every package
    from backend.directory.agents import Throttle
    from backend.routing.services import Router

EXTENSION = "signal93"


@dataclass(frozen=True)
class Core:
    """What every Signal93 app has: its settings, its database, its media storage (where the
    sandbox's open-data versions live too)."""

    settings: Settings
    database: Database
    storage: Storage


@dataclass(frozen=True)
class AppContext(Core):
    """The backend app's collaborators, chosen by configuration (embedded or production)."""

    redis: Any  # redis.Redis, or None in the embedded mode
    router: Router
    queue: JobQueue
    mailer: Mailer
    sign_in_throttle: Throttle


def install(app: Flask, context: Core) -> None:
    app.extensions[EXTENSION] = context


def core(app: Flask | None = None) -> Core:
    """The current app's settings and database (backend or sandbox)."""
    return (app or current_app).extensions[EXTENSION]


def current(app: Flask | None = None) -> AppContext:
    """The current backend app's context (the backend app, or a command run under it)."""
    context = core(app)
    if not isinstance(context, AppContext):
        raise RuntimeError("this needs the backend app's context, not the sandbox's")
    return context
