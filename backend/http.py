"""HTTP plumbing: the API object, the error envelope, request ids, request logs, the commit boundary."""

from __future__ import annotations

import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import flask_smorest
import marshmallow as ma
import orjson
from flask import Flask, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from marshmallow import missing
from sqlalchemy.orm import Session
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from backend import deps, logs, metrics
from backend.db import INT_MAX
from backend.errors import HTTP_CODES, DomainError, InvalidFields, UnknownParameter, envelope
from backend.fields import ResponseSchema
from backend.openapi import ContractPlugin
from backend.storage import Received

log = logging.getLogger(__name__)
request_log = logging.getLogger("signal93.request")

# The URL converter of an id: a number an integer column can hold (a larger one is a 404).
ID = f"int(max={INT_MAX})"

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class JSONProvider(DefaultJSONProvider):
    """JSON responses written by orjson, several times faster than the standard library on a
    queue page (``bench/queue.py`` prints both). Keys keep their order, UTF-8 is not escaped
    (French labels stay readable), datetimes are ISO 8601 (as ``isoformat()`` writes them), and
    what orjson does not know (Decimal, ``__html__``) follows Flask's rules. Bodies are read by
    :func:`load_json`, like every JSON body of the API."""

    _OPTIONS = orjson.OPT_NON_STR_KEYS
    sort_keys = False  # for the standard library's fallbacks below
    ensure_ascii = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s) if not kwargs else super().loads(s, **kwargs)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:  # a caller asking for json.dumps options gets json.dumps
            return super().dumps(obj, **kwargs)
        return self._encode(obj).decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self._encode(obj) + b"\n", mimetype=self.mimetype)

    def _encode(self, obj: Any) -> bytes:
        options = self._OPTIONS | (orjson.OPT_INDENT_2 if self._app.debug else 0)
        try:
            return orjson.dumps(obj, default=self.default, option=options)
        except orjson.JSONEncodeError:
            # An integer beyond 64 bits (echoed input), or text holding a lone surrogate (stored before
            # it was refused at the door): the standard library writes both, escaped to ASCII, so a
            # row never becomes unreadable.
            return super().dumps(obj, ensure_ascii=True).encode()


# Reasons (a list of sentences), or fields nested as the input nests, down to their reasons.
_REASONS = {
    "anyOf": [
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "description": "Nested fields, down to their reasons"},
    ]
}


class ErrorSchema(ResponseSchema):
    """The error envelope (documentation only: errors are rendered by :func:`error_response`)."""

    code = ma.fields.String(
        required=True, metadata={"description": "Stable snake_case error code", "example": "not_found"}
    )
    message = ma.fields.String(required=True, metadata={"description": "Human-readable explanation"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(metadata=_REASONS),
        required=True,
        metadata={
            "description": "The offending fields by where they were (json, query, headers, files, form, path): "
            "a field's name, nested as the input nests, down to its reasons",
            "example": {"json": {"location": {"lat": ["Must be greater than or equal to -90."]}}},
        },
    )


class InvalidJson(DomainError):
    code = "invalid_json"
    status = 400
    message = "The request body is not valid JSON."


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415
    message = "Send the request body as application/json."


class NulCharacter(InvalidFields):
    message = (
        "The request holds text no field accepts: a NUL character (\\u0000), or a lone UTF-16 "
        "surrogate (\\ud800-\\udfff, not a character)."
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character"
    if _SURROGATE.search(text):
        return "is not valid Unicode (a lone surrogate)"
    return None


def refuse_nul(data: Any, location: str) -> Any:
    """``data`` (decoded JSON, query or form fields) if none of its strings, keys included, holds
    a NUL character or a lone surrogate; :class:`NulCharacter` naming each place otherwise. No field
    needs either; PostgreSQL cannot store a NUL, and no encoder can write a surrogate (a stored one
    would break every later read of the row): caught here, each is a clear 422."""
    errors: dict[str, Any] = {}

    def walk(value: Any, where: dict[str, Any], name: str) -> None:
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                where[name] = [problem]
        elif isinstance(value, dict):
            inner: dict[str, Any] = {}
            for key, item in value.items():
                problem = _text_problem(str(key))
                if problem:
                    shown = _SURROGATE.sub("\ufffd", str(key).replace("\x00", "\\u0000"))
                    inner[shown] = [f"a field name {problem}"]
                else:
                    walk(item, inner, str(key))
            if inner:
                where[name] = inner
        elif isinstance(value, list | tuple):
            inner = {}
            for index, item in enumerate(value):
                walk(item, inner, str(index))
            if inner:
                where[name] = inner

    walk(data, errors, location)
    if errors:
        raise NulCharacter(errors=errors)
    return data


def _fields(multidict: Any) -> dict[str, Any]:
    return {name: values[0] if len(values) == 1 else values for name, values in multidict.lists()}


_BAD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_BAD_ESCAPE_BYTES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _refuse_nul_in_json(text: str | bytes) -> bool:
    # JSON carries a NUL or a surrogate only as an escape (\u0000, \ud800…): most bodies are cleared
    # without a walk. A well-formed pair (an emoji written escaped) is walked, and passes.
    return bool((_BAD_ESCAPE if isinstance(text, str) else _BAD_ESCAPE_BYTES).search(text))


# No request of this API nests deeper; a deeper one would only exhaust the stack of what reads it.
MAX_JSON_DEPTH = 32


def load_json(raw: str | bytes, location: str = "json") -> Any:
    """Decode a JSON body: ValueError if it is not JSON (or not UTF-8), :class:`InvalidJson` if it
    nests deeper than :data:`MAX_JSON_DEPTH` (the decoder, or any code walking the data, would
    hit a RecursionError: a 500), :class:`NulCharacter` for a NUL character."""
    too_deep = InvalidJson(errors={location: [f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels"]})
    try:
        data = json.loads(raw)
    except RecursionError:
        raise too_deep from None
    opening = (b"[", b"{") if isinstance(raw, bytes) else ("[", "{")
    if raw.count(opening[0]) + raw.count(opening[1]) > MAX_JSON_DEPTH and _depth(data) > MAX_JSON_DEPTH:
        raise too_deep
    if _refuse_nul_in_json(raw):
        refuse_nul(data, location)
    return data


def _depth(data: Any) -> int:
    """How deep lists and objects nest in ``data`` (iteratively: any depth)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return deepest


class Parser(FlaskParser):
    """webargs' parser, with malformed JSON reported in the envelope, and NUL characters refused."""

    def _handle_invalid_json_error(self, error: Exception, req: Any, *args: Any, **kwargs: Any) -> NoReturn:
        raise InvalidJson(errors={"json": [f"invalid JSON: {error}"]})

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return missing
        return load_json(body())


def body() -> bytes:
    """The request's body; :class:`RequestTooLarge` naming the limit when a body sent without a
    ``Content-Length`` (chunked) reaches it (werkzeug stops reading there, and would hand on a cut
    body: a 400 ``invalid_json`` instead of this 413)."""
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        raise RequestTooLarge(limit)
    return data


# An error an operation documents: a DomainError class, or (status, code) for one raised with
# a code of its own (``InvalidQuery(..., code="unknown_program")``).
ErrorDoc = type[DomainError] | tuple[int, str]


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with :class:`Parser`, and :meth:`operation` to name each
    operation of the OpenAPI document."""

    ARGUMENTS_PARSER = Parser()

    def operation(self, operation_id: str, *errors: ErrorDoc) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Name the operation (a stable ``operationId``: generated clients name their functions
        after it) and the domain errors it answers with; :mod:`backend.openapi` adds the rest."""
        codes: dict[int, list[str]] = {}
        for error in errors:
            status, code = error if isinstance(error, tuple) else (error.status, error.code)
            codes.setdefault(status, [])
            if code not in codes[status]:
                codes[status].append(code)
        return self.doc(**{"operationId": operation_id, "x-domain-errors": codes})


def json_body(max_bytes: int | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a JSON body of at most ``max_bytes`` (default: the ``MAX_JSON_BYTES`` setting);
    415 otherwise, 413 if larger.

    Put it above ``@blp.arguments`` so it runs before the body is parsed.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check_json_request(max_bytes)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def check_json_request(max_bytes: int | None = None, accepted: str = "application/json") -> None:
    """Refuse a body that is not JSON (415) or larger than ``max_bytes`` (413, default the
    ``MAX_JSON_BYTES`` setting), before anything reads it."""
    if not request.is_json:
        raise UnsupportedMediaType(errors={"headers": {"Content-Type": [f"must be {accepted}"]}})
    limit = max_bytes or deps.core().settings.max_json_bytes
    if request.content_length is not None and request.content_length > limit:
        raise RequestTooLarge(limit)
    request.max_content_length = limit  # also caps a body sent without Content-Length


def uploaded_files(names: tuple[str, ...] = ("photos", "video")) -> dict[str, list[Received]]:
    """The files of a ``multipart/form-data`` body, by field (only the fields that have some):
    415 for another body, 422 naming any file field not in ``names``. The size cap applies
    before the body is read; each file is held in a spooled temporary file (on disk past 500 KB,
    werkzeug's parser writing it there as it arrives), never whole in memory."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(errors={"headers": {"Content-Type": ["must be multipart/form-data"]}})
    unknown = set(request.files) - set(names)
    if unknown:
        raise InvalidFields(errors={"files": {name: ["unknown file field"] for name in sorted(unknown)}})
    # A file input left empty is sent by browsers as a part with no file name and no content.
    files = {
        name: [received for f in request.files.getlist(name) if (received := Received(f.stream)).size or f.filename]
        for name in names
    }
    return {name: items for name, items in files.items() if items}


def authorization(scheme: str) -> str | None:
    """The credentials of ``Authorization: <scheme> <credentials>`` (scheme case-insensitive)."""
    given, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if given.lower() == scheme.lower() and credentials.strip() else None


class RequestTooLarge(DomainError):
    code = "request_too_large"
    status = 413

    def __init__(self, limit: int):
        super().__init__(f"The request body is larger than the {limit} bytes allowed.")


# The app's own limits on a request's line and headers (the proxy and gunicorn in front are set
# higher, so that these answer, in the envelope; see the README's production shape).
MAX_URL_BYTES = 4096
MAX_HEADER_BYTES = 8192
# A form's fields other than files, together (the multipart report's JSON included).
MAX_FORM_FIELDS_BYTES = 1024 * 1024
# A form's parts (fields and files): the citizens' longest form has about 40.
MAX_FORM_PARTS = 100


class UriTooLong(DomainError):
    code = "uri_too_long"
    status = 414
    message = f"The request's address (path and query) is longer than the {MAX_URL_BYTES} bytes allowed."


class HeadersTooLarge(DomainError):
    code = "headers_too_large"
    status = 431
    message = f"The request's headers are larger than the {MAX_HEADER_BYTES} bytes allowed."


class Api(flask_smorest.Api):
    """flask-smorest's Api rendering every HTTP error in the Signal93 envelope, its document
    completed by :class:`backend.openapi.ContractPlugin` (``contract``)."""

    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app: Flask, contract: ContractPlugin):
        super().__init__(app, spec_kwargs={"extra_plugins": [contract]})
        # flask-smorest's page-number pagination is not used here (lists are keyset pages).
        self.spec.components.schemas.pop("PaginationMetadata", None)
        self._queries: dict[tuple[str, str], QueryParameters] | None = None
        app.before_request(self.refuse_undeclared_query)

    def refuse_undeclared_query(self) -> None:
        """One rule for every operation of the document: a query parameter it does not declare
        is a 422 ``unknown_parameter`` naming it (a misspelt filter is not silently ignored), and
        one it declares as a single value, given twice, a 422 ``validation_error``. The document
        is the list: what it declares is what is understood. Pages and files outside the
        document (the fronts, the OpenAPI document itself) are left to their views."""
        rule = request.url_rule
        if rule is None or not request.query_string:
            return
        if self._queries is None:  # the document is complete once the app serves
            self._queries = declared_queries(self.spec.to_dict())
        method = "GET" if request.method == "HEAD" else request.method
        declared = self._queries.get((openapi_path(rule.rule), method))
        if declared is None:
            return
        args = request.args
        unknown = [name for name in args if name not in declared.names]
        if unknown:
            understood = ", ".join(sorted(declared.names)) or "none"
            raise UnknownParameter(
                f"Unknown query parameter {unknown[0]!r}; this operation understands: {understood}.",
                errors={"query": {name: [f"unknown parameter; understood: {understood}"] for name in unknown}},
            )
        repeated = [name for name in args if name in declared.single and len(args.getlist(name)) > 1]
        if repeated:
            raise InvalidFields(errors={"query": {name: ["given more than once"] for name in repeated}})

    def handle_http_exception(self, error: HTTPException) -> Response:
        return http_error_response(error)


@dataclass(frozen=True)
class QueryParameters:
    """The query parameters an operation declares: all of them, and those that take one value."""

    names: frozenset[str]
    single: frozenset[str]


_RULE_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@functools.cache
def openapi_path(rule: str) -> str:
    """A Flask rule as the OpenAPI document writes its path (``/media/<int:media_id>``: ``/media/{media_id}``)."""
    return _RULE_VARIABLE.sub(r"{\1}", rule)


def declared_queries(document: dict[str, Any]) -> dict[tuple[str, str], QueryParameters]:
    """The query parameters of each operation of an OpenAPI document, by (path, method):
    the operation's and its path's, and an API key a security scheme reads from the query."""
    components = document.get("components", {})

    def resolve(item: Any) -> dict[str, Any]:
        if isinstance(item, dict) and "$ref" in item:
            kind, name = item["$ref"].split("/")[-2:]
            return components.get(kind, {}).get(name, {})
        return item if isinstance(item, dict) else {}

    schemes = components.get("securitySchemes", {})
    keys = {name for name, scheme in schemes.items() if scheme.get("in") == "query"}
    table: dict[tuple[str, str], QueryParameters] = {}
    for path, item in document.get("paths", {}).items():
        shared = [resolve(p) for p in item.get("parameters", [])]
        for method, operation in item.items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            own = [resolve(p) for p in operation.get("parameters", [])]
            parameters = [p for p in shared + own if p.get("in") == "query"]
            security = operation.get("security", document.get("security", []))
            names = {p["name"] for p in parameters}
            names |= {schemes[s]["name"] for requirement in security for s in requirement if s in keys}
            single = {p["name"] for p in parameters if p.get("schema", {}).get("type") != "array"}
            table[(path, method.upper())] = QueryParameters(frozenset(names), frozenset(single))
    return table


def http_error_response(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    code = data.get("code") or HTTP_CODES.get(status, "http_error")
    errors = data.get("errors") or data.get("messages") or {}
    if status == 422 and errors and "message" not in data:
        message = "The request contains invalid fields."
    else:
        message = data.get("message") or error.description or error.name
    if isinstance(error, RequestEntityTooLarge) and "message" not in data:
        limit = request.max_content_length
        message = f"The request body is larger than the {limit} bytes allowed."
        within_body_limit = limit is None or (request.content_length is not None and request.content_length <= limit)
        if within_body_limit and request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            # The body fits: a form's fields other than files are what is too large, or its parts too many.
            fields_limit = current_app.config.get("MAX_FORM_MEMORY_SIZE")
            parts_limit = current_app.config.get("MAX_FORM_PARTS")
            if request.content_length is not None and fields_limit and request.content_length <= fields_limit:
                message = f"The form has more than the {parts_limit} parts (fields and files) allowed."
            else:
                message = (
                    f"The form's fields other than files are larger than the {fields_limit} bytes allowed, "
                    f"or it has more than the {parts_limit} parts allowed."
                )
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    return error_response(status, code, message, errors, headers)


def error_response(
    status: int, code: str, message: str, errors: Any = None, headers: dict[str, str] | None = None
) -> Response:
    response = jsonify(envelope(code, message, errors))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_domain_error(error: DomainError) -> Response:
    return error_response(error.status, error.code, error.message, error.errors, error.headers)


UNAVAILABLE_SECONDS = 5  # Retry-After of a 503 when the database cannot be reached


def database_unreachable(error: BaseException) -> bool:
    """Whether ``error`` (or the one a 500 wraps) says the database cannot be reached now: a
    refused or lost connection, a pool waiting in vain, a locked SQLite file — worth a retry."""
    from sqlalchemy import exc

    original = getattr(error, "original_exception", None) or error
    return isinstance(original, exc.OperationalError | exc.DisconnectionError | exc.TimeoutError | exc.InterfaceError)


def unavailable_response() -> Response:
    return error_response(
        503,
        "unavailable",
        "The service cannot reach its database for a moment: nothing was stored; retry in a few seconds.",
        headers={"Retry-After": str(UNAVAILABLE_SECONDS)},
    )


def handle_unexpected_error(error: Exception) -> Response:
    if database_unreachable(error):
        log.warning("database unreachable", extra={"request_id": g.get("request_id"), "error": repr(error)[:300]})
        return unavailable_response()
    if isinstance(error, HTTPException):
        return http_error_response(error)
    log.exception("unhandled error", extra={"request_id": getattr(g, "request_id", None)})
    return error_response(
        500, "internal_error", "An unexpected error occurred. It has been logged; quote the request id."
    )


def db_session() -> Session:
    """The session of the current request, opened on first use and committed at the boundary
    (read-only in a view marked :func:`read_only`)."""
    session = g.get("db_session")
    if session is None:
        session = g.db_session = deps.core().database.session(read_only=g.get("read_only", False))
    return session


def read_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view that only reads: its session opens no transaction (PostgreSQL autocommit,
    SQLite without the write lock) and refuses any write. For the hot read paths."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.read_only = True
        return view(*args, **kwargs)

    return wrapper


def install(app: Flask) -> None:
    """Wire request ids, the size caps, the commit boundary and request logs into ``app``."""
    app.config["MAX_FORM_MEMORY_SIZE"] = MAX_FORM_FIELDS_BYTES
    app.config["MAX_FORM_PARTS"] = MAX_FORM_PARTS
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected_error)

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        g.request_id_token = logs.REQUEST_ID.set(g.request_id)  # on every log line of the request
        environ = request.environ
        raw = environ.get("RAW_URI")  # gunicorn's request target, query included
        length = len(raw) if raw else len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", ""))
        if length > MAX_URL_BYTES:
            raise UriTooLong()
        if sum(len(key) + len(value) for key, value in environ.items() if key.startswith("HTTP_")) > MAX_HEADER_BYTES:
            raise HeadersTooLarge()
        # Refuse an oversized body before anything reads it into memory.
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()
        if "\x00" in request.path:
            raise NulCharacter(errors={"path": ["contains a NUL character"]})
        if b"%00" in request.query_string:
            refuse_nul(_fields(request.args), "query")
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            refuse_nul(_fields(request.form), "form")  # bounded by max_form_memory_size

    @app.after_request
    def _finish(response: Response) -> Response:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            try:
                # The boundary commits: a 2xx/3xx answer means the work is durable. A read-only
                # session has nothing to commit: close() ends it.
                if not g.get("read_only"):
                    if response.status_code < 400:
                        session.commit()
                    else:
                        session.rollback()
            finally:
                session.close()
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if "Authorization" in request.headers or g.get("private_response"):
            # An answer an Authorization header changes (an agent's queue, a reporter's view) or that
            # carries a secret (a new token, a new key): never stored by a cache, never served to another.
            response.headers["Cache-Control"] = "private, no-store"
            response.vary.add("Authorization")
        _log_request(response.status_code)
        return response

    @app.teardown_request
    def _teardown(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.REQUEST_ID.reset(token)
        session: Session | None = g.pop("db_session", None)
        if session is not None:  # an error escaped before after_request ran
            session.rollback()
            session.close()


def private_response() -> None:
    """Mark this request's answer as carrying a secret or personal data (``Cache-Control:
    private, no-store``, ``Vary: Authorization``), when no Authorization header says so already."""
    g.private_response = True


def _log_request(status: int) -> None:
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    if started:
        metrics.observe_request(request.endpoint, request.method, status, duration_ms / 1000)
    # The path only (query strings may carry secrets, API keys, or locations), with the mount
    # point of an app mounted under another (/sandbox).
    path = request.script_root + request.path
    request_log.info(
        "%s %s %s",
        request.method,
        path,
        status,
        extra={
            "method": request.method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "request_id": g.get("request_id"),
        },
    )
