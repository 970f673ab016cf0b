"""A sighting of a sensitive species reaches the park's DNPB team and the biodiversity observatory
at once, marked urgent, by their own means (a real SMTP server, a real HTTP receiver), once
each; a lost job is sent again by the sweep; the public never sees the alert."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

from sqlalchemy import select

from backend import deps
from backend.db import utcnow
from backend.directory.models import Unit
from backend.notifications import alerts
from backend.notifications.units import webhook_secret
from backend.reports.models import ReportEvent, parse_reference
from backend.revision import bump_revision
from tests.factories import SAUSSET_MARAIS, report_payload, submit, use_queue
from tests.test_notifications import LostQueue, mailing_app, webhook_receiver  # noqa: F401 (fixtures)

BITTERN = {"espece": "Ixobrychus minutus", "nombre": 1}


def test_a_rare_bird_in_the_sausset_is_told_at_once_to_its_team_and_the_observatory(mailing_app):  # noqa: F811
    app, box = mailing_app
    client = app.test_client()
    reference = submit(client, report_payload("observation-espece", at=SAUSSET_MARAIS, attributes=BITTERN))
    reference = reference.get_json()["reference"]
    assert sorted(message["To"] for message in box.messages) == [
        "dnpb-sausset@signal93.invalid",
        "odbu@signal93.invalid",
    ]
    mail = box.messages[0]
    assert mail["Subject"] == (
        "[URGENT] Espèce sensible observée : Blongios nain (Ixobrychus minutus) — Parc départemental du Sausset"
    )
    body = mail.get_content()
    assert reference in body
    assert "48.96330, 2.51280" in body  # the precise point: for the agents only
    assert f"/api/v1/triage/reports/{reference}" in body
    # Internal: the public timeline says nothing of it.
    timeline = client.get(f"/api/v1/reports/{reference}").get_json()["timeline"]
    assert "urgent_alerted" not in [event["kind"] for event in timeline]

    box.messages.clear()
    submit(client, report_payload("observation-espece", at=SAUSSET_MARAIS))  # a heron: no alert
    assert box.messages == []
    from backend.notifications.jobs import alert_urgent

    with app.app_context():  # the job run again (a retry): no one is told twice
        alert_urgent(parse_reference(reference)[1])
    assert box.messages == []


def test_a_webhook_observatory_gets_a_signed_urgent_post(mailing_app, session, webhook_receiver):  # noqa: F811
    app, box = mailing_app
    url, received = webhook_receiver
    observatory = session.scalar(select(Unit).where(Unit.code == "DNPB-ODBU"))
    observatory.notify_method, observatory.notify_target = "webhook", url
    bump_revision(session)
    session.commit()
    reference = submit(app.test_client(), report_payload("observation-espece", at=SAUSSET_MARAIS, attributes=BITTERN))
    ((headers, body),) = received
    payload = json.loads(body)
    assert (payload["event"], payload["urgent"], payload["reason"]) == ("report.urgent", True, "sensitive_species")
    assert payload["reference"] == reference.get_json()["reference"]
    assert payload["species"] == "Blongios nain (Ixobrychus minutus)"
    assert (payload["location"]["lon"], payload["location"]["lat"]) == SAUSSET_MARAIS
    key = webhook_secret(deps.current(app).settings.secret_key, "DNPB-ODBU").encode()
    assert headers["X-Signal93-Signature"] == "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    assert [message["To"] for message in box.messages] == ["dnpb-sausset@signal93.invalid"]  # the team by e-mail


def test_alerts_lost_with_their_job_are_sent_by_the_sweep_once(mailing_app, session):  # noqa: F811
    app, box = mailing_app
    inline = deps.current(app).queue
    use_queue(app, LostQueue())
    reference = submit(app.test_client(), report_payload("observation-espece", at=SAUSSET_MARAIS, attributes=BITTERN))
    assert reference.status_code == 201
    assert box.messages == []  # the job was lost with Redis
    assert alerts.sweep(session, queue=inline, now=utcnow()) == 0  # too recent: its job may still run
    later = utcnow() + timedelta(minutes=6)
    assert alerts.sweep(session, queue=inline, now=later) == 1
    session.commit()
    assert len(box.messages) == 2
    assert alerts.sweep(session, queue=inline, now=later) == 0  # told once
    kinds = [event.kind for event in session.scalars(select(ReportEvent).order_by(ReportEvent.id))]
    assert kinds.count("urgent_alerted") == 2


def test_an_unreachable_recipient_is_left_owed_and_the_other_is_told_once(mailing_app, session):  # noqa: F811
    app, box = mailing_app
    observatory = session.scalar(select(Unit).where(Unit.code == "DNPB-ODBU"))
    observatory.notify_method, observatory.notify_target = "webhook", "http://127.0.0.1:9/down"  # nothing listens
    bump_revision(session)
    session.commit()
    reference = submit(app.test_client(), report_payload("observation-espece", at=SAUSSET_MARAIS, attributes=BITTERN))
    assert reference.status_code == 201
    assert [message["To"] for message in box.messages] == ["dnpb-sausset@signal93.invalid"]  # the team, at once
    later = utcnow() + timedelta(minutes=6)
    assert alerts.owed(session, now=later) == [parse_reference(reference.get_json()["reference"])[1]]
    box.messages.clear()
    alerts.sweep(session, queue=deps.current(app).queue, now=later)
    session.commit()
    assert box.messages == []  # the team is not told twice; the observatory is still owed
