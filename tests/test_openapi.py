"""The OpenAPI document is valid and the docs page works offline."""

from __future__ import annotations

import re

from openapi_spec_validator import validate


def test_openapi_document_is_valid(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert spec["info"]["title"] == "Signal93"
    assert {"/api/v1/programs", "/api/v1/categories", "/api/v1/zones", "/api/v1/zones/{kind}/{code}"} <= set(
        spec["paths"]
    )
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "message", "errors"}


def test_docs_page_loads_only_local_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    for source in sources:
        assert not source.startswith(("http:", "https:", "//")), source
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.data) > 1000
        asset.close()


METHODS = ("get", "post", "put", "patch", "delete")
DOCUMENTS = ("/api/v1/openapi.json", "/sandbox/api/v1/openapi.json")


def operations(spec):
    return [
        (path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items() if method in METHODS
    ]


def test_every_operation_is_named_summarised_and_typed(wsgi_client):
    for url in DOCUMENTS:
        spec = wsgi_client.get(url).get_json()
        validate(spec)
        assert spec["openapi"] == "3.1.0"
        ids = [op.get("operationId") for _, _, op in operations(spec)]
        assert all(ids), url
        assert len(ids) == len(set(ids)), url
        for tag in spec["tags"]:
            assert tag.get("description"), tag
        for path, method, op in operations(spec):
            where = f"{method.upper()} {path}"
            assert op.get("summary"), where
            assert op.get("description"), where
            assert any(p == {"$ref": "#/components/parameters/RequestId"} for p in op["parameters"]), where
            for status, response in op["responses"].items():
                if status == "default":
                    continue
                assert "X-Request-ID" in response["headers"], (where, status)
                if status.startswith("2"):
                    assert response.get("content") or status == "204", (where, status)
                    for media in response.get("content", {}).values():
                        assert media.get("schema"), (where, status)
                elif status.startswith("4"):
                    assert response["x-error-codes"], (where, status)
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_responses_tolerate_new_fields_and_requests_refuse_unknown_ones(wsgi_client):
    spec = wsgi_client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name in ("ReportPublic", "ReportCreated", "TriageReport", "QueuePage", "Error", "ZoneFeature"):
        assert "additionalProperties" not in schemas[name], name
    assert schemas["ReportCreate"]["additionalProperties"] is False


def test_nothing_is_opaque_in_a_report(wsgi_client):
    spec = wsgi_client.get("/api/v1/openapi.json").get_json()
    report = spec["components"]["schemas"]["ReportPublic"]["properties"]
    for name in ("location", "routing", "media", "timeline", "attributes", "category"):
        assert report[name].get("$ref") or report[name].get("type") in ("array", "object"), name
    assert report["location"]["$ref"].endswith("/PublicLocation")
    assert report["routing"]["$ref"].endswith("/Routing")
    cursor = spec["components"]["schemas"]["ReportList"]["properties"]["next_cursor"]
    assert cursor["type"] == ["string", "null"]  # required and nullable, the way generators read it


def test_headers_and_security_are_declared(wsgi_client):
    spec = wsgi_client.get("/api/v1/openapi.json").get_json()
    create = spec["paths"]["/api/v1/reports"]["post"]
    assert "Idempotency-Key" in [p.get("name") for p in create["parameters"]]
    assert "Location" in create["responses"]["201"]["headers"]
    move = spec["paths"]["/api/v1/triage/reports/{reference}/transitions"]["post"]
    assert "If-Match" in [p.get("name") for p in move["parameters"]]
    assert "ETag" in move["responses"]["200"]["headers"]
    assert set(move["responses"]["401"]["x-error-codes"]) == {"token_missing", "token_invalid"}
    assert "stale_report" in move["responses"]["412"]["x-error-codes"]
    assert {"AgentToken", "ReporterToken"} <= set(spec["components"]["securitySchemes"])
    sandbox = wsgi_client.get("/sandbox/api/v1/openapi.json").get_json()
    assert {"ApikeyHeader", "ApikeyAuthorization"} <= set(sandbox["components"]["securitySchemes"])
    listing = sandbox["paths"]["/api/v1/reports"]["get"]
    assert {"quota_exceeded", "rate_limited"} == set(listing["responses"]["429"]["x-error-codes"])
    assert "X-RateLimit-Remaining" in listing["responses"]["200"]["headers"]


def test_each_enum_is_declared_once_and_referred_to(wsgi_client):
    spec = wsgi_client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert schemas["ReportStatus"]["enum"][:2] == ["received", "open"]
    status = {"$ref": "#/components/schemas/ReportStatus"}
    for name in ("ReportPublic", "QueueItem"):
        assert schemas[name]["properties"]["status"] == status, name
    assert schemas["Transition"]["properties"]["to"] == status
    listing = spec["paths"]["/api/v1/reports"]["get"]["parameters"]
    (param,) = [p for p in listing if p.get("name") == "status"]
    assert param["schema"] == {"type": "array", "items": status}
    assert (param["style"], param["explode"]) == ("form", True)  # repeated, the way generated clients send it
