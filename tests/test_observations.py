"""Balades Observ'acteurs, the parks' side: the seeded nature zones and walks, the JSON apps read
(a park, its walk, a zone's card), and the QR codes of the posts, read back by a real decoder."""

from __future__ import annotations

import io
import json

import zxingcpp
from PIL import Image

from backend.seeding import load_seeds
from tests.factories import report_payload
from tests.test_seeding import seeds_copy  # noqa: F401 (a fixture)

API = "/api/v1"
SAUSSET_STATIONS = [
    "sausset-marais",
    "sausset-bocage",
    "sausset-foret",
    "sausset-pres-carres",
    "sausset-vallon",
    "sausset-plaine",
]


def rename_the_vallon(session, seeds_dir) -> None:
    """The Sausset's vallon renamed in the seed, its former slug kept (as a DNPB admin would)."""
    toml = seeds_dir / "park_zones.toml"
    text = toml.read_text(encoding="utf-8")
    renamed = text.replace(
        'slug = "sausset-vallon"', 'slug = "sausset-vallon-des-mares"\nformer_slugs = ["sausset-vallon"]'
    )
    toml.write_text(renamed, encoding="utf-8")
    load_seeds(session, seeds_dir)
    session.commit()


def test_a_park_lists_its_walk_and_its_nature_zones(client):
    park = client.get(f"{API}/parks/sausset")
    assert park.status_code == 200
    body = park.get_json()
    assert body["name"] == "Parc départemental du Sausset"
    assert body["approximate"] is True
    assert body["communes"] == ["Aulnay-sous-Bois", "Villepinte"]
    assert body["balade"]["stations"] == 6
    assert {zone["slug"] for zone in body["zones"]} == set(SAUSSET_STATIONS)
    for slug, stations in (("georges-valbon", 3), ("poudrerie", 3)):
        assert client.get(f"{API}/parks/{slug}").get_json()["balade"]["stations"] == stations
    assert client.get(f"{API}/parks/bergere").get_json()["balade"] is None  # no walk there yet


def test_a_walk_goes_through_its_stations_in_order(client):
    balade = client.get(f"{API}/parks/sausset/balade").get_json()
    assert balade["park"] == {"slug": "sausset", "name": "Parc départemental du Sausset"}
    assert balade["title"] == "La balade des six paysages du Sausset"
    assert [station["slug"] for station in balade["stations"]] == SAUSSET_STATIONS
    assert [station["number"] for station in balade["stations"]] == [1, 2, 3, 4, 5, 6]
    route = balade["route"]
    assert route["type"] == "LineString"
    assert route["coordinates"] == [[s["centre"]["lon"], s["centre"]["lat"]] for s in balade["stations"]]
    assert 1500 < balade["length_m"] < 4000  # six stations across a 200-hectare park
    assert balade["stations"][0]["page_url"] == "http://signal93.test/z/sausset-marais"


def test_a_zone_card_says_what_to_look_for_and_where_it_stands_on_the_walk(client):
    answer = client.get(f"{API}/zones/park_zone/sausset-bocage")
    assert answer.status_code == 200
    card = answer.get_json()
    assert card["type"] == "Feature"
    assert card["geometry"]["type"] == "Polygon"
    properties = card["properties"]
    assert (properties["name"], properties["approximate"]) == ("Le bocage", True)
    assert properties["parent"] == {"kind": "park", "code": "sausset", "name": "Parc départemental du Sausset"}
    assert properties["habitat"].startswith("Prairies bordées de haies")
    assert "hérissons" in properties["look_for"]
    assert properties["station"] == {
        "number": 2,
        "of": 6,
        "previous": {"slug": "sausset-marais", "name": "Le marais"},
        "next": {"slug": "sausset-foret", "name": "La forêt"},
    }
    names = [species["french_name"] for species in properties["species"]]
    assert "Hérisson d'Europe" in names
    assert "Pie-grièche écorcheur" not in names  # sensitive: a card that listed it would place it here
    first = client.get(f"{API}/zones/park_zone/sausset-marais").get_json()["properties"]["station"]
    assert (first["number"], first["previous"]) == (1, None)
    last = client.get(f"{API}/zones/park_zone/sausset-plaine").get_json()["properties"]["station"]
    assert (last["number"], last["next"]) == (6, None)


def test_no_public_output_places_a_sensitive_species_in_a_zone(client):
    outputs = [client.get(f"{API}/zones?kind=park_zone&limit=200").get_data(as_text=True)]
    for park in ("sausset", "georges-valbon", "poudrerie"):
        outputs.append(client.get(f"{API}/parks/{park}").get_data(as_text=True))
        outputs.append(client.get(f"{API}/parks/{park}/balade").get_data(as_text=True))
        for zone in client.get(f"{API}/parks/{park}").get_json()["zones"]:
            outputs.append(client.get(f"{API}/zones/park_zone/{zone['slug']}").get_data(as_text=True))
    for output in outputs:
        for sensitive in ("Ixobrychus", "Blongios", "Botaurus", "Dryocopus", "Alcedo", "Luscinia", "Circus"):
            assert sensitive not in output


def test_unknown_parks_and_zones_are_404s_and_a_former_slug_still_works(client, session, seeds_copy):  # noqa: F811
    for url, code in (
        (f"{API}/parks/nope", "park_not_found"),
        (f"{API}/parks/nope/balade", "park_not_found"),
        (f"{API}/parks/bergere/balade", "balade_not_found"),
        (f"{API}/zones/park_zone/nope", "park_zone_not_found"),
        (f"{API}/zones/park_zone/nope/qr.svg", "park_zone_not_found"),
    ):
        answer = client.get(url)
        assert (answer.status_code, answer.get_json()["code"]) == (404, code), url
    rename_the_vallon(session, seeds_copy)
    moved = client.get(f"{API}/zones/park_zone/sausset-vallon")
    assert moved.status_code == 200
    assert moved.get_json()["properties"]["code"] == "sausset-vallon-des-mares"


def test_the_qr_code_of_a_post_opens_the_zone_page(client):
    png = client.get(f"{API}/zones/park_zone/sausset-marais/qr.png?size=300")
    assert png.status_code == 200
    assert png.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(png.get_data()))
    assert image.width >= 300
    (decoded,) = zxingcpp.read_barcodes(image)
    assert decoded.format == zxingcpp.BarcodeFormat.QRCode
    assert decoded.text == "http://signal93.test/z/sausset-marais"
    assert decoded.ec_level == "Q"
    cached = client.get(
        f"{API}/zones/park_zone/sausset-marais/qr.png?size=300", headers={"If-None-Match": png.headers["ETag"]}
    )
    assert cached.status_code == 304

    svg = client.get(f"{API}/zones/park_zone/sausset-marais/qr.svg")
    assert svg.headers["Content-Type"] == "image/svg+xml"
    text = svg.get_data(as_text=True)
    assert text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "<title>Le marais — http://signal93.test/z/sausset-marais</title>" in text
    assert "<path" in text
    for size in ("10", "100000", "grand"):
        refused = client.get(f"{API}/zones/park_zone/sausset-marais/qr.png?size={size}")
        assert refused.status_code == 422
        assert "size" in json.dumps(refused.get_json()["errors"])


def test_the_printed_sheet_has_a_readable_label_per_station(app, tmp_path):
    import pypdf

    out = tmp_path / "sausset.pdf"
    result = app.test_cli_runner().invoke(args=["zones", "qr-sheet", "--park", "sausset", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "6 labels for Parc départemental du Sausset" in result.output
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == 1  # six labels on one A4 page
    page = reader.pages[0]
    assert (round(float(page.mediabox.width) / 72 * 25.4), round(float(page.mediabox.height) / 72 * 25.4)) == (210, 297)
    text = page.extract_text()
    for number, slug in enumerate(SAUSSET_STATIONS, start=1):
        assert f"Station {number} sur 6" in text
        assert f"http://signal93.test/z/{slug}" in text
    assert "Les prés carrés" in text
    decoded = set()
    for image in page.images:  # each QR, as a phone camera would read it from the paper
        (code,) = zxingcpp.read_barcodes(image.image.convert("L"))
        decoded.add(code.text)
    assert decoded == {f"http://signal93.test/z/{slug}" for slug in SAUSSET_STATIONS}
    nothing = app.test_cli_runner().invoke(args=["zones", "qr-sheet", "--park", "bergere", "--out", str(out)])
    assert nothing.exit_code != 0
    assert "This park has no walk yet." in nothing.output


def test_a_park_s_biodiversity_counts_without_placing_a_sensitive_species(client):
    from datetime import UTC, datetime

    from tests.factories import SAUSSET_MARAIS, report_payload, submit

    for _ in range(2):
        submit(client, report_payload("observation-espece", at=SAUSSET_MARAIS))  # herons, in the marsh
    hedgehog = {"espece": "Erinaceus europaeus", "nombre": 1}
    submit(client, report_payload("observation-espece", at=(2.5058, 48.9612), attributes=hedgehog))  # the bocage
    bittern = {"espece": "Ixobrychus minutus", "nombre": 1}
    submit(client, report_payload("observation-espece", at=SAUSSET_MARAIS, attributes=bittern))
    answer = client.get(f"{API}/parks/sausset/biodiversity")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["species_richness"] == 3
    assert body["sensitive_species"] == 1
    assert body["most_seen"] == [
        {"scientific_name": "Ardea cinerea", "french_name": "Héron cendré", "sightings": 2},
        {"scientific_name": "Erinaceus europaeus", "french_name": "Hérisson d'Europe", "sightings": 1},
    ]
    months = body["sightings_per_month"]
    assert len(months) == 12
    assert months[-1] == {"month": datetime.now(UTC).strftime("%Y-%m"), "sightings": 4}
    stations = {station["slug"]: station["sightings"] for station in body["stations"]}
    assert stations["sausset-marais"] == 2  # the bittern is counted in no station
    assert stations["sausset-bocage"] == 1
    assert "Ixobrychus" not in answer.get_data(as_text=True)
    assert client.get(f"{API}/parks/nope/biodiversity").get_json()["code"] == "park_not_found"
    card = client.get(f"{API}/zones/park_zone/sausset-marais").get_json()["properties"]
    assert card["observed"] == [{"scientific_name": "Ardea cinerea", "french_name": "Héron cendré", "sightings": 2}]
    assert "Ixobrychus" not in json.dumps(card)  # seen there, yet not said to be there


def test_a_dnpb_admin_reorders_a_walk_and_the_cards_follow(client, session):
    from tests.factories import bearer_for, make_agent

    url = f"{API}/admin/parks/sausset/balade"
    body = {"title": "Le Sausset à rebours", "stations": list(reversed(SAUSSET_STATIONS[1:]))}
    admin = bearer_for(session, make_agent(session, "admin.dnpb@seinesaintdenis.fr", directorate="DNPB", role="admin"))
    saved = client.put(url, json=body, headers=admin)
    assert saved.status_code == 200, saved.get_json()
    assert [station["slug"] for station in saved.get_json()["stations"]] == body["stations"]
    assert client.get(f"{API}/parks/sausset/balade").get_json()["title"] == "Le Sausset à rebours"
    first = client.get(f"{API}/zones/park_zone/sausset-plaine").get_json()["properties"]["station"]
    assert (first["number"], first["of"], first["previous"]) == (1, 5, None)
    dropped = client.get(f"{API}/zones/park_zone/sausset-marais").get_json()["properties"]
    assert dropped["station"] is None  # no longer on the walk

    other = bearer_for(session, make_agent(session, "admin.dvd@seinesaintdenis.fr", directorate="DVD", role="admin"))
    agent = bearer_for(session, make_agent(session, "agent.dnpb@seinesaintdenis.fr", directorate="DNPB"))
    for headers, status, code in (
        (other, 403, "forbidden_for_directorate"),
        (agent, 403, "forbidden_for_role"),
        ({}, 401, None),
    ):
        refused = client.put(url, json=body, headers=headers)
        assert refused.status_code == status
        if code:
            assert refused.get_json()["code"] == code
    single = client.put(url, json={"title": "Le marais seul", "stations": ["sausset-marais"]}, headers=admin)
    assert single.get_json()["route"] == {"type": "Point", "coordinates": [2.5128, 48.9633]}
    assert single.get_json()["length_m"] == 0
    wrong = client.put(
        url, json={"title": "x", "stations": ["poudrerie-mares", "sausset-marais", "sausset-marais"]}, headers=admin
    )
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"]["json"]["stations"] == [
        "'poudrerie-mares' is not a nature zone of this park",
        "a zone is listed twice",
    ]


def test_the_observations_endpoints_answer_from_a_real_server(tmp_path, fresh_database_url):
    """Through gunicorn, on the real database of the pass (PostgreSQL in the second): read-only
    sessions there run without a transaction, and what streams rows must open one."""
    import zipfile

    from tests.factories import SAUSSET_MARAIS
    from tests.servers import app_env, flask, gunicorn, request

    env = app_env(tmp_path / "instance", fresh_database_url, SECRET_KEY="k" * 40)
    assert flask(env, "seed").returncode == 0
    with gunicorn(env, workers=1) as base:
        sighting = report_payload("observation-espece", at=SAUSSET_MARAIS)
        status, _ = request("POST", f"{base}/api/v1/reports", sighting)
        assert status == 201
        status, card = request("GET", f"{base}/api/v1/zones/park_zone/sausset-marais")
        assert (status, card["properties"]["observed"][0]["sightings"]) == (200, 1)
        status, biodiversity = request("GET", f"{base}/api/v1/parks/sausset/biodiversity")
        assert (status, biodiversity["species_richness"]) == (200, 1)
        import urllib.request

        with urllib.request.urlopen(f"{base}/api/v1/observations/dwca.zip", timeout=30) as response:
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
        assert archive.read("occurrence.txt").decode().count("\n") == 2  # the header and the heron
