"""The web fronts' common ground: the zone pages, the citizens' site and the console share one
layout, one stylesheet, the same form macros, CSRF protection, security headers and French error
pages. Plumbing: it imports no domain package; each front builds its blueprint with
:func:`pages_blueprint` and renders with :func:`page`."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from flask_compress import Compress
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from werkzeug.exceptions import HTTPException, NotFound

from backend.errors import DomainError
from backend.http import UNAVAILABLE_SECONDS, database_unreachable
from backend.web import sessions

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
# Assets that come from Python packages (no CDN: the fronts work on a machine without internet).
VENDORED = {
    "leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
    "leaflet-markercluster": Path(xstatic.pkg.leaflet_markercluster.BASE_DIR),
}
LOCAL_TIME = ZoneInfo("Europe/Paris")
ONE_YEAR = 365 * 24 * 3600
# No inline script or style anywhere: every script and stylesheet is a file of ours (Leaflet places
# its panes through the CSSOM, which a policy does not restrict).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:{tiles}; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "geolocation=(self), camera=(self), microphone=()",
}
# What a citizen reads when something goes wrong, by HTTP status.
ERROR_PAGES = {
    400: ("Demande incomplète", "La demande envoyée n'a pas pu être lue. Revenez à la page précédente et réessayez."),
    403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
    404: (
        "Page introuvable",
        "Cette page n'existe pas, ou plus. Vérifiez l'adresse, ou scannez de nouveau le QR code.",
    ),
    405: ("Action impossible", "Cette page ne prend pas ce genre de demande."),
    409: ("Conflit", "Ce formulaire a déjà été envoyé avec d'autres valeurs. Rechargez la page et recommencez."),
    413: ("Fichier trop volumineux", "L'envoi dépasse la taille permise. Choisissez une photo plus légère."),
    415: ("Fichier non reconnu", "Ce type de fichier n'est pas accepté."),
    422: ("Formulaire à corriger", "Certaines informations ne conviennent pas. Revenez en arrière pour les corriger."),
    429: ("Trop de demandes", "Trop de demandes en peu de temps. Patientez une minute et réessayez."),
    503: (
        "Service momentanément indisponible",
        "Le service ne peut pas enregistrer votre demande pour l'instant : rien n'a été enregistré. "
        "Réessayez dans quelques secondes.",
    ),
}
SERVER_ERROR = ("Erreur du service", "Le service n'a pas pu répondre. Réessayez dans un instant.")

csrf = CSRFProtect()
compress = Compress()
blp = Blueprint("web", __name__, template_folder="templates")
COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/geo+json",
    "image/svg+xml",
]


@blp.get("/")
def home() -> Response:
    """The root: what Signal93 is, and where each of its users goes (French)."""
    return _secure(compress.after_request(page("web/home.html", title="Accueil")))


@blp.get("/static/<path:filename>")
def static(filename: str) -> Response:
    """The shared assets (ours, and the vendored ``vendor/<package>/…``). Pages name them with a
    hash of their content (:func:`asset`), so a versioned address is cached for a year and a new
    version is a new address."""
    path = _asset_path(filename)
    if path is None:
        raise NotFound()
    data = _read(path)
    response = Response(data, mimetype=mimetypes.guess_type(path.name)[0] or "application/octet-stream")
    response.cache_control.public = True
    response.cache_control.max_age = ONE_YEAR if "v" in request.args else 300
    response.set_etag(_digest(filename))
    response.make_conditional(request)
    return compress.after_request(response)


def _asset_path(filename: str) -> Path | None:
    """The file an asset name stands for, never outside its folder; None if there is none."""
    root, relative = STATIC, filename
    if filename.startswith("vendor/"):
        parts = filename.split("/", 2)
        if len(parts) < 3 or parts[1] not in VENDORED:
            return None
        root, relative = VENDORED[parts[1]], parts[2]
    path = (root / relative).resolve()
    if not path.is_file() or root.resolve() not in path.parents:
        return None
    return path


@cache
def _read(path: Path) -> bytes:
    return path.read_bytes()


@cache
def _digest(filename: str) -> str:
    path = _asset_path(filename)
    if path is None:
        raise FileNotFoundError(filename)
    return hashlib.sha256(_read(path)).hexdigest()[:12]


def asset(filename: str) -> str:
    """The address of a shared asset, versioned by its content."""
    return url_for("web.static", filename=filename, v=_digest(filename))


def install(app: Flask, *, secure_cookies: bool, map_tile_url: str | None = None) -> None:
    """Register the shared assets and templates, CSRF protection (checked by the fronts' own
    blueprints only: the JSON API authenticates with tokens, not cookies) and compression (of the
    fronts' pages and assets only: the API's streams stay as they are)."""
    tiles = urlsplit(map_tile_url) if map_tile_url else None
    app.extensions["signal93.web.csp"] = CONTENT_SECURITY_POLICY.format(
        tiles=f" {tiles.scheme}://{tiles.netloc}" if tiles else ""
    )
    app.config.update(
        COMPRESS_REGISTER=False,
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_MIMETYPES=COMPRESSED_TYPES,
        COMPRESS_STREAMS=False,
        SESSION_COOKIE_NAME=sessions.COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_SSL_STRICT=secure_cookies,
        WTF_CSRF_TIME_LIMIT=12 * 3600,  # a walk in the park, the form left open: still valid on return
    )
    csrf.init_app(app)
    compress.init_app(app)
    app.register_blueprint(blp)
    app.jinja_env.globals.update(asset=asset, csrf_token=generate_csrf)
    app.jinja_env.filters.update(paris=paris_time, pairs=pairs)


def paris_time(moment: datetime | str | None) -> str:
    """A moment as residents read it: Paris time, « 29/11/2026 à 14:05 » (from a datetime, or
    the ISO 8601 text a schema dumps)."""
    if not moment:
        return ""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TIME).strftime("%d/%m/%Y à %H:%M")


def pairs(values: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """A list attribute's values as (key, name) pairs, for a select."""
    return [(str(value["key"]), str(value["name"])) for value in values]


def pages_blueprint(name: str, import_name: str, **options: Any) -> Blueprint:
    """A front's blueprint: every page gets the security headers, every form POST is checked for
    its CSRF token, and every error is a French page (never the API's JSON, never a trace)."""
    pages = Blueprint(name, import_name, **options)

    @pages.before_request
    def _check_csrf() -> None:
        if request.method == "POST":
            csrf.protect()

    @pages.after_request
    def _headers(response: Response) -> Response:
        _secure(response)
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return compress.after_request(response)

    pages.register_error_handler(CSRFError, _csrf_error)
    pages.register_error_handler(DomainError, _domain_error)
    pages.register_error_handler(HTTPException, _http_error)
    pages.register_error_handler(Exception, _unexpected_error)
    return pages


def keep_on_device(response: Response, name: str, value: str, *, days: int) -> None:
    """A cookie the fronts keep on the person's device (HttpOnly, SameSite=Lax; Secure as the
    session cookie is: in production, behind https)."""
    response.set_cookie(
        name,
        value,
        max_age=days * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A rendered page (HTML, UTF-8; a lone surrogate stored somewhere is written as U+FFFD rather
    than making the page a 500)."""
    body = render_template(template, **context).encode("utf-8", "replace")
    return Response(body, status=status, mimetype="text/html")


def error_page(status: int, title: str | None = None, message: str | None = None) -> Response:
    default_title, default_message = ERROR_PAGES.get(status, SERVER_ERROR)
    response = page("web/error.html", status, title=title or default_title, message=message or default_message)
    return _secure(response)


def _secure(response: Response) -> Response:
    for header, value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
    response.headers.setdefault("Content-Security-Policy", current_app.extensions["signal93.web.csp"])
    return response


def _csrf_error(error: CSRFError) -> Response:
    return error_page(
        400,
        "Page expirée",
        "Cette page était ouverte depuis trop longtemps, ou les cookies sont bloqués. "
        "Rechargez-la, puis envoyez de nouveau le formulaire.",
    )


def _domain_error(error: DomainError) -> Response:
    return error_page(error.status)


def _http_error(error: HTTPException) -> Response:
    if database_unreachable(error):
        return _unavailable()
    return error_page(error.code or 500)


def _unexpected_error(error: Exception) -> Response:
    if database_unreachable(error):
        return _unavailable()
    log.exception("unexpected error on a page")
    return error_page(500)


def _unavailable() -> Response:
    log.warning("database unreachable on a page")
    response = error_page(503)
    response.headers["Retry-After"] = str(UNAVAILABLE_SECONDS)
    return response
