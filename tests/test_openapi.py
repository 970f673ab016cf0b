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
