"""Reporters who consented hear of public status changes by e-mail, through a real SMTP server."""

from __future__ import annotations

from dataclasses import replace

import pytest

from backend import deps
from backend.app import create_app, inline_queue
from backend.mail import SmtpMailer
from backend.notifications import jobs
from tests.factories import bearer_for, make_agent, report_payload, submit, use_queue
from tests.test_agents import bearer, create, sign_in


@pytest.fixture
def mailing_app(settings, database, smtp_server):
    url, box = smtp_server
    app = create_app(replace(settings, smtp_url=url), database=database)

    use_queue(app, inline_queue(app))  # jobs in-process in both CI passes
    return app, box


def test_the_reporter_is_told_in_french_once_per_public_change(mailing_app):
    app, box = mailing_app
    client = app.test_client()
    contact = {"name": "Awa", "email": "awa@example.org", "consent_contact": True}
    reference = submit(client, report_payload(reporter=contact)).get_json()["reference"]
    create(app, "agent.mail@seinesaintdenis.fr")
    agent = bearer(sign_in(client, "agent.mail@seinesaintdenis.fr").get_json()["token"])
    url = f"/api/v1/triage/reports/{reference}/transitions"

    client.post(
        url,
        json={
            "to": "acknowledged",
            "note": "Équipe prévenue, intervention sous 7 jours",
            "note_public": True,
            "version": 1,
        },
        headers=agent,
    )
    assert len(box.messages) == 1
    mail = box.messages[0]
    assert mail["To"] == "awa@example.org"
    assert mail["Subject"] == f"Votre signalement {reference} a été pris en compte"
    body = mail.get_content()
    assert "Équipe prévenue, intervention sous 7 jours" in body
    assert f"http://signal93.test/api/v1/reports/{reference}" in body

    client.post(url, json={"to": "in_progress", "note": "bon de commande 42", "version": 2}, headers=agent)
    assert len(box.messages) == 1  # not a change reporters are told of
    client.post(url, json={"to": "resolved", "version": 3}, headers=agent)
    assert [m["Subject"] for m in box.messages][-1] == f"Votre signalement {reference} est résolu"

    assert not any("bon de commande" in m.get_content() for m in box.messages)  # internal notes stay inside
    trail = client.get(f"/api/v1/triage/reports/{reference}", headers=agent).get_json()["trail"]
    notified = [e for e in trail if e["kind"] == "reporter_notified"]
    assert [e["data"]["status"] for e in notified] == ["acknowledged", "resolved"]
    with app.app_context():  # the job run again (a retry) sends nothing more
        jobs.notify_reporter(notified[0]["data"]["event_id"])
    assert len(box.messages) == 2


def test_no_mail_without_consent_or_address(mailing_app):
    app, box = mailing_app
    client = app.test_client()
    quiet = submit(client, report_payload(reporter={"email": "quiet@example.org"})).get_json()["reference"]
    anonymous = submit(client, report_payload()).get_json()["reference"]
    create(app, "agent.quiet@seinesaintdenis.fr")
    agent = bearer(sign_in(client, "agent.quiet@seinesaintdenis.fr").get_json()["token"])
    for reference in (quiet, anonymous):
        response = client.post(
            f"/api/v1/triage/reports/{reference}/transitions", json={"to": "acknowledged", "version": 1}, headers=agent
        )
        assert response.status_code == 200
    assert box.messages == []


def test_mail_goes_to_the_outbox_without_smtp(app, client, tmp_path, settings):
    from backend.mail import make_mailer

    mailer = make_mailer(None, settings.instance_path)
    mailer.send("x@example.org", "Sujet", "Corps du message")
    (written,) = (settings.instance_path / "outbox").glob("*.eml")
    assert "Sujet" in written.read_text()
    assert isinstance(make_mailer("smtp://127.0.0.1:2525", settings.instance_path), SmtpMailer)


def test_an_e_mail_lost_with_its_job_is_sent_by_the_sweep(mailing_app, session):
    from datetime import timedelta

    from sqlalchemy import select

    from backend.db import utcnow
    from backend.notifications import reporters as notifications
    from backend.reports.models import ReportEvent

    app, box = mailing_app

    class LostQueue:  # Redis was down: the job never left
        def enqueue(self, job, *args):
            pass

    inline = deps.current(app).queue
    use_queue(app, LostQueue())
    client = app.test_client()
    contact = {"email": "lost@example.org", "consent_contact": True}
    reference = submit(client, report_payload(reporter=contact)).get_json()["reference"]
    create(app, "agent.lost@seinesaintdenis.fr")
    agent = bearer(sign_in(client, "agent.lost@seinesaintdenis.fr").get_json()["token"])
    client.post(
        f"/api/v1/triage/reports/{reference}/transitions", json={"to": "acknowledged", "version": 1}, headers=agent
    )
    assert box.messages == []
    later = utcnow() + timedelta(minutes=6)
    assert notifications.sweep(session, queue=inline, now=later) == 1
    session.commit()
    assert [m["To"] for m in box.messages] == ["lost@example.org"]
    assert notifications.sweep(session, queue=inline, now=later) == 0  # told once
    kinds = [e.kind for e in session.scalars(select(ReportEvent).order_by(ReportEvent.id))]
    assert kinds.count("reporter_notified") == 1


@pytest.fixture
def webhook_receiver():
    """A real HTTP server on 127.0.0.1 that records what it is sent."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/signal93", received
    finally:
        server.shutdown()
        server.server_close()


def test_a_webhook_unit_gets_a_signed_post_per_new_report(mailing_app, session, webhook_receiver):
    import hashlib
    import hmac
    import json

    from sqlalchemy import select

    from backend.directory.models import Unit
    from backend.notifications.units import webhook_secret
    from backend.revision import bump_revision

    app, _ = mailing_app
    url, received = webhook_receiver
    unit = session.scalar(select(Unit).where(Unit.code == "DVD-T8"))
    unit.notify_method, unit.notify_target = "webhook", url
    bump_revision(session)
    session.commit()
    reference = submit(app.test_client(), report_payload()).get_json()["reference"]  # on RD 932 in Pantin: DVD-T8
    assert len(received) == 1
    headers, body = received[0]
    payload = json.loads(body)
    assert payload["reference"] == reference
    assert payload["unit"] == "DVD-T8"
    key = webhook_secret(deps.current(app).settings.secret_key, "DVD-T8").encode()
    assert headers["X-Signal93-Signature"] == "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    assert "awa@" not in body.decode()
    from backend.notifications.jobs import notify_unit
    from backend.reports.models import parse_reference

    with app.app_context():  # the job run again (a retry): nothing more is sent
        notify_unit(parse_reference(reference)[1])
    assert len(received) == 1


def test_an_email_unit_gets_an_hourly_digest_of_its_new_reports(mailing_app, session):
    from datetime import timedelta

    from backend.db import utcnow
    from backend.mail import SmtpMailer
    from backend.notifications import units as notifications

    app, box = mailing_app
    client = app.test_client()
    # RD 986 in Saint-Denis: DVD's Plaine Commune unit, seeded with an e-mail digest.
    references = [submit(client, report_payload(at=(2.3580, 48.9360))).get_json()["reference"] for _ in range(2)]
    mailer = deps.current(app).mailer
    assert isinstance(mailer, SmtpMailer)
    now = utcnow() + timedelta(seconds=1)
    assert notifications.send_digests(session, mailer=mailer, public_base_url="http://signal93.test", now=now) == 1
    (digest,) = box.messages
    assert digest["To"] == "dvd-plaine-commune@signal93.invalid"
    assert all(reference in digest.get_content() for reference in references)
    assert notifications.send_digests(session, mailer=mailer, public_base_url="http://signal93.test", now=now) == 0


def test_a_unit_is_told_of_a_report_handed_over_to_it_as_of_a_new_one(mailing_app, session, webhook_receiver):
    import json
    from datetime import timedelta

    from sqlalchemy import select

    from backend.db import utcnow
    from backend.directory.models import Unit
    from backend.notifications import units as notifications
    from backend.reports.models import parse_reference
    from backend.revision import bump_revision

    app, box = mailing_app
    client = app.test_client()
    url, received = webhook_receiver
    hooked = session.scalar(select(Unit).where(Unit.code == "DVD-T7"))
    hooked.notify_method, hooked.notify_target = "webhook", url
    digested = session.scalar(select(Unit).where(Unit.code == "DVD-T6"))  # seeded with an e-mail digest
    digested.last_digest_at = utcnow() - timedelta(hours=2)
    bump_revision(session)
    session.commit()
    moved, assigned = (submit(client, report_payload()).get_json()["reference"] for _ in range(2))  # DVD-T8
    create(app, "chef.passage@seinesaintdenis.fr", role="supervisor")
    chief = bearer(sign_in(client, "chef.passage@seinesaintdenis.fr").get_json()["token"])
    assert received == []  # DVD-T8 takes no webhook

    rerouted = client.post(
        f"/api/v1/triage/reports/{moved}/reroute",
        json={"unit": "DVD-T7", "note": "Hors secteur Est Ensemble", "version": 1},
        headers=chief,
    )
    assert rerouted.status_code == 200, rerouted.get_json()
    handed = client.put(
        f"/api/v1/triage/reports/{assigned}/assignment", json={"unit": "DVD-T7", "version": 1}, headers=chief
    )
    assert handed.status_code == 200, handed.get_json()
    bodies = [json.loads(body) for _, body in received]
    assert [(b["event"], b["reference"], b["unit"]) for b in bodies] == [
        ("report.handed_over", moved, "DVD-T7"),
        ("report.handed_over", assigned, "DVD-T7"),
    ]
    trail = client.get(f"/api/v1/triage/reports/{moved}", headers=chief).get_json()["trail"]
    (told,) = [e for e in trail if e["kind"] == "unit_notified"]
    with app.app_context():  # the job run again (a retry): nothing more is sent
        jobs.notify_unit(parse_reference(moved)[1], told["data"]["handover"])
    assert len(received) == 2

    # The e-mail unit finds a report handed over to it in its next digest, though received before.
    client.put(f"/api/v1/triage/reports/{moved}/assignment", json={"unit": "DVD-T6", "version": 2}, headers=chief)
    mailer = deps.current(app).mailer
    now = utcnow() + timedelta(seconds=1)
    assert notifications.send_digests(session, mailer=mailer, public_base_url="http://signal93.test", now=now) == 1
    (digest,) = [m for m in box.messages if m["To"] == "dvd-plaine-commune@signal93.invalid"]
    assert moved in digest.get_content()
    assert assigned not in digest.get_content()


def test_the_reporter_opts_out_with_the_link_in_the_e_mail(mailing_app):
    import re

    app, box = mailing_app
    client = app.test_client()
    reference = submit(
        client, report_payload(reporter={"email": "stop@example.org", "consent_contact": True})
    ).get_json()["reference"]
    create(app, "agent.optout@seinesaintdenis.fr")
    agent = bearer(sign_in(client, "agent.optout@seinesaintdenis.fr").get_json()["token"])
    url = f"/api/v1/triage/reports/{reference}/transitions"
    client.post(url, json={"to": "acknowledged", "version": 1}, headers=agent)
    link = re.search(r"http://signal93\.test(/api/v1/reports/\S+/opt-out\?token=\w+)", box.messages[0].get_content())
    assert client.get(link.group(1).replace("token=", "token=x")).status_code == 401
    page = client.get(link.group(1))  # the link asks to confirm: a mail scanner following it stops nothing
    assert page.status_code == 200
    assert "Confirmez-vous" in page.get_data(as_text=True)
    client.post(url, json={"to": "in_progress", "version": 2}, headers=agent)
    client.post(url, json={"to": "resolved", "version": 3}, headers=agent)
    assert len(box.messages) == 2  # still told of the resolution
    token = re.search(r'name="token" value="(\w+)"', page.get_data(as_text=True)).group(1)
    confirmed = client.post(link.group(1).split("?")[0], data={"token": token}, headers={"Accept": "text/html"})
    assert "ne recevrez plus" in confirmed.get_data(as_text=True)
    client.post(url, json={"to": "open", "version": 4}, headers=agent)
    client.post(url, json={"to": "resolved", "version": 5}, headers=agent)
    assert len(box.messages) == 2  # nothing more after the opt-out


class LostQueue:
    """Redis was down: every job sent is lost."""

    def enqueue(self, job, *args):
        pass


def test_webhooks_lost_with_their_job_are_sent_by_the_sweep_once(mailing_app, session, webhook_receiver):
    import json
    from datetime import timedelta

    from sqlalchemy import select

    from backend.db import utcnow
    from backend.directory.models import Unit
    from backend.notifications import units
    from backend.revision import bump_revision

    app, _ = mailing_app
    url, received = webhook_receiver
    for code in ("DVD-T8", "DVD-T7"):
        unit = session.scalar(select(Unit).where(Unit.code == code))
        unit.notify_method, unit.notify_target = "webhook", url
    bump_revision(session)
    session.commit()
    inline = deps.current(app).queue
    use_queue(app, LostQueue())
    client = app.test_client()
    new, moved = (submit(client, report_payload()).get_json()["reference"] for _ in range(2))  # DVD-T8
    chief = bearer_for(session, make_agent(session, "chef.perdu@seinesaintdenis.fr", role="supervisor"))
    rerouted = client.post(
        f"/api/v1/triage/reports/{moved}/reroute",
        json={"unit": "DVD-T7", "note": "Autre secteur", "version": 1},
        headers=chief,
    )
    assert rerouted.status_code == 200
    # Assigned to the unit that has it already: no handover, nothing owed for it.
    kept = client.put(f"/api/v1/triage/reports/{new}/assignment", json={"unit": "DVD-T8", "version": 1}, headers=chief)
    assert kept.status_code == 200
    assert received == []  # every job was lost

    assert units.sweep(session, queue=inline, now=utcnow()) == 0  # too recent: their jobs may still run
    later = utcnow() + timedelta(minutes=6)
    assert units.sweep(session, queue=inline, now=later) == 2
    session.commit()
    told = sorted((b["event"], b["reference"], b["unit"]) for b in (json.loads(body) for _, body in received))
    assert told == sorted([("report.created", new, "DVD-T8"), ("report.handed_over", moved, "DVD-T7")])
    assert units.sweep(session, queue=inline, now=later) == 0  # each told once
    assert units.sweep(session, queue=inline, now=utcnow() + timedelta(days=8)) == 0  # past a week: let go


def test_a_mail_client_unsubscribes_in_one_click(mailing_app):
    app, box = mailing_app
    client = app.test_client()
    reference = submit(
        client, report_payload(reporter={"email": "clic@example.org", "consent_contact": True})
    ).get_json()["reference"]
    create(app, "agent.clic@seinesaintdenis.fr")
    agent = bearer(sign_in(client, "agent.clic@seinesaintdenis.fr").get_json()["token"])
    url = f"/api/v1/triage/reports/{reference}/transitions"
    client.post(url, json={"to": "acknowledged", "version": 1}, headers=agent)
    (mail,) = box.messages
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = mail["List-Unsubscribe"].strip("<>").replace("http://signal93.test", "")
    # RFC 8058: the client POSTs this form body to the link, with no cookie and no page.
    answer = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {
        "reference": reference,
        "message": "Vous ne recevrez plus de message à propos de ce signalement.",
    }
    assert client.post(link.replace("token=", "token=0"), data={"List-Unsubscribe": "One-Click"}).status_code == 401
    client.post(url, json={"to": "resolved", "version": 2}, headers=agent)
    assert len(box.messages) == 1
