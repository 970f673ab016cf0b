"""The page a walker's QR code opens, ``/z/{slug}``: French, server-rendered, usable in any phone
browser without an app and without JavaScript. Its form goes through the reports' intake (the
same schema, routing, idempotency and media pipeline as the apps), under CSRF protection."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import Response, request

from backend import deps, ratelimits, web
from backend.db import utcnow
from backend.errors import DomainError, InvalidFields
from backend.http import db_session, read_only, uploaded_files
from backend.observations import walker
from backend.reports.schemas import ReportCreateSchema
from backend.reports.views import submit
from backend.web import forms

blp = web.pages_blueprint("zone_pages", __name__, template_folder="templates")

DEVICE_COOKIE = "signal93_appareil"
_CREATE = ReportCreateSchema()

LABELS = {
    "espece": "Espèce",
    "nombre": "Nombre",
    "comportement": "Ce qu'elle faisait",
    "photos": "Photo",
    "email": "Adresse e-mail",
    "position": "Position",
    "formulaire": "Formulaire",
}
MESSAGES = {
    "espece": "Choisissez l'espèce dans la liste, ou « Espèce inconnue » en joignant une photo.",
    "nombre": "Indiquez un nombre entier d'individus, entre 1 et 10 000.",
    "comportement": "Choisissez dans la liste ce qu'elle faisait, ou laissez vide.",
    "photos": "Cette photo n'a pas pu être acceptée : envoyez une photo JPEG, PNG, WebP ou HEIC de 15 Mo au plus.",
    "email": "Indiquez une adresse e-mail valide, comme nom@exemple.fr, ou laissez le champ vide.",
    "position": "Votre position n'a pas pu être utilisée : laissez-la vide, la zone sera indiquée.",
}
# Where an error of the intake lands on the form: (location, field…) → form field.
FIELDS_BY_PATH = {
    ("json", "attributes", "espece"): "espece",
    ("json", "attributes", "nombre"): "nombre",
    ("json", "attributes", "comportement"): "comportement",
    ("json", "reporter"): "email",
    ("json", "location"): "position",
    ("files",): "photos",
}


def _place(path: tuple[str, ...], message: str) -> tuple[str, str] | None:
    for prefix, name in FIELDS_BY_PATH.items():
        if path[: len(prefix)] == prefix:
            return name, MESSAGES[name]
    return None


def _page_for(slug: str, *, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status=200):
    page = walker.zone_page(
        db_session(), slug, query=request.args.get("q", ""), router=deps.current().router, now=utcnow()
    )
    return web.page(
        "zone_pages/zone.html",
        status,
        title=page.card["zone"].name,
        page=page,
        values=values or {"idempotency_key": str(uuid.uuid4())},
        errors=errors or {},
        labels=LABELS,
    )


@blp.get("/z/<string:slug>")
@read_only
def zone(slug: str) -> Response:
    """The zone's card and its sighting form (``?q=`` narrows the species to pick from)."""
    return _page_for(slug)


@blp.post("/z/<string:slug>")
@ratelimits.intake()
def sight(slug: str) -> Response:
    """A sighting sent from the zone's page: stored through the intake, answered with its
    reference and what happens next, or the form again with the errors beside their fields."""
    values = {key: request.form.get(key, "").strip() for key in _FORM_FIELDS}
    try:
        payload = _payload(slug, values)
        data = _CREATE.load(payload)
        files = uploaded_files(("photos",))
        device = request.cookies.get(DEVICE_COOKIE) or str(uuid.uuid4())
        data["device_id"] = _uuid(device) or uuid.uuid4()
        submission = submit(data, payload=payload, files=files, idempotency_key=values["idempotency_key"] or None)
    except ma.ValidationError as exc:
        return _page_for(slug, values=values, errors=forms.french_errors({"json": exc.messages}, _place), status=422)
    except (InvalidFields, DomainError) as exc:
        if exc.status not in (409, 413, 415, 422):
            raise
        return _page_for(
            slug,
            values=values,
            errors=forms.french_errors(exc.errors or {}, _place, status=exc.status),
            status=exc.status,
        )
    response = web.page(
        "zone_pages/thanks.html",
        title="Merci pour votre observation",
        report=submission.report,
        me_too=submission.me_too,
        slug=slug,
    )
    web.keep_on_device(response, DEVICE_COOKIE, str(data["device_id"]), days=365)
    return response


_FORM_FIELDS = ("idempotency_key", "espece", "nombre", "comportement", "email", "consent", "lon", "lat", "accuracy_m")


def _payload(slug: str, values: dict[str, str]) -> dict[str, Any]:
    """The form as the report the apps would send (the intake's own schema checks it)."""
    attributes: dict[str, Any] = {}
    if values["espece"]:
        attributes["espece"] = values["espece"]
    if values["nombre"]:
        attributes["nombre"] = forms.number(values["nombre"])
    if values["comportement"]:
        attributes["comportement"] = values["comportement"]
    payload: dict[str, Any] = {"category": walker.SIGHTING_CATEGORY, "zone": slug, "attributes": attributes}
    lon, lat, accuracy = forms.number(values["lon"]), forms.number(values["lat"]), forms.number(values["accuracy_m"])
    if isinstance(lon, float | int) and isinstance(lat, float | int):  # the browser's position, when given
        payload["location"] = {"lon": lon, "lat": lat}
        if isinstance(accuracy, float | int) and 0 <= accuracy <= 100_000:
            payload["location"]["accuracy_m"] = accuracy
    if values["email"]:
        payload["reporter"] = {"email": values["email"], "consent_contact": values["consent"] == "oui"}
    return payload


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
