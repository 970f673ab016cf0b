"""Telling reporters, in French, when their report changes status publicly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.reports.models import Report, ReportEvent

JOB = "backend.triage.jobs.notify_reporter"
# The changes a reporter is told of.
TOLD = ("acknowledged", "resolved", "rejected", "referred")
SUBJECTS = {
    "acknowledged": "Votre signalement {ref} a été pris en compte",
    "resolved": "Votre signalement {ref} est résolu",
    "rejected": "Votre signalement {ref} n'a pas été retenu",
    "referred": "Votre signalement {ref} a été transmis",
}
INTROS = {
    "acknowledged": "Votre signalement a bien été pris en compte par le service concerné.",
    "resolved": "Le service concerné indique que le problème que vous avez signalé est résolu. Merci !",
    "rejected": "Après examen, votre signalement n'a pas été retenu.",
    "referred": "Votre signalement a été transmis à l'organisme qui en a la charge.",
}


def should_tell(report: Any, status: str) -> bool:
    contact = report.reporter
    return status in TOLD and contact is not None and bool(contact.email) and contact.consent_contact


def message(report: Report, status: str, note: str | None, public_base_url: str) -> tuple[str, str]:
    """Subject and body of the e-mail (French; no data beyond the reporter's own report)."""
    reference = report.reference
    lines = [
        "Bonjour,",
        "",
        INTROS[status],
        "",
        f"Signalement : {reference} — {report.category.name}",
    ]
    if note:
        lines += ["", f"Message du service : {note}"]
    lines += [
        "",
        f"Suivre votre signalement : {public_base_url}/api/v1/reports/{reference}",
        "",
        "Vous recevez ce message parce que vous avez accepté d'être contacté(e) au sujet de ce signalement.",
        "— Le Département de la Seine-Saint-Denis",
    ]
    return SUBJECTS[status].format(ref=reference), "\n".join(lines)


def notify_reporter(session: Session, event_id: int, *, mailer: Any, public_base_url: str, now: datetime) -> bool:
    """Send the e-mail for one status event, once: a ``reporter_notified`` event records it, so
    running the job twice sends nothing more. Returns whether a mail was sent."""
    event = session.get(ReportEvent, event_id)
    if event is None or event.kind != "status":
        return False
    report = session.get(Report, event.report_id)
    status = event.data.get("status")
    if not should_tell(report, status):
        return False
    already = session.scalar(
        select(ReportEvent.id)
        .where(ReportEvent.report_id == report.id, ReportEvent.kind == "reporter_notified")
        .where(ReportEvent.data["event_id"].as_integer() == event.id)
    )
    if already:
        return False
    subject, body = message(report, status, event.data.get("note"), public_base_url)
    mailer.send(report.reporter.email, subject, body)
    session.add(
        ReportEvent(
            report_id=report.id,
            kind="reporter_notified",
            at=now,
            actor_type="system",
            public=False,
            data={"event_id": event.id, "status": status},
        )
    )
    session.flush()
    return True


def sweep(session: Session, *, queue: Any, now: datetime, stale_after: Any = None) -> int:
    """Send again the e-mails whose job was lost (Redis down, worker killed): status changes a
    reporter should hear of, older than a few minutes, with no ``reporter_notified`` yet."""
    from datetime import timedelta

    from backend.queue import after_commit
    from backend.reports.models import Reporter

    stale_after = stale_after or timedelta(minutes=5)
    notified = select(ReportEvent.data["event_id"].as_integer()).where(ReportEvent.kind == "reporter_notified")
    candidates = session.scalars(
        select(ReportEvent.id)
        .join(Reporter, Reporter.report_id == ReportEvent.report_id)
        .where(
            ReportEvent.kind == "status",
            ReportEvent.data["status"].as_string().in_(TOLD),
            ReportEvent.at < now - stale_after,
            ReportEvent.at > now - timedelta(days=7),  # past a week, an e-mail would mislead more than help
            Reporter.consent_contact.is_(True),
            Reporter.email.is_not(None),
            ReportEvent.id.not_in(notified),
        )
        .limit(1000)
    ).all()
    for event_id in candidates:
        after_commit(session, queue, JOB, event_id)
    return len(candidates)
