"""GeoReport v2 at /open311/v2: every resource as ``.xml`` and ``.json`` (bare top-level arrays),
errors in the spec's shape, never a 500. Writes need an admin-issued ``api_key``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma
from flask import Blueprint, Response, current_app, request
from flask.views import MethodView
from werkzeug.exceptions import HTTPException

from backend import deps
from backend.db import utcnow
from backend.directory.agents import AdminsOnly, require_admin
from backend.directory.auth import current_agent
from backend.errors import DomainError
from backend.http import Blueprint as HttpBlueprint
from backend.http import db_session, json_body, read_only, uploaded_files
from backend.open311 import clients, schemas, services, spec
from backend.reports import intake
from backend.reports.models import Report
from backend.reports.schemas import ReportCreateSchema
from backend.reports.views import submit
from backend.storage import Received

blp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORMATS = {"xml": spec.XML_TYPE, "json": spec.JSON_TYPE}
POST_RATE = "30/minute"
_NOT_FIELDS = ("api_key", "jurisdiction_id")
_CREATE = ReportCreateSchema()


Reject = services.Open311Error  # what a client controls, answered in the spec's error shape


def _answer(fmt: str, root: str, document: Any, status: int = 200) -> Response:
    """A list (its items under ``root``) or one document (its fields under ``root``), as asked."""
    if fmt == "xml":
        return Response(spec.xml_document(root, document), status=status, content_type=spec.XML_TYPE)
    return Response(current_app.json.dumps(document), status=status, mimetype=spec.JSON_TYPE)


def _error(status: int, description: str, fmt: str | None = None) -> Response:
    fmt = fmt if fmt in FORMATS else _requested_format()
    return _answer(fmt, "errors", [{"code": status, "description": description}], status=status)


def _requested_format() -> str:
    path = request.path
    return "xml" if path.endswith(".xml") else "json"


@blp.errorhandler(services.Open311Error)
def _open311_error(error: services.Open311Error) -> Response:
    return _error(error.status, error.description)


@blp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Response:
    status = error.status if error.status in (403, 404, 413, 429) else 400
    return _error(status, _describe(error))


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return _error(error.code or 400, error.description or error.name)


@blp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    current_app.logger.exception("unexpected error in Open311")
    return _error(500, "The service could not answer; try again.")


def _describe(error: DomainError) -> str:
    """The error's message, with the fields concerned in the spec's words."""
    details = []
    for location in (error.errors or {}).values():
        if isinstance(location, dict):
            for field, messages in location.items():
                details.append(f"{_spec_field(field)}: {_flatten(messages)}")
    return error.message + (" (" + "; ".join(details) + ")" if details else "")


def _spec_field(field: str) -> str:
    return {"category": "service_code", "location": "lat/long", "reporter": "email/phone/name"}.get(field, field)


def _flatten(messages: Any) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in messages.items())
    if isinstance(messages, list):
        return ", ".join(_flatten(m) for m in messages)
    return str(messages)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Reject(404, f"unknown format .{fmt}: use .xml or .json")
    return fmt


def _arg(name: str) -> str | None:
    """A query (or form) parameter; an empty one is absent (clients send ``jurisdiction_id=``)."""
    value = request.values.get(name, "")
    return value.strip() or None


def _words(name: str) -> tuple[str, ...]:
    """A comma-separated parameter's values (``a,b`` or ``a, b``), empty ones dropped."""
    return tuple(part.strip() for part in (_arg(name) or "").split(",") if part.strip())


def _check_jurisdiction() -> None:
    given = _arg("jurisdiction_id")
    if given is not None and given != deps.current().settings.open311_jurisdiction:
        raise Reject(404, f"unknown jurisdiction_id: this server serves {deps.current().settings.open311_jurisdiction}")


def _moment(name: str) -> datetime | None:
    text = _arg(name)
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Reject(400, f"{name}: not a W3C datetime (like 2026-11-29T10:00:00+01:00)") from None
    if value.tzinfo is None:
        raise Reject(400, f"{name}: give its offset from UTC (like +01:00 or Z)")
    if not 2000 <= value.year <= 2100:
        raise Reject(400, f"{name}: out of range")
    return value


def _integer(name: str, default: int, low: int, high: int) -> int:
    text = _arg(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise Reject(400, f"{name}: a whole number from {low} to {high}")
    return int(text)


def _float(name: str, low: float, high: float) -> float | None:
    text = _arg(name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Reject(400, f"{name}: not a number") from None
    if not low <= value <= high:
        raise Reject(400, f"{name}: from {low} to {high}")
    return value


@blp.get("/discovery.<fmt>")
@read_only
def discovery(fmt: str) -> Response:
    fmt = _format(fmt)
    settings = deps.current().settings
    document = {
        "changeset": "2026-11-29T00:00:00+01:00",
        "contact": "Département de la Seine-Saint-Denis — signal93@seinesaintdenis.fr",
        "key_service": "Keys are issued by the département's administrators (flask --app wsgi open311 keys issue).",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": f"{settings.public_base_url}/open311/v2",
                "changeset": "2026-11-29T00:00:00+01:00",
                "type": "production" if settings.is_production else "test",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _answer(fmt, "discovery", document)


@blp.get("/services.<fmt>")
@read_only
def list_services(fmt: str) -> Response:
    fmt = _format(fmt)
    _check_jurisdiction()
    lat, long = _float("lat", -90, 90), _float("long", -180, 180)
    found = services.list_services(db_session(), deps.current().router, lat, long)
    return _answer(fmt, "services", found)


@blp.get("/services/<string:code>.<fmt>")
@read_only
def service_definition(code: str, fmt: str) -> Response:
    fmt = _format(fmt)
    _check_jurisdiction()
    return _answer(fmt, "service_definition", services.service_definition(db_session(), code))


@blp.get("/requests.<fmt>")
@read_only
def list_requests(fmt: str) -> Response:
    fmt = _format(fmt)
    _check_jurisdiction()
    ids, codes = _words("service_request_id"), _words("service_code")
    statuses: tuple[str, ...] = ()
    for word in _words("status"):
        if word not in ("open", "closed"):
            raise Reject(400, "status: open or closed (comma-separated)")
        statuses += spec.statuses_of(word)
    query = services.RequestQuery(
        ids=ids[: services.MAX_RESULTS],
        service_codes=codes[:200],
        start=_moment("start_date"),
        end=_moment("end_date"),
        statuses=statuses,
        updated_after=_moment("updated_after"),
        updated_before=_moment("updated_before"),
        page=_integer("page", 1, 1, 100_000),
        page_size=_integer("page_size", services.MAX_RESULTS, 1, services.MAX_RESULTS),
        extensions=_arg("extensions") == "true",
    )
    found = services.search_requests(
        db_session(), query, now=utcnow(), base_url=deps.current().settings.public_base_url
    )
    return _answer(fmt, "service_requests", found)


@blp.get("/requests/<string:reference>.<fmt>")
@read_only
def get_request(reference: str, fmt: str) -> Response:
    fmt = _format(fmt)
    _check_jurisdiction()
    query = services.RequestQuery(ids=(reference,), extensions=_arg("extensions") == "true")
    found = services.search_requests(
        db_session(), query, now=utcnow(), base_url=deps.current().settings.public_base_url
    )
    if not found:
        raise Reject(404, f"no service request {reference}")
    return _answer(fmt, "service_requests", found)


@blp.get("/tokens/<string:token>.<fmt>")
@read_only
def token(token: str, fmt: str) -> Response:
    """For the spec's completeness: every service here is realtime, a POST answers with its id."""
    _format(fmt)
    raise Reject(404, "no such token: every service here is realtime (a POST answers its service_request_id)")


@blp.get("/servicerequestupdates.<fmt>")
@read_only
def updates(fmt: str) -> Response:
    fmt = _format(fmt)
    _check_jurisdiction()
    found = services.request_updates(db_session(), _moment("start_date"), _moment("end_date"), now=utcnow())
    return _answer(fmt, "service_requests_updates", found)


@blp.post("/requests.<fmt>")
def create_request(fmt: str) -> Response:
    """A report from an Open311 client: form-encoded (or multipart with ``media`` files), through the
    native intake, with the client's key."""
    fmt = _format(fmt)
    _check_jurisdiction()
    session = db_session()
    context = deps.current()
    client = clients.authenticate(session, _arg("api_key"), secret_key=context.settings.secret_key)
    if client is None:
        raise Reject(403, "api_key missing, unknown or revoked")
    if not _limiter().hit(client.key_digest):
        raise Reject(429, f"too many requests for this api_key ({POST_RATE})")
    form = [(name, value) for name, value in request.form.items(multi=True) if name not in _NOT_FIELDS]
    code = request.form.get("service_code", "").strip()
    category = context.router.table(session).categories.get(code)
    if category is None:
        raise Reject(404, f"unknown service_code: {code}" if code else "service_code is required")
    try:
        payload, media_url = spec.request_payload(form, category.attributes)
        data = _CREATE.load(payload)
    except spec.BadRequest as exc:
        raise Reject(400, str(exc)) from None
    except ma.ValidationError as exc:
        raise Reject(400, "; ".join(f"{_spec_field(k)}: {_flatten(v)}" for k, v in exc.messages.items())) from None
    files: dict[str, list[Received]] = {}
    if request.mimetype == "multipart/form-data" and request.files:
        files = {"photos": uploaded_files(("media",)).get("media", [])}
    key = request.headers.get(intake.IDEMPOTENCY_HEADER)
    device = _arg("device_id")
    if key is None and device:  # the same device sending the same body on one day: a retry
        key = services.idempotency_key_of(client, device, form, files, utcnow().date().isoformat())
    submission = submit(
        data, payload=payload, files=files, idempotency_key=key, channel=services.channel(client, media_url)
    )
    report: Report = submission.report
    answer = [
        {
            "service_request_id": report.reference,
            "service_notice": (report.routing or {}).get("message"),
            "account_id": None,
        }
    ]
    return _answer(fmt, "service_requests", answer)


def _limiter():
    """The POST rate limit per key (Redis when configured, so every instance counts together)."""
    limiter = current_app.extensions.get("signal93.open311.limiter")
    if limiter is None:
        from limits import parse
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        storage = storage_from_string(deps.current().settings.redis_url or "memory://")
        strategy, item = MovingWindowRateLimiter(storage), parse(POST_RATE)

        class Limiter:
            def hit(self, client_key: str) -> bool:
                return strategy.hit(item, "open311", client_key)

        limiter = current_app.extensions["signal93.open311.limiter"] = Limiter()
    return limiter


admin_blp = HttpBlueprint("open311_admin", __name__, description="Open311 clients' keys (admins)")


@admin_blp.route("/admin/open311/clients")
class Clients(MethodView):
    @admin_blp.operation("listOpen311Clients", AdminsOnly)
    @admin_blp.response(200, schemas.ClientListSchema)
    @admin_blp.doc(security=[{"AgentToken": []}])
    @read_only
    def get(self):
        """The Open311 clients and the state of their keys (admins)"""
        require_admin(current_agent())
        return {"items": clients.list_clients(db_session())}

    @admin_blp.operation("issueOpen311Key", AdminsOnly, clients.ClientExists)
    @json_body()
    @admin_blp.arguments(schemas.ClientInSchema(), example={"name": "GRC de la DEA"})
    @admin_blp.response(201, schemas.IssuedClientSchema)
    @admin_blp.doc(security=[{"AgentToken": []}])
    def post(self, data):
        """Issue a key to a new Open311 client (shown once, stored hashed)"""
        require_admin(current_agent())
        client, key = clients.issue(
            db_session(), data["name"], secret_key=deps.current().settings.secret_key, now=utcnow()
        )
        return {**{c: getattr(client, c) for c in ("name", "key_prefix", "created_at", "revoked_at")}, "key": key}


@admin_blp.route("/admin/open311/clients/<string:name>")
class ClientKey(MethodView):
    @admin_blp.operation("revokeOpen311Key", AdminsOnly, clients.ClientNotFound)
    @admin_blp.response(200, schemas.ClientSchema)
    @admin_blp.doc(security=[{"AgentToken": []}])
    def delete(self, name: str):
        """Revoke an Open311 client's key at once (safe to repeat)"""
        require_admin(current_agent())
        return clients.revoke(db_session(), name, now=utcnow())
