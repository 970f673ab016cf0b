"""Open311 as someone else's client meets it: georeport (a GeoReport v2 client from PyPI, read-only,
expecting bare JSON arrays, parsing the XML with xmltodict) pointed at /open311/v2 of a real server,
and a form-encoded POST sent with requests and an admin-issued key."""

from __future__ import annotations

import requests
from georeport import GeoReport

from tests.factories import ON_RD932_PANTIN, report_payload
from tests.servers import app_env, flask, gunicorn
from tests.servers import request as native


def test_a_third_party_client_lists_defines_posts_and_reads(tmp_path, fresh_database_url):
    env = app_env(tmp_path / "instance", fresh_database_url, SECRET_KEY="k" * 40)
    assert flask(env, "seed").returncode == 0
    issued = flask(env, "open311", "keys", "issue", "GRC de la DVD")
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip().splitlines()[-1]
    with gunicorn(env, workers=2) as base:
        for fmt in ("json", "xml"):
            client = GeoReport(f"{base}/open311/v2", jurisdiction="seine-saint-denis.fr", output_format=fmt)
            services = client.get_service_list()
            assert "nid-de-poule" in {service["service_code"] for service in services}
            definition = client.get_service_definition("nid-de-poule")
            attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
            attributes = attributes if isinstance(attributes, list) else [attributes]
            assert "taille" in {attribute["code"] for attribute in attributes}

            lon, lat = ON_RD932_PANTIN
            posted = requests.post(
                f"{base}/open311/v2/requests.{fmt}",
                data={
                    "api_key": key,
                    "jurisdiction_id": "seine-saint-denis.fr",
                    "service_code": "nid-de-poule",
                    "lat": lat,
                    "long": lon,
                    "attribute[taille]": "grand",
                    "email": "riverain@example.org",
                },
                timeout=30,
            )
            assert posted.status_code == 200, posted.text
            reference = (
                posted.json()[0]["service_request_id"]
                if fmt == "json"
                else posted.text.split("<service_request_id>")[1].split("<")[0]
            )
            request = client.get_service_request(reference)
            status, created = native("POST", f"{base}/api/v1/reports", report_payload())
            assert status == 201
            assert request["agency_responsible"] == created["routing"]["directorate"]["name"]
            assert request["service_code"] == "nid-de-poule"
            found = client.get_service_requests(service_code="nid-de-poule", status="open")
            found = found if isinstance(found, list) else [found]
            assert reference in {item["service_request_id"] for item in found}
            assert "riverain@example.org" not in str(found)
