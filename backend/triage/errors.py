"""What triage refuses, each with its stable code and status."""

from __future__ import annotations

from backend.errors import DomainError
from backend.reports.errors import ReportNotFound


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409
    message = "This move is not allowed from the report's status for your role."


class NoteRequired(DomainError):
    code = "note_required"
    status = 422
    message = "Rejecting or referring a report needs a note saying why."


class StaleReport(DomainError):
    code = "stale_report"
    status = 412
    message = "The report changed since you read it: reload it, then make your change again."


class VersionRequired(DomainError):
    code = "version_required"
    status = 428
    message = "Say which version of the report you changed: If-Match with its ETag, or a version field."


class SupervisorsOnly(DomainError):
    code = "forbidden_for_role"
    status = 403
    message = "Only a supervisor (or an admin) may do this."


class UnknownAgent(DomainError):
    code = "unknown_agent"
    status = 422
    message = "No active agent of this directorate has this e-mail."


class UnknownUnit(DomainError):
    code = "unknown_unit"
    status = 422
    message = "No active unit of this report's directorate has this code (another directorate's: reroute it)."


class RerouteRefused(DomainError):
    code = "invalid_reroute"
    status = 422
    message = "The report cannot be rerouted there."


class BulkRefused(DomainError):
    code = "bulk_refused"
    status = 409
    message = "Some reports refuse this action: none was changed."


# What every change of a report can meet (for the API's document).
CHANGE_ERRORS = (ReportNotFound, StaleReport, VersionRequired)
