"""The citizens' site, French and server-rendered: choose what to report (/signaler), fill the
form generated from the category's definition and send it through the real intake (the same
validation, territory check, routing, idempotency, media pipeline, under CSRF protection); then
follow it (/suivi). The reports made from a browser are remembered by that browser only: their
reporter tokens sit in a cookie the server never stores."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import Response, request

from backend import deps, ratelimits, web
from backend.citizens import reporting
from backend.errors import DomainError
from backend.http import db_session, read_only, uploaded_files
from backend.reports.schemas import ReportCreateSchema
from backend.reports.views import submit as submit_report
from backend.web import forms

blp = web.pages_blueprint("citizens", __name__, template_folder="templates")

# A report's public trail as a resident reads it.
EVENT_TEXTS = {
    "submitted": "Signalement reçu",
    "routed": "Confié au service compétent",
    "seen_again": "Observé de nouveau",
    "media_published": "Photo ou vidéo publiée",
    "rerouted": "Confié à un autre service",
}


@blp.app_template_filter("event_text")
def event_text(event: Any) -> str:
    """What a resident reads of one public event of the trail."""
    if event.kind == "status":
        label = reporting.STATUS_LABELS.get(event.data.get("status"), event.data.get("status"))
        return f"Statut : {label}"
    return EVENT_TEXTS.get(event.kind, "Mise à jour")


TOKENS_COOKIE = "signal93_suivi"
LOCAL_TIME = ZoneInfo("Europe/Paris")
_CREATE = ReportCreateSchema()
_FIELDS = ("idempotency_key", "lat", "lon", "accuracy_m", "commune", "lieu", "description", "nom", "email", "telephone")

MESSAGES = {
    "position": "Indiquez où : placez le point sur la carte, tapez ses coordonnées, ou choisissez la commune.",
    "hors-territoire": (
        "Ce lieu est hors de la Seine-Saint-Denis : Signal93 ne traite que les signalements situés dans le département."
    ),
    "description": "La description fait au plus 4 000 caractères.",
    "nom": "Le nom fait au plus 200 caractères.",
    "email": "Indiquez une adresse e-mail valide, comme nom@exemple.fr, ou laissez le champ vide.",
    "telephone": "Indiquez un numéro de téléphone valide, comme 01 43 93 93 93, ou laissez le champ vide.",
    "photos": "Une photo n'a pas pu être acceptée : JPEG, PNG, WebP ou HEIC, 15 Mo au plus, 5 photos au plus.",
    "video": "La vidéo n'a pas pu être acceptée : MP4 ou MOV, 50 Mo au plus, une seule.",
    "observed_at": "La date d'observation doit dater de moins de 30 jours, et pas du futur.",
}
LABELS = {
    "position": "Lieu",
    "description": "Description",
    "nom": "Nom",
    "email": "Adresse e-mail",
    "telephone": "Téléphone",
    "photos": "Photos",
    "video": "Vidéo",
    "formulaire": "Formulaire",
}


@blp.get("/signaler")
@read_only
def choose() -> Response:
    """The programs and their categories, to choose what to report."""
    return web.page("citizens/choose.html", title="Signaler", programs=reporting.programs(db_session()))


def _form_page(code: str, *, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status=200):
    form = reporting.report_form(db_session(), code)
    labels = LABELS | {f"attr-{d['code']}": d["description"] for d in form.category.attributes or []}
    return web.page(
        "citizens/report.html",
        status,
        title=form.category.name,
        form=form,
        attributes=reporting.attribute_fields(form.category),
        values=values or {"idempotency_key": str(uuid.uuid4())},
        errors=errors or {},
        labels=labels,
        map_tiles=deps.current().settings.map_tile_url,
        map_attribution=deps.current().settings.map_tile_attribution,
    )


@blp.get("/signaler/<string:code>")
@read_only
def report_form(code: str) -> Response:
    """The category's form: where, its attributes, photos (and a video for Vigies de l'Eau), contact."""
    return _form_page(code)


@blp.post("/signaler/<string:code>")
@ratelimits.intake()
def submit(code: str) -> Response:
    """The form sent: the report stored through the intake and the answer page (reference, where it
    went and why, what happens next); or the form again, what was typed kept, errors beside their
    field in French."""
    form = reporting.report_form(db_session(), code)
    values: dict[str, Any] = {key: request.form.get(key, "").strip() for key in _FIELDS}
    values["consent"] = request.form.get("consent") == "oui"
    for definition in form.category.attributes or []:
        name = f"attr-{definition['code']}"
        values[name] = (
            request.form.getlist(name)
            if definition["datatype"] == "multivaluelist"
            else request.form.get(name, "").strip()
        )
    try:
        payload = _payload(form, values)
        data = _CREATE.load(payload)
        files = uploaded_files(("photos", "video"))
        submission = submit_report(
            data, payload=payload, files=files, idempotency_key=values["idempotency_key"] or None
        )
    except ma.ValidationError as exc:
        return _form_page(
            code, values=values, errors=forms.french_errors({"json": exc.messages}, _place(form)), status=422
        )
    except DomainError as exc:
        if exc.status not in (409, 413, 415, 422):
            raise
        if exc.code == "outside_territory":
            errors = {"position": MESSAGES["hors-territoire"]}
        else:
            errors = forms.french_errors(exc.errors or {}, _place(form), status=exc.status)
        return _form_page(code, values=values, errors=errors, status=exc.status)
    response = web.page(
        "citizens/answer.html",
        title="Signalement envoyé",
        report=submission.report,
        similar=submission.similar_reports,
        status_label=reporting.STATUS_LABELS.get(submission.report.status, submission.report.status),
    )
    tokens = _tokens()
    tokens.pop(submission.report.reference, None)
    tokens[submission.report.reference] = submission.reporter_token
    _keep_tokens(response, tokens)
    return response


@blp.get("/signaler/fond-de-carte.geojson")
@read_only
def map_background() -> Response:
    """The map's background: the communes' outlines and the departmental roads (GeoJSON)."""
    revision, body = reporting.map_background(db_session())
    response = Response(body, mimetype="application/geo+json")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    response.set_etag(revision)
    return response.make_conditional(request)


@blp.get("/suivi")
@read_only
def mine() -> Response:
    """The reports made from this browser, with their current status; and a reference to look up."""
    wanted = request.args.get("reference", "").strip().upper()[:40]
    return web.page(
        "citizens/mine.html",
        title="Suivre mes signalements",
        reports=reporting.remembered(db_session(), _tokens()),
        wanted=wanted,
    )


@blp.get("/suivi/<string:reference>")
@read_only
def follow(reference: str) -> Response:
    """A report as the public follows it, with what its reporter sent when this browser made it."""
    followed = reporting.follow(db_session(), reference, _tokens())
    return web.page("citizens/follow.html", title=f"Signalement {followed.report.reference}", followed=followed)


def _payload(form: reporting.ReportForm, values: dict[str, Any]) -> dict[str, Any]:
    """The form as the report the apps would send (the intake's own schema checks it)."""
    payload: dict[str, Any] = {"category": form.category.code, "attributes": _attributes(form, values)}
    lon, lat = forms.number(values["lon"]), forms.number(values["lat"])
    if isinstance(lon, int | float) and isinstance(lat, int | float):
        payload["location"] = {"lon": lon, "lat": lat}
        accuracy = forms.number(values["accuracy_m"])
        if isinstance(accuracy, int | float) and 0 <= accuracy <= 100_000:
            payload["location"]["accuracy_m"] = accuracy
    elif values["lon"] or values["lat"]:
        raise ma.ValidationError({"location": ["coordinates are not numbers"]})
    elif values["commune"]:
        point = reporting.commune_point(db_session(), deps.current().router, values["commune"])
        if point is None:
            raise ma.ValidationError({"location": ["unknown commune"]})
        payload["location"] = {"lon": point[0], "lat": point[1], "accuracy_m": point[2]}
    description = values["description"]
    if values["lieu"]:
        description = f"Lieu : {values['lieu']}\n{description}".strip()
    if description:
        payload["description"] = description
    contact = {"name": values["nom"], "email": values["email"], "phone": values["telephone"]}
    contact = {key: value for key, value in contact.items() if value}
    if contact:
        payload["reporter"] = contact | {"consent_contact": values["consent"]}
    return payload


def _attributes(form: reporting.ReportForm, values: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for definition in form.category.attributes or []:
        value = values.get(f"attr-{definition['code']}")
        if value in ("", [], None):
            continue
        if definition["datatype"] == "number":
            value = forms.number(value)
        elif definition["datatype"] == "datetime":
            value = _local_moment(value)
        attributes[definition["code"]] = value
    return attributes


def _local_moment(text: str) -> str:
    """A browser's ``datetime-local`` (Paris time) as ISO 8601 with its offset; the text itself when
    it is not one, for the intake to refuse."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TIME)
    return moment.isoformat()


def _place(form: reporting.ReportForm):
    by_code = {d["code"]: d for d in form.category.attributes or []}

    def place(path: tuple[str, ...], message: str) -> tuple[str, str] | None:
        if path[:2] == ("json", "attributes") and len(path) > 2 and path[2] in by_code:
            return f"attr-{path[2]}", _attribute_message(by_code[path[2]], message)
        if path[:2] == ("json", "location"):
            return "position", MESSAGES["position"]
        if path[:2] == ("json", "reporter") and len(path) > 2:
            field = {"name": "nom", "email": "email", "phone": "telephone"}.get(path[2])
            return (field, MESSAGES[field]) if field else None
        if path[:2] in (("json", "description"), ("json", "observed_at")):
            return path[1], MESSAGES[path[1]]
        if path[:1] == ("files",) and len(path) > 1 and path[1] in ("photos", "video"):
            return path[1], MESSAGES[path[1]]
        return None

    return place


def _attribute_message(definition: dict[str, Any], message: str) -> str:
    """What to tell of a wrong attribute value, from its definition (never the API's English)."""
    if message.startswith("is required"):
        return "Ce champ est obligatoire."
    datatype = definition["datatype"]
    if datatype == "number":
        low, high = definition.get("min"), definition.get("max")
        whole = "entier " if definition.get("integer") else ""
        if low is not None and high is not None:
            return f"Indiquez un nombre {whole}entre {_french(low)} et {_french(high)}."
        return f"Indiquez un nombre {whole}".strip() + "."
    if datatype in ("singlevaluelist", "multivaluelist"):
        return "Choisissez parmi les valeurs proposées."
    if datatype == "datetime":
        return "Indiquez une date et une heure valides."
    return "Cette valeur ne convient pas (trop longue ?)."


def _french(number: float) -> str:
    text = f"{number:,.0f}" if float(number).is_integer() else f"{number:,}"
    return text.replace(",", "\u202f").replace(".", ",")


def _tokens() -> dict[str, str]:
    """The reporter tokens this browser keeps, by reference (oldest first)."""
    tokens: dict[str, str] = {}
    for entry in request.cookies.get(TOKENS_COOKIE, "").split("."):
        reference, _, token = entry.partition("~")
        if reference and token and len(reference) <= 40 and len(token) <= 100:
            tokens[reference] = token
    return tokens


def _keep_tokens(response: Response, tokens: dict[str, str]) -> None:
    kept = list(tokens.items())[-reporting.MAX_REMEMBERED :]
    web.keep_on_device(response, TOKENS_COOKIE, ".".join(f"{ref}~{token}" for ref, token in kept), days=730)
