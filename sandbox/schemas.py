"""Shapes of the sandbox API (allow-lists)."""

from __future__ import annotations

import marshmallow as ma

from backend import export
from backend.export import ZONE_KINDS
from backend.fields import ResponseSchema


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
