"""The privacy crawl (issue 14): reports are made with planted markers — a name, an e-mail, a phone,
device ids, free text, a photo carrying GPS EXIF and its camera's make, a sensitive species at a
precise point — then every public output is read, found by walking both OpenAPI documents (every
GET, every path value the data gives, bounding boxes narrowing on the sensitive point), plus the
media derivatives, what an agent of another directorate sees, Open311, the zone and follow pages,
the open-data snapshots and the Darwin Core Archive: no marker, no EXIF, and no point of the
sensitive sighting closer than its generalisation. New outputs are crawled because the documents
are walked, not a list."""

from __future__ import annotations

import io
import json
import math
import uuid
import zipfile

from PIL import Image

from backend.app import inline_queue
from tests.factories import SAUSSET_PARK_CENTRE, bearer_for, make_agent, report_payload, submit, use_queue
from tests.media.files import jpeg_from_phone
from tests.sandbox.conftest import unlimited_team_key

NAME, EMAIL, PHONE = "Yasmine Benali-Privée", "yasmine.crawl@example.org", "+33 6 98 76 54 31"
FREE_TEXT = "Digicode 4589B, 3e étage gauche"
# A precise fix inside the Sausset park, for a sensitive species (Blongios nain).
SENSITIVE_AT = (SAUSSET_PARK_CENTRE[0] + 0.001234, SAUSSET_PARK_CENTRE[1] + 0.000567)
CLOSEST_PUBLIC_M = 100  # nothing public may place the sighting closer than this to where it was


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon = math.radians(b[0] - a[0]) * math.cos(math.radians((a[1] + b[1]) / 2))
    return 6_371_000 * math.hypot(lon, math.radians(b[1] - a[1]))


def texts(response) -> list[str]:
    """What a response shows: its text, each file of an archive, an image's metadata."""
    data = response.get_data()
    if response.mimetype == "application/zip":
        archive = zipfile.ZipFile(io.BytesIO(data))
        return [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    if response.mimetype.startswith("image/") and response.mimetype != "image/svg+xml":
        image = Image.open(io.BytesIO(data))
        assert not image.getexif(), f"EXIF in {response.request.path}"
        assert "exif" not in image.info, f"EXIF in {response.request.path}"
        return [data.decode("latin-1")]
    return [data.decode("utf-8", "replace")]


def points_in(text: str) -> list[tuple[float, float]]:
    """Every (lon, lat) pair a JSON answer holds, wherever it is."""
    try:
        document = json.loads(text)
    except ValueError:
        return []
    found: list[tuple[float, float]] = []

    def walk(node):
        if isinstance(node, dict):
            lon, lat = node.get("lon", node.get("longitude")), node.get("lat", node.get("latitude"))
            if isinstance(lon, int | float) and isinstance(lat, int | float):
                found.append((float(lon), float(lat)))
            if node.get("type") == "Point" and isinstance(node.get("coordinates"), list):
                found.append(tuple(node["coordinates"][:2]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            if (
                len(node) >= 2
                and all(isinstance(x, int | float) for x in node[:2])
                and 2 < node[0] < 3
                and 48 < node[1] < 49.2
            ):
                found.append((float(node[0]), float(node[1])))
            for value in node:
                walk(value)

    walk(document)
    return found


def test_no_public_output_holds_a_planted_marker_exif_or_the_sensitive_point(wsgi_app, session, settings):
    use_queue(wsgi_app, inline_queue(wsgi_app))  # photos processed now, in both passes: their derivatives are read
    client = wsgi_app.test_client()
    devices = [str(uuid.uuid4()) for _ in range(3)]
    contact = {"name": NAME, "email": EMAIL, "phone": PHONE, "consent_contact": True}
    photo = [(io.BytesIO(jpeg_from_phone()), "photo.jpg")]
    pothole = client.post(
        "/api/v1/reports/with-files",
        data={
            "report": json.dumps(report_payload(reporter=contact, client_id=devices[0], description=FREE_TEXT)),
            "photos": photo,
        },
        content_type="multipart/form-data",
    ).get_json()
    sighting_payload = report_payload(
        "observation-espece",
        at=SENSITIVE_AT,
        attributes={"espece": "Ixobrychus minutus", "nombre": 1},
        reporter=contact,
        client_id=devices[1],
        description=FREE_TEXT,
    )
    sighting_payload["device_id"] = devices[2]
    sighting = client.post(
        "/api/v1/reports/with-files",
        data={"report": json.dumps(sighting_payload), "photos": [(io.BytesIO(jpeg_from_phone()), "blongios.jpg")]},
        content_type="multipart/form-data",
    ).get_json()
    references = [pothole["reference"], sighting["reference"]]
    media_ids = [m["id"] for m in pothole["media"] + sighting["media"]]
    assert metres(SENSITIVE_AT, (sighting["location"]["lon"], sighting["location"]["lat"])) >= CLOSEST_PUBLIC_M

    # "Similar reports" near the sensitive point: another sighting there never learns its distance.
    near_at = (SENSITIVE_AT[0] + 0.0003, SENSITIVE_AT[1])  # 22 m east: a common heron, public where it is
    near = submit(client, report_payload("observation-espece", at=near_at, attributes={"espece": "Ardea cinerea"}))
    assert sighting["reference"] not in [r["reference"] for r in near.get_json()["similar_reports"]]
    public_near = (near.get_json()["location"]["lon"], near.get_json()["location"]["lat"])

    # An agent of another directorate (DEA) and a hackathon team.
    dea = bearer_for(session, make_agent(session, "agent.crawl@seinesaintdenis.fr", directorate="DEA"))
    key = unlimited_team_key(session, settings, "crawl")
    built = wsgi_app.test_cli_runner().invoke(args=["sandbox", "snapshot", "build", "--all"])
    assert built.exit_code == 0, built.output
    listing = client.get("/sandbox/api/v1/datasets", headers={"X-API-Key": key}).get_json()
    datasets = [
        item.get("dataset_id") or item.get("id") for item in (listing.get("items") or listing.get("results") or [])
    ]
    assert "signalements" in datasets

    lon, lat = SENSITIVE_AT
    boxes = [f"{lon - d},{lat - d},{lon + d},{lat + d}" for d in (0.01, 0.002, 0.0005, 0.0001)]
    values = {
        "reference": references,
        "media_id": [str(m) for m in media_ids],
        "kind": ["commune", "park", "park_zone"],
        "slug": ["sausset", "sausset-marais"],
        "dataset_id": datasets,
        "version": ["latest"],
        "variant": ["thumb", "display", "video"],
        "file": ["data.csv", "data.parquet", "data.geojson", "datapackage.json", "CHANGELOG.md"],
        "format": ["csv", "json", "jsonl", "geojson", "parquet"],
    }
    read: list[tuple[str, list[str]]] = []
    for prefix, document_url, headers in (
        ("", "/api/v1/openapi.json", dea),
        ("/sandbox", "/sandbox/api/v1/openapi.json", {"X-API-Key": key}),
    ):
        document = client.get(document_url).get_json()
        components = document.get("components", {}).get("schemas", {})
        for path, item in document["paths"].items():
            operation = item.get("get")
            if operation is None:
                continue
            parameters = [p for p in operation.get("parameters", []) + item.get("parameters", []) if "in" in p]
            urls = [prefix + path]
            for parameter in (p for p in parameters if p["in"] == "path"):
                schema = parameter.get("schema", {})
                if "$ref" in schema:
                    schema = components[schema["$ref"].split("/")[-1]]
                choices = schema.get("enum") or values.get(parameter["name"])
                if parameter["name"] == "code":
                    choices = ["93071", "93001"] if "zones" in path else ["nid-de-poule", "observation-espece"]
                assert choices, f"the crawl needs values for {{{parameter['name']}}} of {path}"
                urls = [u.replace("{" + parameter["name"] + "}", str(c)) for u in urls for c in choices]
            queries = [""]
            names = {p["name"] for p in parameters if p["in"] == "query"}
            if "bbox" in names:
                queries += [f"bbox={box}" for box in boxes]
            if "limit" in names:
                queries.append("limit=100")
            for url in urls:
                for query in queries:
                    response = client.get(f"{url}?{query}" if query else url, headers=headers)
                    assert response.status_code < 500, (url, query)
                    if response.status_code == 302:
                        response = client.get(response.headers["Location"], headers=headers)
                    if response.status_code < 400:
                        read.append((f"{url}?{query}", texts(response)))
    # What the documents do not hold: Open311, the pages, the agents' CSV of another directorate.
    for url in (
        "/open311/v2/requests.json?extensions=true",
        "/open311/v2/requests.xml?extensions=true",
        f"/open311/v2/requests/{references[1]}.json?extensions=true",
        "/open311/v2/servicerequestupdates.json",
        "/z/sausset-marais",
        f"/suivi/{references[0]}",
        f"/suivi/{references[1]}",
        "/api/v1/triage/reports.csv",
        "/sandbox/",
    ):
        response = client.get(url, headers=dea if "triage" in url else {})
        assert response.status_code == 200, url
        read.append((url, texts(response)))
    assert len(read) > 60
    everything = "\n".join(body for _, bodies in read for body in bodies)
    assert all(reference in everything for reference in references)  # both reports were read, in public
    assert any("/media/" in url and url.split("?")[0].endswith(("thumb", "display")) for url, _ in read)  # photos
    assert any("observations/dwca.zip" in url for url, _ in read)
    assert any("/exports/parquet" in url for url, _ in read)

    markers = [NAME, EMAIL, PHONE, FREE_TEXT, "Fairphone", *devices]
    leaks = [(url, marker) for url, bodies in read for body in bodies for marker in markers if marker in body]
    assert not leaks, leaks[:10]
    close = [
        (url, point)
        for url, bodies in read
        for body in bodies
        for point in points_in(body)
        if metres(point, SENSITIVE_AT) < CLOSEST_PUBLIC_M and metres(point, public_near) > 1
    ]
    assert not close, close[:10]
