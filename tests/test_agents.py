"""Agents: accounts from the command line, sign-in tokens, throttling, and the private originals."""

from __future__ import annotations

import io
import os

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from backend.app import inline_queue
from backend.directory import agents
from tests.factories import report_payload, use_queue
from tests.media import files

PASSWORD = "correct horse battery staple"


def create(app, email, directorate="DVD", role="agent", password=PASSWORD, unit=None, *, ok=True):
    """``flask agents create``, as an operator types it; the command must succeed unless ``ok`` is False."""
    args = ["agents", "create", "--email", email, "--directorate", directorate, "--role", role, "--password-stdin"]
    if unit:
        args += ["--unit", unit]
    result = app.test_cli_runner().invoke(args=args, input=password + "\n")
    assert (result.exit_code == 0) == ok, result.output
    return result


def sign_in(client, email, password=PASSWORD, address="198.51.100.7"):
    return client.post(
        "/api/v1/auth/tokens", json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_agents_are_created_listed_and_disabled_from_the_command_line(app):
    created = create(app, "Voirie.T6@seinesaintdenis.fr", unit="DVD-T6")
    assert created.exit_code == 0, created.output
    refused = create(app, "x@seinesaintdenis.fr", directorate="DXX", password="short", ok=False)
    assert refused.exit_code != 0
    assert "password" in refused.output
    assert "directorate" in refused.output
    duplicate = create(app, "voirie.t6@seinesaintdenis.fr", ok=False)
    assert "already has this e-mail" in duplicate.output
    wrong_unit = create(app, "y@seinesaintdenis.fr", directorate="DEA", unit="DVD-T6", ok=False)
    assert "unit" in wrong_unit.output
    listing = app.test_cli_runner().invoke(args=["agents", "list"]).output
    assert "voirie.t6@seinesaintdenis.fr\tagent\tDVD\tactive" in listing
    assert app.test_cli_runner().invoke(args=["agents", "disable", "voirie.t6@seinesaintdenis.fr"]).exit_code == 0
    assert "disabled" in app.test_cli_runner().invoke(args=["agents", "list"]).output


def test_sign_in_gives_a_token_stored_hashed_and_sign_out_revokes_it(app, client, session):
    create(app, "dea@seinesaintdenis.fr", directorate="DEA")
    response = sign_in(client, "DEA@seinesaintdenis.fr")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["agent"] == {"email": "dea@seinesaintdenis.fr", "role": "agent", "directorate": "DEA", "unit": None}
    token = body["token"]
    from sqlalchemy import select

    from backend.directory.models import AgentToken

    assert token not in session.scalar(select(AgentToken.digest))
    assert client.delete("/api/v1/auth/tokens/current", headers=bearer(token)).status_code == 204
    again = client.delete("/api/v1/auth/tokens/current", headers=bearer(token))
    assert (again.status_code, again.get_json()["code"]) == (401, "token_invalid")


def test_wrong_password_and_unknown_account_answer_alike(app, client):
    create(app, "dnpb@seinesaintdenis.fr", directorate="DNPB")
    wrong = sign_in(client, "dnpb@seinesaintdenis.fr", password="not the password at all")
    unknown = sign_in(client, "nobody@seinesaintdenis.fr")
    assert wrong.get_json() == unknown.get_json()
    assert wrong.status_code == unknown.status_code == 401


def test_the_guesser_is_throttled_not_the_account_s_holder(app, client):
    """Issue 17, item 5: five wrong passwords from anywhere used to lock the agent out for 15
    minutes. Now the address that guesses waits, longer at each wave; the holder signs in."""
    create(app, "cible@seinesaintdenis.fr")
    for i in range(5):
        wrong = sign_in(client, "cible@seinesaintdenis.fr", password=f"guess number {i}!", address="10.6.6.6")
        assert wrong.status_code == 401
    blocked = sign_in(client, "cible@seinesaintdenis.fr", address="10.6.6.6")  # even the right password, there
    assert (blocked.status_code, blocked.get_json()["code"]) == (429, "too_many_attempts")
    assert 0 < int(blocked.headers["Retry-After"]) <= 60  # the first wave: a minute
    holder = sign_in(client, "cible@seinesaintdenis.fr", address="192.0.2.10")
    assert holder.status_code == 201
    # Guesses spread over many addresses lock nothing either.
    for i in range(12):  # more than any per-account limit would have let through
        sign_in(client, "cible@seinesaintdenis.fr", password=f"spread guess {i}!", address=f"10.1.{i}.1")
    assert sign_in(client, "cible@seinesaintdenis.fr", address="192.0.2.11").status_code == 201


def test_one_address_guessing_many_accounts_is_throttled(app, client):
    """The per-address window (100 an hour in production, 8 here to keep the test short)."""
    from dataclasses import replace

    from limits import parse

    from backend import deps

    throttle = deps.current(app).sign_in_throttle
    deps.install(app, replace(deps.current(app), sign_in_throttle=replace(throttle, per_address=parse("8/hour"))))
    for i in range(8):
        sign_in(client, f"inconnu{i}@seinesaintdenis.fr", password="a wrong guess!", address="10.9.9.9")
    create(app, "autre@seinesaintdenis.fr")
    assert sign_in(client, "autre@seinesaintdenis.fr", address="10.9.9.9").status_code == 429
    assert sign_in(client, "autre@seinesaintdenis.fr", address="10.9.9.8").status_code == 201


def test_a_disabled_agent_s_token_stops_at_once(app, client):
    create(app, "parti@seinesaintdenis.fr")
    token = sign_in(client, "parti@seinesaintdenis.fr").get_json()["token"]
    app.test_cli_runner().invoke(args=["agents", "disable", "parti@seinesaintdenis.fr"])
    response = client.delete("/api/v1/auth/tokens/current", headers=bearer(token))
    assert (response.status_code, response.get_json()["code"]) == (401, "token_invalid")
    assert client.delete("/api/v1/auth/tokens/current").get_json()["code"] == "token_missing"


@pytest.fixture
def photo_report(app, client):
    use_queue(app, inline_queue(app))
    original = files.jpeg_from_phone()
    import json

    response = client.post(
        "/api/v1/reports",
        data={"report": json.dumps(report_payload()), "photos": [(io.BytesIO(original), "p.jpg")]},
        content_type="multipart/form-data",
    )
    media_id = response.get_json()["media"][0]["id"]
    return media_id, original


def test_only_agents_of_the_report_s_directorate_get_the_original(app, client, photo_report):
    media_id, original = photo_report
    url = f"/api/v1/triage/media/{media_id}/original"
    assert client.get(url).get_json()["code"] == "token_missing"
    create(app, "dvd@seinesaintdenis.fr", directorate="DVD")
    create(app, "dea.agent@seinesaintdenis.fr", directorate="DEA")
    create(app, "admin@seinesaintdenis.fr", directorate="DEA", role="admin")
    dvd = client.get(url, headers=bearer(sign_in(client, "dvd@seinesaintdenis.fr").get_json()["token"]))
    assert dvd.status_code == 200
    assert dvd.data == original  # as received, EXIF included: agents need it
    assert dvd.headers["Cache-Control"] == "private, no-store"
    dea = client.get(url, headers=bearer(sign_in(client, "dea.agent@seinesaintdenis.fr").get_json()["token"]))
    assert (dea.status_code, dea.get_json()["code"]) == (404, "media_not_found")
    admin = client.get(url, headers=bearer(sign_in(client, "admin@seinesaintdenis.fr").get_json()["token"]))
    assert admin.status_code == 200


def test_passwords_are_hashed_with_argon2(app, session):
    agent = agents.create_agent(
        session, email="h@seinesaintdenis.fr", password=PASSWORD, directorate="DVD", role="agent"
    )
    assert agent.password_hash.startswith("$argon2")
    assert PASSWORD not in agent.password_hash


def test_an_agent_publishes_a_video_without_its_metadata_and_can_withdraw_it(app, client, session):
    import json

    from tests.media.test_videos import phone_video

    video = phone_video()
    created = client.post(
        "/api/v1/reports",
        data={"report": json.dumps(report_payload("debordement-avaloir")), "video": (io.BytesIO(video), "v.mov")},
        content_type="multipart/form-data",
    ).get_json()
    (media,) = created["media"]
    assert media["urls"] == {}
    assert client.get(f"/api/v1/media/{media['id']}/video").status_code == 404
    create(app, "dea.video@seinesaintdenis.fr", directorate="DEA")
    create(app, "dvd.video@seinesaintdenis.fr", directorate="DVD")
    dea = bearer(sign_in(client, "dea.video@seinesaintdenis.fr").get_json()["token"])
    dvd = bearer(sign_in(client, "dvd.video@seinesaintdenis.fr").get_json()["token"])
    url = f"/api/v1/triage/media/{media['id']}/publication"
    assert client.post(url, headers=dvd).status_code == 404  # not DVD's report
    published = client.post(url, headers=dea)
    assert published.status_code == 200, published.get_json()
    public_url = published.get_json()["urls"]["video"]
    served = client.get(public_url)
    assert served.status_code == 200
    assert served.mimetype == "video/quicktime"
    assert b"48.9362" not in served.data
    assert b"Apple" not in served.data
    assert len(served.data) == len(video)
    report = client.get(f"/api/v1/reports/{created['reference']}").get_json()
    assert report["media"][0]["urls"] == {"video": public_url}
    assert client.delete(url, headers=dea).status_code == 200
    assert client.get(public_url).status_code == 404


def test_ordinary_photos_are_not_published_by_hand(app, client, photo_report):
    media_id, _ = photo_report
    create(app, "dvd.photo@seinesaintdenis.fr", directorate="DVD")
    token = sign_in(client, "dvd.photo@seinesaintdenis.fr").get_json()["token"]
    response = client.post(f"/api/v1/triage/media/{media_id}/publication", headers=bearer(token))
    assert (response.status_code, response.get_json()["code"]) == (409, "not_held")
    withdrawn = client.delete(f"/api/v1/triage/media/{media_id}/publication", headers=bearer(token))
    assert (withdrawn.status_code, withdrawn.get_json()["code"]) == (409, "not_held")
    assert client.get(f"/api/v1/media/{media_id}/thumb").status_code == 200  # public once processed


def test_a_photo_of_a_sensitive_sighting_is_held_until_an_agent_publishes_it(app, client):
    import json

    from tests.factories import SAUSSET_PARK_CENTRE

    use_queue(app, inline_queue(app))
    payload = report_payload(
        "observation-espece", at=SAUSSET_PARK_CENTRE, attributes={"espece": "Ixobrychus minutus", "nombre": 1}
    )
    created = client.post(
        "/api/v1/reports",
        data={"report": json.dumps(payload), "photos": [(io.BytesIO(files.jpeg_from_phone()), "blongios.jpg")]},
        content_type="multipart/form-data",
    ).get_json()
    reference, media_id = created["reference"], created["media"][0]["id"]
    (listed,) = client.get(f"/api/v1/reports/{reference}").get_json()["media"]
    assert (listed["status"], listed["urls"]) == ("ready", {})  # processed, yet not shown
    for variant in ("thumb", "display"):
        held = client.get(f"/api/v1/media/{media_id}/{variant}")
        assert (held.status_code, held.get_json()["code"]) == (404, "media_not_found")

    create(app, "dnpb.photo@seinesaintdenis.fr", directorate="DNPB")
    dnpb = bearer(sign_in(client, "dnpb.photo@seinesaintdenis.fr").get_json()["token"])
    url = f"/api/v1/triage/media/{media_id}/publication"
    published = client.post(url, headers=dnpb)
    assert published.status_code == 200, published.get_json()
    assert set(published.get_json()["urls"]) == {"thumb", "display"}
    assert client.get(f"/api/v1/media/{media_id}/thumb").status_code == 200
    (listed,) = client.get(f"/api/v1/reports/{reference}").get_json()["media"]
    assert set(listed["urls"]) == {"thumb", "display"}

    assert client.delete(url, headers=dnpb).status_code == 200
    assert client.get(f"/api/v1/media/{media_id}/thumb").status_code == 404
    trail = client.get(f"/api/v1/triage/reports/{reference}", headers=dnpb).get_json()["trail"]
    assert [e["kind"] for e in trail][-2:] == ["media_published", "media_unpublished"]


def test_a_large_video_goes_in_and_out_in_chunks_whole_and_clean(app, client, session):
    """A 12 MB video (spooled to disk on the way in, past werkzeug's 500 KB): the agent gets the
    original byte for byte, the public the clean copy, each with its length, sent as read."""
    import json

    from tests.media.test_videos import box, phone_video

    video = phone_video() + box(b"mdat", os.urandom(1 << 20) * 12)
    # The body encoded beforehand: the test client spools a large one to a file it never closes.
    boundary, body = encode_multipart(
        {"report": json.dumps(report_payload("debordement-avaloir")), "video": FileStorage(io.BytesIO(video), "v.mov")}
    )
    created = client.post(
        "/api/v1/reports", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    ).get_json()
    (media,) = created["media"]
    create(app, "dea.large@seinesaintdenis.fr", directorate="DEA")
    dea = bearer(sign_in(client, "dea.large@seinesaintdenis.fr").get_json()["token"])
    original = client.get(f"/api/v1/triage/media/{media['id']}/original", headers=dea)
    assert original.status_code == 200
    assert original.is_streamed
    assert int(original.headers["Content-Length"]) == len(video)
    assert original.get_data() == video
    public_url = client.post(f"/api/v1/triage/media/{media['id']}/publication", headers=dea).get_json()["urls"]["video"]
    served = client.get(public_url)
    assert served.is_streamed
    assert int(served.headers["Content-Length"]) == len(video)
    data = served.get_data()
    assert len(data) == len(video)
    assert data[-(12 << 20) :] == video[-(12 << 20) :]
    assert b"48.9362" not in data
    assert b"Apple" not in data
