"""What agents do to a report: move it along the workflow, note, assign, prioritise, reroute, in
bulk too. Every change is a compare-and-set on the report's version and a trail event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.directory.models import Agent, Unit
from backend.errors import DomainError, NotFound
from backend.notifications import reporters, units
from backend.queue import JobQueue, after_commit
from backend.reports.models import OPEN_STATUSES, PRIORITIES, Report, ReportEvent
from backend.triage import workflow
from backend.triage.access import require_supervisor, visible_report
from backend.triage.errors import (
    BulkRefused,
    InvalidTransition,
    NoteRequired,
    RerouteRefused,
    StaleReport,
    UnknownAgent,
    UnknownUnit,
    VersionRequired,
)

MAX_BULK = 200  # reports in one bulk action

# assign(): leave the assignee as it is (only the unit changes). Compared by identity: no
# client value can be it.
KEEP_ASSIGNEE: Any = object()


def transition(
    session: Session,
    agent: Agent,
    reference: str,
    *,
    to: str,
    version: int | None,
    now: datetime,
    queue: JobQueue,
    note: str | None = None,
    note_public: bool = False,
    duplicate_of: str | None = None,
) -> Report:
    """Move the report along the workflow, if ``version`` is still current; flush. The reporter
    is e-mailed after commit when the move is one they hear of.

    Raises :class:`VersionRequired`, :class:`StaleReport`, :class:`InvalidTransition`,
    :class:`NoteRequired`, or ``ReportNotFound``.
    """
    report = visible_report(session, agent, reference)
    if version is None:
        raise VersionRequired()
    if version != report.version:
        raise StaleReport()
    original = check_move(session, agent, report, to, note=note, duplicate_of=duplicate_of)
    note = (note or "").strip() or None
    data: dict[str, Any] = {"from": report.status, "status": to}
    if note:
        data["note" if note_public else "internal_note"] = note
    if original is not None:
        data["duplicate_of"] = original.reference
    report, event = _change(
        session, agent, report, version, now, {"status": to}, "status", data, public=to in workflow.PUBLIC_CHANGES
    )
    if original is not None:  # the duplicate's supporters, and its reporter, count for the original
        session.execute(
            update(Report)
            .where(Report.id == original.id)
            .values(support_count=Report.support_count + report.support_count + 1)
            .execution_options(synchronize_session=False)
        )
    if reporters.should_tell(report, to):
        after_commit(session, queue, reporters.JOB, event.id)
    return report


def check_move(
    session: Session, agent: Agent, report: Report, to: str, *, note: str | None, duplicate_of: str | None
) -> Report | None:
    """Whether the agent may move ``report`` to ``to`` (the workflow's table, the note a
    rejection or referral needs, the original a duplicate needs): the original of a duplicate,
    None for another move, or the :class:`DomainError` that refuses it. Changes nothing."""
    if not workflow.allowed(agent.role, report.status, to):
        raise InvalidTransition(errors={"json": {"to": [f"{report.status} → {to} is not allowed for a {agent.role}"]}})
    if to in workflow.NOTE_REQUIRED and not (note or "").strip():
        raise NoteRequired(errors={"json": {"note": ["required to reject or refer"]}})
    if to != "duplicate":
        return None
    if not duplicate_of:
        raise InvalidTransition(
            "Say which report this one duplicates.", errors={"json": {"duplicate_of": ["required"]}}
        )
    original = visible_report(session, agent, duplicate_of)
    if original.id == report.id or original.status not in (*OPEN_STATUSES, "resolved"):
        raise InvalidTransition(
            "A report duplicates another, open or resolved, report.",
            errors={"json": {"duplicate_of": ["not a report this one can duplicate"]}},
        )
    return original


def add_note(session: Session, agent: Agent, reference: str, *, text: str, public: bool, now: datetime) -> Report:
    """A note on the trail: public (shown on the public timeline) or internal (agents only)."""
    report = visible_report(session, agent, reference)
    text = text.strip()
    trace(session, agent, report, "note", {"note": text} if public else {"internal_note": text}, now=now, public=public)
    return report


def assign(
    session: Session,
    agent: Agent,
    reference: str,
    *,
    assignee_email: str | None,
    unit_code: str | None = None,
    version: int | None,
    now: datetime,
    queue: JobQueue,
) -> Report:
    """Give the report to an agent of its directorate (or to nobody: ``None``; or leave it:
    :data:`KEEP_ASSIGNEE`), and/or to another unit of its directorate (the public routing
    record is left as decided; another directorate is a reroute; the unit is told as of a new
    report); supervisors only."""
    require_supervisor(agent)
    report = visible_report(session, agent, reference)
    values: dict[str, Any] = {}
    data: dict[str, Any] = {}
    unit = None
    if assignee_email is not KEEP_ASSIGNEE:
        assignee = None
        if assignee_email:
            assignee = session.scalar(
                select(Agent).where(
                    Agent.email == assignee_email.strip().lower(),
                    Agent.active.is_(True),
                    Agent.directorate_id == report.directorate_id,
                )
            )
            if assignee is None:
                raise UnknownAgent(errors={"json": {"agent": ["no active agent of this directorate"]}})
        values["assigned_agent_id"] = assignee.id if assignee else None
        data["agent"] = assignee.email if assignee else None
    if unit_code is not None:
        unit = session.scalar(
            select(Unit).where(
                Unit.code == unit_code, Unit.active.is_(True), Unit.directorate_id == report.directorate_id
            )
        )
        if unit is None:
            raise UnknownUnit(errors={"json": {"unit": ["no active unit of this report's directorate"]}})
        values["unit_id"] = unit.id
        data["unit"] = unit.code
    handed_over = unit is not None and unit.id != report.unit_id
    report, event = _change(session, agent, report, version, now, values, "assigned", data)
    if handed_over:
        units.tell_unit(session, queue, unit, report.id, event.id)
    return report


def set_priority(
    session: Session, agent: Agent, reference: str, *, priority: str, version: int | None, now: datetime
) -> Report:
    """Set how urgent the report is (a name of :data:`PRIORITIES`)."""
    report = visible_report(session, agent, reference)
    values, data = {"priority": PRIORITIES[priority]}, {"priority": priority}
    report, _ = _change(session, agent, report, version, now, values, "priority", data)
    return report


def set_description_publication(
    session: Session, agent: Agent, reference: str, *, publishable: bool, version: int | None, now: datetime
) -> Report:
    """Say whether the report's description may be published in the open data (scrubbed of
    e-mail addresses, phone numbers and links on the way out); traced."""
    report = visible_report(session, agent, reference)
    values, data = {"description_public": publishable}, {"publishable": publishable}
    report, _ = _change(session, agent, report, version, now, values, "description_publication", data)
    return report


def reroute(
    session: Session,
    agent: Agent,
    reference: str,
    *,
    unit_code: str,
    note: str,
    version: int | None,
    now: datetime,
    queue: JobQueue,
) -> Report:
    """Send the report to another unit (of any directorate); supervisors only. The report leaves
    this queue, the routing record says it was decided by hand, the trail says why, and the unit
    is told as of a new report."""
    require_supervisor(agent)
    report = visible_report(session, agent, reference)
    note = (note or "").strip()
    if not note:
        raise NoteRequired("Rerouting needs a note saying why.", errors={"json": {"note": ["required"]}})
    unit = session.scalar(select(Unit).where(Unit.code == unit_code, Unit.active.is_(True)))
    if unit is None:
        raise RerouteRefused(errors={"json": {"unit": ["unknown unit"]}})
    if report.status not in OPEN_STATUSES:
        raise RerouteRefused("Only an open report can be rerouted.", errors={"json": {"status": [report.status]}})
    previous = {"directorate": report.routing["directorate"], "unit": report.routing.get("unit")}
    routing = {
        **report.routing,
        "directorate": {"code": unit.directorate.code, "name": unit.directorate.name},
        "unit": {"code": unit.code, "name": unit.name},
        "referred_to": None,
        "rule": "manual",
        "message": f"Votre signalement a été transmis à : {unit.directorate.name} ({unit.name}).",
    }
    values = {
        "directorate_id": unit.directorate_id,
        "unit_id": unit.id,
        "referred_to_id": None,
        "routing": routing,
        "assigned_agent_id": None,
    }
    data = {"from": previous, "to": {"directorate": unit.directorate.code, "unit": unit.code}, "internal_note": note}
    report, event = _change(session, agent, report, version, now, values, "rerouted", data)
    units.tell_unit(session, queue, unit, report.id, event.id)
    return report


def bulk(
    session: Session,
    agent: Agent,
    references: list[str],
    *,
    action: str,
    now: datetime,
    queue: JobQueue,
    to: str | None = None,
    note: str | None = None,
    note_public: bool = False,
    assignee_email: str | None = KEEP_ASSIGNEE,
    unit_code: str | None = None,
    priority: str | None = None,
) -> list[Report]:
    """One transition, assignment or priority on up to :data:`MAX_BULK` reports, all or nothing: every report is
    checked first, by the same rules as one report's move, and one refusal refuses all
    (:class:`BulkRefused`, with the reasons by reference)."""
    require_supervisor(agent)
    problems: dict[str, list[str]] = {}
    found: list[Report] = []
    for reference in dict.fromkeys(references):
        try:
            report = visible_report(session, agent, reference)
            if action == "transition":
                # A duplicate names its original: one report at a time, not in bulk.
                check_move(session, agent, report, to or "", note=note, duplicate_of=None)
        except DomainError as refusal:
            problems[reference] = [_reason(refusal)]
            continue
        found.append(report)
    if problems:
        raise BulkRefused(errors={"json": {"references": problems}})
    changed = []
    for report in found:
        # Each report at the version just read: checked and changed in this one transaction.
        if action == "transition":
            moved = transition(
                session,
                agent,
                report.reference,
                to=to or "",
                version=report.version,
                now=now,
                queue=queue,
                note=note,
                note_public=note_public,
            )
        elif action == "priority":
            moved = set_priority(
                session, agent, report.reference, priority=priority or "", version=report.version, now=now
            )
        else:
            moved = assign(
                session,
                agent,
                report.reference,
                assignee_email=assignee_email,
                unit_code=unit_code,
                version=report.version,
                now=now,
                queue=queue,
            )
        changed.append(moved)
    return changed


def _reason(refusal: DomainError) -> str:
    """What a bulk answer says of one refused report: the refusal's first field and reason."""
    if isinstance(refusal, NotFound):
        return "no such report in your queue"
    for fields in refusal.errors.values():
        if isinstance(fields, dict):
            for field, reasons in fields.items():
                return f"{field}: {reasons[0] if isinstance(reasons, list) and reasons else reasons}"
    return refusal.message


def _change(
    session: Session,
    agent: Agent,
    report: Report,
    version: int | None,
    now: datetime,
    values: dict[str, Any],
    kind: str,
    data: dict[str, Any],
    *,
    public: bool = False,
) -> tuple[Report, ReportEvent]:
    """The one compare-and-set: apply ``values`` if ``version`` is still the report's, in SQL
    (of two agents saving at once, the second is refused, not lost), and trace it."""
    if version is None:
        raise VersionRequired()
    changed = session.execute(
        update(Report)
        .where(Report.id == report.id, Report.version == version)
        .values(**values, version=Report.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise StaleReport()
    event = trace(session, agent, report, kind, data, now=now, public=public)
    session.refresh(report)
    return report, event


def trace(
    session: Session,
    agent: Agent,
    report: Report,
    kind: str,
    data: dict[str, Any],
    *,
    now: datetime,
    public: bool = False,
) -> ReportEvent:
    """Append what an agent did to the report's trail (internal unless ``public``); flush."""
    event = ReportEvent(
        report_id=report.id, kind=kind, at=now, actor_type="agent", actor_id=agent.id, public=public, data=data
    )
    session.add(event)
    session.flush()
    return event
