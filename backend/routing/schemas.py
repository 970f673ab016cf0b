"""The routing rules as admins read and change them."""

from __future__ import annotations

import marshmallow as ma

from backend.directory.schemas import items_schema
from backend.fields import ResponseSchema


class RuleSchema(ResponseSchema):
    code = ma.fields.String(required=True)
    position = ma.fields.Integer(required=True)
    programs = ma.fields.List(ma.fields.String(), required=True)
    categories = ma.fields.List(ma.fields.String(), required=True)
    condition = ma.fields.String(required=True)
    zone_kind = ma.fields.String(allow_none=True)
    target = ma.fields.String(required=True)
    directorate_code = ma.fields.String(allow_none=True)
    unit_code = ma.fields.String(allow_none=True)
    unit_of = ma.fields.String(allow_none=True)
    public_message = ma.fields.String(required=True)
    active = ma.fields.Boolean(required=True)


class RuleUpdateSchema(ma.Schema):
    active = ma.fields.Boolean()
    position = ma.fields.Integer(validate=ma.validate.Range(1, 10_000))
    public_message = ma.fields.String(validate=ma.validate.Length(min=1, max=2000))


RuleListSchema = items_schema(RuleSchema, "RuleList")
