"""Domain errors with a stable code, and the one error envelope every response uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Default codes for HTTP errors raised without a more precise one.
HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    412: "precondition_failed",
    413: "request_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_required",
    429: "rate_limited",
    431: "headers_too_large",
    500: "internal_error",
    503: "service_unavailable",
}


class DomainError(Exception):
    """A condition a client can act on; rendered as the error envelope.

    Subclasses set ``code`` (stable snake_case), ``status`` and a default ``message``.
    ``errors`` names the offending fields, like ``{"query": {"bbox": ["..."]}}``.
    """

    code = "domain_error"
    status = 400
    message = "The request cannot be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        self.message = message or self.message
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        super().__init__(self.message)


class NotFound(DomainError):
    """The resource does not exist (or is not visible to the caller)."""

    code = "not_found"
    status = 404
    message = "The resource was not found."


class InvalidFields(DomainError):
    """Some fields of the request are invalid; ``errors`` names them, and nothing was stored.
    The one ``validation_error`` of the API (marshmallow's 422s are rendered with the same code)."""

    code = "validation_error"
    status = 422
    message = "The request contains invalid fields."


class UnknownParameter(DomainError):
    """A query parameter the operation does not declare (``errors`` names it and what is understood)."""

    code = "unknown_parameter"
    status = 422
    message = "The request has a query parameter this operation does not understand."


class InvalidQuery(DomainError):
    """A query parameter has a value the endpoint cannot use."""

    code = "invalid_query"
    status = 422
    message = "A query parameter is invalid."

    def __init__(self, field: str, reason: str, *, code: str | None = None):
        super().__init__(f"Invalid query parameter {field!r}: {reason}", errors={"query": {field: [reason]}})
        if code:
            self.code = code


def envelope(code: str, message: str, errors: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The body of every error response."""
    return {"code": code, "message": message, "errors": dict(errors or {})}
