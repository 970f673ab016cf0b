"""The web fronts' common ground: the zone pages, the citizens' site and the console share one
layout, one stylesheet, the same form macros, CSRF protection, security headers and French error
pages. Plumbing: it imports no domain package; each front builds its blueprint with
:func:`pages_blueprint` and renders with :func:`page`."""

from __future__ import annotations

import hashlib
import logging
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request, send_from_directory, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from werkzeug.exceptions import HTTPException

from backend.errors import DomainError

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
ONE_YEAR = 365 * 24 * 3600
# No inline script or style anywhere: every script and stylesheet is a file of ours.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
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
}
SERVER_ERROR = ("Erreur du service", "Le service n'a pas pu répondre. Réessayez dans un instant.")

csrf = CSRFProtect()
blp = Blueprint("web", __name__, template_folder="templates")


@blp.get("/static/<path:filename>")
def static(filename: str) -> Response:
    """The shared assets. Pages name them with a hash of their content (:func:`asset`), so a
    versioned address is cached for a year and a new version is a new address."""
    versioned = "v" in request.args
    return send_from_directory(STATIC, filename, max_age=ONE_YEAR if versioned else 300)


@cache
def _digest(filename: str) -> str:
    return hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:12]


def asset(filename: str) -> str:
    """The address of a shared asset, versioned by its content."""
    return url_for("web.static", filename=filename, v=_digest(filename))


def install(app: Flask, *, secure_cookies: bool) -> None:
    """Register the shared assets and templates, and CSRF protection (checked by the fronts' own
    blueprints only: the JSON API authenticates with tokens, not cookies)."""
    app.config.update(
        SESSION_COOKIE_NAME="signal93",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_SSL_STRICT=secure_cookies,
        WTF_CSRF_TIME_LIMIT=12 * 3600,  # a walk in the park, the form left open: still valid on return
    )
    csrf.init_app(app)
    app.register_blueprint(blp)
    app.jinja_env.globals.update(asset=asset, csrf_token=generate_csrf)


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
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    pages.register_error_handler(CSRFError, _csrf_error)
    pages.register_error_handler(DomainError, _domain_error)
    pages.register_error_handler(HTTPException, _http_error)
    pages.register_error_handler(Exception, _unexpected_error)
    return pages


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A rendered page (HTML, UTF-8)."""
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def error_page(status: int, title: str | None = None, message: str | None = None) -> Response:
    default_title, default_message = ERROR_PAGES.get(status, SERVER_ERROR)
    response = page("web/error.html", status, title=title or default_title, message=message or default_message)
    for header, value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
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
    return error_page(error.code or 500)


def _unexpected_error(error: Exception) -> Response:
    log.exception("unexpected error on a page")
    return error_page(500)
