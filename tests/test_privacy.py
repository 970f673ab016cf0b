"""Personal data never leaves through a public response.

Reports carrying a name, an e-mail, a phone, a device id and a sensitive species' precise
location are submitted; then every public GET endpoint the API documents is read, and none of
those values may appear anywhere in what it returns.
"""

from __future__ import annotations

import json
import uuid

from tests.factories import SAUSSET_PARK_CENTRE, report_payload, submit

NAME, EMAIL, PHONE = "Yasmine Benali-Privée", "yasmine.privee@example.org", "+33 6 98 76 54 32"
# A precise fix inside the Sausset park, for a sensitive species (Blongios nain).
SENSITIVE_AT = (SAUSSET_PARK_CENTRE[0] + 0.001234, SAUSSET_PARK_CENTRE[1] + 0.000567)


def _public_urls(client, references: list[str]) -> list[str]:
    spec = client.get("/api/v1/openapi.json").get_json()
    urls = []
    for path, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        if "{reference}" in path:
            urls += [path.replace("{reference}", ref) for ref in references]
        elif "{" not in path:
            urls.append(path)
    urls.append("/api/v1/reports?limit=200")
    return urls


def _text(response) -> str:
    """A response's text; an archive's files, each read (the Darwin Core Archive)."""
    if response.mimetype == "application/zip":
        import io
        import zipfile

        archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
        return "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    return response.get_data(as_text=True)


def test_no_public_response_contains_personal_data(client):
    device_ids = [str(uuid.uuid4()) for _ in range(2)]
    contact = {"name": NAME, "email": EMAIL, "phone": PHONE, "consent_contact": True}
    created = [
        submit(client, report_payload(reporter=contact, client_id=device_ids[0])),
        submit(
            client,
            report_payload(
                "observation-espece",
                at=SENSITIVE_AT,
                attributes={"espece": "Ixobrychus minutus", "nombre": 1},
                reporter=contact,
                client_id=device_ids[1],
            ),
        ),
    ]
    assert all(r.status_code == 201 for r in created)
    references = [r.get_json()["reference"] for r in created]
    client.post(f"/api/v1/reports/{references[0]}/supports", json={"client_id": device_ids[1]})

    secrets = [
        NAME,
        "Yasmine",
        EMAIL,
        PHONE,
        "98 76 54 32",
        *device_ids,
        f"{SENSITIVE_AT[0]:.5f}",
        f"{SENSITIVE_AT[1]:.5f}",
    ]
    bodies = {url: _text(client.get(url)) for url in _public_urls(client, references)}
    assert "/api/v1/observations/dwca.zip" in bodies  # the archive for ecologists is read too
    bodies["POST /reports (201)"] = "\n".join(json.dumps(r.get_json()) for r in created)
    assert any(references[1] in body for body in bodies.values())  # the walk did reach the reports
    for url, body in bodies.items():
        for secret in secrets:
            assert secret not in body, f"{secret!r} leaked through {url}"


def test_a_small_box_cannot_pin_a_sensitive_species_down(client):
    created = submit(
        client,
        report_payload("observation-espece", at=SENSITIVE_AT, attributes={"espece": "Ixobrychus minutus"}),
    ).get_json()
    lon, lat = SENSITIVE_AT
    around_precise = f"{lon - 0.0005},{lat - 0.0005},{lon + 0.0005},{lat + 0.0005}"
    found = client.get(f"/api/v1/reports?bbox={around_precise}").get_json()["items"]
    assert created["reference"] not in [r["reference"] for r in found]
    public = created["location"]  # the park's reference point: found there, and only there
    around_public = f"{public['lon'] - 0.001},{public['lat'] - 0.001},{public['lon'] + 0.001},{public['lat'] + 0.001}"
    found = client.get(f"/api/v1/reports?bbox={around_public}").get_json()["items"]
    assert created["reference"] in [r["reference"] for r in found]


def test_the_sandbox_gives_back_no_personal_data(settings, database, session):
    from datetime import UTC, datetime, timedelta

    from sandbox import services
    from sandbox.app import create_sandbox_app
    from tests.sandbox.conftest import register

    now = datetime.now(UTC)
    event = services.create_event(
        session, slug="privacy", name="Privacy", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1)
    )
    _, key = register(session, settings, event.slug, "Privacy team", "team@example.org")
    sandbox = create_sandbox_app(settings, database=database).test_client()
    headers = {"X-API-Key": key}
    device_id = str(uuid.uuid4())
    payload = report_payload(
        "observation-espece",
        at=SENSITIVE_AT,
        attributes={"espece": "Ixobrychus minutus"},
        reporter={"name": NAME, "email": EMAIL, "phone": PHONE},
        client_id=device_id,
    )
    bodies = [sandbox.post("/api/v1/reports", json=payload, headers=headers).get_data(as_text=True)]
    for path in ("/api/v1/reports", "/api/v1/catalog/categories", "/api/v1/catalog/zones?kind=park"):
        bodies.append(sandbox.get(path, headers=headers).get_data(as_text=True))
    assert "DNPB-PARC-SAUSSET" in bodies[0]  # the walk did reach a routed test report
    for body in bodies:
        for secret in (NAME, EMAIL, PHONE, device_id, f"{SENSITIVE_AT[0]:.5f}", f"{SENSITIVE_AT[1]:.5f}"):
            assert secret not in body
