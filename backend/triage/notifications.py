"""Telling reporters, in French, when their report changes status publicly."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.directory.models import Unit
from backend.queue import after_commit
from backend.reports.models import Report, Reporter, ReportEvent

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


def opt_out_token(secret_key: str, report_id: int) -> str:
    """The secret of a report's opt-out link (no account needed, cannot be guessed)."""
    return hmac.new(secret_key.encode(), f"signal93-opt-out:{report_id}".encode(), hashlib.sha256).hexdigest()[:32]


def opt_out(session: Session, report: Report, token: str, secret_key: str) -> bool:
    """Stop e-mails about this report if ``token`` is its opt-out secret; whether it was."""
    if not hmac.compare_digest(opt_out_token(secret_key, report.id), token or ""):
        return False
    if report.reporter is not None:
        report.reporter.consent_contact = False
        session.flush()
    return True


def message(
    report: Report, status: str, note: str | None, public_base_url: str, secret_key: str = ""
) -> tuple[str, str]:
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
        "Pour ne plus recevoir de message à son sujet : "
        f"{public_base_url}/api/v1/reports/{reference}/opt-out?token={opt_out_token(secret_key, report.id)}",
        "— Le Département de la Seine-Saint-Denis",
    ]
    return SUBJECTS[status].format(ref=reference), "\n".join(lines)


def notify_reporter(
    session: Session, event_id: int, *, mailer: Any, public_base_url: str, now: datetime, secret_key: str = ""
) -> bool:
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
    subject, body = message(report, status, event.data.get("note"), public_base_url, secret_key)
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


# --- units -------------------------------------------------------------------------------------

UNIT_JOB = "backend.triage.jobs.notify_unit"
DIGEST_EVERY_HOURS = 1


def webhook_secret(secret_key: str, unit_code: str) -> str:
    """The key a unit's receiver checks ``X-Signal93-Signature`` with (``flask units secret``)."""
    return hmac.new(secret_key.encode(), f"signal93-webhook:{unit_code}".encode(), hashlib.sha256).hexdigest()


def notify_unit(
    session: Session,
    report_id: int,
    *,
    handover_event_id: int | None = None,
    secret_key: str,
    public_base_url: str,
    now: datetime,
    post: Any,
) -> bool:
    """POST a signed JSON summary of a report to its unit's webhook: a new report
    (``report.created``), or one handed over to the unit by a reroute or an assignment
    (``report.handed_over``, ``handover_event_id`` its trail event). Once each (``unit_notified``
    on the trail). ``post(url, body, headers)`` raises on failure, so the job is retried."""

    report = session.get(Report, report_id)
    unit = session.get(Unit, report.unit_id) if report and report.unit_id else None
    if unit is None or unit.notify_method != "webhook" or not unit.notify_target:
        return False
    if handover_event_id is not None:
        handover = session.get(ReportEvent, handover_event_id)
        if handover is None or handed_to(handover) != unit.code:  # handed on again since: that unit is told
            return False
    told = session.scalars(
        select(ReportEvent.data).where(ReportEvent.report_id == report.id, ReportEvent.kind == "unit_notified")
    )
    if any(data.get("handover") == handover_event_id for data in told):
        return False
    body = json.dumps(
        {
            "event": "report.created" if handover_event_id is None else "report.handed_over",
            "reference": report.reference,
            "program": report.program.code,
            "category": report.category.code,
            "received_at": report.received_at.isoformat(),
            "location": {"lat": report.lat, "lon": report.lon},
            "unit": unit.code,
            "link": f"{public_base_url}/api/v1/triage/reports/{report.reference}",
        },
        ensure_ascii=False,
    ).encode()
    signature = hmac.new(webhook_secret(secret_key, unit.code).encode(), body, hashlib.sha256).hexdigest()
    post(unit.notify_target, body, {"Content-Type": "application/json", "X-Signal93-Signature": f"sha256={signature}"})
    session.add(
        ReportEvent(
            report_id=report.id,
            kind="unit_notified",
            at=now,
            actor_type="system",
            public=False,
            data={"unit": unit.code, "method": "webhook", "handover": handover_event_id},
        )
    )
    session.flush()
    return True


HANDOVERS = ("rerouted", "assigned")


def handed_to(event: ReportEvent) -> str | None:
    """The unit a trail event handed the report over to (a reroute, an assignment to a unit)."""
    if event.kind == "rerouted":
        return (event.data.get("to") or {}).get("unit")
    if event.kind == "assigned":
        return event.data.get("unit")
    return None


def send_digests(session: Session, *, mailer: Any, public_base_url: str, now: datetime) -> int:
    """E-mail each 'email' unit the reports it received since its last digest, or that were
    handed over to it since (at most hourly); returns how many digests were sent."""

    sent = 0
    units = session.scalars(select(Unit).where(Unit.notify_method == "email", Unit.active.is_(True)))
    for unit in units:
        since = unit.last_digest_at or now - timedelta(days=1)
        if unit.last_digest_at and now - unit.last_digest_at < timedelta(hours=DIGEST_EVERY_HOURS):
            continue
        reports = list(
            session.scalars(
                select(Report)
                .where(Report.unit_id == unit.id, Report.received_at > since, Report.received_at <= now)
                .order_by(Report.received_at)
                .limit(500)
            )
        )
        handovers = session.scalars(
            select(ReportEvent)
            .join(Report, Report.id == ReportEvent.report_id)
            .where(
                Report.unit_id == unit.id,
                ReportEvent.kind.in_(HANDOVERS),
                ReportEvent.at > since,
                ReportEvent.at <= now,
            )
            .order_by(ReportEvent.at)
            .limit(500)
        )
        listed = {r.id for r in reports}
        for event in handovers:
            if handed_to(event) == unit.code and event.report_id not in listed:
                listed.add(event.report_id)
                reports.append(event.report)
        unit.last_digest_at = now
        if not reports:
            continue
        lines = ["Bonjour,", "", f"{len(reports)} nouveau(x) signalement(s) pour {unit.name} :", ""]
        lines += [
            f"- {r.reference} — {r.category.name} — {public_base_url}/api/v1/triage/reports/{r.reference}"
            for r in reports
        ]
        lines += ["", "— Signal93"]
        mailer.send(
            unit.notify_target, f"Signal93 : {len(reports)} nouveau(x) signalement(s) — {unit.name}", "\n".join(lines)
        )
        sent += 1
    session.flush()
    return sent
