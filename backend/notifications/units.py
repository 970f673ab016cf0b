"""Telling units of the reports they receive: a signed webhook per report, or an e-mail digest.

A webhook is owed for each new report of a webhook unit and each report handed over to one (a
reroute, an assignment to a unit). What is owed is on record before anything is sent: the
report's first trail events, or the handover's trail event, committed with it. A
``unit_notified`` event marks it done, and :func:`sweep` sends again what a lost job (Redis
down, worker killed) left owed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.directory.models import Unit
from backend.mail import Mailer
from backend.queue import JobQueue, after_commit
from backend.reports.models import Report, ReportEvent

JOB = "backend.notifications.jobs.notify_unit"
DIGEST_EVERY = timedelta(hours=1)
STALE_AFTER = timedelta(minutes=5)
# Past a week, a receiver is told nothing more of an old report: it would mislead more than help.
TOO_LATE = timedelta(days=7)
HANDOVERS = ("rerouted", "assigned")

# post(url, body, headers): raises if the receiver did not take it (the job is then retried).
Post = Callable[[str, bytes, dict[str, str]], None]


def webhook_secret(secret_key: str, unit_code: str) -> str:
    """The key a unit's receiver checks ``X-Signal93-Signature`` with (``flask unit-secret``)."""
    return hmac.new(secret_key.encode(), f"signal93-webhook:{unit_code}".encode(), hashlib.sha256).hexdigest()


def handed_to(kind: str, data: dict[str, Any]) -> str | None:
    """The unit a trail event (its kind and data) handed the report over to: a reroute, an
    assignment to a unit; None for any other event."""
    if kind == "rerouted":
        return (data.get("to") or {}).get("unit")
    if kind == "assigned":
        return data.get("unit")
    return None


def tell_unit(session: Session, queue: JobQueue, unit: Unit, report_id: int, handover_event_id: int) -> None:
    """A report handed over to ``unit`` (its trail event ``handover_event_id``): a webhook unit
    hears of it as of a new one, after commit; an e-mail unit finds it in its next digest."""
    if unit.notify_method == "webhook":
        after_commit(session, queue, JOB, report_id, handover_event_id)


def notify_unit(
    session: Session,
    report_id: int,
    *,
    handover_event_id: int | None = None,
    secret_key: str,
    public_base_url: str,
    now: datetime,
    post: Post,
) -> bool:
    """POST a signed JSON summary of a report to its unit's webhook: a new report
    (``report.created``), or one handed over to the unit (``report.handed_over``,
    ``handover_event_id`` its trail event). Once each (``unit_notified`` on the trail). Returns
    whether it was posted; raises what ``post`` raises."""
    report = session.get(Report, report_id)
    unit = session.get(Unit, report.unit_id) if report and report.unit_id else None
    if unit is None or unit.notify_method != "webhook" or not unit.notify_target:
        return False
    if handover_event_id is not None:
        handover = session.get(ReportEvent, handover_event_id)
        # Handed on again since: the unit that has it now is told instead.
        if handover is None or handed_to(handover.kind, handover.data) != unit.code:
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


def owed_webhooks(
    session: Session, *, now: datetime, stale_after: timedelta = STALE_AFTER
) -> list[tuple[int, int | None]]:
    """The webhooks still owed, older than ``stale_after`` and younger than a week, as
    ``(report_id, handover_event_id or None)``: for each report a webhook unit has now, what
    that unit was owed when the report reached it (:func:`owed_to`), if no ``unit_notified``
    says it was told. At most 1,000."""
    hooked = select(Unit.id).where(Unit.notify_method == "webhook", Unit.active.is_(True))
    since, until = now - TOO_LATE, now - stale_after
    rows = session.execute(
        select(ReportEvent.report_id, Unit.code, ReportEvent.id, ReportEvent.kind, ReportEvent.data, ReportEvent.at)
        .join(Report, Report.id == ReportEvent.report_id)
        .join(Unit, Unit.id == Report.unit_id)
        .where(
            Report.unit_id.in_(hooked),
            Report.updated_at > since,  # the last handover, or the routing, is at most this old
            ReportEvent.kind.in_(("routed", "unit_notified", *HANDOVERS)),
        )
        .order_by(ReportEvent.report_id, ReportEvent.id)
    ).all()
    trails: dict[tuple[int, str], list[tuple[int, str, dict[str, Any], datetime]]] = {}
    for report_id, unit_code, *event in rows:
        trails.setdefault((report_id, unit_code), []).append(tuple(event))
    owed = []
    for (report_id, unit_code), trail in trails.items():
        due = owed_to(unit_code, trail)
        if due is not None and since < due[1] < until:
            owed.append((report_id, due[0]))
    return owed[:1000]


def owed_to(
    unit_code: str, trail: list[tuple[int, str, dict[str, Any], datetime]]
) -> tuple[int | None, datetime] | None:
    """What ``unit_code``, which has the report now, is owed, from the report's trail
    (``(event id, kind, data, at)`` in order): the webhook of the routing (None) or of the
    handover (its event id) that gave it the report, with when; None if it was told already, or
    was never owed one (a handover that left the report with the unit that had it sends none)."""
    holder, due = None, None
    told = {data.get("handover") for _, kind, data, _ in trail if kind == "unit_notified"}
    for event_id, kind, data, at in trail:
        if kind == "routed":
            holder, due = data.get("unit"), (None, at)
        elif kind in HANDOVERS and handed_to(kind, data) not in (None, holder):
            holder, due = handed_to(kind, data), (event_id, at)
    if holder != unit_code or due is None or due[0] in told:
        return None
    return due


def sweep(session: Session, *, queue: JobQueue, now: datetime, stale_after: timedelta = STALE_AFTER) -> int:
    """Send again the webhooks a lost job left owed (:func:`owed_webhooks`); returns how many.
    The jobs leave once the transaction commits."""
    owed = owed_webhooks(session, now=now, stale_after=stale_after)
    for report_id, handover_event_id in owed:
        after_commit(session, queue, JOB, report_id, handover_event_id)
    return len(owed)


def send_digests(session: Session, *, mailer: Mailer, public_base_url: str, now: datetime) -> int:
    """E-mail each 'email' unit the reports it received since its last digest, or that were
    handed over to it since (at most hourly); returns how many digests were sent."""
    sent = 0
    units = session.scalars(select(Unit).where(Unit.notify_method == "email", Unit.active.is_(True)))
    for unit in units:
        since = unit.last_digest_at or now - timedelta(days=1)
        if unit.last_digest_at and now - unit.last_digest_at < DIGEST_EVERY:
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
            if handed_to(event.kind, event.data) == unit.code and event.report_id not in listed:
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
