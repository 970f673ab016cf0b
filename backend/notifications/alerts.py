"""Urgent alerts: a sighting of a sensitive species is told at once — not in the next digest — to
the unit that received it (the park's DNPB team) and to the biodiversity observatory (ODBU), each
by its own means (a signed webhook, or an e-mail), marked urgent, with the precise point only
they may see.

Owed from the moment the report is stored (its ``sensitive`` flag is on record); an
``urgent_alerted`` trail event per recipient marks it done, and :func:`sweep` sends again what a
lost job left owed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.directory.models import Unit
from backend.mail import Mailer
from backend.notifications.units import STALE_AFTER, TOO_LATE, Post, webhook_secret
from backend.queue import JobQueue, after_commit
from backend.reports.models import Report, ReportEvent

log = logging.getLogger(__name__)
JOB = "backend.notifications.jobs.alert_urgent"
OBSERVATORY = "DNPB-ODBU"


def recipients(session: Session, report: Report) -> list[Unit]:
    """Who is alerted: the report's unit and the observatory, those that can be told (a webhook
    or an e-mail address), each once."""
    units = [session.get(Unit, report.unit_id)] if report.unit_id else []
    units.append(session.scalar(select(Unit).where(Unit.code == OBSERVATORY, Unit.active.is_(True))))
    seen: dict[str, Unit] = {}
    for unit in units:
        if unit is not None and unit.notify_method in ("webhook", "email") and unit.notify_target:
            seen.setdefault(unit.code, unit)
    return list(seen.values())


def alerted(session: Session, report_id: int) -> set[str]:
    return {
        data.get("unit")
        for data in session.scalars(
            select(ReportEvent.data).where(ReportEvent.report_id == report_id, ReportEvent.kind == "urgent_alerted")
        )
    }


def alert_urgent(
    session: Session,
    report_id: int,
    *,
    mailer: Mailer,
    post: Post,
    secret_key: str,
    public_base_url: str,
    now: datetime,
) -> list[str]:
    """Alert each recipient not alerted yet of a sensitive sighting; the units alerted. A recipient
    that cannot be reached is logged and left owed (the sweep tries it again within minutes), so
    that those told are on the trail when the job commits, and never told twice."""
    report = session.get(Report, report_id)
    if report is None or not report.sensitive:
        return []
    done = alerted(session, report.id)
    species = _species(report)
    link = f"{public_base_url}/api/v1/triage/reports/{report.reference}"
    park = next((zone["name"] for zone in report.routing.get("zones", []) if zone["kind"] == "park"), None)
    where = park or next((z["name"] for z in report.routing.get("zones", []) if z["kind"] == "commune"), "")
    told = []
    for unit in recipients(session, report):
        if unit.code in done:
            continue
        try:
            _tell(unit, report, species, where, link, mailer=mailer, post=post, secret_key=secret_key)
        except Exception:
            log.warning(
                "urgent alert not delivered", extra={"unit": unit.code, "report": report.reference}, exc_info=True
            )
            continue
        session.add(
            ReportEvent(
                report_id=report.id,
                kind="urgent_alerted",
                at=now,
                actor_type="system",
                public=False,
                data={"unit": unit.code, "method": unit.notify_method},
            )
        )
        session.flush()
        told.append(unit.code)
    return told


def _tell(
    unit: Unit, report: Report, species: str, where: str, link: str, *, mailer: Mailer, post: Post, secret_key: str
) -> None:
    """One alert, by the unit's means; raises if it did not leave."""
    if unit.notify_method == "webhook":
        body = json.dumps(
            {
                "event": "report.urgent",
                "urgent": True,
                "reason": "sensitive_species",
                "reference": report.reference,
                "program": report.program.code,
                "category": report.category.code,
                "species": species,
                "received_at": report.received_at.isoformat(),
                "location": {"lat": report.lat, "lon": report.lon, "accuracy_m": report.accuracy_m},
                "unit": unit.code,
                "link": link,
            },
            ensure_ascii=False,
        ).encode()
        signature = hmac.new(webhook_secret(secret_key, unit.code).encode(), body, hashlib.sha256).hexdigest()
        post(
            unit.notify_target,
            body,
            {"Content-Type": "application/json", "X-Signal93-Signature": f"sha256={signature}"},
        )
    else:
        subject = f"[URGENT] Espèce sensible observée : {species or 'espèce à identifier'}"
        subject += f" — {where}" if where else ""
        lines = [
            "Bonjour,",
            "",
            f"Une observation d'espèce sensible vient d'être signalée ({report.reference}) :",
            f"- espèce : {species or 'à identifier'}",
            f"- lieu : {where or 'hors parc'} (position précise : {report.lat:.5f}, {report.lon:.5f})",
            f"- reçue le : {report.received_at:%d/%m/%Y à %H:%M} (UTC)",
            "",
            f"Voir le signalement : {link}",
            "",
            "Cette position précise est réservée aux agents : ne la diffusez pas.",
            "",
            "— Signal93",
        ]
        mailer.send(unit.notify_target, subject, "\n".join(lines))


def _species(report: Report) -> str:
    """The species named by the sighting (French name when the catalog knows it)."""
    names = []
    for definition in report.category.attributes or []:
        if definition.get("values_from") == "taxa":
            value = (report.attributes or {}).get(definition["code"])
            values = value if isinstance(value, list) else [value] if value else []
            known = {item["key"]: item.get("name") for item in definition.get("values", [])}
            names += [f"{known[value]} ({value})" if known.get(value) else str(value) for value in values]
    return ", ".join(names)


def owed(session: Session, *, now: datetime, stale_after: timedelta = STALE_AFTER) -> list[int]:
    """Sensitive sightings of the last week, older than ``stale_after``, with a recipient not
    alerted yet (a job lost with Redis down, a worker killed)."""
    reports = session.scalars(
        select(Report)
        .where(Report.sensitive.is_(True), Report.received_at > now - TOO_LATE, Report.received_at < now - stale_after)
        .order_by(Report.id)
        .limit(1000)
    )
    return [
        report.id
        for report in reports
        if {unit.code for unit in recipients(session, report)} - alerted(session, report.id)
    ]


def sweep(session: Session, *, queue: JobQueue, now: datetime, stale_after: timedelta = STALE_AFTER) -> int:
    """Send again the alerts a lost job left owed; how many. They leave once the transaction commits."""
    ids = owed(session, now=now, stale_after=stale_after)
    for report_id in ids:
        after_commit(session, queue, JOB, report_id)
    return len(ids)
