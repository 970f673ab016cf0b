"""The sandbox's application factory, and how it is mounted at /sandbox beside the backend."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, Response, g, render_template, request, send_from_directory
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFProtect
from swagger_ui_bundle import swagger_ui_path
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from backend import deps, http, logs, metrics
from backend.config import Settings
from backend.db import Database
from backend.mail import Mailer, make_mailer
from backend.openapi import ContractPlugin
from backend.storage import make_storage
from sandbox import limits, schemas, services
from sandbox.usage import MemoryUsage, RedisUsage, UsageCounter

MOUNT = "/sandbox"
API_PREFIX = "/api/v1"
EXPLORE_PREFIX = "/api/explore/v2.1"
API_PATHS = (API_PREFIX, EXPLORE_PREFIX)  # answered in JSON, with keys and limits
DOCS_ASSETS = f"{API_PREFIX}/docs/assets/"


def create_sandbox_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    redis_client=None,
    mailer: Mailer | None = None,
) -> Flask:
    """The sandbox app (portal and API), sharing the backend's settings and database."""
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level, settings.log_json)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.json = http.JSONProvider(app)
    secure_cookies = settings.public_base_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_json_bytes,
        SESSION_COOKIE_NAME="signal93_sandbox",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        WTF_CSRF_SSL_STRICT=secure_cookies,
        API_TITLE="Signal93 sandbox",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{MOUNT}{DOCS_ASSETS}",
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "The hackathon sandbox of Signal93: the catalog, and a private space where a team's "
                    "test reports are validated and routed like real ones, reaching no directorate. "
                    "Send your key as `Authorization: Apikey <key>` (or `X-API-Key`)."
                )
            },
            "servers": [{"url": f"{settings.public_base_url}{MOUNT}"}],
            "components": {"securitySchemes": schemas.KEY_SCHEMES},
        },
    )
    redis_client = redis_client if redis_client is not None else _redis(settings)
    deps.install(
        app,
        deps.Core(
            settings=settings,
            database=database or Database.from_url(settings.database_url),
            storage=make_storage(settings.media_storage_url),
        ),
    )
    app.extensions["sandbox.secret"] = services.key_secret(settings.secret_key)
    app.extensions["sandbox.usage"] = RedisUsage(redis_client) if redis_client is not None else MemoryUsage()
    app.extensions["sandbox.mailer"] = mailer or make_mailer(settings.smtp_url, settings.instance_path)

    http.install(app)
    # Registered before the limiter: a key is verified before its limits are looked up.
    app.before_request(_authenticate)
    limiter = limits.make_limiter(app, settings.redis_url or "memory://")
    app.extensions["sandbox.limiter"] = limiter

    from sandbox import organisers, portal, views  # the blueprints need the limiter's decorators
    from sandbox.opendata import views as explore_views

    key_errors = {
        401: ["api_key_missing", "api_key_invalid", "api_key_revoked", "api_key_expired"],
        403: ["team_suspended"],
    }
    rate_headers = {
        name: {"description": description, "schema": {"type": "string"}} for name, description in limits.HEADERS.items()
    }
    api = http.Api(
        app,
        ContractPlugin(
            token_errors={name: key_errors for name in schemas.KEY_SCHEMES},
            extra_errors={429: ["rate_limited", "quota_exceeded"]},
            extra_headers=rate_headers,
        ),
    )
    views.apply_limits(limiter)
    api.register_blueprint(views.catalog_blp, url_prefix=f"{API_PREFIX}/catalog")
    api.register_blueprint(views.reports_blp, url_prefix=API_PREFIX)
    api.register_blueprint(explore_views.blp, url_prefix=EXPLORE_PREFIX)
    api.register_blueprint(explore_views.datasets_blp, url_prefix=API_PREFIX)
    api.register_blueprint(explore_views.dcat_blp, url_prefix="")
    app.register_blueprint(portal.blp)
    app.register_blueprint(organisers.blp)
    # Forms that send mail or create keys: a per-address limit against abuse (the limited view
    # replaces the registered one, as flask-limiter checks decorated limits when the view runs).
    for endpoint, limit in (("portal.sign_in", limits.SIGN_IN_LIMIT), ("portal.register", limits.REGISTER_LIMIT)):
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(limit, key_func=limits.address, methods=["POST"])(view)
    csrf = CSRFProtect(app)
    csrf.exempt(views.catalog_blp)
    csrf.exempt(views.reports_blp)

    @app.get(f"{DOCS_ASSETS}<path:filename>")
    def docs_assets(filename: str):
        return send_from_directory(str(swagger_ui_path), filename, max_age=86400)

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(error: RateLimitExceeded):
        if not request.path.startswith(API_PATHS):
            return render_template(
                "error.html",
                title="Trop de demandes",
                message="Trop de demandes depuis votre adresse : réessayez dans quelques minutes.",
            ), 429
        quota = error.limit.scope == limits.QUOTA_SCOPE
        code = "quota_exceeded" if quota else "rate_limited"
        message = (
            "Daily quota used up: it resets at 00:00 UTC."
            if quota
            else f"Too many requests ({error.limit.limit}): slow down and retry after the delay given."
        )
        return http.error_response(429, code, message)

    @app.after_request
    def _after(response: Response) -> Response:
        limits.rate_limit_headers(limiter, response)
        caller = g.get("caller")
        usage: UsageCounter = app.extensions["sandbox.usage"]
        if caller is not None and response.status_code < 400 and request.endpoint:
            usage.record(caller.key_id, request.endpoint, datetime.now(UTC))
            metrics.SANDBOX_CALLS.labels(str(caller.team_id)).inc()
            if usage.flush_due():  # a batch every 30 s in the embedded mode, never one per request
                services.store_usage(http.db_session(), *usage.drain())
        _security_headers(response)
        return response

    return app


def _authenticate() -> None:
    """Verify the key of an API call, if any; the API's own endpoints say whether one is needed."""
    from flask import current_app

    from sandbox.views import KEY_REQUIRED

    if not request.path.startswith(API_PATHS) or request.endpoint is None:
        return
    key = presented_key()
    if key is None and request.blueprint not in KEY_REQUIRED:
        return
    g.caller = services.authenticate(
        http.db_session(), key, now=datetime.now(UTC), secret=current_app.extensions["sandbox.secret"]
    )


def presented_key() -> str | None:
    """The key from ``Authorization: Apikey``, ``X-API-Key`` or (discouraged) ``?apikey=``."""
    return http.authorization("Apikey") or request.headers.get("X-API-Key") or request.args.get("apikey") or None


def _security_headers(response: Response) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        headers.setdefault("X-Frame-Options", "DENY")
        if not request.path.startswith(f"{API_PREFIX}/docs"):
            headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            )
        headers.setdefault("Cache-Control", "no-store")


def _redis(settings: Settings):
    if settings.redis_url is None:
        return None
    import redis

    return redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)


def mount(backend_app: Flask, sandbox_app: Flask) -> None:
    """Serve the sandbox at /sandbox of the backend app, and add its commands and migrations."""
    from sandbox import cli
    from sandbox.migrate import doctor_check
    from sandbox.migrate import migrate as migrate_sandbox
    from sandbox.opendata.jobs import schedule_builds

    backend_app.wsgi_app = DispatcherMiddleware(backend_app.wsgi_app, {MOUNT: sandbox_app})  # type: ignore[method-assign]
    backend_app.cli.add_command(cli.sandbox_group)
    backend_app.extensions["sandbox.usage"] = sandbox_app.extensions["sandbox.usage"]
    backend_app.extensions.setdefault("signal93.extra_migrations", []).append(migrate_sandbox)
    backend_app.extensions.setdefault("signal93.schedules", []).append(schedule_builds)
    backend_app.extensions.setdefault("signal93.doctor_checks", []).append(doctor_check)
