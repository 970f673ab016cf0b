"""The Explore API v2.1 on the open datasets, reached as teams reach it (/sandbox through the
wsgi mount): the catalog, records with the query parameters, version pinning, the portal's
bounds and ODSQL errors as 400s in the sandbox's envelope, unknown datasets and versions as 404s."""

from __future__ import annotations

import re

from tests.factories import report_payload, submit

BASE = "/sandbox/api/explore/v2.1/catalog/datasets"


def build(app, *args):
    result = app.test_cli_runner().invoke(args=["sandbox", "snapshot", "build", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_team_lists_the_datasets_and_queries_the_records(wsgi_app):
    client = wsgi_app.test_client()
    for _ in range(2):
        submit(client, report_payload())
    submit(client, report_payload("debordement-avaloir", attributes={"pluie": "oui"}))
    build(wsgi_app, "--all")

    catalog = client.get(BASE).get_json()
    ids = [item["dataset_id"] for item in catalog["results"]]
    assert catalog["total_count"] == len(ids)
    assert {"signalements", "delais-traitement", "communes", "categories", "especes-des-parcs"} <= set(ids)
    reports = next(item for item in catalog["results"] if item["dataset_id"] == "signalements")
    assert reports["metas"]["default"]["records_count"] == 3
    assert {"name": "geo_point_2d", "type": "geo_point_2d", "label": "geo_point_2d"} in reports["fields"]

    page = client.get(f"{BASE}/signalements/records?where=program='patrouillage'&order_by=reference&limit=1")
    assert page.status_code == 200, page.get_json()
    body = page.get_json()
    assert body["total_count"] == 2
    (record,) = body["results"]
    assert record["category"] == "nid-de-poule"
    assert record["geo_point_2d"] == {"lon": 2.399, "lat": 48.901}
    by_program = {"select": "program, count(*) as n", "group_by": "program", "order_by": "n desc"}
    grouped = client.get(f"{BASE}/signalements/records", query_string=by_program).get_json()
    assert grouped["results"] == [{"program": "patrouillage", "n": 2}, {"program": "vigies-eau", "n": 1}]
    refined = client.get(f"{BASE}/signalements/records?refine=program:vigies-eau&select=reference").get_json()
    assert refined["total_count"] == 1
    saint_denis = {"where": 'search(name, "denis")', "select": "code, name", "order_by": "code"}
    communes = client.get(f"{BASE}/communes/records", query_string=saint_denis)
    assert communes.get_json()["results"] == [
        {"code": "93039", "name": "L'Île-Saint-Denis"},
        {"code": "93066", "name": "Saint-Denis"},
    ]


def test_a_pinned_version_is_not_moved_by_the_next_build(wsgi_app):
    client = wsgi_app.test_client()
    submit(client, report_payload())
    version = re.search(r"^signalements: (\S+)", build(wsgi_app, "--dataset", "signalements"), re.MULTILINE).group(1)
    submit(client, report_payload())
    build(wsgi_app, "--dataset", "signalements")
    latest = client.get(f"{BASE}/signalements/records?limit=0")
    assert latest.status_code == 200, latest.get_json()
    assert latest.get_json()["total_count"] == 2
    pinned = client.get(f"{BASE}/signalements/records?limit=0&version={version}").get_json()
    assert pinned["total_count"] == 1
    missing = client.get(f"{BASE}/signalements/records?version=1999-01-01.1")
    assert (missing.status_code, missing.get_json()["code"]) == (404, "version_not_found")


def test_refusals_say_why_in_the_sandbox_envelope(wsgi_app):
    client = wsgi_app.test_client()
    submit(client, report_payload())
    build(wsgi_app, "--dataset", "signalements")
    broken = client.get(f"{BASE}/signalements/records", query_string={"where": "status = "})
    assert broken.status_code == 400
    body = broken.get_json()
    assert body["code"] == "odsql_error"
    assert "position 9" in body["errors"]["query"]["where"][0]
    unknown = client.get(f"{BASE}/signalements/records", query_string={"where": "statut = 'open'"}).get_json()
    assert "unknown field 'statut'" in unknown["message"]
    too_many = client.get(f"{BASE}/signalements/records?limit=101")
    assert (too_many.status_code, too_many.get_json()["code"]) == (400, "invalid_limit")
    too_far = client.get(f"{BASE}/signalements/records?offset=9995&limit=10")
    assert (too_far.status_code, too_far.get_json()["code"]) == (400, "invalid_offset")
    nothing = client.get(f"{BASE}/nope/records")
    assert (nothing.status_code, nothing.get_json()["code"]) == (404, "dataset_not_found")
    injected = client.get(f"{BASE}/signalements/records", query_string={"where": "status = 'open'; DROP TABLE data"})
    assert injected.get_json()["code"] == "odsql_error"


def test_a_query_the_data_cannot_answer_is_a_400_not_a_500(wsgi_app):
    client = wsgi_app.test_client()
    submit(client, report_payload())
    build(wsgi_app, "--dataset", "signalements")
    for where in ("received_at = 'pas une date'", "support_count > 'beaucoup'", "year(received_at) = 'x'"):
        answer = client.get(f"{BASE}/signalements/records", query_string={"where": where})
        assert answer.status_code == 400, (where, answer.get_json())
        assert answer.get_json()["code"] == "odsql_error"
