"""What report intake and reads refuse, each with its stable code and status."""

from __future__ import annotations

from typing import Any

from backend.errors import DomainError, InvalidFields, NotFound


class InvalidReport(InvalidFields):
    """Some fields of the report are invalid; nothing was stored."""

    def __init__(self, errors: dict[str, Any], message: str | None = None):
        super().__init__(message, errors={"json": errors})


class UnknownCategory(InvalidReport):
    code = "unknown_category"

    def __init__(self) -> None:
        super().__init__({"category": ["unknown category"]}, "Unknown category: see GET /api/v1/categories.")


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    status = 409
    message = "This idempotency key (or client_id) was already used for a different report."


class ReportNotFound(NotFound):
    code = "report_not_found"
    message = "No report has this reference."


class InvalidReporterToken(DomainError):
    code = "invalid_reporter_token"
    status = 401
    message = "This reporter token does not belong to this report."


class ReporterTokenMissing(DomainError):
    code = "reporter_token_missing"
    status = 401
    message = "Send the reporter token given at submission: 'Authorization: Reporter <token>'."


class ReportClosed(DomainError):
    code = "report_closed"
    status = 409
    message = "This report is closed: it no longer takes supports."


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    status = 400
    message = "The Idempotency-Key header must be 1 to 200 printable ASCII characters."
