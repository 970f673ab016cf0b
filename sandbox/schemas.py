"""Shapes of the sandbox API (allow-lists)."""

from __future__ import annotations

import marshmallow as ma

from backend import export
from backend.export import ZONE_KINDS
from backend.fields import ResponseSchema

# How a key is sent (the OpenAPI security schemes): a header, or ``?apikey=`` as Opendatasoft
# portals also take it (discouraged: an address ends up in logs and histories).
KEY_SCHEMES = {
    "ApikeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "ApikeyAuthorization": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "`Apikey <key>`"},
    "ApikeyQuery": {
        "type": "apiKey",
        "in": "query",
        "name": "apikey",
        "description": "Discouraged: the key ends up in logs and browser histories",
    },
}
# An operation's ``security``: a key required, or a key optional (counted against its quota if sent).
KEY_SECURITY = [{name: []} for name in KEY_SCHEMES]
OPTIONAL_KEY_SECURITY = [*KEY_SECURITY, {}]


class ZoneKindQuerySchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(ZONE_KINDS))


class TestReportSchema(ResponseSchema):
    id = ma.fields.Integer(required=True)
    created_at = ma.fields.DateTime(required=True)
    result = ma.fields.Nested(
        export.PreviewShape, required=True, metadata={"description": "What the real intake would answer"}
    )


class TestReportListSchema(ResponseSchema):
    items = ma.fields.List(ma.fields.Nested(TestReportSchema), required=True)


class ResetSchema(ResponseSchema):
    deleted = ma.fields.Integer(required=True)


class CategoriesSchema(ResponseSchema):
    items = ma.fields.List(ma.fields.Nested(export.CategoryShape), required=True)


class FeatureCollectionSchema(ResponseSchema):
    type = ma.fields.String(required=True, metadata={"enum": ["FeatureCollection"]})
    features = ma.fields.List(ma.fields.Nested(export.ZoneFeatureShape), required=True)
