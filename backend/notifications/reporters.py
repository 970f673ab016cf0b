"""Telling reporters, in French, when their report changes status, and letting them stop."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import DomainError
from backend.mail import Mailer
from backend.queue import JobQueue, after_commit
from backend.reports.models import Report, Reporter, ReportEvent
from backend.reports.services import get_report

JOB = "backend.notifications.jobs.notify_reporter"
STALE_AFTER = timedelta(minutes=5)
# Past a week, an e-mail about a change would mislead more than help: the sweep lets it go.
TOO_LATE = timedelta(days=7)
# The changes a reporter is told of (a subset of the public changes, see triage.workflow).
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


class InvalidOptOutLink(DomainError):
    code = "invalid_opt_out_link"
    status = 401
    message = "This opt-out link is not valid."


def should_tell(report: Report, status: str) -> bool:
    """Whether the reporter hears of a move to ``status``: a told status, and an e-mail given
    with consent (which an opt-out withdraws)."""
    contact = report.reporter
    return status in TOLD and contact is not None and bool(contact.email) and contact.consent_contact


def opt_out_token(secret_key: str, report_id: int) -> str:
    """The secret of a report's opt-out link (no account needed, cannot be guessed)."""
    return hmac.new(secret_key.encode(), f"signal93-opt-out:{report_id}".encode(), hashlib.sha256).hexdigest()[:32]


def opt_out_url(public_base_url: str, report: Report, secret_key: str) -> str:
    """The link of the e-mails: a page that asks to confirm (a GET changes nothing), and the
    address a mail client's one-click unsubscribe POSTs to (RFC 8058)."""
    token = opt_out_token(secret_key, report.id)
    return f"{public_base_url}/api/v1/reports/{report.reference}/opt-out?token={token}"


def check_opt_out(session: Session, reference: str, token: str | None, secret_key: str) -> Report:
    """The report if ``token`` is its opt-out secret; :class:`InvalidOptOutLink` otherwise
    (``ReportNotFound`` for an unknown reference). Changes nothing."""
    report = get_report(session, reference)
    # As bytes: compare_digest refuses str holding anything but ASCII (a TypeError, was a 500).
    given = (token or "").encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(opt_out_token(secret_key, report.id).encode(), given):
        raise InvalidOptOutLink(errors={"query": {"token": ["not this report's opt-out token"]}})
    return report


def opt_out(session: Session, reference: str, token: str | None, secret_key: str) -> Report:
    """Stop e-mails about this report (:class:`InvalidOptOutLink` unless ``token`` is its
    opt-out secret); safe to repeat. Flushes."""
    report = check_opt_out(session, reference, token, secret_key)
    if report.reporter is not None and report.reporter.consent_contact:
        report.reporter.consent_contact = False
        session.flush()
    return report


def message(report: Report, status: str, note: str | None, public_base_url: str, secret_key: str) -> tuple[str, str]:
    """Subject and body of the e-mail (French; no data beyond the reporter's own report)."""
    reference = report.reference
    lines = ["Bonjour,", "", INTROS[status], "", f"Signalement : {reference} — {report.category.name}"]
    if note:
        lines += ["", f"Message du service : {note}"]
    lines += [
        "",
        f"Suivre votre signalement : {public_base_url}/api/v1/reports/{reference}",
        "",
        "Vous recevez ce message parce que vous avez accepté d'être contacté(e) au sujet de ce signalement.",
        f"Pour ne plus recevoir de message à son sujet : {opt_out_url(public_base_url, report, secret_key)}",
        "— Le Département de la Seine-Saint-Denis",
    ]
    return SUBJECTS[status].format(ref=reference), "\n".join(lines)


def notify_reporter(
    session: Session, event_id: int, *, mailer: Mailer, public_base_url: str, now: datetime, secret_key: str
) -> bool:
    """Send the e-mail for one status event, once: a ``reporter_notified`` event records it, so
    running the job twice sends nothing more. Returns whether a mail was sent."""
    event = session.get(ReportEvent, event_id)
    if event is None or event.kind != "status":
        return False
    report = session.get(Report, event.report_id)
    status = event.data.get("status")
    if report is None or not should_tell(report, status):
        return False
    already = session.scalar(
        select(ReportEvent.id)
        .where(ReportEvent.report_id == report.id, ReportEvent.kind == "reporter_notified")
        .where(ReportEvent.data["event_id"].as_integer() == event.id)
    )
    if already:
        return False
    subject, body = message(report, status, event.data.get("note"), public_base_url, secret_key)
    unsubscribe = opt_out_url(public_base_url, report, secret_key)
    mailer.send(
        report.reporter.email,
        subject,
        body,
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
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


def sweep(session: Session, *, queue: JobQueue, now: datetime, stale_after: timedelta = STALE_AFTER) -> int:
    """Send again the e-mails whose job was lost (Redis down, worker killed): status changes a
    reporter should hear of, older than ``stale_after``, younger than a week, with no
    ``reporter_notified`` yet. Returns how many; the jobs leave once the transaction commits."""
    notified = select(ReportEvent.data["event_id"].as_integer()).where(ReportEvent.kind == "reporter_notified")
    candidates = session.scalars(
        select(ReportEvent.id)
        .join(Reporter, Reporter.report_id == ReportEvent.report_id)
        .where(
            ReportEvent.kind == "status",
            ReportEvent.data["status"].as_string().in_(TOLD),
            ReportEvent.at < now - stale_after,
            ReportEvent.at > now - TOO_LATE,
            Reporter.consent_contact.is_(True),
            Reporter.email.is_not(None),
            ReportEvent.id.not_in(notified),
        )
        .limit(1000)
    ).all()
    for event_id in candidates:
        after_commit(session, queue, JOB, event_id)
    return len(candidates)
