"""The backend's application factory."""

from __future__ import annotations

from flask import Flask, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.middleware.proxy_fix import ProxyFix

from backend import cli, deps, health, http, logs, operations, pagination, ratelimits, web
from backend.citizens.pages import blp as citizens_blp
from backend.config import Settings
from backend.console import administration as _console_administration  # noqa: F401 (its pages join console_blp)
from backend.console.pages import blp as console_blp
from backend.db import Database
from backend.directory.agents import Throttle
from backend.directory.models import ROLES
from backend.directory.views import admin_blp, auth_blp
from backend.directory.views import blp as directory_blp
from backend.mail import make_mailer
from backend.media.models import MEDIA_KINDS, MEDIA_STATUSES
from backend.media.services import VARIANTS
from backend.notifications.views import blp as notifications_blp
from backend.observations.pages import blp as zone_pages_blp
from backend.observations.views import blp as observations_blp
from backend.open311.views import admin_blp as open311_admin_blp
from backend.open311.views import blp as open311_blp
from backend.openapi import ContractPlugin
from backend.queue import InlineQueue, RqQueue
from backend.reports.models import PRIORITIES, STATUSES
from backend.reports.views import blp as reports_blp
from backend.reports.views import media_blp
from backend.routing.services import Router
from backend.routing.views import blp as routing_admin_blp
from backend.storage import make_storage
from backend.triage.views import blp as triage_blp
from backend.zones.models import ZONE_KINDS
from backend.zones.views import blp as zones_blp

API_PREFIX = "/api/v1"
DOCS_ASSETS = f"{API_PREFIX}/docs/assets/"


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Flask:
    """Build the backend app from validated settings (read from the environment by default).

    ``database`` lets tests hand in a session factory bound to their own transaction.
    """
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level, settings.log_json)
    pagination.set_signing_key(settings.secret_key)

    app = Flask(__name__, instance_path=str(settings.instance_path), static_folder=None)
    app.json = http.JSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        API_TITLE="Signal93",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS,
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "Citizen reports for the Seine-Saint-Denis département: road patrolling "
                    "(Patrouillage), water and sanitation (Vigies de l'Eau) and biodiversity in "
                    "the departmental parks (Balades Observ'acteurs). Every error has the body "
                    '`{"code", "message", "errors"}`.'
                ),
                "license": {"name": "EUPL-1.2"},
            },
            "servers": [{"url": settings.public_base_url}],
        },
    )
    if settings.trusted_proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxy_hops,
            x_proto=settings.trusted_proxy_hops,
            x_host=settings.trusted_proxy_hops,
        )

    redis_client = _redis_client(settings)
    deps.install(
        app,
        deps.AppContext(
            settings=settings,
            database=database or Database.from_url(settings.database_url),
            redis=redis_client,
            router=Router(refresh_seconds=settings.routing_refresh_seconds),
            storage=make_storage(settings.media_storage_url),
            queue=RqQueue(redis_client) if redis_client is not None else inline_queue(app),
            mailer=make_mailer(settings.smtp_url, settings.instance_path),
            sign_in_throttle=_sign_in_throttle(settings),
        ),
    )

    http.install(app)
    ratelimits.install(app, settings.redis_url or "memory://")
    api = http.Api(
        app,
        ContractPlugin(
            token_errors={
                "AgentToken": {401: ["token_missing", "token_invalid"]},
                "ReporterToken": {401: ["reporter_token_missing", "invalid_reporter_token"]},
            },
            enums={
                "ReportStatus": STATUSES,
                "PriorityLevel": PRIORITIES,
                "MediaKind": MEDIA_KINDS,
                "MediaStatus": MEDIA_STATUSES,
                "MediaVariant": VARIANTS,
                "ZoneKind": ZONE_KINDS,
                "Role": ROLES,
            },
        ),
    )
    api.spec.components.security_scheme(
        "AgentToken",
        {"type": "http", "scheme": "bearer", "description": "An agent's token: POST /api/v1/auth/tokens gives one"},
    )
    api.spec.components.security_scheme(
        "ReporterToken",
        {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Reporter <reporter_token>`: the token the submission answered with",
        },
    )
    api.register_blueprint(directory_blp, url_prefix=API_PREFIX)
    api.register_blueprint(zones_blp, url_prefix=API_PREFIX)
    api.register_blueprint(observations_blp, url_prefix=API_PREFIX)
    api.register_blueprint(reports_blp, url_prefix=API_PREFIX)
    api.register_blueprint(notifications_blp, url_prefix=API_PREFIX)
    api.register_blueprint(media_blp, url_prefix=API_PREFIX)
    api.register_blueprint(auth_blp, url_prefix=API_PREFIX)
    api.register_blueprint(triage_blp, url_prefix=API_PREFIX)
    api.register_blueprint(admin_blp, url_prefix=API_PREFIX)
    api.register_blueprint(routing_admin_blp, url_prefix=API_PREFIX)
    api.register_blueprint(open311_admin_blp, url_prefix=API_PREFIX)
    app.register_blueprint(health.blp)
    app.register_blueprint(operations.blp)
    # The web fronts: one layout and one set of assets, CSRF on their forms.
    web.install(app, secure_cookies=settings.public_base_url.startswith("https://"), map_tile_url=settings.map_tile_url)
    app.register_blueprint(zone_pages_blp)
    app.register_blueprint(citizens_blp)
    app.register_blueprint(console_blp)
    app.register_blueprint(open311_blp)

    # Swagger UI's own files, served from the installed package: the docs work offline.
    @app.get(f"{DOCS_ASSETS}<path:filename>")
    def docs_assets(filename: str):
        return send_from_directory(str(swagger_ui_path), filename, max_age=86400)

    cli.register(app)
    return app


def _sign_in_throttle(settings: Settings) -> Throttle:
    """Failed sign-ins (Redis or memory): per address and account 5 a minute, 10 in 15 minutes, 20
    an hour; per address, 100 an hour whatever the account."""
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import MovingWindowRateLimiter

    storage = storage_from_string(settings.redis_url or "memory://")
    return Throttle(
        MovingWindowRateLimiter(storage),
        per_pair=(parse("5/minute"), parse("10/15 minutes"), parse("20/hour")),
        per_address=parse("100/hour"),
    )


def inline_queue(app: Flask) -> InlineQueue:
    """The embedded mode's queue: each job runs at once, in ``app``'s context."""

    def in_app_context(call):
        with app.app_context():
            return call()

    return InlineQueue(runner=in_app_context)


def _redis_client(settings: Settings):
    if settings.redis_url is None:
        return None
    import redis

    return redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
