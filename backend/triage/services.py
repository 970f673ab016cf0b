"""Triage rules: what an agent may see and do to a report; every change appends to the trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from backend.directory.models import Agent
from backend.errors import DomainError
from backend.reports import services as reports
from backend.reports.models import Report, ReportEvent
from backend.triage import workflow


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


def visible_report(session: Session, agent: Agent, reference: str) -> Report:
    """The report, if the agent's directorate handles it (admins: all); 404 otherwise, so a
    report of another directorate is not revealed."""
    report = reports.get_report(session, reference)
    if agent.role != "admin" and report.directorate_id != agent.directorate_id:
        raise reports.ReportNotFound()
    return report


def transition(
    session: Session,
    agent: Agent,
    reference: str,
    *,
    to: str,
    version: int | None,
    now: datetime,
    note: str | None = None,
    note_public: bool = False,
    duplicate_of: str | None = None,
) -> Report:
    """Move the report along the workflow, if ``version`` is still current; flush.

    Raises :class:`VersionRequired`, :class:`StaleReport`, :class:`InvalidTransition`,
    :class:`NoteRequired`, or ``ReportNotFound``.
    """
    report = visible_report(session, agent, reference)
    if version is None:
        raise VersionRequired()
    if version != report.version:
        raise StaleReport()
    if not workflow.allowed(agent.role, report.status, to):
        raise InvalidTransition(errors={"json": {"to": [f"{report.status} → {to} is not allowed for a {agent.role}"]}})
    note = (note or "").strip() or None
    if to in workflow.NOTE_REQUIRED and not note:
        raise NoteRequired(errors={"json": {"note": ["required to reject or refer"]}})
    original = None
    if to == "duplicate":
        if not duplicate_of:
            raise InvalidTransition(
                "Say which report this one duplicates.", errors={"json": {"duplicate_of": ["required"]}}
            )
        original = visible_report(session, agent, duplicate_of)
        if original.id == report.id or original.status not in (*workflow.ACTIVE, "resolved"):
            raise InvalidTransition(
                "A report duplicates another, open or resolved, report.",
                errors={"json": {"duplicate_of": ["not a report this one can duplicate"]}},
            )
    previous = report.status
    # Compare-and-set in SQL: of two agents saving at once, the second is refused, not lost.
    changed = session.execute(
        update(Report)
        .where(Report.id == report.id, Report.version == version)
        .values(status=to, version=Report.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise StaleReport()
    data: dict[str, Any] = {"from": previous, "status": to}
    if note:
        data["note" if note_public else "internal_note"] = note
    if original is not None:
        data["duplicate_of"] = original.reference
        session.execute(
            update(Report)
            .where(Report.id == original.id)
            .values(support_count=Report.support_count + report.support_count + 1)
            .execution_options(synchronize_session=False)
        )
    session.add(
        ReportEvent(
            report_id=report.id,
            kind="status",
            at=now,
            actor_type="agent",
            actor_id=agent.id,
            public=to in workflow.PUBLIC_CHANGES,
            data=data,
        )
    )
    session.flush()
    session.refresh(report)
    return report
